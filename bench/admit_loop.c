/* tagpin_admit_loop: the admission pipeline's own cost, without TLS or HTTP.
 * Loads POLICY (as `tagpin serve` does), answers REVIEW once to warm the
 * resolver's cache, then N more times, timed with the monotonic clock.
 * Audit records go to /dev/null, as formatted as in production. Prints:
 *   RESULT n=N ns_per_review=X decision=D bytes=B
 *   tagpin_admit_loop POLICY REVIEW N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../resolver/fileio.h"
#include "admit.h"
#include "commands.h"
#include "loop_common.h"

int main(int argc, char **argv)
{
    long n = argc == 4 ? loop_count(argv[3]) : 0;
    if (n == 0) {
        fputs("usage: tagpin_admit_loop POLICY REVIEW N\n", stderr);
        return 2;
    }
    tp_error err;
    tp_error_clear(&err);
    char *body = NULL;
    size_t len = 0;
    cli_options o = {.config = argv[1]};
    policy_t *policy = cli_load_policy(&o);
    resolver_t *resolver = policy ? cli_make_resolver(&o, policy_get_settings(policy), &err) : NULL;
    audit_t *audit = resolver ? audit_open("/dev/null", &err) : NULL;
    if (!audit || tp_read_file(argv[2], 8u << 20, "review", &body, &len, &err) != TP_OK) {
        fprintf(stderr, "tagpin_admit_loop: %s\n", err.msg);
        return 2;
    }
    admit_env env = {.policy = policy, .resolver = resolver, .audit = audit};
    admit_result out;
    admit_handle(&env, ADMIT_MUTATE, body, len, tp_now_ms() + 10000, &out);
    const char *decision = out.decision;
    admit_result_cleanup(&out);
    double t0 = now_ns();
    size_t bytes = 0;
    for (long i = 0; i < n; i++) {
        admit_handle(&env, ADMIT_MUTATE, body, len, tp_now_ms() + 10000, &out);
        bytes = out.len;
        admit_result_cleanup(&out);
    }
    double per = (now_ns() - t0) / (double)n;
    printf("RESULT n=%ld ns_per_review=%.0f decision=%s bytes=%zu\n", n, per, decision, bytes);
    free(body);
    audit_close(audit);
    resolver_free(resolver);
    policy_free(policy);
    return 0;
}
