/* Rewriting scalar text in place for `tagpin pin`. */
#include "check.h"
#include "manifest_edit.h"

static void render_is(const char *value, manifest_style style, const char *want)
{
    char *out = NULL;
    tp_error err;
    CHECK_INT(manifest_edit_render(value, style, &out, &err), TP_OK);
    CHECK_STR(out, want);
    free(out);
}

static void test_render_keeps_style(void)
{
    const char *pinned = "reg:5000/app:1.4@sha256:ab12";
    render_is(pinned, MANIFEST_PLAIN, pinned);
    render_is(pinned, MANIFEST_SINGLE_QUOTED, "'reg:5000/app:1.4@sha256:ab12'");
    render_is(pinned, MANIFEST_DOUBLE_QUOTED, "\"reg:5000/app:1.4@sha256:ab12\"");
    /* Plain only when it cannot read as anything else. */
    render_is("it's: #x", MANIFEST_PLAIN, "\"it's: #x\"");
    render_is("123", MANIFEST_PLAIN, "\"123\"");
    render_is("true", MANIFEST_PLAIN, "\"true\"");
    render_is("-x:1", MANIFEST_PLAIN, "\"-x:1\"");
    render_is("a{b}:1", MANIFEST_PLAIN, "\"a{b}:1\"");
    render_is("it's", MANIFEST_SINGLE_QUOTED, "'it''s'");
    render_is("a\"b\\c\td", MANIFEST_DOUBLE_QUOTED, "\"a\\\"b\\\\c\\x09d\"");
    char *out = (char *)"unset";
    tp_error err;
    CHECK_INT(manifest_edit_render(pinned, MANIFEST_LITERAL, &out, &err), TP_INVAL);
    CHECK(out == NULL);
    CHECK_CONTAINS(err.msg, "block scalar");
    CHECK_INT(manifest_edit_render(pinned, MANIFEST_FOLDED, &out, &err), TP_INVAL);
}

static void test_apply(void)
{
    const char *text = "a: x   # keep\nb: 'y'\nc: z\n";
    manifest_edit e[] = {{17, 20, (char *)"'Y2'"}, {3, 4, (char *)"X1"}, {3, 4, (char *)"X1"}};
    char *out;
    size_t len;
    tp_error err;
    CHECK_INT(manifest_edit_apply(text, strlen(text), e, 3, &out, &len, &err), TP_OK);
    CHECK_STR(out, "a: X1   # keep\nb: 'Y2'\nc: z\n");
    CHECK_INT(len, strlen(out));
    free(out);
    CHECK_INT(manifest_edit_apply(text, strlen(text), e, 0, &out, &len, &err), TP_OK);
    CHECK_STR(out, text);
    free(out);
    manifest_edit clash[] = {{3, 4, (char *)"X1"}, {3, 4, (char *)"X2"}};
    CHECK_INT(manifest_edit_apply(text, strlen(text), clash, 2, &out, &len, &err), TP_INVAL);
    CHECK(out == NULL);
    manifest_edit overlap[] = {{3, 8, (char *)"X"}, {5, 9, (char *)"Y"}};
    CHECK_INT(manifest_edit_apply(text, strlen(text), overlap, 2, &out, &len, &err), TP_INVAL);
    manifest_edit outside[] = {{3, 400, (char *)"X"}};
    CHECK_INT(manifest_edit_apply(text, strlen(text), outside, 1, &out, &len, &err), TP_INVAL);
}

CHECK_MAIN(CHECK_CASE(test_render_keeps_style), CHECK_CASE(test_apply))
