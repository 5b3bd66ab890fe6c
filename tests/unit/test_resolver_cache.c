/* The tag cache with a fake clock: TTL, revalidation, stale, negative
 * entries, LRU eviction, moved tags and single-flight. */
#include <pthread.h>

#include "cache.h"
#include "check.h"

static int64_t fake_now;

static int64_t fake_clock(void *arg)
{
    return fake_now;
}

static cache_t *new_cache(size_t max)
{
    cache_config cfg = {.ttl_ms = 1000, .stale_max_ms = 5000, .negative_ttl_ms = 300,
                        .max_entries = max, .clock = fake_clock};
    fake_now = 1000000;
    return cache_new(&cfg);
}

static resolution answer(const char *digest)
{
    resolution r;
    memset(&r, 0, sizeof r);
    snprintf(r.digest, sizeof r.digest, "%s", digest);
    r.requests = 1;
    return r;
}

static resolution failure(tp_code code)
{
    resolution r;
    memset(&r, 0, sizeof r);
    tp_error_set(&r.err, code, "503 from r.io for a: the registry failed");
    r.err.http_status = 503;
    r.requests = 1;
    return r;
}

/* Runs one lookup; when we own it, finishes with *fetched. */
static cache_outcome lookup(cache_t *c, const char *key, resolution *fetched, resolution *out)
{
    cache_outcome o = cache_begin(c, key, tp_now_ms() + 1000, out);
    if (o == CACHE_OWNER) {
        *out = *fetched;
        cache_finish(c, key, out, NULL, 0);
    }
    return o;
}

static void ttl_then_revalidate(void)
{
    cache_t *c = new_cache(10);
    resolution a = answer("sha256:aa"), out;
    CHECK_INT(lookup(c, "r/x:1", &a, &out), CACHE_OWNER);
    fake_now += 999;
    CHECK_INT(lookup(c, "r/x:1", &a, &out), CACHE_HIT);
    CHECK_INT(out.source, RESOLUTION_CACHE);
    CHECK_INT(out.requests, 0);
    CHECK_STR(out.digest, "sha256:aa");
    fake_now += 1;
    CHECK_INT(lookup(c, "r/x:1", &a, &out), CACHE_OWNER);
    cache_counters cc;
    cache_get_counters(c, &cc);
    CHECK_INT(cc.hits, 1);
    CHECK_INT(cc.misses, 2);
    cache_free(c);
}

static void stale_when_registry_fails(void)
{
    cache_t *c = new_cache(10);
    resolution a = answer("sha256:aa"), bad = failure(TP_REGISTRY), out;
    lookup(c, "k", &a, &out);
    fake_now += 4000;
    CHECK_INT(lookup(c, "k", &bad, &out), CACHE_OWNER);
    CHECK_INT(out.err.code, TP_OK);
    CHECK_INT(out.source, RESOLUTION_STALE);
    CHECK_STR(out.digest, "sha256:aa");
    CHECK_INT(out.age_ms, 4000);
    CHECK_CONTAINS(out.err.msg, "503 from r.io");
    fake_now += 1001; /* 5001 ms since the last confirmation: too old */
    CHECK_INT(lookup(c, "k", &bad, &out), CACHE_OWNER);
    CHECK_INT(out.err.code, TP_REGISTRY);
    cache_counters cc;
    cache_get_counters(c, &cc);
    CHECK_INT(cc.stale_served, 1);
    cache_free(c);
}

static void mismatch_never_hidden(void)
{
    cache_t *c = new_cache(10);
    resolution a = answer("sha256:aa"), bad = failure(TP_DIGEST_MISMATCH), out;
    lookup(c, "k", &a, &out);
    fake_now += 2000;
    lookup(c, "k", &bad, &out);
    CHECK_INT(out.err.code, TP_DIGEST_MISMATCH);
    cache_free(c);
}

static void errors_not_cached(void)
{
    cache_t *c = new_cache(10);
    resolution bad = failure(TP_DIGEST_MISMATCH), out;
    CHECK_INT(lookup(c, "k", &bad, &out), CACHE_OWNER);
    CHECK_INT(lookup(c, "k", &bad, &out), CACHE_OWNER);
    cache_counters cc;
    cache_get_counters(c, &cc);
    CHECK_INT(cc.entries, 0);
    cache_free(c);
}

static void negative_ttl(void)
{
    cache_t *c = new_cache(10);
    resolution nf = failure(TP_NOT_FOUND), out;
    CHECK_INT(lookup(c, "k", &nf, &out), CACHE_OWNER);
    fake_now += 299;
    CHECK_INT(lookup(c, "k", &nf, &out), CACHE_HIT);
    CHECK_INT(out.err.code, TP_NOT_FOUND);
    fake_now += 1;
    CHECK_INT(lookup(c, "k", &nf, &out), CACHE_OWNER);
    cache_counters cc;
    cache_get_counters(c, &cc);
    CHECK_INT(cc.negative_hits, 1);
    cache_free(c);
}

static void lru_eviction(void)
{
    cache_t *c = new_cache(2);
    resolution a = answer("sha256:aa"), out;
    lookup(c, "one", &a, &out);
    lookup(c, "two", &a, &out);
    CHECK_INT(lookup(c, "one", &a, &out), CACHE_HIT); /* "two" is now the oldest */
    lookup(c, "three", &a, &out);
    CHECK_INT(lookup(c, "one", &a, &out), CACHE_HIT);
    CHECK_INT(lookup(c, "two", &a, &out), CACHE_OWNER);
    cache_counters cc;
    cache_get_counters(c, &cc);
    CHECK_INT(cc.entries, 2);
    CHECK_INT(cc.evictions, 2);
    cache_free(c);
}

static void moved_tag(void)
{
    cache_t *c = new_cache(10);
    resolution a = answer("sha256:aa"), out;
    lookup(c, "k", &a, &out);
    fake_now += 1500;
    CHECK_INT(cache_begin(c, "k", tp_now_ms() + 1000, &out), CACHE_OWNER);
    out = answer("sha256:bb");
    char from[REF_DIGEST_MAX + 1] = "";
    CHECK(cache_finish(c, "k", &out, from, sizeof from));
    CHECK_STR(from, "sha256:aa");
    cache_counters cc;
    cache_get_counters(c, &cc);
    CHECK_INT(cc.moved_tags, 1);
    cache_free(c);
}

typedef struct waiter {
    cache_t *c;
    cache_outcome outcome;
    resolution out;
} waiter;

static void *wait_for_key(void *arg)
{
    waiter *w = arg;
    w->outcome = cache_begin(w->c, "k", tp_now_ms() + 10000, &w->out);
    return NULL;
}

static void single_flight(void)
{
    cache_t *c = new_cache(10);
    resolution out;
    CHECK_INT(cache_begin(c, "k", tp_now_ms() + 1000, &out), CACHE_OWNER);
    waiter w[8];
    pthread_t t[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (waiter){.c = c};
        CHECK_INT(pthread_create(&t[i], NULL, wait_for_key, &w[i]), 0);
    }
    /* Whether a waiter arrives before or after the finish, it must not own
     * the key: before, it shares; after, it hits the fresh entry. */
    out = answer("sha256:cc");
    cache_finish(c, "k", &out, NULL, 0);
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].outcome == CACHE_SHARED || w[i].outcome == CACHE_HIT);
        CHECK_STR(w[i].out.digest, "sha256:cc");
        CHECK_INT(w[i].out.requests, 0);
    }
    cache_free(c);
}

static void waiter_deadline(void)
{
    cache_t *c = new_cache(10);
    resolution out;
    CHECK_INT(cache_begin(c, "k", tp_now_ms() + 1000, &out), CACHE_OWNER);
    resolution w;
    CHECK_INT(cache_begin(c, "k", tp_now_ms() + 50, &w), CACHE_SHARED);
    CHECK_INT(w.err.code, TP_TIMEOUT);
    out = answer("sha256:dd");
    cache_finish(c, "k", &out, NULL, 0);
    cache_free(c);
}

CHECK_MAIN(CHECK_CASE(ttl_then_revalidate), CHECK_CASE(stale_when_registry_fails),
           CHECK_CASE(mismatch_never_hidden), CHECK_CASE(errors_not_cached),
           CHECK_CASE(negative_ttl), CHECK_CASE(lru_eviction), CHECK_CASE(moved_tag),
           CHECK_CASE(single_flight), CHECK_CASE(waiter_deadline))
