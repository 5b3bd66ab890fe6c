#include "app.h"

#include <stdlib.h>
#include <string.h>

#include "../resolver/fileio.h"
#include "log.h"

/* The file's bytes and their hash; NULL with err when unreadable. */
static char *policy_read(const char *path, char hash[DIGEST_STR_MAX], size_t *len,
                         tp_error *err)
{
    char *buf = NULL;
    if (tp_read_file(path, POLICY_FILE_MAX, "policy", &buf, len, err) != TP_OK)
        return NULL;
    if (digest_sha256(buf, *len, hash, err) != TP_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

void app_init(app_t *app, policy_t *policy, resolver_t *resolver, audit_t *audit,
              metrics_t *metrics, const char *policy_path)
{
    memset(app, 0, sizeof *app);
    pthread_mutex_init(&app->lock, NULL);
    pthread_mutex_init(&app->reload_lock, NULL);
    app->policy = policy;
    app->resolver = resolver;
    app->audit = audit;
    app->metrics = metrics;
    app->policy_path = policy_path;
    atomic_init(&app->state, APP_STARTING);
    if (policy_path) {
        /* What the caller loaded a moment ago; a change in between is
         * picked up by the next forced reload. */
        tp_error err;
        size_t len;
        filestamp_take(policy_path, &app->policy_stamp);
        free(policy_read(policy_path, app->policy_hash, &len, &err));
    }
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
    pthread_mutex_destroy(&app->reload_lock);
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

/* Called with reload_lock held, once the file is known to have changed. */
static reload_result reload_locked(app_t *app, bool force)
{
    tp_error err;
    tp_error_clear(&err);
    char hash[DIGEST_STR_MAX];
    size_t len = 0;
    char *buf = policy_read(app->policy_path, hash, &len, &err);
    if (buf && !force && strcmp(hash, app->policy_hash) == 0) {
        free(buf); /* touched or re-linked, same bytes: nothing to do */
        return RELOAD_UNCHANGED;
    }
    policy_t *next = buf ? policy_load_buffer(buf, len, app->policy_path, &err) : NULL;
    free(buf);
    if (!next) {
        log_msg(LOG_ERROR, "policy reload refused, the previous policy stays in force: %s",
                err.msg);
        metrics_reload(app->metrics, METRICS_CONFIG_POLICY, false);
        return RELOAD_ERROR;
    }
    app_swap_policy(app, next);
    memcpy(app->policy_hash, hash, sizeof hash);
    log_msg(LOG_INFO, "policy reloaded from %s (%s)", app->policy_path, hash);
    metrics_reload(app->metrics, METRICS_CONFIG_POLICY, true);
    return RELOAD_OK;
}

reload_result app_reload_policy(app_t *app, bool force)
{
    if (!app->policy_path)
        return RELOAD_UNCHANGED;
    filestamp now;
    reload_result res = RELOAD_UNCHANGED;
    pthread_mutex_lock(&app->reload_lock);
    filestamp_take(app->policy_path, &now);
    if (force || !filestamp_equal(&now, &app->policy_stamp)) {
        /* Remembered even when refused: a bad file is reported once, and
         * tried again when it changes. */
        app->policy_stamp = now;
        res = reload_locked(app, force);
    }
    pthread_mutex_unlock(&app->reload_lock);
    return res;
}

void app_set_state(app_t *app, app_state s)
{
    atomic_store(&app->state, (int)s);
}

app_state app_get_state(app_t *app)
{
    return (app_state)atomic_load(&app->state);
}
