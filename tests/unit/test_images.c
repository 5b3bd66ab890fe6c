/* The image walker per kind, and the JSON Patch pieces it feeds. */
#include <jansson.h>

#include "check.h"
#include "images.h"
#include "patch.h"

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fprintf(stderr, "bad test JSON: %s\n", e.text);
    return j;
}

/* A pod spec with one container in each list, wrapped at spec_path. */
static json_t *object_with_spec(const char *spec_path)
{
    json_t *spec = load("{\"containers\":[{\"name\":\"app\",\"image\":\"app:1\"},"
                        "{\"name\":\"side\",\"image\":\"side:2\"}],"
                        "\"initContainers\":[{\"name\":\"init\",\"image\":\"init:3\"}],"
                        "\"ephemeralContainers\":[{\"name\":\"dbg\",\"image\":\"dbg:4\"}]}");
    /* Build the nesting from the innermost key outwards. */
    char path[128];
    snprintf(path, sizeof path, "%s", spec_path);
    json_t *node = spec;
    char *slash;
    while ((slash = strrchr(path, '/')) != NULL) {
        json_t *parent = json_object();
        json_object_set_new(parent, slash + 1, node);
        node = parent;
        *slash = '\0';
    }
    return node;
}

static void check_kind(const char *group, const char *kind, images_kind want,
                       const char *want_path)
{
    const char *path;
    CHECK_INT(images_classify(group, kind, &path), want);
    CHECK_STR(path, want_path);
    json_t *obj = object_with_spec(want_path);
    image_site sites[8];
    size_t n = 0;
    tp_error err;
    CHECK_INT(images_collect(obj, path, sites, 8, &n, &err), TP_OK);
    CHECK_INT(n, 4);
    if (n == 4) {
        CHECK_STR(sites[0].list, "containers");
        CHECK_STR(sites[0].container, "app");
        CHECK_STR(sites[1].image, "side:2");
        CHECK_STR(sites[2].list, "initContainers");
        CHECK_STR(sites[3].list, "ephemeralContainers");
        char ptr[128];
        snprintf(ptr, sizeof ptr, "%s/initContainers/0/image", want_path);
        CHECK_STR(sites[2].pointer, ptr);
        CHECK_STR(images_lookup(obj, sites[3].pointer), "dbg:4");
    }
    json_decref(obj);
}

static void every_kind(void)
{
    check_kind("", "Pod", IMAGES_KIND_POD, "/spec");
    check_kind("apps", "Deployment", IMAGES_KIND_TEMPLATE, "/spec/template/spec");
    check_kind("apps", "ReplicaSet", IMAGES_KIND_TEMPLATE, "/spec/template/spec");
    check_kind("apps", "StatefulSet", IMAGES_KIND_TEMPLATE, "/spec/template/spec");
    check_kind("apps", "DaemonSet", IMAGES_KIND_TEMPLATE, "/spec/template/spec");
    check_kind("extensions", "Deployment", IMAGES_KIND_TEMPLATE, "/spec/template/spec");
    check_kind("batch", "Job", IMAGES_KIND_TEMPLATE, "/spec/template/spec");
    check_kind("batch", "CronJob", IMAGES_KIND_TEMPLATE, "/spec/jobTemplate/spec/template/spec");
    check_kind("", "ReplicationController", IMAGES_KIND_TEMPLATE, "/spec/template/spec");
    check_kind("", "PodTemplate", IMAGES_KIND_TEMPLATE, "/template/spec");
}

static void unknown_kinds(void)
{
    const char *path = "unset";
    CHECK_INT(images_classify("", "ConfigMap", &path), IMAGES_KIND_NONE);
    CHECK(path == NULL);
    /* A CRD that happens to be called Deployment is not ours to judge. */
    CHECK_INT(images_classify("example.com", "Deployment", &path), IMAGES_KIND_NONE);
    CHECK_INT(images_classify(NULL, "Pod", &path), IMAGES_KIND_NONE);
}

static void ephemeral_subresource_v120(void)
{
    const char *path;
    CHECK_INT(images_classify("", "EphemeralContainers", &path), IMAGES_KIND_POD);
    json_t *obj = load("{\"ephemeralContainers\":[{\"name\":\"d\",\"image\":\"busybox:1\"}]}");
    image_site sites[2];
    size_t n;
    CHECK_INT(images_collect(obj, path, sites, 2, &n, NULL), TP_OK);
    CHECK_INT(n, 1);
    CHECK_STR(sites[0].pointer, "/ephemeralContainers/0/image");
    json_decref(obj);
}

static void wrong_shapes(void)
{
    image_site sites[4];
    size_t n;
    tp_error err;
    json_t *obj = load("{\"spec\":{\"containers\":{\"name\":\"x\"}}}");
    CHECK_INT(images_collect(obj, "/spec", sites, 4, &n, &err), TP_REVIEW);
    CHECK_CONTAINS(err.msg, "/spec/containers is not a list");
    json_decref(obj);
    obj = load("{\"spec\":{\"containers\":[\"nginx\"]}}");
    CHECK_INT(images_collect(obj, "/spec", sites, 4, &n, &err), TP_REVIEW);
    json_decref(obj);
    /* A missing image is left to the API server's own validation. */
    obj = load("{\"spec\":{\"containers\":[{\"name\":\"x\"}]}}");
    CHECK_INT(images_collect(obj, "/spec", sites, 4, &n, &err), TP_OK);
    CHECK_INT(n, 1);
    CHECK(sites[0].image == NULL);
    json_decref(obj);
    /* No spec at all: nothing to judge. */
    obj = load("{\"metadata\":{}}");
    CHECK_INT(images_collect(obj, "/spec/template/spec", sites, 4, &n, &err), TP_OK);
    CHECK_INT(n, 0);
    json_decref(obj);
    obj = load("{\"spec\":{\"containers\":[{},{},{}]}}");
    CHECK_INT(images_collect(obj, "/spec", sites, 2, &n, &err), TP_TOO_LARGE);
    json_decref(obj);
    /* images_count sizes the array: every list that is an array counts. */
    obj = load("{\"spec\":{\"containers\":[{},{}],\"initContainers\":[{}],"
               "\"ephemeralContainers\":{\"x\":1}}}");
    CHECK_INT(images_count(obj, "/spec"), 3);
    CHECK_INT(images_count(obj, "/spec/template/spec"), 0);
    CHECK_INT(images_count(NULL, "/spec"), 0);
    json_decref(obj);
}

static void pointer_escaping(void)
{
    char out[32];
    CHECK_INT(patch_escape_token(PATCH_ANNOTATION, out, sizeof out), TP_OK);
    CHECK_STR(out, PATCH_ANNOTATION_TOKEN);
    CHECK_INT(patch_escape_token("a~b/c", out, sizeof out), TP_OK);
    CHECK_STR(out, "a~0b~1c");
    CHECK_INT(patch_escape_token("abcdef", out, 6), TP_TOO_LARGE);
}

static void pinned_forms(void)
{
    ref_t r;
    const char *digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char out[256];
    CHECK_INT(ref_parse("localhost:5000/app:1.4.2", 24, &r, NULL), TP_OK);
    CHECK_INT(patch_pinned_image("localhost:5000/app:1.4.2", &r, digest, POLICY_OUTPUT_TAG_DIGEST,
                                 out, sizeof out), TP_OK);
    CHECK_STR(out, "localhost:5000/app:1.4.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    CHECK_INT(patch_pinned_image("localhost:5000/app:1.4.2", &r, digest, POLICY_OUTPUT_DIGEST,
                                 out, sizeof out), TP_OK);
    CHECK_STR(out, "localhost:5000/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    CHECK_INT(patch_pinned_image("localhost:5000/app:1.4.2", &r, digest, POLICY_OUTPUT_DIGEST,
                                 out, 40), TP_TOO_LARGE);
}

static void annotation_ops(void)
{
    jsonw ops;
    jsonw_init(&ops);
    jsonw_array(&ops);
    json_t *bare = load("{\"spec\":{}}");
    json_t *no_ann = load("{\"metadata\":{\"name\":\"x\"}}");
    json_t *with_ann = load("{\"metadata\":{\"annotations\":{\"a\":\"b\"}}}");
    patch_add_annotation(&ops, bare, "{}");
    patch_add_annotation(&ops, no_ann, "{}");
    patch_add_annotation(&ops, with_ann, "{}");
    jsonw_end(&ops);
    char *text = jsonw_finish(&ops, NULL);
    CHECK_STR(text, "[{\"op\":\"add\",\"path\":\"/metadata\",\"value\":{\"annotations\":{\"tagpin.io/pinned\":\"{}\"}}},"
                    "{\"op\":\"add\",\"path\":\"/metadata/annotations\",\"value\":{\"tagpin.io/pinned\":\"{}\"}},"
                    "{\"op\":\"add\",\"path\":\"/metadata/annotations/tagpin.io~1pinned\",\"value\":\"{}\"}]");
    free(text);
    json_decref(bare);
    json_decref(no_ann);
    json_decref(with_ann);
}

CHECK_MAIN(CHECK_CASE(every_kind), CHECK_CASE(unknown_kinds), CHECK_CASE(ephemeral_subresource_v120),
           CHECK_CASE(wrong_shapes), CHECK_CASE(pointer_escaping), CHECK_CASE(pinned_forms),
           CHECK_CASE(annotation_ops))
