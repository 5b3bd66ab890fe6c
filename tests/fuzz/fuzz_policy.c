/* Arbitrary bytes into policy_load_buffer. A policy that loads must judge
 * any reference with a rule name and keep its settings inside the caps; one
 * that does not must say why in "SOURCE:LINE:COL: ..." form. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const images[] = {"nginx", "nginx:latest", "ghcr.io/org/app:v1.2",
    "localhost:5000/a/b:main", "app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tp_error err;
    policy_t *p = policy_load_buffer((const char *)data, size, "fuzz", &err);
    if (!p) {
        if ((err.code != TP_POLICY && err.code != TP_NOMEM) || strncmp(err.msg, "fuzz:", 5))
            abort();
        return 0;
    }
    const policy_settings *s = policy_get_settings(p);
    if (s->max_body_bytes == 0 || s->max_body_bytes > (64u << 20) || !s->listen ||
        s->connect_timeout_ms <= 0 || s->cache_max_entries == 0)
        abort();
    for (size_t i = 0; i < sizeof images / sizeof *images; i++) {
        ref_t ref;
        policy_verdict v;
        if (ref_parse(images[i], strlen(images[i]), &ref, NULL) != TP_OK)
            abort();
        policy_judge(p, &ref, "team-a", &v);
        if (!v.rule || !v.rule[0] || (unsigned)v.action > POLICY_PIN)
            abort();
    }
    (void)policy_exempt(p, "kube-system");
    policy_free(policy_retain(p));
    policy_free(p);
    return 0;
}
