/* The long-lived state one running tagpin shares between threads: the
 * current policy snapshot, the resolver and the audit sink.
 *
 * Readers take a retained policy snapshot per request (app_policy), so a
 * reload (app_swap_policy) never frees a policy that a request still reads. */
#ifndef TAGPIN_APP_H
#define TAGPIN_APP_H

#include <pthread.h>
#include <stdbool.h>

#include "../resolver/resolver.h"
#include "audit.h"
#include "metrics.h"
#include "policy.h"

typedef struct app {
    pthread_mutex_t lock; /* guards policy */
    policy_t *policy;     /* owned reference */
    resolver_t *resolver; /* owned; NULL when pinning is unavailable */
    audit_t *audit;       /* owned */
    metrics_t *metrics;   /* owned; NULL: not counted */
    const char *policy_path; /* borrowed; NULL: embedded defaults */
} app_t;

/* Takes ownership of policy, resolver, audit and metrics. */
void app_init(app_t *app, policy_t *policy, resolver_t *resolver, audit_t *audit,
              metrics_t *metrics, const char *policy_path);
void app_cleanup(app_t *app);

/* A retained snapshot: release it with policy_free. */
policy_t *app_policy(app_t *app);

/* Installs next (ownership taken) and releases the previous snapshot. */
void app_swap_policy(app_t *app, policy_t *next);

#endif
