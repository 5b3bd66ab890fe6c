/* The YAML-with-positions reader behind `tagpin pin` and `tagpin check`. */
#include <jansson.h>

#include "check.h"
#include "jsonptr.h"
#include "manifest_yaml.h"

static int parse(const char *text, const char *only_key, manifest_file *f, tp_error *err)
{
    tp_error_clear(err);
    return manifest_yaml_parse(text, strlen(text), "m.yaml", only_key, f, err);
}

/* The scalar at pointer in document d, and that its span holds want. */
static const manifest_scalar *span_is(const char *text, const manifest_file *f, size_t d,
                                      const char *pointer, const char *want)
{
    const manifest_scalar *s = d < f->n_docs ? manifest_doc_find(f, &f->docs[d], pointer) : NULL;
    CHECK(s != NULL);
    if (!s)
        return NULL;
    char got[256];
    size_t n = s->end - s->start;
    snprintf(got, sizeof got, "%.*s", (int)(n < sizeof got ? n : sizeof got - 1), text + s->start);
    CHECK_STR(got, want);
    return s;
}

static void test_documents_and_positions(void)
{
    const char *text =
        "# leading comment\n"
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "      - name: app\n"
        "        image: reg/app:1.0   # pinned by CI\n"
        "      - {name: side, image: 'side:2'}\n"
        "---\n"
        "---\n"
        "kind: Pod\n"
        "spec: {containers: [{image: \"p\\u00e9:1\"}]}\n";
    manifest_file f;
    tp_error err;
    CHECK_INT(parse(text, "image", &f, &err), TP_OK);
    CHECK_INT(f.n_docs, 3);
    CHECK_INT(f.n_scalars, 3);
    const manifest_scalar *s = span_is(text, &f, 0, "/spec/template/spec/containers/0/image",
                                       "reg/app:1.0");
    if (s) {
        CHECK_INT(s->line, 9);
        CHECK_INT(s->column, 16);
        CHECK_INT(s->style, MANIFEST_PLAIN);
    }
    s = span_is(text, &f, 0, "/spec/template/spec/containers/1/image", "'side:2'");
    if (s) {
        CHECK_INT(s->line, 10);
        CHECK_INT(s->style, MANIFEST_SINGLE_QUOTED);
    }
    CHECK(json_is_null(f.docs[1].root));
    s = span_is(text, &f, 2, "/spec/containers/0/image", "\"p\\u00e9:1\"");
    if (s)
        CHECK_INT(s->style, MANIFEST_DOUBLE_QUOTED);
    CHECK_STR(json_string_value(jsonptr_get(f.docs[2].root, "/spec/containers/0/image")),
              "p\xc3\xa9:1");
    CHECK_INT(f.docs[0].line, 2);
    CHECK_INT(f.docs[2].line, 13);
    /* The first document's scalars are not found in the others. */
    CHECK(manifest_doc_find(&f, &f.docs[2], "/spec/template/spec/containers/0/image") == NULL);
    manifest_file_cleanup(&f);
}

static void test_types(void)
{
    const char *text = "a: 3\nb: '3'\nc: true\nd: yes\ne: ~\nf: 1.5\ng: !!str 7\nh: 0x1F\n"
                       "i: 1.2.3\nj: \"on\"\nk:\nl: -12\nm: 99999999999999999999\n";
    manifest_file f;
    tp_error err;
    CHECK_INT(parse(text, NULL, &f, &err), TP_OK);
    json_t *r = f.n_docs ? f.docs[0].root : NULL;
    CHECK_INT(json_integer_value(json_object_get(r, "a")), 3);
    CHECK_STR(json_string_value(json_object_get(r, "b")), "3");
    CHECK(json_is_true(json_object_get(r, "c")));
    CHECK(json_is_true(json_object_get(r, "d")));
    CHECK(json_is_null(json_object_get(r, "e")));
    CHECK(json_is_real(json_object_get(r, "f")));
    CHECK_STR(json_string_value(json_object_get(r, "g")), "7");
    CHECK_INT(json_integer_value(json_object_get(r, "h")), 31);
    CHECK_STR(json_string_value(json_object_get(r, "i")), "1.2.3");
    CHECK_STR(json_string_value(json_object_get(r, "j")), "on");
    CHECK(json_is_null(json_object_get(r, "k")));
    CHECK_INT(json_integer_value(json_object_get(r, "l")), -12);
    CHECK(json_is_real(json_object_get(r, "m")));
    CHECK_INT(f.n_scalars, 13);
    manifest_file_cleanup(&f);
}

/* Keys with '/' and '~' are escaped in pointers (RFC 6901). */
static void test_pointer_escapes(void)
{
    const char *text = "metadata:\n  annotations:\n    a/b~c: x\n    \"~1\": 'y'\nlist: [p, q]\n";
    manifest_file f;
    tp_error err;
    CHECK_INT(parse(text, NULL, &f, &err), TP_OK);
    span_is(text, &f, 0, "/metadata/annotations/a~1b~0c", "x");
    span_is(text, &f, 0, "/metadata/annotations/~01", "'y'");
    span_is(text, &f, 0, "/list/1", "q");
    json_t *root = f.n_docs ? f.docs[0].root : NULL;
    CHECK_STR(json_string_value(jsonptr_get(root, "/metadata/annotations/a~1b~0c")), "x");
    CHECK(jsonptr_get(root, "/list/01") == NULL);
    CHECK(jsonptr_get(root, "/list/2") == NULL);
    CHECK(jsonptr_get(root, "/metadata/~2") == NULL);
    CHECK_INT(jsonptr_replace(root, "/metadata/annotations/~01", json_string("z")), 0);
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(root, "metadata"),
                                                                "annotations"), "~1")), "z");
    CHECK_INT(jsonptr_replace(root, "/list/1", json_string("r")), 0);
    CHECK_STR(json_string_value(json_array_get(json_object_get(root, "list"), 1)), "r");
    CHECK_INT(jsonptr_replace(root, "/nope/x", json_string("r")), -1);
    manifest_file_cleanup(&f);
}

/* Byte offsets survive multi-byte characters, a BOM and CRLF line ends. */
static void test_utf8_offsets(void)
{
    const char *text = "\xEF\xBB\xBF" "name: \xC3\xA9\xC3\xA9\xE2\x82\xAC\r\nimage: 'x:\xC3\xA9'\r\n";
    manifest_file f;
    tp_error err;
    CHECK_INT(parse(text, NULL, &f, &err), TP_OK);
    span_is(text, &f, 0, "/name", "\xC3\xA9\xC3\xA9\xE2\x82\xAC");
    const manifest_scalar *s = span_is(text, &f, 0, "/image", "'x:\xC3\xA9'");
    if (s)
        CHECK_INT(s->line, 2);
    manifest_file_cleanup(&f);
}

static void test_aliases(void)
{
    const char *text = "a: &img reg/app:1\nb: {image: *img}\nc: &box {image: z:2, n: 1}\nd: *box\n";
    manifest_file f;
    tp_error err;
    CHECK_INT(parse(text, "image", &f, &err), TP_OK);
    const manifest_scalar *s = span_is(text, &f, 0, "/b/image", "reg/app:1");
    if (s) {
        CHECK(s->via_alias);
        CHECK(s->anchored);
        CHECK_INT(s->line, 1);
    }
    s = span_is(text, &f, 0, "/d/image", "z:2");
    if (s)
        CHECK(s->via_alias);
    s = span_is(text, &f, 0, "/c/image", "z:2");
    if (s)
        CHECK(!s->via_alias);
    CHECK(manifest_doc_find(&f, &f.docs[0], "/a") == NULL); /* not an image key */
    CHECK_INT(json_integer_value(jsonptr_get(f.docs[0].root, "/d/n")), 1);
    manifest_file_cleanup(&f);
    /* Properties before the text, even on the line above, are not part of it. */
    text = "image: !!str &i # why\n  \"q:1\"\nx: {image: !!str  r:2}\n";
    CHECK_INT(parse(text, "image", &f, &err), TP_OK);
    s = span_is(text, &f, 0, "/image", "\"q:1\"");
    if (s) {
        CHECK_INT(s->line, 2);
        CHECK_INT(s->column, 3);
    }
    s = span_is(text, &f, 0, "/x/image", "r:2");
    if (s)
        CHECK_INT(s->column, 19);
    manifest_file_cleanup(&f);
}

static void expect_error(const char *text, tp_code code, const char *needle)
{
    manifest_file f;
    tp_error err;
    CHECK_INT(parse(text, NULL, &f, &err), code);
    CHECK_CONTAINS(err.msg, needle);
    CHECK(f.docs == NULL && f.n_docs == 0 && f.scalars == NULL);
}

static void test_errors(void)
{
    expect_error("a: b\n  c: d\n", TP_INVAL, "m.yaml:2:4: ");
    expect_error("a: [1, 2\n", TP_INVAL, "m.yaml:");
    expect_error("a: 1\na: 2\n", TP_INVAL, "m.yaml:2:1: duplicate key \"a\"");
    expect_error("base: &b {x: 1}\nd:\n  <<: *b\n", TP_INVAL, "m.yaml:3:3: merge keys");
    expect_error("a: *nope\n", TP_INVAL, "undefined alias *nope");
    expect_error("? [a]\n: b\n", TP_INVAL, "keys");
    expect_error("a: \xff\n", TP_INVAL, "m.yaml: ");
    expect_error("\xff\xfe" "a\0:\0", TP_INVAL, "UTF-16");
    expect_error("a: &x [1]\nb: &y [*x, *x, *x, *x, *x, *x, *x, *x, *x, *x]\n"
                 "c: &z [*y, *y, *y, *y, *y, *y, *y, *y, *y, *y]\n"
                 "d: &w [*z, *z, *z, *z, *z, *z, *z, *z, *z, *z]\n"
                 "e: &v [*w, *w, *w, *w, *w, *w, *w, *w, *w, *w]\n"
                 "f: &u [*v, *v, *v, *v, *v, *v, *v, *v, *v, *v]\n",
                 TP_TOO_LARGE, "aliases expand");
    char deep[4 * MANIFEST_DEPTH_MAX + 8];
    size_t n = 0;
    for (int i = 0; i <= MANIFEST_DEPTH_MAX; i++)
        deep[n++] = '[';
    deep[n] = '\0';
    expect_error(deep, TP_TOO_LARGE, "nested deeper");
}

/* An empty stream has no documents; comments alone neither. */
static void test_empty(void)
{
    manifest_file f;
    tp_error err;
    CHECK_INT(parse("", NULL, &f, &err), TP_OK);
    CHECK_INT(f.n_docs, 0);
    manifest_file_cleanup(&f);
    CHECK_INT(parse("# nothing\n", NULL, &f, &err), TP_OK);
    CHECK_INT(f.n_docs, 0);
    manifest_file_cleanup(&f);
    CHECK_INT(parse("---\n...\n", NULL, &f, &err), TP_OK);
    CHECK_INT(f.n_docs, 1);
    if (f.n_docs)
        CHECK(json_is_null(f.docs[0].root));
    manifest_file_cleanup(&f);
}

CHECK_MAIN(CHECK_CASE(test_documents_and_positions), CHECK_CASE(test_types),
           CHECK_CASE(test_pointer_escapes), CHECK_CASE(test_utf8_offsets),
           CHECK_CASE(test_aliases), CHECK_CASE(test_errors), CHECK_CASE(test_empty))
