/* The long-lived state one running tagpin shares between threads: the
 * current policy snapshot, the resolver, the audit sink, the metrics and
 * the readiness state.
 *
 * Readers take a retained policy snapshot per request (app_policy), so a
 * reload (app_swap_policy, app_reload_policy) never frees a policy that a
 * request still reads. */
#ifndef TAGPIN_APP_H
#define TAGPIN_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "../resolver/digest.h"
#include "../resolver/resolver.h"
#include "audit.h"
#include "filestamp.h"
#include "metrics.h"
#include "policy.h"

typedef enum app_state {
    APP_STARTING, /* certificate or policy not in force yet: /readyz 503 */
    APP_READY,
    APP_DRAINING, /* SIGTERM: /readyz 503 so endpoints drop this replica */
} app_state;

typedef struct app {
    pthread_mutex_t lock; /* guards policy */
    policy_t *policy;     /* owned reference */
    resolver_t *resolver; /* owned; NULL when pinning is unavailable */
    audit_t *audit;       /* owned */
    metrics_t *metrics;   /* owned; NULL: not counted */
    const char *policy_path; /* borrowed; NULL: embedded defaults */
    atomic_int state;        /* app_state */
    pthread_mutex_t reload_lock;  /* one policy reload at a time */
    filestamp policy_stamp;       /* of the file last tried */
    char policy_hash[DIGEST_STR_MAX]; /* of the content in force, "" unknown */
} app_t;

/* Takes ownership of policy, resolver, audit and metrics. policy_path is
 * the file policy came from (its fingerprint is taken now). */
void app_init(app_t *app, policy_t *policy, resolver_t *resolver, audit_t *audit,
              metrics_t *metrics, const char *policy_path);
void app_cleanup(app_t *app);

/* A retained snapshot: release it with policy_free. */
policy_t *app_policy(app_t *app);

/* Installs next (ownership taken) and releases the previous snapshot. */
void app_swap_policy(app_t *app, policy_t *next);

/* Reloads the policy file: with force (SIGHUP) always, else only when the
 * file's fingerprint and then its content changed. A bad file is logged
 * with its line and column, counted, and the old policy stays. */
reload_result app_reload_policy(app_t *app, bool force);

void app_set_state(app_t *app, app_state s);
app_state app_get_state(app_t *app);

#endif
