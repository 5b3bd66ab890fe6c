/* Image reference parser: distribution's ParseNormalizedNamed without a regex
 * engine. One forward walk over s[0..len): split off the registry the way
 * splitDockerDomain does, check it against the domain grammar, walk the path
 * components, then the optional ":tag" and "@digest". Nothing is copied into
 * *out until the whole input has been accepted. */
#include "ref.h"

#include <stdio.h>
#include <string.h>

#define REF_BAD "invalid reference format: "

static const char ref_default_domain[] = "docker.io";
static const char ref_legacy_domain[] = "index.docker.io";
static const char ref_library[] = "library/";

static bool ref_is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool ref_is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool ref_is_alnum(char c)
{
    return ref_is_lower_alnum(c) || ref_is_upper(c);
}

static bool ref_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool ref_is_word(char c)
{
    return ref_is_alnum(c) || c == '_';
}

static bool ref_is_xdigit(char c)
{
    return ref_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool ref_is_lower_hex(char c)
{
    return ref_is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool ref_span_eq(const char *p, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

/* A byte as the user should read it in a message: 'x', or '\xNN' when it
 * would not print (control bytes, NUL, non-ASCII). */
static const char *ref_char_show(char c, char buf[8])
{
    unsigned char u = (unsigned char)c;
    if (u > 0x20 && u < 0x7f && u != '\'')
        snprintf(buf, 8, "'%c'", c);
    else if (u == ' ')
        snprintf(buf, 8, "space");
    else
        snprintf(buf, 8, "'\\x%02x'", u);
    return buf;
}

static tp_code ref_fail_char(tp_error *err, const char *s, const char *p,
                             const char *where)
{
    char shown[8];
    return tp_error_set(err, TP_REF, REF_BAD "unexpected %s at byte %zu in %s",
                        ref_char_show(*p, shown), (size_t)(p - s), where);
}

/* A bare 64-hex string is an image ID, which the grammar refuses as a name
 * so that "docker run <id>" can never be mistaken for a pull. */
static bool ref_is_identifier(const char *s, size_t len)
{
    if (len != 64)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!ref_is_lower_hex(s[i]))
            return false;
    return true;
}

/* splitDockerDomain: is the text before the first '/' a registry? */
static bool ref_looks_like_domain(const char *d, size_t n)
{
    if (ref_span_eq(d, n, "localhost"))
        return true;
    for (size_t i = 0; i < n; i++)
        if (d[i] == '.' || d[i] == ':' || ref_is_upper(d[i]))
            return true;
    return false;
}

/* host [":" port], host := domain-name | "[" [a-fA-F0-9:]+ "]". */
static bool ref_domain_valid(const char *p, const char *end)
{
    if (p < end && *p == '[') {
        const char *start = ++p;
        while (p < end && (ref_is_xdigit(*p) || *p == ':'))
            p++;
        if (p == start || p == end || *p != ']')
            return false;
        p++;
    } else {
        for (;;) { /* component: alnum ([alnum-]* alnum)? then '.' or stop */
            if (p == end || !ref_is_alnum(*p))
                return false;
            while (p < end && (ref_is_alnum(*p) || *p == '-'))
                p++;
            if (p[-1] == '-')
                return false;
            if (p == end || *p != '.')
                break;
            p++;
        }
    }
    if (p == end)
        return true;
    if (*p != ':' || ++p == end)
        return false;
    while (p < end && ref_is_digit(*p))
        p++;
    return p == end;
}

/* The path ends at ':' or '@' (or the end); distribution checks case before
 * anything else so that "docker.io/Foo" gets the message that helps. */
static bool ref_path_has_upper(const char *p, const char *end)
{
    for (; p < end && *p != ':' && *p != '@'; p++)
        if (ref_is_upper(*p))
            return true;
    return false;
}

/* One separator: '.', '_', '__' or a run of '-'. Returns its end, or NULL. */
static const char *ref_separator_end(const char *p, const char *end)
{
    const char *q = p + 1;
    if (*p == '_' && q < end && *q == '_')
        q++;
    else if (*p == '-')
        while (q < end && *q == '-')
            q++;
    return q;
}

static bool ref_is_separator(char c)
{
    return c == '.' || c == '_' || c == '-';
}

/* path := component ("/" component)*,
 * component := [a-z0-9]+ (separator [a-z0-9]+)*. On success *path_end is the
 * first byte after the path (':', '@' or end); *slashes counts the '/'. */
static tp_code ref_path_walk(const char *s, const char *p, const char *end,
                             const char **path_end, size_t *slashes, tp_error *err)
{
    *slashes = 0;
    for (;;) {
        if (p == end || *p == '/' || *p == ':' || *p == '@')
            return tp_error_set(err, TP_REF, REF_BAD "empty path component at byte %zu",
                                (size_t)(p - s));
        if (ref_is_separator(*p))
            return tp_error_set(err, TP_REF, REF_BAD "path component starts with "
                                "separator '%c' at byte %zu", *p, (size_t)(p - s));
        if (!ref_is_lower_alnum(*p))
            return ref_fail_char(err, s, p, "repository path");
        while (p < end && ref_is_lower_alnum(*p))
            p++;
        if (p < end && ref_is_separator(*p)) {
            const char *sep = p;
            p = ref_separator_end(p, end);
            if (p == end || *p == '/' || *p == ':' || *p == '@')
                return tp_error_set(err, TP_REF, REF_BAD "path component ends with "
                                    "separator at byte %zu", (size_t)(sep - s));
            if (ref_is_separator(*p))
                return tp_error_set(err, TP_REF, REF_BAD "invalid separator \"%.*s\" at "
                                    "byte %zu (use '.', '_', '__' or dashes)",
                                    (int)(p - sep + 1), sep, (size_t)(sep - s));
            continue; /* the next alnum run continues this component */
        }
        if (p < end && *p == '/') {
            p++;
            (*slashes)++;
            continue;
        }
        if (p == end || *p == ':' || *p == '@')
            break;
        return ref_fail_char(err, s, p, "repository path");
    }
    *path_end = p;
    return TP_OK;
}

/* tag := [\w][\w.-]{0,127}, ending at '@' or the end of the input. */
static tp_code ref_tag_walk(const char *s, const char *p, const char *end,
                            const char **tag_end, tp_error *err)
{
    const char *start = p;
    if (p == end || *p == '@')
        return tp_error_set(err, TP_REF, REF_BAD "empty tag after ':'");
    if (*p == '.' || *p == '-')
        return tp_error_set(err, TP_REF, REF_BAD "tag must start with a letter, digit "
                            "or '_', not '%c'", *p);
    while (p < end && (ref_is_word(*p) || *p == '.' || *p == '-'))
        p++;
    if (p < end && *p != '@')
        return ref_fail_char(err, s, p, "tag");
    if ((size_t)(p - start) > REF_TAG_MAX)
        return tp_error_set(err, TP_REF, REF_BAD "tag longer than %d characters (%zu)",
                            REF_TAG_MAX, (size_t)(p - start));
    *tag_end = p;
    return TP_OK;
}

/* digest-algorithm := component ([-_+.] component)*, component := [A-Za-z][A-Za-z0-9]* */
static bool ref_algorithm_valid(const char *p, const char *end)
{
    for (;;) {
        if (p == end || !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return false;
        while (p < end && ref_is_alnum(*p))
            p++;
        if (p == end)
            return true;
        if (*p != '-' && *p != '_' && *p != '+' && *p != '.')
            return false;
        p++;
    }
}

/* digest := algorithm ":" hex, to the end of the input. Only the algorithms
 * registries and containerd actually verify are accepted, with their exact
 * lowercase hex length, as go-digest's Parse does. */
static tp_code ref_digest_check(const char *p, const char *end, tp_error *err)
{
    static const struct { const char *name; size_t hex; } algs[] = {
        {"sha256", 64}, {"sha384", 96}, {"sha512", 128},
    };
    if (p == end)
        return tp_error_set(err, TP_REF, REF_BAD "empty digest after '@'");
    const char *colon = memchr(p, ':', (size_t)(end - p));
    if (!colon)
        return tp_error_set(err, TP_REF, "digest: expected algorithm:hex, e.g. sha256:<64 hex>");
    size_t alen = (size_t)(colon - p), hlen = (size_t)(end - colon - 1);
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        if (!ref_span_eq(p, alen, algs[i].name))
            continue;
        bool ok = hlen == algs[i].hex;
        for (const char *h = colon + 1; ok && h < end; h++)
            ok = ref_is_lower_hex(*h);
        if (!ok)
            return tp_error_set(err, TP_REF, "digest: %s needs %zu lowercase hex digits",
                                algs[i].name, algs[i].hex);
        return TP_OK;
    }
    if (!ref_algorithm_valid(p, colon))
        return tp_error_set(err, TP_REF, "digest: invalid algorithm name before ':'");
    return tp_error_set(err, TP_REF, "digest: unsupported algorithm \"%.*s\" "
                        "(use sha256, sha384 or sha512)", alen > 32 ? 32 : (int)alen, p);
}

/* Where the parts of an accepted reference lie; spans into the input except
 * for the substituted default domain. */
typedef struct ref_spans {
    const char *domain, *path, *path_end, *tag, *tag_end, *digest, *end;
    size_t domain_len;
    bool library;
} ref_spans;

/* splitDockerDomain, then the domain grammar on whatever was taken as one. */
static tp_code ref_split(const char *s, const char *end, ref_spans *sp, tp_error *err)
{
    const char *slash = memchr(s, '/', (size_t)(end - s));
    size_t dlen = slash ? (size_t)(slash - s) : 0;
    sp->domain = ref_default_domain;
    sp->domain_len = sizeof ref_default_domain - 1;
    sp->path = s;
    if (!slash || !ref_looks_like_domain(s, dlen))
        return TP_OK;
    sp->path = slash + 1;
    if (ref_span_eq(s, dlen, ref_legacy_domain))
        return TP_OK;
    /* distribution would read an invalid host such as "a_b.com" as a
     * registry-less path; no registry can be asked for that, so say why. */
    if (!ref_domain_valid(s, slash)) {
        if (dlen > 64)
            return tp_error_set(err, TP_REF, REF_BAD "registry host (%zu bytes before the "
                                "first '/') is not a valid host[:port]", dlen);
        for (const char *q = s; q < slash; q++)
            if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
                return ref_fail_char(err, s, q, "registry host");
        return tp_error_set(err, TP_REF, REF_BAD "registry host \"%.*s\" is not a valid "
                            "host[:port]", (int)dlen, s);
    }
    sp->domain = s;
    sp->domain_len = dlen;
    return TP_OK;
}

static tp_code ref_walk(const char *s, size_t len, ref_spans *sp, tp_error *err)
{
    const char *end = s + len;
    size_t slashes = 0;
    tp_code rc;
    /* Every span starts valid (empty at s): gcc -O2 cannot follow the walks
     * below far enough to see they are always set. */
    *sp = (ref_spans){s, s, s, s, s, s, end, 0, false};
    if (len == 0)
        return tp_error_set(err, TP_REF, REF_BAD "empty reference");
    if (ref_is_identifier(s, len))
        return tp_error_set(err, TP_REF, REF_BAD "cannot specify 64-byte hexadecimal "
                            "strings as a repository name (is this an image ID?)");
    if ((rc = ref_split(s, end, sp, err)) != TP_OK)
        return rc;
    if (ref_path_has_upper(sp->path, end))
        return tp_error_set(err, TP_REF, REF_BAD "repository name must be lowercase");
    if ((rc = ref_path_walk(s, sp->path, end, &sp->path_end, &slashes, err)) != TP_OK)
        return rc;
    sp->library = slashes == 0 && ref_span_eq(sp->domain, sp->domain_len, ref_default_domain);
    sp->tag = sp->tag_end = sp->digest = sp->end = end;
    const char *p = sp->path_end;
    if (p < end && *p == ':') {
        sp->tag = p + 1;
        if ((rc = ref_tag_walk(s, sp->tag, end, &sp->tag_end, err)) != TP_OK)
            return rc;
        p = sp->tag_end;
    }
    if (p < end) { /* only '@' can be left: the walks above stop nowhere else */
        sp->digest = p + 1;
        if ((rc = ref_digest_check(sp->digest, end, err)) != TP_OK)
            return rc;
    }
    size_t name_len = sp->domain_len + 1 + (sp->library ? sizeof ref_library - 1 : 0) +
                      (size_t)(sp->path_end - sp->path);
    if (name_len > REF_NAME_MAX)
        return tp_error_set(err, TP_REF, REF_BAD "repository name must not be more than "
                            "%d characters (normalized name is %zu)", REF_NAME_MAX, name_len);
    return TP_OK;
}

static size_t ref_copy(char *dst, const char *src, size_t n)
{
    memcpy(dst, src, n);
    dst[n] = '\0';
    return n;
}

tp_code ref_parse(const char *s, size_t len, ref_t *out, tp_error *err)
{
    ref_spans sp;
    if (!s || !out)
        return tp_error_set(err, TP_INVAL, "ref_parse: NULL argument");
    tp_code rc = ref_walk(s, len, &sp, err);
    if (rc != TP_OK)
        return rc;
    /* ref_walk bounded every span: name <= REF_NAME_MAX, tag <= REF_TAG_MAX,
     * digest <= "sha512:" + 128. */
    size_t plen = (size_t)(sp.path_end - sp.path), off = 0;
    ref_copy(out->domain, sp.domain, sp.domain_len);
    if (sp.library)
        off = ref_copy(out->path, ref_library, sizeof ref_library - 1);
    ref_copy(out->path + off, sp.path, plen);
    size_t n = ref_copy(out->name, out->domain, sp.domain_len);
    out->name[n++] = '/';
    ref_copy(out->name + n, out->path, off + plen);
    out->has_tag = sp.tag < sp.end;
    ref_copy(out->tag, sp.tag, out->has_tag ? (size_t)(sp.tag_end - sp.tag) : 0);
    out->has_digest = sp.digest < sp.end;
    ref_copy(out->digest, sp.digest, out->has_digest ? (size_t)(sp.end - sp.digest) : 0);
    out->written_name_len = (size_t)(sp.path_end - s);
    return TP_OK;
}

const char *ref_familiar_name(const ref_t *ref)
{
    size_t dlen = sizeof ref_default_domain - 1, llen = sizeof ref_library - 1;
    if (strncmp(ref->name, ref_default_domain, dlen) != 0 || ref->name[dlen] != '/')
        return ref->name;
    const char *path = ref->name + dlen + 1;
    if (strncmp(path, ref_library, llen) == 0 && !strchr(path + llen, '/'))
        return path + llen;
    return path;
}
