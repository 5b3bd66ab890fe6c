/* The selective JSON decoder: the same verdict and values as jansson for the
 * whole document, only the selected members otherwise. */
#include "check.h"

#include "jsonsel.h"

static json_t *sel_decode(const char *s, const jsonsel *members, tp_error *err)
{
    tp_error_clear(err);
    return jsonsel_decode(s, strlen(s), members, 2048, err);
}

/* Valid documents: jansson (with duplicate keys refused, as review.c did)
 * and jsonsel with no selection must build equal values. */
static void full_decode_matches_jansson(void)
{
    static const char *const docs[] = {
        "{}", "[]", " {\"a\":1} ", "[1,-0,2.5,-1e3,1E+2,0.5e-1,9223372036854775807]",
        "{\"s\":\"plain\",\"e\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"u\":\"\\u00e9\\u20ac\"}",
        "{\"pair\":\"\\ud83d\\ude00\",\"raw\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
        "{\"n\":null,\"t\":true,\"f\":false,\"nested\":{\"a\":[{\"b\":[[]]}]}}",
        "{\"k\\/ey\":\"escaped key\",\"\":\"empty key\"}",
        "\t\r\n[ 1 , { \"a\" : [ ] } ]\n",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        tp_error err;
        json_t *mine = sel_decode(docs[i], NULL, &err);
        json_t *theirs = json_loads(docs[i], JSON_REJECT_DUPLICATES, NULL);
        CHECK(mine != NULL);
        CHECK(theirs != NULL);
        if (!mine || !json_equal(mine, theirs))
            fprintf(stderr, "  document %zu: %s\n", i, err.msg);
        CHECK(mine && json_equal(mine, theirs));
        json_decref(mine);
        json_decref(theirs);
    }
}

/* Invalid documents: both refuse, and the message says what and where. */
static void invalid_documents_refused_like_jansson(void)
{
    static const struct { const char *doc, *msg; } bad[] = {
        {"", "'[' or '{' expected at line 1 column 1"},
        {"\"str\"", "'[' or '{' expected"},
        {"{\"a\":1", "',' or '}' expected"},
        {"{\"a\" 1}", "':' expected"},
        {"{a:1}", "string or '}' expected"},
        {"[1,]", "invalid token"},
        {"[01]", "',' or ']' expected"},
        {"[1.]", "invalid number"},
        {"[-]", "invalid number"},
        {"[1e]", "invalid number"},
        {"[tru]", "invalid token"},
        {"{} x", "end of file expected"},
        {"[\"a\nb\"]", "control character in string"},
        {"[\"\\x\"]", "invalid escape"},
        {"[\"\\u12", "truncated \\u escape"},
        {"[\"\\u12zz\"]", "invalid \\u escape"},
        {"[\"\\u0000\"]", "\\u0000 is not allowed"},
        {"[\"\\udc00\"]", "lone low surrogate"},
        {"[\"\\ud800x\"]", "unpaired high surrogate"},
        {"[\"\\ud800\\u0041\"]", "unpaired high surrogate"},
        {"[\"\xc0\xaf\"]", "invalid UTF-8"},
        {"[\"\xed\xa0\x80\"]", "invalid UTF-8"},
        {"[\"\xf4\x90\x80\x80\"]", "invalid UTF-8"},
        {"[\"\xe2\x82\"]", "invalid UTF-8"},
        {"[\"open", "unterminated string"},
        {"{\"a\":1,\"a\":2}", "duplicate object key"},
        {"[99999999999999999999]", "too big integer"},
        {"[1e999]", "real number overflow"},
        {"{\"a\":\n  [}", "invalid token at line 2 column 4"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tp_error err;
        json_t *mine = sel_decode(bad[i].doc, NULL, &err);
        json_t *theirs = json_loads(bad[i].doc, JSON_REJECT_DUPLICATES, NULL);
        CHECK(mine == NULL);
        CHECK(theirs == NULL);
        CHECK_INT(err.code, TP_JSON);
        CHECK_CONTAINS(err.msg, bad[i].msg);
        json_decref(mine);
        json_decref(theirs);
    }
}

static const jsonsel inner[] = {{"keep", NULL}, {NULL, NULL}};
static const jsonsel outer[] = {{"id", NULL}, {"list", inner}, {"obj", inner},
                                {"tagpin.io/pinned", NULL}, {NULL, NULL}};

static void selection_keeps_only_selected_members(void)
{
    const char *doc = "{\"id\":\"x\",\"skip\":{\"deep\":[1,2,{\"a\":\"b\"}]},"
                      "\"list\":[{\"keep\":1,\"drop\":2},\"scalar\",{\"drop\":3}],"
                      "\"obj\":{\"keep\":{\"whole\":[true]},\"drop\":null},"
                      "\"tagpin.io\\/pinned\":\"escaped name still matches\"}";
    tp_error err;
    json_t *got = sel_decode(doc, outer, &err);
    json_t *want = json_loads("{\"id\":\"x\",\"list\":[{\"keep\":1},\"scalar\",{}],"
                              "\"obj\":{\"keep\":{\"whole\":[true]}},"
                              "\"tagpin.io/pinned\":\"escaped name still matches\"}", 0, NULL);
    CHECK(got != NULL);
    CHECK(got && json_equal(got, want));
    json_decref(got);
    json_decref(want);
}

/* Skipped parts are still validated: a review is either JSON or refused. */
static void skipped_members_are_still_validated(void)
{
    tp_error err;
    CHECK(sel_decode("{\"id\":\"x\",\"skip\":[1,2,}", outer, &err) == NULL);
    CHECK_CONTAINS(err.msg, "invalid token");
    CHECK(sel_decode("{\"skip\":\"\xff\"}", outer, &err) == NULL);
    CHECK_CONTAINS(err.msg, "invalid UTF-8");
    /* Documented: duplicates are only looked for where values are built. */
    json_t *ok = sel_decode("{\"skip\":{\"a\":1,\"a\":2},\"id\":\"x\"}", outer, &err);
    CHECK(ok != NULL);
    json_decref(ok);
    CHECK(sel_decode("{\"id\":\"x\",\"id\":\"y\"}", outer, &err) == NULL);
    CHECK_CONTAINS(err.msg, "duplicate object key");
}

/* Plain runs are scanned eight bytes at a time: whatever ends a run must be
 * seen at every offset, in kept values, skipped values and member names. */
static void strings_scanned_at_every_offset(void)
{
    static const char *const pieces[] = {"\\\"", "\\\\", "\\n", "\\u00e9", "\\ud83d\\ude00",
                                         "\xc3\xa9", "\xf0\x9f\x98\x80", "\x01", "\xff",
                                         "\xe2\x82", "\\x", "\\u00zz", "\x7f"};
    static const char *const shapes[][2] = {{"{\"id\":\"", "\"}"}, {"{\"skip\":\"", "\"}"},
                                            {"{\"", "\":1}"}, {"{\"id\":\"x\",\"obj\":{\"", "\":2}}"}};
    for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
        for (size_t at = 0; at <= 17; at++) {
            char str[64];
            snprintf(str, sizeof str, "%.*s%s%.*s", (int)at, "abcdefghijklmnopq", pieces[k],
                     (int)(17 - at), "rstuvwxyzABCDEFGH");
            for (size_t f = 0; f < sizeof shapes / sizeof shapes[0]; f++) {
                char doc[128];
                snprintf(doc, sizeof doc, "%s%s%s", shapes[f][0], str, shapes[f][1]);
                tp_error err;
                json_t *mine = sel_decode(doc, NULL, &err);
                json_t *theirs = json_loads(doc, JSON_REJECT_DUPLICATES, NULL);
                CHECK((mine != NULL) == (theirs != NULL));
                CHECK(!mine || json_equal(mine, theirs));
                if ((mine != NULL) != (theirs != NULL) || (mine && !json_equal(mine, theirs)))
                    fprintf(stderr, "  piece %zu at %zu in shape %zu: %s\n", k, at, f, err.msg);
                json_decref(theirs);
                /* With a selection the verdict is the same; kept text is too. */
                json_t *sel = sel_decode(doc, outer, &err);
                CHECK((sel != NULL) == (mine != NULL));
                if (sel && mine && f == 0)
                    CHECK(json_equal(json_object_get(sel, "id"), json_object_get(mine, "id")));
                json_decref(sel);
                json_decref(mine);
            }
        }
    }
}

static void depth_is_capped_in_skipped_parts_too(void)
{
    char doc[256];
    size_t n = 0;
    n += (size_t)snprintf(doc, sizeof doc, "{\"skip\":");
    for (int i = 0; i < 70; i++)
        doc[n++] = '[';
    for (int i = 0; i < 70; i++)
        doc[n++] = ']';
    doc[n++] = '}';
    doc[n] = '\0';
    tp_error err;
    tp_error_clear(&err);
    CHECK(jsonsel_decode(doc, n, outer, 64, &err) == NULL);
    CHECK_CONTAINS(err.msg, "nested deeper than 64 levels");
    json_t *ok = jsonsel_decode(doc, n, outer, 71, &err);
    CHECK(ok != NULL);
    json_decref(ok);
}

CHECK_MAIN(CHECK_CASE(full_decode_matches_jansson),
           CHECK_CASE(invalid_documents_refused_like_jansson),
           CHECK_CASE(selection_keeps_only_selected_members),
           CHECK_CASE(skipped_members_are_still_validated),
           CHECK_CASE(strings_scanned_at_every_offset),
           CHECK_CASE(depth_is_capped_in_skipped_parts_too))
