/* tagpin_resolve_loop: the resolver benchmark's in-process figure. One
 * resolver (as `tagpin serve` configures it for a plain-HTTP registry)
 * resolves IMAGE once with an empty cache, then N more times from its cache,
 * each timed with the monotonic clock, so process start-up (which dominates
 * a fresh `tagpin resolve`) is not part of the warm figure. Prints:
 *   RESULT digest=D cold_us=X cold_requests=R warm_n=N warm_ns=Y warm_requests=W
 *   tagpin_resolve_loop INSECURE_HOST IMAGE N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loop_common.h"
#include "resolver.h"

int main(int argc, char **argv)
{
    long n = argc == 4 ? loop_count(argv[3]) : 0;
    if (n == 0) {
        fputs("usage: tagpin_resolve_loop INSECURE_HOST IMAGE N\n", stderr);
        return 2;
    }
    const char *insecure[1] = {argv[1]};
    resolver_config cfg = {.insecure_registries = insecure, .n_insecure_registries = 1};
    tp_error err;
    tp_error_clear(&err);
    ref_t ref;
    resolver_t *r = resolver_new(&cfg, &err);
    if (!r || ref_parse(argv[2], strlen(argv[2]), &ref, &err) != TP_OK) {
        fprintf(stderr, "tagpin_resolve_loop: %s\n", err.msg);
        return 2;
    }
    resolution res;
    double t0 = now_ns();
    resolver_resolve(r, &ref, tp_now_ms() + 10000, &res);
    double cold = now_ns() - t0;
    if (res.err.code != TP_OK) {
        fprintf(stderr, "tagpin_resolve_loop: %s\n", res.err.msg);
        return 1;
    }
    unsigned cold_requests = res.requests;
    unsigned long warm_requests = 0;
    int rc = 0;
    char digest[sizeof res.digest];
    memcpy(digest, res.digest, sizeof digest);
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
        resolver_resolve(r, &ref, tp_now_ms() + 10000, &res);
        warm_requests += res.requests;
        if (res.err.code != TP_OK || strcmp(res.digest, digest) != 0)
            rc = 1; /* reported below; the loop stays branch-light */
    }
    double warm = (now_ns() - t0) / (double)n;
    printf("RESULT digest=%s cold_us=%.1f cold_requests=%u warm_n=%ld warm_ns=%.1f "
           "warm_requests=%lu\n",
           digest, cold / 1e3, cold_requests, n, warm, warm_requests);
    if (rc)
        fputs("tagpin_resolve_loop: a warm resolution failed or changed digest\n", stderr);
    resolver_free(r);
    return rc;
}
