/* The resolver: the one header webhook/ includes from resolver/.
 *
 * Turns image references into the digest containerd would pull, through a
 * libcurl OCI distribution client with Bearer/Basic auth, a TTL cache with
 * stale serving, negative caching, single-flight and LRU eviction. Knows
 * nothing of Kubernetes. A resolver_t is thread-safe. */
#ifndef TAGPIN_RESOLVER_H
#define TAGPIN_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ref.h"

/* Milliseconds on CLOCK_MONOTONIC; deadlines are absolute values of it. */
int64_t tp_now_ms(void);

typedef struct resolver resolver_t;

typedef struct resolver_config {
    const char *ca_file;   /* extra CA bundle (PEM), NULL: system store only */
    const char *auth_file; /* docker config.json, NULL: anonymous */
    const char *const *insecure_registries; /* plain HTTP, local dev only */
    size_t n_insecure_registries;
    const char *const *allowed_registries; /* globs on the domain; 0: any */
    size_t n_allowed_registries;
    long connect_timeout_ms;    /* 0: 2000 */
    long cache_ttl_ms;          /* 0: 300000 */
    long cache_stale_max_ms;    /* 0: 86400000 */
    long cache_negative_ttl_ms; /* 0: 30000 */
    size_t cache_max_entries;   /* 0: 10000 */
    size_t max_manifest_bytes;  /* 0: 4 MiB */
    /* true turns the SSRF guard off (link-local 169.254/16, fe80::/10 and
     * metadata addresses). Loopback and private ranges are always allowed:
     * in-cluster registries live there. Tests only. */
    bool allow_private_addresses;
    /* Receives one-line JSON events such as a moved tag; NULL: stderr. */
    void (*log_fn)(void *arg, const char *json_line);
    void *log_arg;
} resolver_config;

typedef enum resolution_source {
    RESOLUTION_REGISTRY, /* asked the registry for this answer */
    RESOLUTION_CACHE,    /* fresh cache entry, no request */
    RESOLUTION_STALE,    /* registry failed; served an old digest */
} resolution_source;

#define RESOLUTION_MAX_PLATFORMS 32
#define RESOLUTION_PLATFORM_MAX 64
#define RESOLUTION_MEDIA_TYPE_MAX 128

/* For STALE answers err.code is TP_OK and err.msg says why the registry
 * failed, for a warning. Waiters that shared another caller's lookup get
 * its answer with requests = 0. */
typedef struct resolution {
    tp_error err; /* err.code == TP_OK on success */
    char digest[REF_DIGEST_MAX + 1]; /* "sha256:<64 hex>" */
    char media_type[RESOLUTION_MEDIA_TYPE_MAX];
    bool is_index; /* OCI index or Docker manifest list */
    size_t n_platforms; /* only for indexes: "os/arch" or "os/arch/variant" */
    char platforms[RESOLUTION_MAX_PLATFORMS][RESOLUTION_PLATFORM_MAX];
    resolution_source source;
    int64_t age_ms;     /* for STALE: how old the served digest is */
    unsigned requests;  /* HTTP requests made for this answer, token fetches included */
} resolution;

/* Where a resolution's answer came from, for metrics: the registry, a fresh
 * cache entry (or a remembered 404), a stale entry, another caller's
 * concurrent lookup of the same tag, or none (refused before any lookup). */
#define RESOLVER_SOURCES 5
#define RESOLVER_RESULTS 3 /* ok, not_found, error */

/* Counters for metrics; monotonic except entries. */
typedef struct resolver_stats {
    uint64_t hits, misses, stale_served, negative_hits, evictions, moved_tags;
    uint64_t token_fetches, token_fetch_errors, registry_requests, errors;
    uint64_t resolutions[RESOLVER_SOURCES][RESOLVER_RESULTS];
    size_t entries;
} resolver_stats;

/* Label values for resolver_stats.resolutions' indexes; static strings. */
const char *resolver_source_label(size_t source);
const char *resolver_result_label(size_t result);

/* Registry requests: one row per registry domain, the first
 * RESOLVER_REGISTRIES_MAX seen by name, the rest in one row "other". */
#define RESOLVER_REGISTRIES_MAX 64
#define RESOLVER_STATUS_SLOTS 12 /* see resolver_status_label */
#define RESOLVER_LATENCY_BUCKETS 11

/* Upper bounds (seconds) of the latency histogram's buckets. */
extern const double resolver_latency_buckets[RESOLVER_LATENCY_BUCKETS];

typedef struct resolver_registry_stats {
    char registry[REF_NAME_MAX + 1];
    uint64_t requests[RESOLVER_STATUS_SLOTS];   /* by status slot */
    uint64_t buckets[RESOLVER_LATENCY_BUCKETS]; /* cumulative: <= bound */
    uint64_t count;
    double sum; /* seconds */
} resolver_registry_stats;

/* "200", "401", ... "504", "other" (any other HTTP status), "error" (no
 * HTTP answer: timeout, TLS, network, refused address). */
const char *resolver_status_label(size_t slot);

/* New resolver or NULL with err (bad CA file, bad auth file, NOMEM).
 * cfg and its strings are copied. */
resolver_t *resolver_new(const resolver_config *cfg, tp_error *err);
void resolver_free(resolver_t *r);

/* Resolves ref's tag (ref must have no digest) before deadline_ms.
 * Returns out->err.code. Never blocks past the deadline. */
tp_code resolver_resolve(resolver_t *r, const ref_t *ref, int64_t deadline_ms,
                         resolution *out);

/* Resolves refs[0..n) in parallel, one request per distinct name:tag, out[i]
 * for refs[i]. Cached answers come back without waiting for slow ones. */
void resolver_resolve_many(resolver_t *r, const ref_t *const *refs, size_t n,
                           int64_t deadline_ms, resolution *out);

void resolver_get_stats(resolver_t *r, resolver_stats *out);

/* Copies up to cap registry rows into out (caller storage; 65 hold all).
 * Returns how many were written. */
size_t resolver_get_registry_stats(resolver_t *r, resolver_registry_stats *out, size_t cap);

#endif
