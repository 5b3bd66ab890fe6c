/* The tag cache, keyed by the normalized "name:tag":
 * - fresh for ttl_ms: answered with no request;
 * - after that revalidated by one caller while the others wait for it
 *   (single-flight, one mutex for the table plus a condvar per key);
 * - when revalidation fails with anything but 404, the old digest is served
 *   as STALE until stale_max_ms after it was last confirmed;
 * - a 404 is remembered for negative_ttl_ms;
 * - at most max_entries, least recently used evicted first.
 * Time comes from an injectable clock so tests can move it. Thread-safe. */
#ifndef TAGPIN_CACHE_H
#define TAGPIN_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver.h"

typedef int64_t (*cache_clock_fn)(void *arg);

typedef struct cache_config {
    int64_t ttl_ms, stale_max_ms, negative_ttl_ms;
    size_t max_entries;
    cache_clock_fn clock; /* NULL: tp_now_ms */
    void *clock_arg;
} cache_config;

typedef struct cache_counters {
    uint64_t hits, misses, stale_served, negative_hits, evictions, moved_tags;
    size_t entries;
} cache_counters;

typedef struct cache cache_t;

/* New cache (cfg copied) or NULL when out of memory. */
cache_t *cache_new(const cache_config *cfg);
void cache_free(cache_t *c);

typedef enum cache_outcome {
    CACHE_HIT,    /* out filled: fresh digest, or a remembered 404 (err set) */
    CACHE_OWNER,  /* caller must resolve and then call cache_finish(key) */
    CACHE_SHARED, /* another caller resolved key; out holds its answer */
} cache_outcome;

/* Looks key up at the cache clock's now. Waiting for another caller's
 * lookup stops at deadline_ms (tp_now_ms clock): out is then a STALE
 * answer if one is allowed, else TP_TIMEOUT. */
/* A fresh answer for key into *out without waiting or becoming the owner:
 * true on a hit (counted as one), false otherwise (nothing counted). */
bool cache_peek(cache_t *c, const char *key, resolution *out);

cache_outcome cache_begin(cache_t *c, const char *key, int64_t deadline_ms, resolution *out);

/* Reports the owner's answer for key and wakes the waiters. res is updated
 * in place: a failure becomes a STALE answer when an old digest may still
 * be served. When the digest changed, *moved_from (DIGEST size, may be
 * NULL) receives the old one and true is returned. */
bool cache_finish(cache_t *c, const char *key, resolution *res, char *moved_from,
                  size_t moved_cap);

void cache_get_counters(cache_t *c, cache_counters *out);

#endif
