/* Manifest/index parsing, digest verification and the SSRF host check. */
#include "check.h"
#include "digest.h"
#include "http.h"
#include "manifest.h"

static tp_code parse(const char *body, const char *ct, manifest_info *m, tp_error *err)
{
    tp_error_clear(err);
    return manifest_parse(body, strlen(body), ct, m, err);
}

static void index_platforms(void)
{
    const char *idx =
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":["
        "{\"digest\":\"sha256:1\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
        "{\"digest\":\"sha256:2\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\","
        "\"variant\":\"v8\"}},"
        "{\"digest\":\"sha256:3\",\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}},"
        "{\"digest\":\"sha256:4\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
        "{\"digest\":\"sha256:5\"}]}";
    manifest_info m;
    tp_error err;
    CHECK_INT(parse(idx, NULL, &m, &err), TP_OK);
    CHECK(m.is_index);
    CHECK_STR(m.media_type, MT_OCI_INDEX);
    CHECK_INT(m.n_platforms, 2); /* attestation and duplicate skipped */
    CHECK_STR(m.platforms[0], "linux/amd64");
    CHECK_STR(m.platforms[1], "linux/arm64/v8");
}

static void media_type_sources(void)
{
    manifest_info m;
    tp_error err;
    /* No mediaType in the body: the Content-Type decides, else the shape. */
    CHECK_INT(parse("{\"schemaVersion\":2,\"manifests\":[]}", MT_DOCKER_LIST, &m, &err), TP_OK);
    CHECK_STR(m.media_type, MT_DOCKER_LIST);
    CHECK(m.is_index);
    CHECK_INT(parse("{\"schemaVersion\":2,\"manifests\":[]}", "text/plain", &m, &err), TP_OK);
    CHECK_STR(m.media_type, MT_OCI_INDEX);
    CHECK_INT(parse("{\"schemaVersion\":2,\"layers\":[]}", NULL, &m, &err), TP_OK);
    CHECK_STR(m.media_type, MT_OCI_MANIFEST);
    CHECK(!m.is_index);
    CHECK(manifest_type_is_index(MT_OCI_INDEX "; charset=utf-8"));
    CHECK(!manifest_type_is_index(MT_OCI_INDEX "x"));
}

static void malformed(void)
{
    manifest_info m;
    tp_error err;
    CHECK_INT(parse("{\"schemaVersion\":1,\"fsLayers\":[]}", NULL, &m, &err), TP_MANIFEST);
    CHECK_CONTAINS(err.msg, "schemaVersion");
    CHECK_INT(parse("[1,2]", NULL, &m, &err), TP_MANIFEST);
    CHECK_INT(parse("{\"schemaVersion\":2", NULL, &m, &err), TP_MANIFEST);
    CHECK_INT(parse("{\"schemaVersion\":2,\"mediaType\":\"text/html\"}", NULL, &m, &err),
              TP_MANIFEST);
    CHECK_INT(parse("{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\"}", NULL, &m, &err),
              TP_MANIFEST);
}

static void digests(void)
{
    char d[DIGEST_STR_MAX];
    tp_error err;
    CHECK_INT(digest_sha256("abc", 3, d, &err), TP_OK);
    CHECK_STR(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_INT(digest_verify("abc", 3, d, &err), TP_OK);
    CHECK_INT(digest_verify("abd", 3, d, &err), TP_DIGEST_MISMATCH);
    CHECK_CONTAINS(err.msg, d);
    CHECK_INT(digest_verify("abc", 3, "sha256:BA78", &err), TP_MANIFEST);
    CHECK_INT(digest_verify("abc", 3, "md5:900150983cd24fb0d6963f7d28e17f72", &err),
              TP_MANIFEST);
    CHECK_INT(digest_verify("abc", 3,
                            "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
                            &err), TP_OK);
    CHECK(digest_is_valid(d));
    CHECK(!digest_is_valid("sha256:"));
}

static void forbidden_hosts(void)
{
    CHECK(http_host_is_forbidden("169.254.169.254"));
    CHECK(http_host_is_forbidden("169.254.1.2"));
    CHECK(http_host_is_forbidden("metadata.google.internal"));
    CHECK(http_host_is_forbidden("METADATA.google.internal."));
    CHECK(http_host_is_forbidden("[fd00:ec2::254]"));
    CHECK(http_host_is_forbidden("fe80::1"));
    CHECK(http_host_is_forbidden("::ffff:169.254.169.254"));
    CHECK(!http_host_is_forbidden("127.0.0.1"));
    CHECK(!http_host_is_forbidden("10.0.0.1"));
    CHECK(!http_host_is_forbidden("ghcr.io"));
    CHECK(!http_host_is_forbidden("[::1]"));
}

CHECK_MAIN(CHECK_CASE(index_platforms), CHECK_CASE(media_type_sources), CHECK_CASE(malformed),
           CHECK_CASE(digests), CHECK_CASE(forbidden_hosts))
