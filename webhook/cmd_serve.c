/* tagpin serve: wires policy, resolver, audit and the HTTPS server, then
 * waits for signals: SIGHUP reloads the policy, SIGTERM/SIGINT stop. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "audit.h"
#include "commands.h"
#include "log.h"
#include "server.h"

static void reload_policy(app_t *app)
{
    if (!app->policy_path) {
        log_msg(LOG_INFO, "SIGHUP: running on the embedded default policy, nothing to reload");
        return;
    }
    tp_error err;
    tp_error_clear(&err);
    policy_t *next = policy_load_file(app->policy_path, &err);
    if (!next) {
        log_msg(LOG_ERROR, "policy reload refused, the previous policy stays in force: %s", err.msg);
        return;
    }
    app_swap_policy(app, next);
    log_msg(LOG_INFO, "policy reloaded from %s", app->policy_path);
}

/* Signals are blocked in every thread (libmicrohttpd's inherit the mask)
 * and taken here, synchronously, so handlers never run inside a request. */
static void wait_for_signals(app_t *app, const sigset_t *set)
{
    for (;;) {
        int sig = sigwaitinfo(set, NULL);
        if (sig == SIGHUP) {
            reload_policy(app);
        } else if (sig == SIGTERM || sig == SIGINT) {
            log_msg(LOG_INFO, "received %s, finishing in-flight requests",
                    sig == SIGTERM ? "SIGTERM" : "SIGINT");
            return;
        }
    }
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
    metrics_t *metrics = metrics_new(resolver, sc.tls_cert);
    app_t app;
    app_init(&app, policy, resolver, audit, metrics, o->config);
    if (metrics_listen && metrics && metrics_serve(metrics, metrics_listen, &err) != TP_OK) {
        cli_fail("metrics", &err);
        app_cleanup(&app);
        return 2;
    }
    if (metrics_listen && metrics)
        log_msg(LOG_INFO, "metrics on http port %u (%s)", metrics_port(metrics), metrics_listen);
    server_t *server = server_start(&sc, &app, &err);
    if (!server) {
        cli_fail("serve", &err);
        app_cleanup(&app);
        return 2;
    }
    log_msg(LOG_INFO, "tagpin %s serving https on port %u (%s), policy %s", TAGPIN_VERSION,
            server_port(server), sc.listen, o->config ? o->config : "embedded default");
    wait_for_signals(&app, &set);
    server_stop(server);
    app_cleanup(&app);
    log_msg(LOG_INFO, "stopped");
    return 0;
}
