#include "app.h"

#include <string.h>

void app_init(app_t *app, policy_t *policy, resolver_t *resolver, audit_t *audit,
              metrics_t *metrics, const char *policy_path)
{
    memset(app, 0, sizeof *app);
    pthread_mutex_init(&app->lock, NULL);
    app->policy = policy;
    app->resolver = resolver;
    app->audit = audit;
    app->metrics = metrics;
    app->policy_path = policy_path;
}

void app_cleanup(app_t *app)
{
    if (!app)
        return;
    metrics_free(app->metrics); /* first: its listener reads the resolver */
    policy_free(app->policy);
    resolver_free(app->resolver);
    audit_close(app->audit);
    pthread_mutex_destroy(&app->lock);
    memset(app, 0, sizeof *app);
}

policy_t *app_policy(app_t *app)
{
    pthread_mutex_lock(&app->lock);
    policy_t *p = policy_retain(app->policy);
    pthread_mutex_unlock(&app->lock);
    return p;
}

void app_swap_policy(app_t *app, policy_t *next)
{
    pthread_mutex_lock(&app->lock);
    policy_t *old = app->policy;
    app->policy = next;
    pthread_mutex_unlock(&app->lock);
    policy_free(old);
}
