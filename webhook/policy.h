/* The policy: one YAML file (libyaml) with embedded defaults.
 *
 * A policy_t is an immutable snapshot: once loaded it is only read, from any
 * number of threads. Reloads build a new snapshot and swap it in; the old one
 * is released when its last user lets go (policy_retain/policy_free).
 *
 * The file format is documented in docs/policy.md and the defaults live in
 * webhook/default-policy.yaml (embedded at build time). */
#ifndef TAGPIN_POLICY_H
#define TAGPIN_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "../resolver/error.h"
#include "../resolver/ref.h"

typedef enum policy_mode {
    POLICY_MODE_ENFORCE, /* deny what the rules deny */
    POLICY_MODE_WARN,    /* allow, but answer with warnings */
    POLICY_MODE_OFF,     /* allow everything untouched */
} policy_mode;

typedef enum policy_action {
    POLICY_ALLOW, /* admit as written */
    POLICY_DENY,  /* refuse */
    POLICY_PIN,   /* resolve the tag and rewrite to @sha256: */
} policy_action;

typedef enum policy_output {
    POLICY_OUTPUT_TAG_DIGEST, /* "app:1.4.2@sha256:..." (default) */
    POLICY_OUTPUT_DIGEST,     /* "app@sha256:..." */
} policy_output;

typedef enum policy_scope {
    POLICY_SCOPE_ALL,  /* Pods and workload templates (default) */
    POLICY_SCOPE_PODS, /* Pods only, for GitOps users */
} policy_scope;

/* Everything the file sets besides rules. Strings are owned by the policy and
 * live as long as it does; NULL means unset. Lists are NULL-free arrays. */
typedef struct policy_settings {
    /* server: */
    const char *listen;          /* "127.0.0.1:8443" by default */
    const char *tls_cert;
    const char *tls_key;
    size_t max_body_bytes;       /* 3 MiB by default */
    const char *audit_log;       /* "-" = stdout (default), "off", or a path */
    const char *metrics_listen;  /* NULL = no metrics listener */
    long reload_interval_ms;     /* 2000: poll policy and TLS files; 0 = only SIGHUP */
    long shutdown_delay_ms;      /* 2000: SIGTERM to closing the listener, /readyz 503 */
    long shutdown_grace_ms;      /* 20000: bound on finishing in-flight requests */
    /* admission: */
    policy_mode mode;
    policy_action default_action;        /* when no rule matches: PIN */
    const char *const *exempt_namespaces; size_t n_exempt_namespaces;
    /* pinning: */
    policy_output output;
    policy_scope scope;
    policy_action on_resolve_failure;    /* POLICY_DENY (default) or POLICY_ALLOW */
    const char *const *required_platforms; size_t n_required_platforms;
    bool deny_missing_platforms;         /* false: warn (default) */
    bool validate_require_pinned;        /* /validate refuses unpinned images */
    /* registry: */
    const char *ca_file;
    const char *auth_file;
    const char *const *insecure_registries; size_t n_insecure_registries;
    const char *const *allowed_registries; size_t n_allowed_registries; /* 0: any */
    long connect_timeout_ms;             /* 2000 */
    long resolve_timeout_ms;             /* 8000: cap when the request has none */
    /* cache: */
    long cache_ttl_ms;                   /* 5 min */
    long cache_stale_max_ms;             /* 24 h */
    long cache_negative_ttl_ms;          /* 30 s */
    size_t cache_max_entries;            /* 10000 */
} policy_settings;

typedef struct policy policy_t;

/* Loaders refuse files larger than this. */
#define POLICY_FILE_MAX (1u << 20)

/* The verdict for one image. rule and message are borrowed from the policy
 * (message may be NULL: no custom message). */
typedef struct policy_verdict {
    policy_action action;
    const char *rule;
    const char *message;
} policy_verdict;

/* Loaders return a new policy (refcount 1) or NULL with err->msg in the form
 * "FILE:LINE:COL: what is wrong" (TP_POLICY), TP_IO when the file cannot be
 * read, TP_NOMEM. Unknown keys, wrong types and bad values are errors. */
policy_t *policy_load_file(const char *path, tp_error *err);
policy_t *policy_load_buffer(const char *buf, size_t len, const char *source,
                             tp_error *err);
policy_t *policy_load_default(tp_error *err);

/* The embedded default policy text (borrowed, NUL-terminated). */
const char *policy_default_yaml(void);

/* Reference counting for snapshot swaps; both are thread-safe.
 * policy_free(NULL) is a no-op. */
policy_t *policy_retain(policy_t *p);
void policy_free(policy_t *p);

/* Borrowed; valid while p is. */
const policy_settings *policy_get_settings(const policy_t *p);

/* Whether objects in namespace ns are exempt (glob match). ns may be "". */
bool policy_exempt(const policy_t *p, const char *ns);

/* First matching rule decides; no match gives settings.default_action with
 * rule "default". ns may be NULL or "" (cluster-scoped). The mode is not
 * applied here: the caller decides what a DENY means in warn mode. */
void policy_judge(const policy_t *p, const ref_t *ref, const char *ns,
                  policy_verdict *out);

/* The glob dialect of policy files: `*` (any run, '/' included), `?`,
 * `[abc]`, `[a-z]`, `[!x]`, `\x`; case-sensitive (callers lowercase both
 * sides where case does not matter). O(pattern x subject) time, so a hostile
 * pattern cannot stall a request, unlike fnmatch's recursion. */
bool policy_glob_match(const char *pattern, const char *s);

/* "allow"/"deny"/"pin" and "enforce"/"warn"/"off"; static strings, never NULL. */
const char *policy_action_name(policy_action a);
const char *policy_mode_name(policy_mode m);

#endif
