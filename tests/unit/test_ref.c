/* Image reference parsing, checked against distribution/reference's own test
 * tables (reference_test.go, normalize_test.go, as seen through
 * ParseNormalizedNamed) plus the limits, separators and hostile bytes that an
 * admission webhook meets. Every input is handed over in an exact-size heap
 * copy without a NUL, so ASan catches any read past s+len. */
#include <stdbool.h>

#include "check.h"
#include "ref.h"

#define H16 "0123456789abcdef"
#define H64 H16 H16 H16 H16
#define F64 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define D256 "sha256:" H64
#define DF256 "sha256:" F64
#define D384 "sha384:" H64 H16 H16
#define D512 "sha512:" H64 H64
#define DF512 "sha512:" F64 F64
#define ID64 "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"
#define DBCC "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"

typedef struct ref_case {
    const char *in;
    size_t len; /* 0: strlen(in); set for inputs holding a NUL */
    const char *domain, *path, *tag, *digest; /* domain NULL: must fail */
    const char *err;                          /* substring of err.msg */
} ref_case;

#define OK(in, dom, path, tag, dig) {in, 0, dom, path, tag, dig, NULL}
#define BAD(in, why) {in, 0, NULL, NULL, NULL, NULL, why}
#define BADN(in, why) {in, sizeof in - 1, NULL, NULL, NULL, NULL, why}

static const ref_case ref_cases[] = {
    /* reference_test.go TestReferenceParse, normalized */
    OK("test_com", "docker.io", "library/test_com", "", ""),
    OK("test.com:tag", "docker.io", "library/test.com", "tag", ""),
    OK("test.com:5000", "docker.io", "library/test.com", "5000", ""),
    OK("test.com/repo:tag", "test.com", "repo", "tag", ""),
    OK("test:5000/repo", "test:5000", "repo", "", ""),
    OK("test:5000/repo:tag", "test:5000", "repo", "tag", ""),
    OK("test:5000/repo@" DF256, "test:5000", "repo", "", DF256),
    OK("test:5000/repo:tag@" DF256, "test:5000", "repo", "tag", DF256),
    BAD("", "empty reference"),
    BAD(":justtag", "empty path component"),
    BAD("@" DF256, "empty path component"),
    BAD("repo@sha256:ffffffffffffffffffffffffffffffffff", "sha256 needs 64 lowercase hex"),
    BAD("validname@invaliddigest:" F64, "unsupported algorithm \"invaliddigest\""),
    BAD("Uppercase:tag", "repository name must be lowercase"),
    BAD("test:5000/Uppercase/lowercase:tag", "repository name must be lowercase"),
    OK("lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", ""),
    BAD("aa/asdf$$^/aa", "unexpected '$' at byte 7"),
    OK("sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux", "", ""),
    OK("sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux",
       "some-long-tag", ""),
    OK("b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io",
       "test.example.com/my-app", "test.example.com", ""),
    OK("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", ""),
    OK("xn--7o8h.com/myimage:xn--7o8h.com@" DF512, "xn--7o8h.com", "myimage",
       "xn--7o8h.com", DF512),
    OK("foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", ""),
    OK("foo/foo_bar.com:8080", "docker.io", "foo/foo_bar.com", "8080", ""),
    OK("192.168.1.1", "docker.io", "library/192.168.1.1", "", ""),
    OK("192.168.1.1:tag", "docker.io", "library/192.168.1.1", "tag", ""),
    OK("192.168.1.1:5000", "docker.io", "library/192.168.1.1", "5000", ""),
    OK("192.168.1.1/repo", "192.168.1.1", "repo", "", ""),
    OK("192.168.1.1:5000/repo", "192.168.1.1:5000", "repo", "", ""),
    OK("192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", ""),
    BAD("[2001:db8::1]", "unexpected '['"),
    BAD("[2001:db8::1]:5000", "unexpected '['"),
    BAD("[2001:db8::1]:tag", "unexpected '['"),
    OK("[2001:db8::1]/repo", "[2001:db8::1]", "repo", "", ""),
    OK("[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag", ""),
    OK("[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo", "", ""),
    OK("[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo", "tag", ""),
    OK("[2001:db8::1]:5000/repo@" DF256, "[2001:db8::1]:5000", "repo", "", DF256),
    OK("[2001:db8::1]:5000/repo:tag@" DF256, "[2001:db8::1]:5000", "repo", "tag", DF256),
    OK("[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", "", ""),
    OK("[::1]:5000/repo", "[::1]:5000", "repo", "", ""),
    BAD("[fe80::1%eth0]:5000/repo", "not a valid host[:port]"),
    BAD("[fe80::1%@invalidzone]:5000/repo", "not a valid host[:port]"),
    /* reference_test.go TestSerialization / TestDomainAndPath */
    OK("example.com:8000/named", "example.com:8000", "named", "", ""),
    OK("example.com:8000/named:tagged", "example.com:8000", "named", "tagged", ""),
    OK("other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112",
       "other.com", "named", "",
       "sha256:1234567890098765432112345667890098765432112345667890098765432112"),
    OK("test.com/foo", "test.com", "foo", "", ""),
    OK("test:8080/foo", "test:8080", "foo", "", ""),
    OK("test.com:8080/foo", "test.com:8080", "foo", "", ""),
    OK("test-com:8080/foo", "test-com:8080", "foo", "", ""),
    OK("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo", "", ""),
    /* normalize_test.go TestValidateReferenceName */
    OK("docker/docker", "docker.io", "docker/docker", "", ""),
    OK("library/debian", "docker.io", "library/debian", "", ""),
    OK("debian", "docker.io", "library/debian", "", ""),
    OK("docker.io/docker/docker", "docker.io", "docker/docker", "", ""),
    OK("docker.io/library/debian", "docker.io", "library/debian", "", ""),
    OK("docker.io/debian", "docker.io", "library/debian", "", ""),
    OK("index.docker.io/docker/docker", "docker.io", "docker/docker", "", ""),
    OK("index.docker.io/library/debian", "docker.io", "library/debian", "", ""),
    OK("index.docker.io/debian", "docker.io", "library/debian", "", ""),
    OK("127.0.0.1:5000/docker/docker", "127.0.0.1:5000", "docker/docker", "", ""),
    OK("127.0.0.1:5000/library/debian", "127.0.0.1:5000", "library/debian", "", ""),
    OK("127.0.0.1:5000/debian", "127.0.0.1:5000", "debian", "", ""),
    OK("192.168.0.1", "docker.io", "library/192.168.0.1", "", ""),
    OK("192.168.0.1:80", "docker.io", "library/192.168.0.1", "80", ""),
    OK("192.168.0.1:8/debian", "192.168.0.1:8", "debian", "", ""),
    OK("192.168.0.2:25000/debian", "192.168.0.2:25000", "debian", "", ""),
    OK("thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "docker.io",
       "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "", ""),
    OK("[fc00::1]:5000/docker", "[fc00::1]:5000", "docker", "", ""),
    OK("[fc00::1]:5000/docker/docker", "[fc00::1]:5000", "docker/docker", "", ""),
    OK("[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000",
       "library/debian", "", ""),
    OK("docker.io/" ID64, "docker.io", "library/" ID64, "", ""),
    OK("Docker/docker", "Docker", "docker", "", ""),
    OK("DOCKER/docker", "DOCKER", "docker", "", ""),
    BAD("https://github.com/docker/docker", "registry host \"https:\""),
    BAD("docker/Docker", "repository name must be lowercase"),
    BAD("-docker", "starts with separator '-'"),
    BAD("-docker/docker", "starts with separator '-'"),
    BAD("-docker.io/docker/docker", "registry host \"-docker.io\""),
    BAD("docker///docker", "empty path component at byte 7"),
    BAD("docker.io/docker/Docker", "repository name must be lowercase"),
    BAD("docker.io/docker///docker", "empty path component"),
    BAD("[fc00::1]", "unexpected '['"),
    BAD("[fc00::1]:5000", "unexpected '['"),
    BAD("fc00::1:5000/debian", "registry host \"fc00::1:5000\""),
    BAD("[fe80::1%eth0]:5000/debian", "not a valid host[:port]"),
    BAD("[2001:db8:3:4::192.0.2.33]:5000/debian", "not a valid host[:port]"),
    BAD(ID64, "cannot specify 64-byte hexadecimal strings"),
    /* normalize_test.go TestValidateRemoteName */
    OK("docker-rules/docker", "docker.io", "docker-rules/docker", "", ""),
    OK("docker---rules/docker", "docker.io", "docker---rules/docker", "", ""),
    OK("doc/docker", "docker.io", "doc/docker", "", ""),
    OK("d/docker", "docker.io", "d/docker", "", ""),
    OK("jess/t", "docker.io", "jess/t", "", ""),
    OK("dock__er/docker", "docker.io", "dock__er/docker", "", ""),
    BAD("docker-/docker", "ends with separator"),
    BAD("-docker-/docker", "starts with separator"),
    BAD("____/____", "starts with separator '_'"),
    BAD("_docker/_docker", "starts with separator '_'"),
    BAD("dock..er/docker", "registry host \"dock..er\""),
    BAD("dock_.er/docker", "registry host \"dock_.er\""),
    BAD("dock-.er/docker", "registry host \"dock-.er\""),
    BAD("docker/", "empty path component at byte 7"),
    BAD("this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_"
        "valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_"
        "because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_"
        "lenth_is_greater_than_255/docker",
        "must not be more than 255 characters"),
    /* normalize_test.go TestParseRepositoryInfo / SplitHostname / ParseAnyReference */
    OK("fooo/bar", "docker.io", "fooo/bar", "", ""),
    OK("index.docker.io/fooo/bar", "docker.io", "fooo/bar", "", ""),
    OK("ubuntu", "docker.io", "library/ubuntu", "", ""),
    OK("nonlibrary/ubuntu", "docker.io", "nonlibrary/ubuntu", "", ""),
    OK("other/library", "docker.io", "other/library", "", ""),
    OK("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase", "", ""),
    OK("example.com/privatebase", "example.com", "privatebase", "", ""),
    OK("ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", "", ""),
    OK("library/foo/bar", "docker.io", "library/foo/bar", "", ""),
    OK("docker.io/library/foo/bar", "docker.io", "library/foo/bar", "", ""),
    OK("store/foo/bar", "docker.io", "store/foo/bar", "", ""),
    OK("Foo/bar", "Foo", "bar", "", ""),
    OK("test_com/foo", "docker.io", "test_com/foo", "", ""),
    OK("docker/migrator", "docker.io", "docker/migrator", "", ""),
    OK("busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
       "docker.io", "library/busybox", "latest",
       "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"),
    OK("redis@sha256:" DBCC, "docker.io", "library/redis", "", "sha256:" DBCC),
    OK("dmcgowan/myapp:latest", "docker.io", "dmcgowan/myapp", "latest", ""),
    OK("docker.io/dmcgowan/myapp@sha256:" DBCC, "docker.io", "dmcgowan/myapp", "",
       "sha256:" DBCC),
    OK("dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9", "docker.io",
       "library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9", "", ""),
    OK("dbcc1", "docker.io", "library/dbcc1", "", ""),
    BAD("-foo", "starts with separator '-'"),
    /* identifiers: only a bare 64 lowercase hex string is refused */
    OK(ID64 ":tag", "docker.io", "library/" ID64, "tag", ""),
    OK(ID64 "a", "docker.io", "library/" ID64 "a", "", ""),
    OK("org/" ID64, "docker.io", "org/" ID64, "", ""),
    BAD("1A3F5E7D9C1B3A5F7E9D1C3B5A7F9E1D3C5B7A9F1E3D5D7C9B1A3F5E7D9C1B3A", "lowercase"),
    /* separators */
    OK("a__b", "docker.io", "library/a__b", "", ""),
    OK("a--b", "docker.io", "library/a--b", "", ""),
    OK("a-----b", "docker.io", "library/a-----b", "", ""),
    OK("a.b_c-d__e", "docker.io", "library/a.b_c-d__e", "", ""),
    OK("a", "docker.io", "library/a", "", ""),
    OK("0", "docker.io", "library/0", "", ""),
    BAD("a___b", "invalid separator \"___\""),
    BAD("a-.b", "invalid separator \"-.\""),
    BAD("a._b", "invalid separator \"._\""),
    BAD("org/a..b", "invalid separator \"..\""),
    BAD("org/a_-b", "invalid separator \"_-\""),
    BAD("org/a-", "ends with separator"),
    BAD("org/a_", "ends with separator"),
    BAD("org/a.", "ends with separator"),
    BAD("org/a__", "ends with separator"),
    BAD("org/a-:1.0", "ends with separator"),
    BAD("org/a.@" D256, "ends with separator"),
    BAD("org/.a", "starts with separator '.'"),
    BAD("/foo", "empty path component at byte 0"),
    BAD("foo//bar", "empty path component at byte 4"),
    BAD("foo/bar/", "empty path component at byte 8"),
    BAD("docker.io/", "empty path component at byte 10"),
    /* registries, ports, localhost, IPv6 */
    OK("localhost/foo", "localhost", "foo", "", ""),
    OK("localhost:5000/app:1.0", "localhost:5000", "app", "1.0", ""),
    OK("localhost", "docker.io", "library/localhost", "", ""),
    OK("localhost:5000", "docker.io", "library/localhost", "5000", ""),
    OK("LOCALHOST/foo", "LOCALHOST", "foo", "", ""),
    OK("localhost:99999999/foo", "localhost:99999999", "foo", "", ""),
    OK("docker.io", "docker.io", "library/docker.io", "", ""),
    OK("docker.io:443/foo", "docker.io:443", "foo", "", ""),
    OK("DOCKER.IO/foo", "DOCKER.IO", "foo", "", ""),
    OK("registry-1.docker.io/foo", "registry-1.docker.io", "foo", "", ""),
    OK("EXAMPLE.com/org/app", "EXAMPLE.com", "org/app", "", ""),
    OK("my--host.example/x", "my--host.example", "x", "", ""),
    OK("1.2.3.4/a/b/c/d/e", "1.2.3.4", "a/b/c/d/e", "", ""),
    OK("ghcr.io/org/app:v1.2.3", "ghcr.io", "org/app", "v1.2.3", ""),
    OK("[::1]/foo", "[::1]", "foo", "", ""),
    OK("[::1]:5000/foo:1@" D256, "[::1]:5000", "foo", "1", D256),
    OK("[ABCD::EF]:5000/foo", "[ABCD::EF]:5000", "foo", "", ""),
    BAD("example.com:/foo", "registry host \"example.com:\""),
    BAD("example.com:80a/foo", "registry host"),
    BAD("example-.com/foo", "registry host"),
    BAD("example..com/foo", "registry host"),
    BAD(".example.com/foo", "registry host"),
    BAD("example.com./foo", "registry host"),
    BAD("ex_ample.com/foo", "registry host \"ex_ample.com\""),
    BAD("Foo_bar/baz", "registry host"),
    BAD("[]:5000/foo", "registry host"),
    BAD("[::1/foo", "registry host"),
    BAD("[::1]]/foo", "registry host"),
    BAD("[::g]/foo", "registry host"),
    BAD("[::1]:/foo", "registry host"),
    BAD("[::1]x/foo", "registry host"),
    BAD("::1/foo", "registry host"),
    BAD("nginx:a/b", "registry host \"nginx:a\""),
    BAD("host name.com/foo", "unexpected space at byte 4 in registry host"),
    /* tags */
    OK("nginx:1.25.3-alpine", "docker.io", "library/nginx", "1.25.3-alpine", ""),
    OK("nginx:_x", "docker.io", "library/nginx", "_x", ""),
    OK("nginx:X", "docker.io", "library/nginx", "X", ""),
    OK("nginx:latest", "docker.io", "library/nginx", "latest", ""),
    OK("nginx:a..--__", "docker.io", "library/nginx", "a..--__", ""),
    BAD("nginx:.x", "tag must start with a letter, digit or '_'"),
    BAD("nginx:-x", "tag must start with a letter, digit or '_'"),
    BAD("nginx:", "empty tag after ':'"),
    BAD("nginx:@" D256, "empty tag after ':'"),
    BAD("nginx:1:2", "unexpected ':' at byte 7 in tag"),
    BAD("nginx:1+2", "unexpected '+' at byte 7 in tag"),
    /* digests */
    OK("nginx@" D256, "docker.io", "library/nginx", "", D256),
    OK("nginx:1.25@" D256, "docker.io", "library/nginx", "1.25", D256),
    OK("nginx@" D384, "docker.io", "library/nginx", "", D384),
    OK("nginx@" D512, "docker.io", "library/nginx", "", D512),
    BAD("nginx@", "empty digest after '@'"),
    BAD("nginx:1.25@", "empty digest after '@'"),
    BAD("nginx@sha256", "expected algorithm:hex"),
    BAD("nginx@sha256:", "sha256 needs 64 lowercase hex digits"),
    BAD("nginx@sha256:" H64 "0", "sha256 needs 64 lowercase hex digits"),
    BAD("nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
        "sha256 needs 64 lowercase hex digits"),
    BAD("nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
        "sha256 needs 64 lowercase hex digits"),
    BAD("nginx@sha256:g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "sha256 needs 64 lowercase hex digits"),
    BAD("nginx@sha384:" H64, "sha384 needs 96 lowercase hex digits"),
    BAD("nginx@sha512:" H64, "sha512 needs 128 lowercase hex digits"),
    BAD("nginx@SHA256:" H64, "unsupported algorithm \"SHA256\""),
    BAD("nginx@md5:0123456789abcdef0123456789abcdef", "unsupported algorithm \"md5\""),
    BAD("nginx@sha256+b64:" H64, "unsupported algorithm \"sha256+b64\""),
    BAD("nginx@1sha:" H64, "invalid algorithm name"),
    BAD("nginx@" D256 "@" D256, "sha256 needs 64 lowercase hex digits"),
    BAD("nginx@" D256 "\n", "sha256 needs 64 lowercase hex digits"),
    BAD("nginx@" D256 ":tag", "sha256 needs 64 lowercase hex digits"),
    /* whitespace, control bytes, NUL, non-ASCII */
    BAD(" nginx", "unexpected space at byte 0"),
    BAD("nginx ", "unexpected space at byte 5"),
    BAD("nginx :1", "unexpected space at byte 5"),
    BAD("nginx:1 ", "unexpected space at byte 7 in tag"),
    BAD("nginx\t", "unexpected '\\x09' at byte 5"),
    BAD("nginx\n", "unexpected '\\x0a' at byte 5"),
    BAD("ngi\001nx", "unexpected '\\x01' at byte 3"),
    BAD("nginx\177", "unexpected '\\x7f' at byte 5"),
    BAD("nginx\303\251", "unexpected '\\xc3' at byte 5"),
    BAD("\303\261ginx", "unexpected '\\xc3' at byte 0"),
    BAD("nginx'", "unexpected '\\x27' at byte 5"),
    BADN("nginx\0:evil", "unexpected '\\x00' at byte 5"),
    BADN("nginx:1.25\0", "unexpected '\\x00' at byte 10 in tag"),
    BADN("\0", "unexpected '\\x00' at byte 0"),
    BADN("reg\0.io/app", "unexpected '\\x00' at byte 3 in registry host"),
};

/* Parses from an exact-size heap copy with no terminator. */
static tp_code parse_exact(const char *in, size_t len, ref_t *r, tp_error *err)
{
    char *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, in, len);
    tp_error_clear(err);
    tp_code rc = ref_parse(copy, len, r, err);
    free(copy);
    return rc;
}

static void check_one(const ref_case *c)
{
    ref_t r;
    tp_error err;
    size_t len = c->len ? c->len : strlen(c->in);
    tp_code rc = parse_exact(c->in, len, &r, &err);
    if (!c->domain) {
        if (rc != TP_REF)
            fprintf(stderr, "  input \"%s\" was accepted as %s\n", c->in, r.name);
        CHECK_INT(rc, TP_REF);
        CHECK_INT(err.code, TP_REF);
        CHECK_CONTAINS(err.msg, c->err);
        return;
    }
    if (rc != TP_OK)
        fprintf(stderr, "  input \"%s\" refused: %s\n", c->in, err.msg);
    CHECK_INT(rc, TP_OK);
    if (rc != TP_OK)
        return;
    char name[2 * REF_NAME_MAX + 2];
    snprintf(name, sizeof name, "%s/%s", c->domain, c->path);
    CHECK_STR(r.domain, c->domain);
    CHECK_STR(r.path, c->path);
    CHECK_STR(r.name, name);
    CHECK_STR(r.tag, c->tag);
    CHECK_STR(r.digest, c->digest);
    CHECK_INT(r.has_tag, c->tag[0] != '\0');
    CHECK_INT(r.has_digest, c->digest[0] != '\0');
}

static void test_table(void)
{
    size_t n = sizeof ref_cases / sizeof ref_cases[0];
    for (size_t i = 0; i < n; i++) {
        int before = check_failures;
        check_one(&ref_cases[i]);
        if (check_failures != before)
            fprintf(stderr, "  ^ case %zu: \"%s\"\n", i, ref_cases[i].in);
    }
    printf("     %zu table cases\n", n);
    CHECK(n >= 170);
}

static void test_written_name_len(void)
{
    static const struct { const char *in; size_t want; } w[] = {
        {"nginx", 5}, {"nginx:1.25", 5}, {"nginx@" D256, 5}, {"nginx:1.25@" D256, 5},
        {"localhost:5000/app:1.0", 18}, {"localhost:5000/app", 18}, {"localhost:5000", 9},
        {"[::1]:5000/foo:1@" D256, 14}, {"docker.io/library/ubuntu:22.04", 24},
        {"index.docker.io/ubuntu", 22}, {"registry:5000/a/b/c@" D256, 19},
    };
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        ref_t r;
        tp_error err;
        CHECK_INT(parse_exact(w[i].in, strlen(w[i].in), &r, &err), TP_OK);
        CHECK_INT(r.written_name_len, w[i].want);
    }
}

/* Builds prefix + n copies of c + suffix into buf (which must fit). */
static size_t build(char *buf, const char *prefix, char c, size_t n, const char *suffix)
{
    size_t len = strlen(prefix);
    memcpy(buf, prefix, len);
    memset(buf + len, c, n);
    len += n;
    memcpy(buf + len, suffix, strlen(suffix));
    return len + strlen(suffix);
}

static void test_tag_length(void)
{
    char buf[512];
    ref_t r;
    tp_error err;
    size_t len = build(buf, "nginx:", 'a', 128, "");
    CHECK_INT(parse_exact(buf, len, &r, &err), TP_OK);
    CHECK_INT(strlen(r.tag), 128);
    len = build(buf, "nginx:", 'a', 128, "@" D256);
    CHECK_INT(parse_exact(buf, len, &r, &err), TP_OK);
    CHECK_INT(strlen(r.tag), 128);
    CHECK_STR(r.digest, D256);
    len = build(buf, "nginx:", 'a', 129, "");
    CHECK_INT(parse_exact(buf, len, &r, &err), TP_REF);
    CHECK_CONTAINS(err.msg, "tag longer than 128 characters");
    len = build(buf, "nginx:", '9', 400, "@" D256);
    CHECK_INT(parse_exact(buf, len, &r, &err), TP_REF);
    CHECK_CONTAINS(err.msg, "tag longer than 128 characters");
}

static void test_name_length(void)
{
    char buf[1024];
    ref_t r;
    tp_error err;
    /* "example.com/" is 12 bytes: 243 more make the name 255 */
    size_t len = build(buf, "example.com/", 'a', 243, ":v1");
    CHECK_INT(parse_exact(buf, len, &r, &err), TP_OK);
    CHECK_INT(strlen(r.name), 255);
    CHECK_INT(r.written_name_len, 255);
    len = build(buf, "example.com/", 'a', 244, ":v1");
    CHECK_INT(parse_exact(buf, len, &r, &err), TP_REF);
    CHECK_CONTAINS(err.msg, "must not be more than 255 characters (normalized name is 256)");
    /* the limit counts the normalized name: "docker.io/library/" is 18 bytes */
    len = build(buf, "", 'b', 237, "");
    CHECK_INT(parse_exact(buf, len, &r, &err), TP_OK);
    CHECK_INT(strlen(r.name), 255);
    buf[len] = '\0';
    CHECK_STR(ref_familiar_name(&r), buf);
    len = build(buf, "", 'b', 238, "");
    CHECK_INT(parse_exact(buf, len, &r, &err), TP_REF);
    CHECK_CONTAINS(err.msg, "must not be more than 255 characters");
    /* reference_test.go: "a/" x 128 + "a:tag" is too long; "a/" x 127 + "a" is
     * 255 bytes of name by itself, and 265 once docker.io/ is prepended */
    len = 0;
    for (int i = 0; i < 128; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "a/");
    len += (size_t)snprintf(buf + len, sizeof buf - len, "a:tag");
    CHECK_INT(parse_exact(buf, len, &r, &err), TP_REF);
    CHECK_CONTAINS(err.msg, "must not be more than 255 characters");
    len = build(buf, "", 'x', 0, "reg.io/");
    for (int i = 0; i < 123; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "a/");
    len += (size_t)snprintf(buf + len, sizeof buf - len, "a:t");
    CHECK_INT(parse_exact(buf, len, &r, &err), TP_OK);
    CHECK_INT(strlen(r.name), 254);
    /* a huge registry host is refused without echoing it */
    len = build(buf, "", 'h', 600, "_.io/app");
    CHECK_INT(parse_exact(buf, len, &r, &err), TP_REF);
    CHECK_CONTAINS(err.msg, "registry host (604 bytes before the first '/')");
}

static void test_familiar_name(void)
{
    static const struct { const char *in, *familiar; } f[] = {
        {"ubuntu", "ubuntu"},
        {"docker.io/library/ubuntu:22.04", "ubuntu"},
        {"index.docker.io/library/ubuntu", "ubuntu"},
        {"library/ubuntu", "ubuntu"},
        {"fooo/bar", "fooo/bar"},
        {"index.docker.io/fooo/bar", "fooo/bar"},
        {"docker.io/library/foo/bar", "library/foo/bar"},
        {"store/foo/bar", "store/foo/bar"},
        {"127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase"},
        {"example.com/privatebase", "example.com/privatebase"},
        {"example.com/library/foo", "example.com/library/foo"},
        {"Foo/bar", "Foo/bar"},
        {"docker.io:443/library/foo", "docker.io:443/library/foo"},
        {"docker.iox/foo", "docker.iox/foo"},
        {"localhost:5000/app@" D256, "localhost:5000/app"},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        ref_t r;
        tp_error err;
        CHECK_INT(parse_exact(f[i].in, strlen(f[i].in), &r, &err), TP_OK);
        CHECK_STR(ref_familiar_name(&r), f[i].familiar);
    }
}

/* A parsed reference printed back (name[:tag][@digest]) parses to itself. */
static void test_round_trip(void)
{
    size_t n = sizeof ref_cases / sizeof ref_cases[0];
    for (size_t i = 0; i < n; i++) {
        ref_t a, b;
        tp_error err;
        char buf[1024];
        if (!ref_cases[i].domain)
            continue;
        size_t len = ref_cases[i].len ? ref_cases[i].len : strlen(ref_cases[i].in);
        CHECK_INT(parse_exact(ref_cases[i].in, len, &a, &err), TP_OK);
        int w = snprintf(buf, sizeof buf, "%s%s%s%s%s", a.name, a.has_tag ? ":" : "", a.tag,
                         a.has_digest ? "@" : "", a.digest);
        CHECK(w > 0 && (size_t)w < sizeof buf);
        CHECK_INT(parse_exact(buf, (size_t)w, &b, &err), TP_OK);
        CHECK_STR(b.name, a.name);
        CHECK_STR(b.tag, a.tag);
        CHECK_STR(b.digest, a.digest);
        CHECK_INT(b.written_name_len, strlen(a.name));
    }
}

static void test_bad_arguments(void)
{
    ref_t r;
    tp_error err;
    tp_error_clear(&err);
    CHECK_INT(ref_parse(NULL, 3, &r, &err), TP_INVAL);
    CHECK_INT(ref_parse("abc", 3, NULL, &err), TP_INVAL);
    CHECK_INT(ref_parse("abc", 3, &r, NULL), TP_OK); /* err is optional */
    CHECK_INT(ref_parse("ABC", 3, &r, NULL), TP_REF);
    CHECK_INT(ref_parse("abc", 0, &r, &err), TP_REF);
    CHECK_CONTAINS(err.msg, "empty reference");
    /* len bounds the input even when a NUL-terminated string is longer */
    CHECK_INT(ref_parse("nginx:1.25@junk", 10, &r, &err), TP_OK);
    CHECK_STR(r.tag, "1.25");
    CHECK(!r.has_digest);
}

CHECK_MAIN(CHECK_CASE(test_table), CHECK_CASE(test_written_name_len),
           CHECK_CASE(test_tag_length), CHECK_CASE(test_name_length),
           CHECK_CASE(test_familiar_name), CHECK_CASE(test_round_trip),
           CHECK_CASE(test_bad_arguments))
