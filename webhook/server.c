#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admit.h"
#include "log.h"
#include "monotime.h"
#include "netaddr.h"
#include "tls_creds.h"

#define CONNECTION_LIMIT 1024
/* Longer than Go's 90 s idle timeout, so the API server always closes idle
 * keep-alive connections first and never writes into one we just closed. */
#define IDLE_TIMEOUT_S 120

struct server {
    struct MHD_Daemon *daemon;
    app_t *app;
    size_t max_body;
    unsigned port;
    tls_creds *tls;
    atomic_bool draining;      /* answers carry Connection: close */
    MHD_socket quiesced;       /* listen socket once quiesced; closed at stop */
    pthread_mutex_t flight_mu; /* guards in_flight */
    pthread_cond_t flight_cv;  /* signalled when in_flight drops */
    unsigned in_flight;        /* requests between first callback and completion */
};

/* Per-request state between libmicrohttpd's calls. */
typedef struct request {
    char *body;
    size_t len;
    size_t cap;
    bool too_large;
    int64_t start_ms;
    struct timespec start; /* fine-grained, for the latency histogram */
} request;

typedef enum MHD_Result (*route_fn)(server_t *s, struct MHD_Connection *c, request *rq);

/* Queues r and drops our reference. While draining every answer closes its
 * connection, so keep-alive clients move to another replica and no idle
 * connection is left for the shutdown to cut. */
static enum MHD_Result queue(server_t *s, struct MHD_Connection *c, unsigned status,
                             struct MHD_Response *r)
{
    if (atomic_load(&s->draining))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result respond(server_t *s, struct MHD_Connection *c, unsigned status,
                               char *body, size_t len, const char *type, bool owned)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (owned)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    return queue(s, c, status, r);
}

static enum MHD_Result respond_text(server_t *s, struct MHD_Connection *c, unsigned status,
                                    const char *line)
{
    return respond(s, c, status, (char *)line, strlen(line), "text/plain; charset=utf-8",
                   false);
}

static double elapsed(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

static enum MHD_Result serve_admit(server_t *s, struct MHD_Connection *c, request *rq,
                                   admit_endpoint ep)
{
    if (rq->too_large)
        return respond_text(s, c, MHD_HTTP_CONTENT_TOO_LARGE,
                            "request body is larger than server.maxBodyBytes\n");
    if (rq->len == 0)
        return respond_text(s, c, MHD_HTTP_BAD_REQUEST, "empty body: POST an AdmissionReview\n");
    policy_t *policy = app_policy(s->app);
    const char *timeout = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "timeout");
    int64_t deadline = server_deadline(rq->start_ms, timeout,
                                       policy_get_settings(policy)->resolve_timeout_ms);
    admit_env env = {.policy = policy, .resolver = s->app->resolver, .audit = s->app->audit};
    admit_result res;
    admit_handle(&env, ep, rq->body, rq->len, deadline, &res);
    policy_free(policy);
    metrics_observe(s->app->metrics, res.operation, res.kind, res.decision, elapsed(&rq->start));
    if (!res.body)
        return respond_text(s, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    if (res.http_status != 200)
        log_msg(LOG_WARN, "rejected request: %d %.*s", res.http_status,
                (int)(res.len ? res.len - 1 : 0), res.body);
    return respond(s, c, (unsigned)res.http_status, res.body, res.len,
                   res.is_json ? "application/json" : "text/plain; charset=utf-8", true);
}

static enum MHD_Result serve_mutate(server_t *s, struct MHD_Connection *c, request *rq)
{
    return serve_admit(s, c, rq, ADMIT_MUTATE);
}

static enum MHD_Result serve_validate(server_t *s, struct MHD_Connection *c, request *rq)
{
    return serve_admit(s, c, rq, ADMIT_VALIDATE);
}

static enum MHD_Result serve_healthz(server_t *s, struct MHD_Connection *c, request *rq)
{
    (void)rq;
    return respond_text(s, c, MHD_HTTP_OK, "ok\n");
}

/* Readiness, unlike liveness, fails while starting and while draining, so
 * Service endpoints only ever hold replicas that will answer. */
static enum MHD_Result serve_readyz(server_t *s, struct MHD_Connection *c, request *rq)
{
    (void)rq;
    switch (app_get_state(s->app)) {
    case APP_READY:
        return respond_text(s, c, MHD_HTTP_OK, "ready\n");
    case APP_DRAINING:
        return respond_text(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, "draining\n");
    default:
        return respond_text(s, c, MHD_HTTP_SERVICE_UNAVAILABLE, "starting\n");
    }
}

static const struct route {
    const char *path;
    const char *method;
    route_fn fn;
} routes[] = {
    {"/mutate", MHD_HTTP_METHOD_POST, serve_mutate},
    {"/validate", MHD_HTTP_METHOD_POST, serve_validate},
    {"/healthz", MHD_HTTP_METHOD_GET, serve_healthz},
    {"/readyz", MHD_HTTP_METHOD_GET, serve_readyz},
};

static enum MHD_Result dispatch(server_t *s, struct MHD_Connection *c, const char *url,
                                const char *method, request *rq)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(routes[i].path, url) != 0)
            continue;
        if (strcmp(routes[i].method, method) == 0)
            return routes[i].fn(s, c, rq);
        char line[96];
        snprintf(line, sizeof line, "method %s not allowed on %s: use %s\n", method,
                 url, routes[i].method);
        struct MHD_Response *r = MHD_create_response_from_buffer(
            strlen(line), line, MHD_RESPMEM_MUST_COPY);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, routes[i].method);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
        return queue(s, c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
    }
    return respond_text(s, c, MHD_HTTP_NOT_FOUND,
                        "not found: tagpin serves POST /mutate, POST /validate, GET /healthz, GET /readyz\n");
}

/* Appends one chunk of the body; past the cap the rest is read and dropped
 * so the connection stays in step, and the answer is 413. */
static void collect(server_t *s, request *rq, const char *data, size_t size)
{
    if (rq->too_large || rq->len + size > s->max_body) {
        rq->too_large = true;
        return;
    }
    if (rq->len + size + 1 > rq->cap) {
        size_t cap = rq->cap ? rq->cap : 16384;
        while (cap < rq->len + size + 1)
            cap *= 2;
        char *grown = realloc(rq->body, cap);
        if (!grown) {
            rq->too_large = true; /* out of memory answers like an oversized body */
            return;
        }
        rq->body = grown;
        rq->cap = cap;
    }
    memcpy(rq->body + rq->len, data, size);
    rq->len += size;
    rq->body[rq->len] = '\0';
}

static request *request_begin(server_t *s, struct MHD_Connection *c)
{
    request *rq = calloc(1, sizeof *rq);
    if (!rq)
        return NULL;
    rq->start_ms = tp_now_ms();
    clock_gettime(CLOCK_MONOTONIC, &rq->start);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > s->max_body)
        rq->too_large = true;
    pthread_mutex_lock(&s->flight_mu);
    s->in_flight++;
    pthread_mutex_unlock(&s->flight_mu);
    metrics_in_flight(s->app->metrics, 1);
    return rq;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    server_t *s = cls;
    (void)version;
    request *rq = *con_cls;
    if (!rq) {
        *con_cls = rq = request_begin(s, c);
        return rq ? MHD_YES : MHD_NO;
    }
    if (*upload_data_size) {
        collect(s, rq, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(s, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    server_t *s = cls;
    (void)c, (void)toe;
    request *rq = *con_cls;
    if (!rq)
        return;
    free(rq->body);
    free(rq);
    *con_cls = NULL;
    metrics_in_flight(s->app->metrics, -1);
    pthread_mutex_lock(&s->flight_mu);
    s->in_flight--;
    pthread_cond_broadcast(&s->flight_cv);
    pthread_mutex_unlock(&s->flight_mu);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    if (vsnprintf(line, sizeof line, fmt, ap) < 0)
        return;
    line[strcspn(line, "\r\n")] = '\0';
    log_msg(LOG_WARN, "http: %s", line);
}

int64_t server_deadline(int64_t start_ms, const char *timeout, long cap_ms)
{
    long budget = cap_ms > 0 ? cap_ms : 8000;
    if (timeout) {
        char *end;
        long v = strtol(timeout, &end, 10);
        long ms = -1;
        if (end != timeout && v > 0 && v < 3600) {
            if (strcmp(end, "s") == 0)
                ms = v * 1000;
            else if (strcmp(end, "ms") == 0)
                ms = v;
            else if (strcmp(end, "m") == 0)
                ms = v * 60000;
        }
        if (ms > 0) {
            /* Answer a tenth early (at least 100 ms, at most 1 s) so the
             * response still reaches the API server in time. */
            long margin = ms / 10 < 100 ? 100 : ms / 10 > 1000 ? 1000 : ms / 10;
            long usable = ms - margin > 50 ? ms - margin : 50;
            if (usable < budget)
                budget = usable;
        }
    }
    return start_ms + budget;
}

static void server_free(server_t *s)
{
    if (!s)
        return;
    tls_creds_free(s->tls); /* only once no handshake can run */
    if (s->quiesced != MHD_INVALID_SOCKET)
        close(s->quiesced);
    pthread_mutex_destroy(&s->flight_mu);
    pthread_cond_destroy(&s->flight_cv);
    free(s);
}

static server_t *server_new(app_t *app, const server_config *cfg, tp_error *err)
{
    server_t *s = calloc(1, sizeof *s);
    if (!s) {
        tp_error_set(err, TP_NOMEM, NULL);
        return NULL;
    }
    s->app = app;
    s->max_body = cfg->max_body_bytes ? cfg->max_body_bytes : 3u << 20;
    s->quiesced = MHD_INVALID_SOCKET;
    atomic_init(&s->draining, false);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* a clock step cannot stretch the grace */
    pthread_mutex_init(&s->flight_mu, NULL);
    pthread_cond_init(&s->flight_cv, &ca);
    pthread_condattr_destroy(&ca);
    return s;
}

server_t *server_start(const server_config *cfg, app_t *app, tp_error *err)
{
    server_t *s = server_new(app, cfg, err);
    if (!s)
        return NULL;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    if (netaddr_parse(cfg->listen, &addr, &addr_len, err) != TP_OK ||
        !(s->tls = tls_creds_new(cfg->tls_cert, cfg->tls_key, err))) {
        server_free(s);
        return NULL;
    }
    tls_creds_activate(s->tls);
    metrics_set_cert_expiry(app->metrics, tls_creds_expiry(s->tls));
    /* ITC: MHD_quiesce_daemon needs it to stop the listening thread. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_TLS | MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, /* first, so it sees every message */
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_HTTPS_CERT_CALLBACK, tls_creds_retrieve,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
        MHD_OPTION_END);
    if (!s->daemon) {
        tp_error_set(err, TP_TLS, "cannot serve HTTPS on %s (address in use?)", cfg->listen);
        server_free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    return s;
}

unsigned server_port(const server_t *s)
{
    return s->port;
}

reload_result server_reload_tls(server_t *s, bool force)
{
    tp_error err;
    tp_error_clear(&err);
    reload_result res = tls_creds_reload(s->tls, force, &err);
    if (res == RELOAD_ERROR) {
        log_msg(LOG_ERROR, "certificate reload refused, the previous certificate stays in "
                           "force: %s", err.msg);
        metrics_reload(s->app->metrics, METRICS_CONFIG_CERTIFICATE, false);
    } else if (res == RELOAD_OK) {
        char serial[48];
        tls_creds_serial(s->tls, serial, sizeof serial);
        log_msg(LOG_INFO, "certificate reloaded, serial %s; new connections use it", serial);
        metrics_reload(s->app->metrics, METRICS_CONFIG_CERTIFICATE, true);
        metrics_set_cert_expiry(s->app->metrics, tls_creds_expiry(s->tls));
    }
    return res;
}

void server_begin_drain(server_t *s)
{
    atomic_store(&s->draining, true);
}

unsigned server_drain(server_t *s, long grace_ms)
{
    server_begin_drain(s);
    if (s->quiesced == MHD_INVALID_SOCKET && s->daemon) {
        s->quiesced = MHD_quiesce_daemon(s->daemon);
        /* The socket may only be closed after MHD_stop_daemon, but until
         * then the kernel would keep completing handshakes into its backlog
         * for nobody: shutting it down makes new connects fail at once. */
        if (s->quiesced != MHD_INVALID_SOCKET)
            shutdown(s->quiesced, SHUT_RDWR);
    }
    struct timespec until = monotime_after_ms(grace_ms);
    pthread_mutex_lock(&s->flight_mu);
    while (s->in_flight > 0 && pthread_cond_timedwait(&s->flight_cv, &s->flight_mu, &until) == 0)
        ;
    unsigned left = s->in_flight;
    pthread_mutex_unlock(&s->flight_mu);
    return left;
}

void server_stop(server_t *s)
{
    if (!s)
        return;
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    server_free(s);
}
