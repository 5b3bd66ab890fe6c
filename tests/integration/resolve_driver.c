/* Test driver for the resolver against real registries: resolves images
 * given as arguments, or runs commands read line by line from stdin so a
 * test can change the registry between steps while one cache lives on:
 *   resolve IMAGE...       resolver_resolve_many, one JSON line per image
 *   concurrent N IMAGE     N threads resolve IMAGE at once, one summary line
 *   sleep MS | stats | quit
 * Every answer is one JSON line on stdout, flushed. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resolver.h"

#define MAX_ARGS 64

static long deadline_budget_ms = 10000;

static const char *source_name(resolution_source s)
{
    return s == RESOLUTION_CACHE ? "cache" : s == RESOLUTION_STALE ? "stale" : "registry";
}

static json_t *resolution_json(const char *image, const resolution *r, int64_t elapsed)
{
    json_t *p = json_array();
    for (size_t i = 0; i < r->n_platforms; i++)
        json_array_append_new(p, json_string(r->platforms[i]));
    return json_pack("{s:s, s:s, s:s, s:b, s:o, s:s, s:I, s:i, s:s, s:s, s:i, s:I}", "image",
                     image, "digest", r->digest, "media_type", r->media_type, "index",
                     r->is_index, "platforms", p, "source", source_name(r->source), "age_ms",
                     (json_int_t)r->age_ms, "requests", (int)r->requests, "code",
                     tp_code_name(r->err.code), "error", r->err.msg, "http_status",
                     r->err.http_status, "elapsed_ms", (json_int_t)elapsed);
}

static void emit(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    puts(s ? s : "{\"code\":\"DRIVER_NOMEM\"}");
    fflush(stdout);
    free(s);
    json_decref(o);
}

static void cmd_resolve(resolver_t *r, char **images, size_t n)
{
    ref_t *refs = calloc(n, sizeof *refs);
    const ref_t **ptrs = calloc(n, sizeof *ptrs);
    resolution *out = calloc(n, sizeof *out);
    if (!refs || !ptrs || !out)
        goto done;
    for (size_t i = 0; i < n; i++) {
        tp_error err;
        if (ref_parse(images[i], strlen(images[i]), &refs[i], &err) != TP_OK) {
            emit(json_pack("{s:s, s:s, s:s}", "image", images[i], "code", "TP_REF", "error",
                           err.msg));
            goto done;
        }
        ptrs[i] = &refs[i];
    }
    int64_t t0 = tp_now_ms();
    resolver_resolve_many(r, ptrs, n, t0 + deadline_budget_ms, out);
    int64_t elapsed = tp_now_ms() - t0;
    for (size_t i = 0; i < n; i++)
        emit(resolution_json(images[i], &out[i], elapsed));
done:
    free(refs);
    free(ptrs);
    free(out);
}

typedef struct racer {
    resolver_t *r;
    const ref_t *ref;
    pthread_barrier_t *start;
    resolution res;
} racer;

static void *race(void *arg)
{
    racer *x = arg;
    pthread_barrier_wait(x->start);
    resolver_resolve(x->r, x->ref, tp_now_ms() + deadline_budget_ms, &x->res);
    return NULL;
}

static void cmd_concurrent(resolver_t *r, long n, const char *image)
{
    ref_t ref;
    tp_error err;
    racer *x = calloc((size_t)n, sizeof *x);
    pthread_t *t = calloc((size_t)n, sizeof *t);
    pthread_barrier_t start;
    if (!x || !t || n < 1 || ref_parse(image, strlen(image), &ref, &err) != TP_OK ||
        pthread_barrier_init(&start, NULL, (unsigned)n) != 0) {
        emit(json_pack("{s:s}", "code", "DRIVER_SETUP"));
        free(x);
        free(t);
        return;
    }
    long started = 0;
    for (; started < n; started++) {
        x[started] = (racer){.r = r, .ref = &ref, .start = &start};
        if (pthread_create(&t[started], NULL, race, &x[started]) != 0)
            abort(); /* the barrier would wait forever */
    }
    long ok = 0, requests = 0, distinct = 0;
    for (long i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        ok += x[i].res.err.code == TP_OK;
        requests += x[i].res.requests;
        bool seen = false;
        for (long k = 0; k < i; k++)
            seen = seen || strcmp(x[k].res.digest, x[i].res.digest) == 0;
        distinct += !seen;
    }
    emit(json_pack("{s:i, s:i, s:i, s:i, s:s}", "concurrent", (int)n, "ok", (int)ok,
                   "requests", (int)requests, "distinct_digests", (int)distinct, "digest",
                   x[0].res.digest));
    pthread_barrier_destroy(&start);
    free(x);
    free(t);
}

static void cmd_stats(resolver_t *r)
{
    resolver_stats s;
    resolver_get_stats(r, &s);
    emit(json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "hits",
                   (json_int_t)s.hits, "misses", (json_int_t)s.misses, "stale_served",
                   (json_int_t)s.stale_served, "negative_hits", (json_int_t)s.negative_hits,
                   "evictions", (json_int_t)s.evictions, "moved_tags", (json_int_t)s.moved_tags,
                   "token_fetches", (json_int_t)s.token_fetches, "registry_requests",
                   (json_int_t)s.registry_requests, "errors", (json_int_t)s.errors, "entries",
                   (json_int_t)s.entries));
}

/* Splits line on blanks in place; returns the word count (at most max). */
static size_t split(char *line, char **words, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (*p && n < max) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            *p++ = '\0';
        if (!*p)
            break;
        words[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
    }
    return n;
}

static long num(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end) {
        fprintf(stderr, "resolve_driver: not a number: %s\n", s);
        exit(2);
    }
    return v;
}

static void run_stdin(resolver_t *r)
{
    char line[8192];
    char *w[MAX_ARGS];
    while (fgets(line, sizeof line, stdin)) {
        size_t n = split(line, w, MAX_ARGS);
        if (n == 0)
            continue;
        if (strcmp(w[0], "quit") == 0)
            break;
        if (strcmp(w[0], "resolve") == 0 && n > 1)
            cmd_resolve(r, w + 1, n - 1);
        else if (strcmp(w[0], "concurrent") == 0 && n == 3)
            cmd_concurrent(r, num(w[1]), w[2]);
        else if (strcmp(w[0], "stats") == 0)
            cmd_stats(r);
        else if (strcmp(w[0], "sleep") == 0 && n == 2) {
            long ms = num(w[1]);
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            emit(json_pack("{s:s}", "slept", w[1]));
        } else {
            emit(json_pack("{s:s}", "code", "DRIVER_UNKNOWN_COMMAND"));
        }
    }
}

int main(int argc, char **argv)
{
    resolver_config cfg = {0};
    const char *insecure[16], *allowed[16];
    bool from_stdin = false;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--stdin") == 0) {
            from_stdin = true;
            continue;
        }
        if (strcmp(o, "--allow-private") == 0) {
            cfg.allow_private_addresses = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "resolve_driver: %s needs a value\n", o);
            return 2;
        }
        i++;
        if (strcmp(o, "--ca-file") == 0)
            cfg.ca_file = v;
        else if (strcmp(o, "--auth-file") == 0)
            cfg.auth_file = v;
        else if (strcmp(o, "--insecure") == 0 && cfg.n_insecure_registries < 16)
            insecure[cfg.n_insecure_registries++] = v;
        else if (strcmp(o, "--allow") == 0 && cfg.n_allowed_registries < 16)
            allowed[cfg.n_allowed_registries++] = v;
        else if (strcmp(o, "--deadline-ms") == 0)
            deadline_budget_ms = num(v);
        else if (strcmp(o, "--ttl-ms") == 0)
            cfg.cache_ttl_ms = num(v);
        else if (strcmp(o, "--stale-max-ms") == 0)
            cfg.cache_stale_max_ms = num(v);
        else if (strcmp(o, "--negative-ttl-ms") == 0)
            cfg.cache_negative_ttl_ms = num(v);
        else if (strcmp(o, "--max-manifest") == 0)
            cfg.max_manifest_bytes = (size_t)num(v);
        else {
            fprintf(stderr, "resolve_driver: unknown option %s\n", o);
            return 2;
        }
    }
    cfg.insecure_registries = insecure;
    cfg.allowed_registries = allowed;
    tp_error err;
    tp_error_clear(&err);
    resolver_t *r = resolver_new(&cfg, &err);
    if (!r) {
        fprintf(stderr, "resolve_driver: %s: %s\n", tp_code_name(err.code), err.msg);
        return 2;
    }
    if (from_stdin)
        run_stdin(r);
    else if (i < argc)
        cmd_resolve(r, argv + i, (size_t)(argc - i));
    resolver_free(r);
    return 0;
}
