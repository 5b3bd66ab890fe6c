#include "watch.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "monotime.h"

#define IDLE_CHECK_MS 1000 /* how often an interval of 0 is re-read */

struct watch {
    app_t *app;
    server_t *server;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC, so clock steps never stall it */
    bool stop;
};

static long current_interval(app_t *app)
{
    policy_t *p = app_policy(app);
    long ms = policy_get_settings(p)->reload_interval_ms;
    policy_free(p);
    return ms;
}

/* Sleeps ms unless stopped first; true when the thread should go on. */
static bool wait_ms(watch_t *w, long ms)
{
    struct timespec until = monotime_after_ms(ms);
    pthread_mutex_lock(&w->mu);
    while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &until) == 0)
        ;
    bool go_on = !w->stop;
    pthread_mutex_unlock(&w->mu);
    return go_on;
}

static void *watch_run(void *arg)
{
    watch_t *w = arg;
    for (;;) {
        long interval = current_interval(w->app);
        if (!wait_ms(w, interval > 0 ? interval : IDLE_CHECK_MS))
            return NULL;
        if (interval <= 0)
            continue;
        app_reload_policy(w->app, false);
        server_reload_tls(w->server, false);
    }
}

watch_t *watch_start(app_t *app, server_t *server)
{
    watch_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->app = app;
    w->server = server;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->thread, NULL, watch_run, w) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return NULL;
    }
    return w;
}

void watch_stop(watch_t *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
