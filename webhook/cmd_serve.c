/* tagpin serve: wires policy, resolver, audit and the HTTPS server, then
 * waits for signals: SIGHUP reloads the policy and the certificate, SIGTERM
 * drains and stops, SIGINT stops without the endpoint delay. Changed files
 * are also picked up without a signal (watch.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "audit.h"
#include "commands.h"
#include "log.h"
#include "server.h"
#include "watch.h"

static void reload_all(app_t *app, server_t *server)
{
    if (!app->policy_path)
        log_msg(LOG_INFO, "SIGHUP: running on the embedded default policy, no policy to reload");
    else if (app_reload_policy(app, true) == RELOAD_UNCHANGED)
        log_msg(LOG_INFO, "SIGHUP: policy %s unchanged", app->policy_path);
    server_reload_tls(server, true);
}

static const char *signal_name(int sig)
{
    return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "signal";
}

/* Signals are blocked in every thread (libmicrohttpd's inherit the mask)
 * and taken here, synchronously, so handlers never run inside a request.
 * Returns the signal that asked to stop. */
static int wait_for_stop(app_t *app, server_t *server, const sigset_t *set)
{
    for (;;) {
        int sig = sigwaitinfo(set, NULL);
        if (sig == SIGHUP)
            reload_all(app, server);
        else if (sig == SIGTERM || sig == SIGINT)
            return sig;
    }
}

/* Kubernetes removes a terminating pod from the Service endpoints while it
 * sends SIGTERM; both race. Keep serving with /readyz failing for
 * shutdownDelay so the API server's new connections stop arriving before
 * the listener closes. A second SIGTERM or SIGINT cuts the delay short. */
static void endpoint_delay(long delay_ms, const sigset_t *set)
{
    struct timespec left = {(time_t)(delay_ms / 1000), (delay_ms % 1000) * 1000000L};
    int64_t until = tp_now_ms() + delay_ms;
    while (delay_ms > 0) {
        int sig = sigtimedwait(set, NULL, &left);
        if (sig == SIGTERM || sig == SIGINT || (sig < 0 && errno != EINTR))
            return;
        int64_t rest = until - tp_now_ms();
        if (rest <= 0)
            return;
        left.tv_sec = (time_t)(rest / 1000);
        left.tv_nsec = (long)(rest % 1000) * 1000000L;
    }
}

static void drain(app_t *app, server_t *server, int sig, const sigset_t *set)
{
    policy_t *p = app_policy(app);
    long delay = sig == SIGTERM ? policy_get_settings(p)->shutdown_delay_ms : 0;
    long grace = policy_get_settings(p)->shutdown_grace_ms;
    policy_free(p);
    app_set_state(app, APP_DRAINING);
    server_begin_drain(server);
    log_msg(LOG_INFO, "received %s: /readyz fails now; closing the listener in %ld ms, then "
            "up to %ld ms for in-flight requests", signal_name(sig), delay, grace);
    endpoint_delay(delay, set);
    unsigned left = server_drain(server, grace);
    if (left)
        log_msg(LOG_WARN, "shutdown grace over with %u requests still running; they end at "
                "their own deadlines", left);
    else
        log_msg(LOG_INFO, "in-flight requests finished");
}

static int serve(app_t *app, const server_config *sc, const char *metrics_listen,
                 const sigset_t *set)
{
    tp_error err;
    tp_error_clear(&err);
    if (metrics_listen && app->metrics &&
        metrics_serve(app->metrics, metrics_listen, &err) != TP_OK) {
        cli_fail("metrics", &err);
        return 2;
    }
    if (metrics_listen && app->metrics)
        log_msg(LOG_INFO, "metrics on http port %u (%s)", metrics_port(app->metrics),
                metrics_listen);
    server_t *server = server_start(sc, app, &err);
    if (!server) {
        cli_fail("serve", &err);
        return 2;
    }
    app_set_state(app, APP_READY); /* certificate and policy are both in force */
    watch_t *watch = watch_start(app, server);
    if (!watch)
        log_msg(LOG_WARN, "cannot start the file watcher; only SIGHUP reloads");
    log_msg(LOG_INFO, "tagpin %s serving https on port %u (%s), policy %s", TAGPIN_VERSION,
            server_port(server), sc->listen, app->policy_path ? app->policy_path
                                                              : "embedded default");
    int sig = wait_for_stop(app, server, set);
    watch_stop(watch);
    drain(app, server, sig, set);
    server_stop(server);
    return 0;
}

int cmd_serve(const cli_options *o)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    policy_t *policy = cli_load_policy(o);
    if (!policy)
        return 2;
    tp_error err;
    tp_error_clear(&err);
    const policy_settings *s = policy_get_settings(policy);
    resolver_t *resolver = cli_make_resolver(o, s, &err);
    audit_t *audit = resolver ? audit_open(s->audit_log, &err) : NULL;
    if (!resolver || !audit) {
        cli_fail(resolver ? "audit log" : "resolver", &err);
        resolver_free(resolver);
        policy_free(policy);
        return 2;
    }
    server_config sc = {
        .listen = o->listen ? o->listen : s->listen,
        .tls_cert = o->tls_cert ? o->tls_cert : s->tls_cert,
        .tls_key = o->tls_key ? o->tls_key : s->tls_key,
        .max_body_bytes = s->max_body_bytes,
    };
    const char *metrics_listen = o->metrics_listen ? o->metrics_listen : s->metrics_listen;
    app_t app;
    /* The certificate's expiry comes from the server's loaded pair. */
    app_init(&app, policy, resolver, audit, metrics_new(resolver, NULL), o->config);
    int rc = serve(&app, &sc, metrics_listen, &set);
    app_cleanup(&app);
    if (rc == 0)
        log_msg(LOG_INFO, "stopped");
    return rc;
}
