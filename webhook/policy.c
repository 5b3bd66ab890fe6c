/* The policy object: loading entry points, the arena its strings live in,
 * reference counting, globs and judging. The YAML grammar is policy_load.c. */
#include "policy_internal.h"
#include "../resolver/fileio.h"

#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char tagpin_default_policy_yaml[];

#define DEFAULT_SOURCE "<default-policy.yaml>"
#define ARENA_BLOCK 8192

struct policy_block {
    policy_block *next;
    size_t used, cap;
    max_align_t data[];
};

void *policy_arena_alloc(policy_t *p, size_t n)
{
    const size_t align = alignof(max_align_t);
    if (n > SIZE_MAX - align)
        return NULL;
    n = (n + align - 1) & ~(align - 1);
    policy_block *b = p->arena;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = p->arena;
        p->arena = b;
    }
    void *out = (char *)b->data + b->used;
    b->used += n;
    return out;
}

/* The values policy.h documents; the embedded default file then sets (most
 * of) them again so that users read them in one place. */
static void settings_init(policy_settings *s)
{
    static const char *const platforms[] = {"linux/amd64", "linux/arm64"};
    memset(s, 0, sizeof *s);
    s->listen = "127.0.0.1:8443";
    s->max_body_bytes = 3u << 20;
    s->audit_log = "-";
    s->reload_interval_ms = 2000;
    s->shutdown_delay_ms = 2000;
    s->shutdown_grace_ms = 20000;
    s->mode = POLICY_MODE_ENFORCE;
    s->default_action = POLICY_PIN;
    s->output = POLICY_OUTPUT_TAG_DIGEST;
    s->scope = POLICY_SCOPE_ALL;
    s->on_resolve_failure = POLICY_DENY;
    s->required_platforms = platforms;
    s->n_required_platforms = 2;
    s->connect_timeout_ms = 2000;
    s->resolve_timeout_ms = 8000;
    s->cache_ttl_ms = 5 * 60 * 1000L;
    s->cache_stale_max_ms = 24 * 3600 * 1000L;
    s->cache_negative_ttl_ms = 30 * 1000L;
    s->cache_max_entries = 10000;
}

static policy_t *policy_new(tp_error *err)
{
    policy_t *p = calloc(1, sizeof *p);
    if (!p) {
        tp_error_set(err, TP_NOMEM, "policy: out of memory");
        return NULL;
    }
    atomic_init(&p->refs, 1);
    settings_init(&p->settings);
    return p;
}

static void policy_destroy(policy_t *p)
{
    policy_block *b = p->arena;
    while (b) {
        policy_block *next = b->next;
        free(b);
        b = next;
    }
    free(p);
}

policy_t *policy_retain(policy_t *p)
{
    if (p)
        atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

/* acq_rel so the thread that frees sees every other thread's reads done. */
void policy_free(policy_t *p)
{
    if (p && atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1)
        policy_destroy(p);
}

const char *policy_default_yaml(void)
{
    return tagpin_default_policy_yaml;
}

policy_t *policy_load_default(tp_error *err)
{
    policy_t *p = policy_new(err);
    if (p && !policy_parse_yaml(p, tagpin_default_policy_yaml,
                                strlen(tagpin_default_policy_yaml),
                                DEFAULT_SOURCE, err)) {
        policy_destroy(p);
        return NULL;
    }
    return p;
}

/* A file is read over the embedded defaults, so a key left out keeps its
 * default (rules included) and a small file stays small. */
policy_t *policy_load_buffer(const char *buf, size_t len, const char *source,
                             tp_error *err)
{
    if (!source)
        source = "<buffer>";
    if (!buf && len > 0) {
        tp_error_set(err, TP_INVAL, "%s: no buffer", source);
        return NULL;
    }
    if (len > POLICY_FILE_MAX) {
        tp_error_set(err, TP_POLICY, "%s:1:1: policy is %zu bytes (expected at most %u)",
                     source, len, POLICY_FILE_MAX);
        return NULL;
    }
    policy_t *p = policy_load_default(err);
    if (p && !policy_parse_yaml(p, buf ? buf : "", len, source, err)) {
        policy_destroy(p);
        return NULL;
    }
    return p;
}

policy_t *policy_load_file(const char *path, tp_error *err)
{
    char *buf;
    size_t len;
    if (tp_read_file(path, POLICY_FILE_MAX, "policy", &buf, &len, err) != TP_OK)
        return NULL;
    policy_t *p = policy_load_buffer(buf, len, path, err);
    free(buf);
    return p;
}

const policy_settings *policy_get_settings(const policy_t *p)
{
    return &p->settings;
}

const char *policy_action_name(policy_action a)
{
    switch (a) {
    case POLICY_ALLOW: return "allow";
    case POLICY_DENY: return "deny";
    case POLICY_PIN: return "pin";
    }
    return "unknown";
}

const char *policy_mode_name(policy_mode m)
{
    switch (m) {
    case POLICY_MODE_ENFORCE: return "enforce";
    case POLICY_MODE_WARN: return "warn";
    case POLICY_MODE_OFF: return "off";
    }
    return "unknown";
}

/* Matches one bracket expression at p ("[...]") against c; *len gets its
 * length. Patterns were checked at load, so the closing ']' exists. */
static bool glob_bracket(const char *p, unsigned char c, size_t *len)
{
    const char *q = p + 1;
    bool negate = false, hit = false;
    if (*q == '!' || *q == '^') {
        negate = true;
        q++;
    }
    for (bool first = true; *q && (first || *q != ']'); first = false) {
        if (*q == '\\' && q[1])
            q++;
        unsigned char lo = (unsigned char)*q++, hi = lo;
        if (*q == '-' && q[1] && q[1] != ']') {
            q++;
            if (*q == '\\' && q[1])
                q++;
            hi = (unsigned char)*q++;
        }
        if (lo <= c && c <= hi)
            hit = true;
    }
    if (*q != ']') { /* unchecked pattern: '[' is then an ordinary character */
        *len = 1;
        return c == '[';
    }
    *len = (size_t)(q + 1 - p);
    return hit != negate;
}

/* Whether the single-character element at p matches c (*len: its length). */
static bool glob_one(const char *p, unsigned char c, size_t *len)
{
    *len = 1;
    if (*p == '?')
        return true;
    if (*p == '[')
        return glob_bracket(p, c, len);
    if (*p == '\\' && p[1]) {
        *len = 2;
        return (unsigned char)p[1] == c;
    }
    return (unsigned char)*p == c;
}

/* Every element but '*' matches exactly one character, so on a mismatch it
 * is enough to let the last '*' swallow one more character: O(|p|*|s|). */
bool policy_glob_match(const char *p, const char *s)
{
    const char *star_p = NULL, *star_s = NULL;
    while (*s) {
        size_t len;
        if (*p == '*') {
            while (*p == '*')
                p++;
            if (!*p)
                return true;
            star_p = p;
            star_s = s;
        } else if (*p && glob_one(p, (unsigned char)*s, &len)) {
            p += len;
            s++;
        } else if (star_p) {
            p = star_p;
            s = ++star_s;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

const char *policy_glob_check(const char *p)
{
    for (; *p; p++) {
        if (*p == '\\') {
            if (!p[1])
                return "a trailing backslash escapes nothing";
            p++;
        } else if (*p == '[') {
            const char *q = p + 1;
            if (*q == '!' || *q == '^')
                q++;
            for (bool first = true; *q && (first || *q != ']'); first = false, q++) {
                if (*q == '[' && (q[1] == ':' || q[1] == '=' || q[1] == '.'))
                    return "character classes like [:alpha:] are not supported";
                if (*q == '\\' && q[1])
                    q++;
            }
            if (*q != ']')
                return "'[' is never closed by ']'";
            p = q;
        }
    }
    return NULL;
}

static bool globs_any(const char *const *globs, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (policy_glob_match(globs[i], s))
            return true;
    return false;
}

/* The lowercased views of a reference that rules are matched against. */
typedef struct subject {
    char name[REF_NAME_MAX + 1];
    char familiar[REF_NAME_MAX + 1];
    char domain[REF_NAME_MAX + 1];
    char tag[REF_TAG_MAX + 1];
    bool has_tag, has_digest;
    const char *ns;
} subject;

static void lower_copy(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    dst[i] = '\0';
}

static bool rule_matches(const policy_rule *r, const subject *s)
{
    if (r->n_images && !globs_any(r->images, r->n_images, s->name) &&
        !globs_any(r->images, r->n_images, s->familiar))
        return false;
    if (r->n_registries && !globs_any(r->registries, r->n_registries, s->domain))
        return false;
    if (r->n_tags) {
        /* "" stands for "no tag"; other globs only ever see real tags, so
         * `tags: ["*"]` does not catch untagged images by accident. */
        bool hit = false;
        for (size_t i = 0; i < r->n_tags && !hit; i++)
            hit = s->has_tag ? r->tags[i][0] && policy_glob_match(r->tags[i], s->tag)
                             : r->tags[i][0] == '\0';
        if (!hit)
            return false;
    }
    if (r->n_namespaces && !globs_any(r->namespaces, r->n_namespaces, s->ns))
        return false;
    return !r->has_pinned || r->pinned == s->has_digest;
}

void policy_judge(const policy_t *p, const ref_t *ref, const char *ns,
                  policy_verdict *out)
{
    subject s;
    lower_copy(s.name, sizeof s.name, ref->name);
    lower_copy(s.familiar, sizeof s.familiar, ref_familiar_name(ref));
    lower_copy(s.domain, sizeof s.domain, ref->domain);
    lower_copy(s.tag, sizeof s.tag, ref->has_tag ? ref->tag : "");
    s.has_tag = ref->has_tag;
    s.has_digest = ref->has_digest;
    s.ns = ns ? ns : "";
    for (size_t i = 0; i < p->n_rules; i++) {
        const policy_rule *r = &p->rules[i];
        if (rule_matches(r, &s)) {
            *out = (policy_verdict){r->action, r->name, r->message};
            return;
        }
    }
    *out = (policy_verdict){p->settings.default_action, "default", NULL};
}

bool policy_exempt(const policy_t *p, const char *ns)
{
    return globs_any(p->settings.exempt_namespaces, p->settings.n_exempt_namespaces,
                     ns ? ns : "");
}
