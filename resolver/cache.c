#include "cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct flight {
    pthread_cond_t cv;
    bool done;
    unsigned waiters;
    resolution result;
} flight;

typedef struct entry {
    char *key;
    struct entry *hnext, *prev, *next; /* hash chain; LRU list, head = newest */
    bool has_value;   /* value holds a digest or a remembered 404 */
    resolution value;
    int64_t stored_ms; /* when the registry last confirmed value */
    flight *fl;        /* non-NULL while an owner resolves this key */
} entry;

struct cache {
    cache_config cfg;
    pthread_mutex_t mu;
    entry **buckets;
    size_t n_buckets, n;
    entry *head, *tail;
    cache_counters ctr;
};

static int64_t now_of(const cache_t *c)
{
    return c->cfg.clock ? c->cfg.clock(c->cfg.clock_arg) : tp_now_ms();
}

cache_t *cache_new(const cache_config *cfg)
{
    cache_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cfg = *cfg;
    if (!c->cfg.max_entries)
        c->cfg.max_entries = 1;
    c->n_buckets = 64;
    while (c->n_buckets < c->cfg.max_entries && c->n_buckets < (1u << 20))
        c->n_buckets <<= 1;
    c->buckets = calloc(c->n_buckets, sizeof *c->buckets);
    if (!c->buckets || pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c->buckets);
        free(c);
        return NULL;
    }
    return c;
}

static void entry_free(entry *e)
{
    free(e->key);
    free(e);
}

void cache_free(cache_t *c)
{
    if (!c)
        return;
    /* Callers are gone by now: no flight can be pending. */
    for (entry *e = c->head, *next; e; e = next) {
        next = e->next;
        entry_free(e);
    }
    pthread_mutex_destroy(&c->mu);
    free(c->buckets);
    free(c);
}

static size_t hash_of(const cache_t *c, const char *key)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h & (c->n_buckets - 1));
}

static entry *find(cache_t *c, const char *key)
{
    for (entry *e = c->buckets[hash_of(c, key)]; e; e = e->hnext)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

static void lru_unlink(cache_t *c, entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(cache_t *c, entry *e)
{
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static void remove_entry(cache_t *c, entry *e)
{
    entry **pp = &c->buckets[hash_of(c, e->key)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(c, e);
    c->n--;
    entry_free(e);
}

/* Makes room by dropping least recently used entries nobody is resolving. */
static void evict(cache_t *c)
{
    entry *e = c->tail;
    while (c->n >= c->cfg.max_entries && e) {
        entry *prev = e->prev;
        if (!e->fl) {
            remove_entry(c, e);
            c->ctr.evictions++;
        }
        e = prev;
    }
}

static entry *insert(cache_t *c, const char *key)
{
    evict(c);
    entry *e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(key))) {
        free(e);
        return NULL;
    }
    size_t b = hash_of(c, key);
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    lru_push(c, e);
    c->n++;
    return e;
}

static flight *flight_new(void)
{
    flight *f = calloc(1, sizeof *f);
    pthread_condattr_t a;
    if (!f || pthread_condattr_init(&a) != 0) {
        free(f);
        return NULL;
    }
    /* Deadlines are CLOCK_MONOTONIC; so must the wait be. */
    int rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&f->cv, &a);
    pthread_condattr_destroy(&a);
    if (rc != 0) {
        free(f);
        return NULL;
    }
    return f;
}

static void flight_free(flight *f)
{
    pthread_cond_destroy(&f->cv);
    free(f);
}

static bool stale_allowed(const cache_t *c, const entry *e, int64_t now)
{
    return e && e->has_value && e->value.err.code == TP_OK &&
           now - e->stored_ms <= c->cfg.stale_max_ms;
}

static void stale_answer(cache_t *c, const entry *e, int64_t now, const tp_error *reason,
                         resolution *out)
{
    tp_error why = *reason; /* reason may live inside out */
    unsigned requests = out->requests;
    *out = e->value;
    out->source = RESOLUTION_STALE;
    out->age_ms = now - e->stored_ms;
    out->requests = requests;
    out->err.http_status = why.http_status;
    snprintf(out->err.msg, sizeof out->err.msg, "served a stale digest: %.440s", why.msg);
    c->ctr.stale_served++;
}

/* Answers from a present value when it is fresh; drops values too old. */
static bool answer_fresh(cache_t *c, entry *e, int64_t now, resolution *out)
{
    int64_t age = now - e->stored_ms;
    bool negative = e->value.err.code != TP_OK;
    if (negative && age < c->cfg.negative_ttl_ms) {
        c->ctr.negative_hits++;
    } else if (!negative && age < c->cfg.ttl_ms) {
        c->ctr.hits++;
    } else {
        if (negative || age > c->cfg.stale_max_ms)
            e->has_value = false;
        return false;
    }
    *out = e->value;
    out->source = RESOLUTION_CACHE;
    out->age_ms = age;
    out->requests = 0;
    return true;
}

static void wait_shared(cache_t *c, entry *e, const char *key, int64_t deadline,
                        resolution *out)
{
    flight *f = e->fl;
    f->waiters++;
    struct timespec ts = {(time_t)(deadline / 1000), (long)(deadline % 1000) * 1000000L};
    while (!f->done && pthread_cond_timedwait(&f->cv, &c->mu, &ts) == 0)
        ;
    if (f->done) {
        *out = f->result;
        out->requests = 0; /* the owner's requests, not ours */
        c->ctr.hits++;
    } else {
        tp_error why;
        tp_error_clear(&why);
        tp_error_set(&why, TP_TIMEOUT, "deadline passed while another lookup of %s was running",
                     key);
        memset(out, 0, sizeof *out);
        e = find(c, key);
        if (stale_allowed(c, e, now_of(c)))
            stale_answer(c, e, now_of(c), &why, out);
        else
            out->err = why;
    }
    if (--f->waiters == 0 && f->done)
        flight_free(f);
}

bool cache_peek(cache_t *c, const char *key, resolution *out)
{
    pthread_mutex_lock(&c->mu);
    entry *e = find(c, key);
    bool hit = e && e->has_value && answer_fresh(c, e, now_of(c), out);
    if (hit) {
        lru_unlink(c, e);
        lru_push(c, e);
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

cache_outcome cache_begin(cache_t *c, const char *key, int64_t deadline_ms, resolution *out)
{
    pthread_mutex_lock(&c->mu);
    int64_t now = now_of(c);
    entry *e = find(c, key);
    if (e) {
        lru_unlink(c, e);
        lru_push(c, e);
    }
    if (e && e->has_value && answer_fresh(c, e, now, out)) {
        pthread_mutex_unlock(&c->mu);
        return CACHE_HIT;
    }
    if (e && e->fl) {
        wait_shared(c, e, key, deadline_ms, out);
        pthread_mutex_unlock(&c->mu);
        return CACHE_SHARED;
    }
    c->ctr.misses++;
    if (!e)
        e = insert(c, key);
    if (e)
        e->fl = flight_new(); /* NULL only without memory: no sharing then */
    pthread_mutex_unlock(&c->mu);
    return CACHE_OWNER;
}

static bool store(cache_t *c, entry *e, int64_t now, resolution *res, char *moved_from,
                  size_t cap)
{
    bool moved = false;
    if (res->err.code == TP_OK) {
        if (e->has_value && e->value.err.code == TP_OK &&
            strcmp(e->value.digest, res->digest) != 0) {
            moved = true;
            c->ctr.moved_tags++;
            if (moved_from && cap)
                snprintf(moved_from, cap, "%s", e->value.digest);
        }
    } else if (res->err.code != TP_NOT_FOUND) {
        /* A digest mismatch or a refused address must surface, not hide
         * behind an old answer. */
        if (res->err.code != TP_DIGEST_MISMATCH && res->err.code != TP_FORBIDDEN &&
            stale_allowed(c, e, now))
            stale_answer(c, e, now, &res->err, res);
        return false;
    }
    e->value = *res;
    e->value.requests = 0;
    e->has_value = true;
    e->stored_ms = now;
    return moved;
}

bool cache_finish(cache_t *c, const char *key, resolution *res, char *moved_from,
                  size_t moved_cap)
{
    pthread_mutex_lock(&c->mu);
    int64_t now = now_of(c);
    entry *e = find(c, key);
    bool moved = e ? store(c, e, now, res, moved_from, moved_cap) : false;
    if (e && e->fl) {
        flight *f = e->fl;
        e->fl = NULL;
        f->result = *res;
        f->done = true;
        pthread_cond_broadcast(&f->cv);
        if (f->waiters == 0)
            flight_free(f);
    }
    if (e && !e->has_value)
        remove_entry(c, e);
    pthread_mutex_unlock(&c->mu);
    return moved;
}

void cache_get_counters(cache_t *c, cache_counters *out)
{
    pthread_mutex_lock(&c->mu);
    *out = c->ctr;
    out->entries = c->n;
    pthread_mutex_unlock(&c->mu);
}
