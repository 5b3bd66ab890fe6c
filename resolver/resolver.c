#include "resolver.h"

#include <ctype.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "cache.h"
#include "http.h"
#include "registry.h"
#include "regstats.h"

#define RESOLVE_THREADS_MAX 8
#define CACHE_KEY_MAX (REF_NAME_MAX + REF_TAG_MAX + 2)

struct resolver {
    char **allowed;
    size_t n_allowed;
    http_client *http;
    auth_creds *creds;
    registry_client *registry;
    cache_t *cache;
    registry_counters ctr;
    atomic_uint_fast64_t errors;
    atomic_uint_fast64_t resolutions[RESOLVER_SOURCES][RESOLVER_RESULTS];
    void (*log_fn)(void *arg, const char *line);
    void *log_arg;
};

int64_t tp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long or_default(long v, long def)
{
    return v > 0 ? v : def;
}

static tp_code allowed_copy(resolver_t *r, const resolver_config *cfg, tp_error *err)
{
    if (!cfg->n_allowed_registries)
        return TP_OK;
    r->allowed = calloc(cfg->n_allowed_registries, sizeof *r->allowed);
    if (!r->allowed)
        return tp_error_set(err, TP_NOMEM, NULL);
    for (size_t i = 0; i < cfg->n_allowed_registries; i++) {
        r->allowed[i] = strdup(cfg->allowed_registries[i]);
        if (!r->allowed[i])
            return tp_error_set(err, TP_NOMEM, NULL);
        for (char *p = r->allowed[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        r->n_allowed++;
    }
    return TP_OK;
}

resolver_t *resolver_new(const resolver_config *cfg, tp_error *err)
{
    resolver_t *r = calloc(1, sizeof *r);
    if (!r) {
        tp_error_set(err, TP_NOMEM, NULL);
        return NULL;
    }
    r->log_fn = cfg->log_fn;
    r->log_arg = cfg->log_arg;
    if (allowed_copy(r, cfg, err) != TP_OK)
        goto fail;
    r->http = http_client_new(cfg->ca_file, or_default(cfg->connect_timeout_ms, 2000),
                              !cfg->allow_private_addresses, err);
    if (!r->http)
        goto fail;
    if (cfg->auth_file && !(r->creds = auth_creds_load(cfg->auth_file, err)))
        goto fail;
    size_t max_manifest = cfg->max_manifest_bytes ? cfg->max_manifest_bytes : 4u << 20;
    r->ctr.by_registry = regstats_new();
    if (!r->ctr.by_registry) {
        tp_error_set(err, TP_NOMEM, NULL);
        goto fail;
    }
    r->registry = registry_client_new(r->http, r->creds, cfg->insecure_registries,
                                      cfg->n_insecure_registries, max_manifest, &r->ctr, err);
    if (!r->registry)
        goto fail;
    cache_config cc = {
        .ttl_ms = or_default(cfg->cache_ttl_ms, 300000),
        .stale_max_ms = or_default(cfg->cache_stale_max_ms, 86400000),
        .negative_ttl_ms = or_default(cfg->cache_negative_ttl_ms, 30000),
        .max_entries = cfg->cache_max_entries ? cfg->cache_max_entries : 10000,
    };
    r->cache = cache_new(&cc);
    if (!r->cache) {
        tp_error_set(err, TP_NOMEM, NULL);
        goto fail;
    }
    return r;
fail:
    resolver_free(r);
    return NULL;
}

void resolver_free(resolver_t *r)
{
    if (!r)
        return;
    cache_free(r->cache);
    registry_client_free(r->registry);
    auth_creds_free(r->creds);
    http_client_free(r->http);
    regstats_free(r->ctr.by_registry);
    for (size_t i = 0; i < r->n_allowed; i++)
        free(r->allowed[i]);
    free(r->allowed);
    free(r);
}

static bool registry_allowed(const resolver_t *r, const char *domain)
{
    if (!r->n_allowed)
        return true;
    char d[REF_NAME_MAX + 1];
    snprintf(d, sizeof d, "%s", domain);
    for (char *p = d; *p; p++) /* host names are case-insensitive */
        *p = (char)tolower((unsigned char)*p);
    for (size_t i = 0; i < r->n_allowed; i++)
        if (fnmatch(r->allowed[i], d, 0) == 0)
            return true;
    return false;
}

static void log_moved(resolver_t *r, const char *key, const char *from, const char *to)
{
    char line[CACHE_KEY_MAX + 2 * REF_DIGEST_MAX + 128];
    int w = snprintf(line, sizeof line,
                     "{\"level\":\"info\",\"msg\":\"tag moved\",\"image\":\"%s\","
                     "\"old_digest\":\"%s\",\"new_digest\":\"%s\"}",
                     key, from, to);
    if (w < 0 || (size_t)w >= sizeof line)
        return;
    if (r->log_fn)
        r->log_fn(r->log_arg, line);
    else
        fprintf(stderr, "%s\n", line);
}

enum { SRC_REGISTRY, SRC_CACHE, SRC_STALE, SRC_SHARED, SRC_NONE };

const char *resolver_source_label(size_t source)
{
    static const char *const names[RESOLVER_SOURCES] = {"registry", "cache", "stale", "shared",
                                                        "none"};
    return source < RESOLVER_SOURCES ? names[source] : "none";
}

const char *resolver_result_label(size_t result)
{
    static const char *const names[RESOLVER_RESULTS] = {"ok", "not_found", "error"};
    return result < RESOLVER_RESULTS ? names[result] : "error";
}

/* One relaxed atomic add: the warm path stays lock-free beyond the cache's. */
static void count_resolution(resolver_t *r, size_t source, const resolution *out)
{
    size_t result = out->err.code == TP_OK ? 0 : out->err.code == TP_NOT_FOUND ? 1 : 2;
    if (source != SRC_NONE && source != SRC_SHARED)
        source = out->source == RESOLUTION_STALE ? SRC_STALE
               : out->source == RESOLUTION_CACHE ? SRC_CACHE : SRC_REGISTRY;
    else if (source == SRC_SHARED && out->source == RESOLUTION_STALE)
        source = SRC_STALE;
    atomic_fetch_add_explicit(&r->resolutions[source][result], 1, memory_order_relaxed);
}

/* The cache key: normalized name and tag ("latest" when untagged). */
static bool cache_key(const ref_t *ref, char key[CACHE_KEY_MAX])
{
    int w = snprintf(key, CACHE_KEY_MAX, "%s:%s", ref->name,
                     ref->has_tag && ref->tag[0] ? ref->tag : "latest");
    return w > 0 && w < CACHE_KEY_MAX;
}

/* A fresh cached answer without threads, waiting or registry rules: the
 * rules were applied when the answer was stored. */
static bool resolve_cached(resolver_t *r, const ref_t *ref, resolution *out)
{
    char key[CACHE_KEY_MAX];
    memset(out, 0, sizeof *out);
    bool hit = !ref->has_digest && registry_allowed(r, ref->domain) && cache_key(ref, key) &&
               cache_peek(r->cache, key, out);
    if (hit)
        count_resolution(r, SRC_CACHE, out);
    return hit;
}

tp_code resolver_resolve(resolver_t *r, const ref_t *ref, int64_t deadline_ms,
                         resolution *out)
{
    memset(out, 0, sizeof *out);
    tp_code code = TP_OK;
    char key[CACHE_KEY_MAX];
    if (ref->has_digest)
        code = tp_error_set(&out->err, TP_INVAL, "%s is already pinned to a digest", ref->name);
    else if (!registry_allowed(r, ref->domain))
        code = tp_error_set(&out->err, TP_FORBIDDEN,
                            "registry %s is not in allowed_registries; refused %s", ref->domain,
                            ref->name);
    else if (!cache_key(ref, key))
        code = tp_error_set(&out->err, TP_REF, "reference too long");
    if (code != TP_OK) {
        atomic_fetch_add(&r->errors, 1);
        count_resolution(r, SRC_NONE, out);
        return code;
    }
    cache_outcome how = cache_begin(r->cache, key, deadline_ms, out);
    if (how == CACHE_OWNER) {
        registry_resolve(r->registry, ref, deadline_ms, out);
        char from[REF_DIGEST_MAX + 1];
        if (cache_finish(r->cache, key, out, from, sizeof from))
            log_moved(r, key, from, out->digest);
    }
    if (out->err.code != TP_OK)
        atomic_fetch_add(&r->errors, 1);
    count_resolution(r, how == CACHE_SHARED ? SRC_SHARED : SRC_REGISTRY, out);
    return out->err.code;
}

/* Work shared by resolve_many's threads: each takes the next distinct
 * reference, so cached ones finish at once and slow ones run side by side. */
typedef struct batch {
    resolver_t *r;
    const ref_t *const *refs;
    size_t *first; /* first[k]: index of the k-th distinct reference */
    size_t n_distinct;
    atomic_size_t next;
    int64_t deadline;
    resolution *out;
} batch;

static void *batch_worker(void *arg)
{
    batch *b = arg;
    size_t k;
    while ((k = atomic_fetch_add(&b->next, 1)) < b->n_distinct) {
        size_t i = b->first[k];
        resolver_resolve(b->r, b->refs[i], b->deadline, &b->out[i]);
    }
    return NULL;
}

static bool same_image(const ref_t *a, const ref_t *b)
{
    return strcmp(a->name, b->name) == 0 && strcmp(a->tag, b->tag) == 0 &&
           a->has_digest == b->has_digest && strcmp(a->digest, b->digest) == 0;
}

void resolver_resolve_many(resolver_t *r, const ref_t *const *refs, size_t n,
                           int64_t deadline_ms, resolution *out)
{
    size_t *first = calloc(n ? n : 1, sizeof *first);
    size_t *dup_of = calloc(n ? n : 1, sizeof *dup_of);
    if (!first || !dup_of) { /* no memory for the plan: resolve one by one */
        for (size_t i = 0; i < n; i++)
            resolver_resolve(r, refs[i], deadline_ms, &out[i]);
        goto out;
    }
    batch b = {.r = r, .refs = refs, .first = first, .deadline = deadline_ms, .out = out};
    /* n is a Pod's container count: quadratic is fine. Cached answers are
     * taken first, on this thread, so the warm path (nearly every
     * admission) starts no thread at all; only misses go to the workers. */
    for (size_t i = 0; i < n; i++) {
        dup_of[i] = i;
        for (size_t j = 0; j < i; j++) {
            if (dup_of[j] == j && same_image(refs[j], refs[i])) {
                dup_of[i] = j;
                break;
            }
        }
        if (dup_of[i] == i && !resolve_cached(r, refs[i], &out[i]))
            first[b.n_distinct++] = i;
    }
    atomic_init(&b.next, 0);
    pthread_t tids[RESOLVE_THREADS_MAX];
    size_t started = 0, want = b.n_distinct < RESOLVE_THREADS_MAX ? b.n_distinct : RESOLVE_THREADS_MAX;
    for (; want > 1 && started < want - 1; started++)
        if (pthread_create(&tids[started], NULL, batch_worker, &b) != 0)
            break;
    batch_worker(&b); /* the caller works too, so a failed create only slows us */
    for (size_t t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    for (size_t i = 0; i < n; i++)
        if (dup_of[i] != i)
            out[i] = out[dup_of[i]];
out:
    free(first);
    free(dup_of);
}

void resolver_get_stats(resolver_t *r, resolver_stats *out)
{
    cache_counters cc;
    cache_get_counters(r->cache, &cc);
    memset(out, 0, sizeof *out);
    out->hits = cc.hits;
    out->misses = cc.misses;
    out->stale_served = cc.stale_served;
    out->negative_hits = cc.negative_hits;
    out->evictions = cc.evictions;
    out->moved_tags = cc.moved_tags;
    out->entries = cc.entries;
    out->token_fetches = atomic_load(&r->ctr.token_fetches);
    out->token_fetch_errors = atomic_load(&r->ctr.token_fetch_errors);
    for (size_t i = 0; i < RESOLVER_SOURCES; i++)
        for (size_t j = 0; j < RESOLVER_RESULTS; j++)
            out->resolutions[i][j] = atomic_load_explicit(&r->resolutions[i][j],
                                                          memory_order_relaxed);
    out->registry_requests = atomic_load(&r->ctr.requests);
    out->errors = atomic_load(&r->errors);
}

size_t resolver_get_registry_stats(resolver_t *r, resolver_registry_stats *out, size_t cap)
{
    return regstats_copy(r->ctr.by_registry, out, cap);
}
