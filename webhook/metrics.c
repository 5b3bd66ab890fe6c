#include "metrics.h"

#include <microhttpd.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netaddr.h"
#include "text.h"

#define SERIES_MAX 256 /* operation x kind x decision actually seen */
#define LABEL_MAX 48
#define RENDER_MAX (256 * 1024)

static const double buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

typedef struct series {
    char operation[LABEL_MAX], kind[LABEL_MAX], decision[LABEL_MAX];
    uint64_t count;
} series;

struct metrics {
    pthread_mutex_t lock;
    series s[SERIES_MAX];
    size_t n;
    uint64_t overflow; /* requests past SERIES_MAX label sets */
    uint64_t bucket_counts[NBUCKETS];
    uint64_t latency_count;
    double latency_sum;
    resolver_t *resolver;
    double cert_expiry; /* unix seconds, 0 when unknown */
    atomic_long in_flight;
    uint64_t reloads[2][2];  /* [metrics_config][ok] */
    double last_reload_ok[2]; /* unix seconds of the last good reload */
    struct MHD_Daemon *daemon;
    unsigned port;
};

static double cert_expiry(const char *path)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return 0;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x)
        return 0;
    struct tm tm;
    double t = ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1 ? (double)timegm(&tm) : 0;
    X509_free(x);
    return t;
}

metrics_t *metrics_new(resolver_t *resolver, const char *cert_file)
{
    metrics_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->lock, NULL);
    m->resolver = resolver;
    m->cert_expiry = cert_expiry(cert_file);
    return m;
}

void metrics_free(metrics_t *m)
{
    if (!m)
        return;
    metrics_stop(m);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void metrics_reload(metrics_t *m, metrics_config which, bool ok)
{
    if (!m)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    pthread_mutex_lock(&m->lock);
    m->reloads[which][ok]++;
    if (ok)
        m->last_reload_ok[which] = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    pthread_mutex_unlock(&m->lock);
}

void metrics_in_flight(metrics_t *m, int delta)
{
    if (m)
        atomic_fetch_add_explicit(&m->in_flight, delta, memory_order_relaxed);
}

void metrics_set_cert_expiry(metrics_t *m, double unix_seconds)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    m->cert_expiry = unix_seconds;
    pthread_mutex_unlock(&m->lock);
}

static void label_copy(char *dst, const char *src)
{
    snprintf(dst, LABEL_MAX, "%s", src && *src ? src : "none");
}

void metrics_observe(metrics_t *m, const char *operation, const char *kind,
                     const char *decision, double seconds)
{
    if (!m)
        return;
    series key;
    label_copy(key.operation, operation);
    label_copy(key.kind, kind);
    label_copy(key.decision, decision);
    pthread_mutex_lock(&m->lock);
    size_t i = 0;
    while (i < m->n && (strcmp(m->s[i].operation, key.operation) || strcmp(m->s[i].kind, key.kind) ||
                        strcmp(m->s[i].decision, key.decision)))
        i++;
    if (i == m->n && m->n < SERIES_MAX) {
        key.count = 0;
        m->s[m->n++] = key;
    }
    if (i < m->n)
        m->s[i].count++;
    else
        m->overflow++;
    for (size_t b = 0; b < NBUCKETS; b++)
        if (seconds <= buckets[b])
            m->bucket_counts[b]++;
    m->latency_count++;
    m->latency_sum += seconds;
    pthread_mutex_unlock(&m->lock);
}

/* Label values come from the API server; escape as the format requires. */
static void label_value(text *t, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            text_printf(t, "\\%c", *v);
        else if (*v == '\n')
            text_printf(t, "\\n");
        else
            text_printf(t, "%c", *v);
    }
}

static void render_admissions(metrics_t *m, text *t)
{
    text_printf(t, "# HELP tagpin_admission_requests_total Admission requests answered, by operation, kind and decision.\n"
                   "# TYPE tagpin_admission_requests_total counter\n");
    for (size_t i = 0; i < m->n; i++) {
        text_printf(t, "tagpin_admission_requests_total{operation=\"");
        label_value(t, m->s[i].operation);
        text_printf(t, "\",kind=\"");
        label_value(t, m->s[i].kind);
        text_printf(t, "\",decision=\"%s\"} %llu\n", m->s[i].decision,
                    (unsigned long long)m->s[i].count);
    }
    text_printf(t, "# HELP tagpin_admission_duration_seconds Time from request to answer.\n"
                   "# TYPE tagpin_admission_duration_seconds histogram\n");
    for (size_t b = 0; b < NBUCKETS; b++)
        text_printf(t, "tagpin_admission_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[b],
                    (unsigned long long)m->bucket_counts[b]);
    text_printf(t, "tagpin_admission_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                   "tagpin_admission_duration_seconds_sum %.6f\n"
                   "tagpin_admission_duration_seconds_count %llu\n",
                (unsigned long long)m->latency_count, m->latency_sum,
                (unsigned long long)m->latency_count);
}

static void counter(text *t, const char *name, const char *help, uint64_t v, const char *type)
{
    text_printf(t, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
                (unsigned long long)v);
}

static void render_resolutions(text *t, const resolver_stats *s)
{
    text_printf(t, "# HELP tagpin_resolutions_total Tag resolutions by where the answer came from and how it ended.\n"
                   "# TYPE tagpin_resolutions_total counter\n");
    for (size_t i = 0; i < RESOLVER_SOURCES; i++)
        for (size_t j = 0; j < RESOLVER_RESULTS; j++)
            text_printf(t, "tagpin_resolutions_total{source=\"%s\",result=\"%s\"} %llu\n",
                        resolver_source_label(i), resolver_result_label(j),
                        (unsigned long long)s->resolutions[i][j]);
    text_printf(t, "# HELP tagpin_token_fetches_total Registry Bearer tokens fetched, by result.\n"
                   "# TYPE tagpin_token_fetches_total counter\n"
                   "tagpin_token_fetches_total{result=\"ok\"} %llu\n"
                   "tagpin_token_fetches_total{result=\"error\"} %llu\n",
                (unsigned long long)(s->token_fetches - s->token_fetch_errors),
                (unsigned long long)s->token_fetch_errors);
}

/* Registry names are host[:port] from image references: the label escape
 * still applies, as a reference parser is no place to trust for output. */
static void render_registries(metrics_t *m, text *t)
{
    resolver_registry_stats *rows = calloc(RESOLVER_REGISTRIES_MAX + 1, sizeof *rows);
    if (!rows)
        return;
    size_t n = resolver_get_registry_stats(m->resolver, rows, RESOLVER_REGISTRIES_MAX + 1);
    text_printf(t, "# HELP tagpin_registry_requests_total HTTP exchanges with registries (manifests), by registry and status; status error: no HTTP answer.\n"
                   "# TYPE tagpin_registry_requests_total counter\n");
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < RESOLVER_STATUS_SLOTS; k++) {
            if (!rows[i].requests[k])
                continue;
            text_printf(t, "tagpin_registry_requests_total{registry=\"");
            label_value(t, rows[i].registry);
            text_printf(t, "\",status=\"%s\"} %llu\n", resolver_status_label(k),
                        (unsigned long long)rows[i].requests[k]);
        }
    text_printf(t, "# HELP tagpin_registry_request_duration_seconds Time of one HTTP exchange with a registry.\n"
                   "# TYPE tagpin_registry_request_duration_seconds histogram\n");
    for (size_t i = 0; i < n; i++) {
        for (size_t b = 0; b <= RESOLVER_LATENCY_BUCKETS; b++) {
            text_printf(t, "tagpin_registry_request_duration_seconds_bucket{registry=\"");
            label_value(t, rows[i].registry);
            if (b < RESOLVER_LATENCY_BUCKETS)
                text_printf(t, "\",le=\"%g\"} %llu\n", resolver_latency_buckets[b],
                            (unsigned long long)rows[i].buckets[b]);
            else
                text_printf(t, "\",le=\"+Inf\"} %llu\n", (unsigned long long)rows[i].count);
        }
        text_printf(t, "tagpin_registry_request_duration_seconds_sum{registry=\"");
        label_value(t, rows[i].registry);
        text_printf(t, "\"} %.6f\ntagpin_registry_request_duration_seconds_count{registry=\"",
                    rows[i].sum);
        label_value(t, rows[i].registry);
        text_printf(t, "\"} %llu\n", (unsigned long long)rows[i].count);
    }
    free(rows);
}

static void render_resolver(metrics_t *m, text *t)
{
    if (!m->resolver)
        return;
    resolver_stats s;
    resolver_get_stats(m->resolver, &s);
    counter(t, "tagpin_cache_hits_total", "Resolutions answered from a fresh cache entry.", s.hits, "counter");
    counter(t, "tagpin_cache_misses_total", "Resolutions that had to ask the registry.", s.misses, "counter");
    counter(t, "tagpin_cache_stale_served_total", "Stale digests served because the registry failed.", s.stale_served, "counter");
    counter(t, "tagpin_cache_negative_hits_total", "Not-found answers served from the negative cache.", s.negative_hits, "counter");
    counter(t, "tagpin_cache_evictions_total", "Cache entries evicted (LRU).", s.evictions, "counter");
    counter(t, "tagpin_cache_entries", "Cache entries now.", s.entries, "gauge");
    counter(t, "tagpin_moved_tags_total", "Tags seen pointing at a new digest on refresh.", s.moved_tags, "counter");
    counter(t, "tagpin_resolution_errors_total", "Resolutions that failed.", s.errors, "counter");
    render_resolutions(t, &s);
    render_registries(m, t);
}

static void render_reloads(metrics_t *m, text *t)
{
    static const char *const what[2] = {"policy", "certificate"};
    for (int w = 0; w < 2; w++) {
        text_printf(t, "# HELP tagpin_%s_reloads_total Reloads of the %s that changed it (ok) or were refused (error).\n"
                       "# TYPE tagpin_%s_reloads_total counter\n"
                       "tagpin_%s_reloads_total{result=\"ok\"} %llu\n"
                       "tagpin_%s_reloads_total{result=\"error\"} %llu\n"
                       "# HELP tagpin_%s_last_reload_success_timestamp_seconds When the %s last changed by a reload (0: never).\n"
                       "# TYPE tagpin_%s_last_reload_success_timestamp_seconds gauge\n"
                       "tagpin_%s_last_reload_success_timestamp_seconds %.3f\n",
                    what[w], what[w], what[w], what[w], (unsigned long long)m->reloads[w][1],
                    what[w], (unsigned long long)m->reloads[w][0], what[w], what[w], what[w],
                    what[w], m->last_reload_ok[w]);
    }
}

char *metrics_render(metrics_t *m, size_t *len)
{
    text t;
    text_init(&t, RENDER_MAX);
    pthread_mutex_lock(&m->lock);
    render_admissions(m, &t);
    counter(&t, "tagpin_admission_series_overflow_total",
            "Requests not counted by label because too many label sets were seen.", m->overflow, "counter");
    render_reloads(m, &t);
    long in_flight = atomic_load_explicit(&m->in_flight, memory_order_relaxed);
    counter(&t, "tagpin_http_requests_in_flight", "Requests being handled on the HTTPS listener.",
            (uint64_t)(in_flight > 0 ? in_flight : 0), "gauge");
    double expiry = m->cert_expiry;
    pthread_mutex_unlock(&m->lock);
    render_resolver(m, &t);
    text_printf(&t, "# HELP tagpin_certificate_expiry_timestamp_seconds When the serving certificate expires.\n"
                    "# TYPE tagpin_certificate_expiry_timestamp_seconds gauge\n"
                    "tagpin_certificate_expiry_timestamp_seconds %.0f\n"
                    "# HELP tagpin_build_info Build information.\n# TYPE tagpin_build_info gauge\n"
                    "tagpin_build_info{version=\"%s\"} 1\n", expiry, TAGPIN_VERSION);
    if (t.failed) {
        text_cleanup(&t);
        return NULL;
    }
    *len = t.len;
    return t.buf; /* ownership passes to the caller */
}

static enum MHD_Result on_metrics(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    metrics_t *m = cls;
    size_t len = 0;
    char *body = NULL;
    unsigned status = MHD_HTTP_NOT_FOUND;
    if (strcmp(url, "/metrics") == 0 && strcmp(method, "GET") == 0 &&
        (body = metrics_render(m, &len)) != NULL)
        status = MHD_HTTP_OK;
    struct MHD_Response *r = body
        ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
        : MHD_create_response_from_buffer(14, (void *)"GET /metrics\n", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            body ? "text/plain; version=0.0.4" : "text/plain");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

tp_code metrics_serve(metrics_t *m, const char *listen, tp_error *err)
{
    struct sockaddr_storage addr;
    socklen_t addr_len;
    tp_code rc = netaddr_parse(listen, &addr, &addr_len, err);
    if (rc != TP_OK)
        return rc;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    m->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_metrics, m,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
    if (!m->daemon)
        return tp_error_set(err, TP_IO, "cannot serve metrics on %s (address in use?)", listen);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
    m->port = info ? info->port : 0;
    return TP_OK;
}

unsigned metrics_port(const metrics_t *m)
{
    return m->port;
}

void metrics_stop(metrics_t *m)
{
    if (m && m->daemon) {
        MHD_stop_daemon(m->daemon);
        m->daemon = NULL;
    }
}
