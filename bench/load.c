/* tagpin_load: a small HTTPS keep-alive load generator for the admission
 * benchmark. N threads each hold one TLS connection and POST the same body
 * again and again, for a fixed time and at most a fixed count, either as fast
 * as answers come back (closed loop) or at a fixed total rate. Latency is
 * measured per request; at a fixed rate it is measured from the moment the
 * request was due, not sent, so a stalled server cannot hide its queue
 * (coordinated omission). Prints one parsable line:
 *   RESULT requests=N errors=E reconnects=R seconds=S rps=X p50_us=.. p99_us=..
 *          p999_us=.. max_us=..
 * A response is an error unless it is 200 and contains --expect (if given). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 256
#define MAX_SAMPLES_PER_THREAD (1u << 21) /* 16 MiB of samples per thread */
#define MAX_BODY (4u << 20)
#define MAX_RESPONSE (1u << 20)

typedef struct options {
    const char *host, *path, *body_file, *ca_file, *expect;
    int port, connections;
    double duration_s, rate;
    long max_requests;
} options;

typedef struct worker {
    const options *o;
    SSL_CTX *ctx;
    const char *request; /* header + body, shared, read-only */
    size_t request_len;
    double rate;         /* this thread's share, 0 = closed loop */
    uint64_t start_ns, end_ns;
    long max_requests;
    uint64_t *samples; /* latency in ns, owned */
    size_t n_samples;
    long errors, reconnects;
    char first_error[160];
} worker;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
    struct timespec ts = {(time_t)(t / 1000000000u), (long)(t % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static void note_error(worker *w, const char *what)
{
    w->errors++;
    if (!w->first_error[0])
        snprintf(w->first_error, sizeof w->first_error, "%s", what);
}

/* Opens a TCP connection and completes the TLS handshake; NULL on failure. */
static SSL *connect_tls(worker *w)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)w->o->port)};
    if (inet_pton(AF_INET, w->o->host, &a.sin_addr) != 1)
        return NULL;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return NULL;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {10, 0}; /* a hung server ends the run, not the thread */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return NULL;
    }
    SSL *ssl = SSL_new(w->ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
        SSL_free(ssl);
        close(fd);
        return NULL;
    }
    return ssl;
}

static void close_tls(SSL *ssl)
{
    if (!ssl)
        return;
    int fd = SSL_get_fd(ssl);
    SSL_free(ssl);
    close(fd);
}

/* Finds Content-Length in a header block (case-insensitive); -1 if absent. */
static long content_length(const char *h, size_t len)
{
    static const char key[] = "\r\ncontent-length:";
    for (size_t i = 0; i + sizeof key - 1 <= len; i++) {
        if (strncasecmp(h + i, key, sizeof key - 1) != 0)
            continue;
        char *end;
        long v = strtol(h + i + sizeof key - 1, &end, 10);
        return end == h + i + sizeof key - 1 || v < 0 ? -1 : v;
    }
    return -1;
}

/* Sends the request and reads one whole response into buf (NUL-terminated).
 * Returns the HTTP status, or -1 when the connection failed. */
static int exchange(SSL *ssl, const worker *w, char *buf, size_t cap, char **body)
{
    if (SSL_write(ssl, w->request, (int)w->request_len) != (int)w->request_len)
        return -1;
    size_t got = 0;
    long need = -1;
    size_t head = 0;
    for (;;) {
        if (got >= cap - 1)
            return -1;
        int n = SSL_read(ssl, buf + got, (int)(cap - 1 - got));
        if (n <= 0)
            return -1;
        got += (size_t)n;
        buf[got] = '\0';
        if (!head) {
            char *e = strstr(buf, "\r\n\r\n");
            if (!e)
                continue;
            head = (size_t)(e - buf) + 4;
            need = content_length(buf, head);
            if (need < 0 || (size_t)need > cap - 1 - head)
                return -1; /* chunked or oversized: not what either server sends */
        }
        if (got >= head + (size_t)need)
            break;
    }
    *body = buf + head;
    int status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    return status;
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    char *buf = malloc(MAX_RESPONSE);
    SSL *ssl = NULL;
    uint64_t interval = w->rate > 0 ? (uint64_t)(1e9 / w->rate) : 0;
    uint64_t due = w->start_ns;
    long done = 0;
    while (buf && done < w->max_requests && w->n_samples < MAX_SAMPLES_PER_THREAD) {
        if (interval) {
            if (due >= w->end_ns)
                break;
            sleep_until(due);
        } else if (now_ns() >= w->end_ns) {
            break;
        }
        if (!ssl && !(ssl = connect_tls(w))) {
            note_error(w, "connect or TLS handshake failed");
            sleep_until(now_ns() + 10000000u); /* do not spin on a dead server */
            due += interval;
            continue;
        }
        uint64_t t0 = interval ? due : now_ns();
        char *body = NULL;
        int status = exchange(ssl, w, buf, MAX_RESPONSE, &body);
        uint64_t t1 = now_ns();
        due += interval;
        done++;
        if (status < 0) {
            close_tls(ssl);
            ssl = NULL;
            w->reconnects++;
            note_error(w, "connection closed or unreadable response");
            continue;
        }
        if (status != 200 || (w->o->expect && !strstr(body, w->o->expect))) {
            char what[160];
            snprintf(what, sizeof what, "status %d, body %.80s", status, body);
            note_error(w, what);
            continue;
        }
        w->samples[w->n_samples++] = t1 - t0;
    }
    close_tls(ssl);
    free(buf);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_us(const uint64_t *s, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return (double)s[i] / 1000.0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b = malloc(MAX_BODY + 1);
    if (!f || !b) {
        if (f)
            fclose(f);
        free(b);
        return NULL;
    }
    *len = fread(b, 1, MAX_BODY + 1, f);
    fclose(f);
    if (*len > MAX_BODY) {
        free(b);
        return NULL;
    }
    return b;
}

static int usage(void)
{
    fputs("usage: tagpin_load --port P --body FILE [--host 127.0.0.1] [--path /mutate]\n"
          "       [--ca FILE] [--connections N] [--duration S] [--rate R] [--max N]\n"
          "       [--expect SUBSTRING]\n",
          stderr);
    return 2;
}

static int parse_options(int argc, char **argv, options *o)
{
    *o = (options){.host = "127.0.0.1", .path = "/mutate", .connections = 4,
                   .duration_s = 5, .max_requests = 100000000};
    for (int i = 1; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return -1;
        char *end = NULL;
        if (strcmp(k, "--host") == 0) o->host = v;
        else if (strcmp(k, "--path") == 0) o->path = v;
        else if (strcmp(k, "--body") == 0) o->body_file = v;
        else if (strcmp(k, "--ca") == 0) o->ca_file = v;
        else if (strcmp(k, "--expect") == 0) o->expect = v;
        else if (strcmp(k, "--port") == 0) o->port = (int)strtol(v, &end, 10);
        else if (strcmp(k, "--connections") == 0) o->connections = (int)strtol(v, &end, 10);
        else if (strcmp(k, "--duration") == 0) o->duration_s = strtod(v, &end);
        else if (strcmp(k, "--rate") == 0) o->rate = strtod(v, &end);
        else if (strcmp(k, "--max") == 0) o->max_requests = strtol(v, &end, 10);
        else return -1;
        if (end && *end)
            return -1;
    }
    if (!o->body_file || o->port <= 0 || o->port > 65535 || o->connections < 1 ||
        o->connections > MAX_CONNECTIONS || o->duration_s <= 0 || o->duration_s > 3600 ||
        o->rate < 0 || o->max_requests < 1)
        return -1;
    return 0;
}

static char *build_request(const options *o, size_t *len)
{
    size_t body_len;
    char *body = read_file(o->body_file, &body_len);
    if (!body)
        return NULL;
    size_t cap = body_len + 1024;
    char *r = malloc(cap);
    int h = r ? snprintf(r, cap,
                         "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                         "Accept: application/json\r\nContent-Length: %zu\r\n\r\n",
                         o->path, o->host, o->port, body_len)
              : -1;
    if (h < 0 || (size_t)h + body_len >= cap) {
        free(body);
        free(r);
        return NULL;
    }
    memcpy(r + h, body, body_len);
    *len = (size_t)h + body_len;
    free(body);
    return r;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_options(argc, argv, &o) != 0)
        return usage();
    size_t req_len;
    char *req = build_request(&o, &req_len);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!req || !ctx) {
        fprintf(stderr, "tagpin_load: cannot read %s or make a TLS context\n", o.body_file);
        return 2;
    }
    if (o.ca_file) {
        if (SSL_CTX_load_verify_locations(ctx, o.ca_file, NULL) != 1) {
            fprintf(stderr, "tagpin_load: cannot load CA %s\n", o.ca_file);
            return 2;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    }
    worker *w = calloc((size_t)o.connections, sizeof *w);
    pthread_t *t = calloc((size_t)o.connections, sizeof *t);
    if (!w || !t)
        return 2;
    uint64_t start = now_ns() + 20000000u; /* all threads start together */
    uint64_t end = start + (uint64_t)(o.duration_s * 1e9);
    for (int i = 0; i < o.connections; i++) {
        long share = o.max_requests / o.connections + (i < o.max_requests % o.connections);
        w[i] = (worker){.o = &o, .ctx = ctx, .request = req, .request_len = req_len,
                        .rate = o.rate / o.connections, .end_ns = end,
                        .max_requests = share > 0 ? share : 0,
                        .samples = malloc(MAX_SAMPLES_PER_THREAD * sizeof(uint64_t))};
        /* stagger fixed-rate senders so the load is even, not in bursts */
        w[i].start_ns = start + (o.rate > 0 ? (uint64_t)(1e9 / o.rate) * (uint64_t)i : 0);
        if (!w[i].samples || pthread_create(&t[i], NULL, run_worker, &w[i]) != 0)
            return 2;
    }
    sleep_until(start);
    size_t n = 0;
    long errors = 0, reconnects = 0;
    const char *first_error = "";
    for (int i = 0; i < o.connections; i++) {
        pthread_join(t[i], NULL);
        n += w[i].n_samples;
        errors += w[i].errors;
        reconnects += w[i].reconnects;
        if (!first_error[0])
            first_error = w[i].first_error;
    }
    double secs = (double)(now_ns() - start) / 1e9;
    uint64_t *all = malloc((n ? n : 1) * sizeof *all);
    if (!all)
        return 2;
    size_t k = 0;
    for (int i = 0; i < o.connections; i++) {
        memcpy(all + k, w[i].samples, w[i].n_samples * sizeof *all);
        k += w[i].n_samples;
        free(w[i].samples);
    }
    qsort(all, n, sizeof *all, cmp_u64);
    printf("RESULT requests=%zu errors=%ld reconnects=%ld seconds=%.3f rps=%.0f p50_us=%.1f "
           "p99_us=%.1f p999_us=%.1f max_us=%.1f\n",
           n, errors, reconnects, secs, (double)n / secs, pct_us(all, n, 0.50),
           pct_us(all, n, 0.99), pct_us(all, n, 0.999), n ? (double)all[n - 1] / 1000.0 : 0.0);
    if (first_error[0])
        fprintf(stderr, "tagpin_load: first error: %s\n", first_error);
    free(all);
    free(w);
    free(t);
    free(req);
    SSL_CTX_free(ctx);
    return n > 0 ? 0 : 1;
}
