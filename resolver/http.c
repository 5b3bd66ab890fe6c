#include "http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolver.h"

#define CA_FILE_MAX (8 * 1024 * 1024)

struct http_client {
    long connect_timeout_ms;
    bool guard_addresses;
    char *ca_blob; /* system bundle + extra CA, NULL: curl's default */
    size_t ca_blob_len;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Appends the file at path to *buf; files are capped so a wrong path
 * (a device, a huge file) cannot exhaust memory. */
static tp_code file_append(const char *path, char **buf, size_t *len, tp_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tp_error_set(err, TP_CONFIG, "cannot open CA file %s", path);
    tp_code rc = TP_OK;
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (*len + n > CA_FILE_MAX) {
            rc = tp_error_set(err, TP_TOO_LARGE, "CA bundle %s is over %d bytes", path,
                              CA_FILE_MAX);
            break;
        }
        char *grown = realloc(*buf, *len + n + 2);
        if (!grown) {
            rc = tp_error_set(err, TP_NOMEM, "cannot read CA file %s", path);
            break;
        }
        *buf = grown;
        memcpy(*buf + *len, chunk, n);
        *len += n;
    }
    if (rc == TP_OK && ferror(f))
        rc = tp_error_set(err, TP_CONFIG, "cannot read CA file %s", path);
    fclose(f);
    if (rc == TP_OK && *buf) {
        (*buf)[(*len)++] = '\n'; /* a bundle without a final newline must not glue */
        (*buf)[*len] = '\0';
    }
    return rc;
}

/* CURLOPT_CAINFO replaces the default bundle, so an extra CA is combined with
 * the system bundle in memory and handed over as a blob. */
static tp_code ca_blob_build(http_client *c, const char *extra, tp_error *err)
{
    const char *system_ca = NULL;
    CURL *h = curl_easy_init();
    if (h)
        curl_easy_getinfo(h, CURLINFO_CAINFO, &system_ca);
    if (!system_ca)
        system_ca = "/etc/ssl/certs/ca-certificates.crt";
    tp_error ignored;
    tp_code rc = TP_OK;
    if (access(system_ca, R_OK) == 0)
        rc = file_append(system_ca, &c->ca_blob, &c->ca_blob_len, &ignored);
    if (h)
        curl_easy_cleanup(h);
    if (rc == TP_NOMEM)
        return tp_error_set(err, rc, "cannot read the system CA bundle");
    return file_append(extra, &c->ca_blob, &c->ca_blob_len, err);
}

http_client *http_client_new(const char *extra_ca_file, long connect_timeout_ms,
                             bool guard_addresses, tp_error *err)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        tp_error_set(err, TP_NOMEM, "curl_global_init: %s", curl_easy_strerror(global_rc));
        return NULL;
    }
    http_client *c = calloc(1, sizeof *c);
    if (!c) {
        tp_error_set(err, TP_NOMEM, NULL);
        return NULL;
    }
    c->connect_timeout_ms = connect_timeout_ms > 0 ? connect_timeout_ms : 2000;
    c->guard_addresses = guard_addresses;
    if (extra_ca_file && ca_blob_build(c, extra_ca_file, err) != TP_OK) {
        http_client_free(c);
        return NULL;
    }
    return c;
}

void http_client_free(http_client *c)
{
    if (!c)
        return;
    free(c->ca_blob);
    free(c);
}

static bool v4_forbidden(const unsigned char *a)
{
    return a[0] == 169 && a[1] == 254; /* link-local, includes 169.254.169.254 */
}

static bool v6_forbidden(const unsigned char *a)
{
    static const unsigned char ec2[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0,
                                          0,    0,    0,    0,    0, 0, 0x02, 0x54};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) /* fe80::/10 */
        return true;
    if (memcmp(a, ec2, 16) == 0)
        return true;
    return memcmp(a, mapped, 12) == 0 && v4_forbidden(a + 12);
}

bool http_host_is_forbidden(const char *host)
{
    if (!host)
        return true;
    char h[256];
    size_t n = strlen(host);
    if (n >= sizeof h)
        return false;
    memcpy(h, host, n + 1);
    if (n && h[n - 1] == '.')
        h[--n] = '\0'; /* "metadata.google.internal." is the same name */
    if (strcasecmp(h, "metadata.google.internal") == 0 || strcasecmp(h, "metadata") == 0)
        return true;
    if (h[0] == '[' && n > 2 && h[n - 1] == ']') {
        memmove(h, h + 1, n - 2);
        h[n - 2] = '\0';
    }
    unsigned char a[16];
    if (inet_pton(AF_INET, h, a) == 1)
        return v4_forbidden(a);
    if (inet_pton(AF_INET6, h, a) == 1)
        return v6_forbidden(a);
    return false;
}

typedef struct exchange {
    http_response *res;
    size_t max_body;
    bool too_large, headers_too_large, refused;
} exchange;

/* Called with every address curl is about to connect to, after DNS: the
 * only place the guard sees what a name really resolved to. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose,
                                 struct curl_sockaddr *sa)
{
    exchange *x = arg;
    const struct sockaddr *addr = &sa->addr;
    bool bad = false;
    if (sa->family == AF_INET)
        bad = v4_forbidden((const unsigned char *)&((const struct sockaddr_in *)addr)->sin_addr);
    else if (sa->family == AF_INET6)
        bad = v6_forbidden(((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr);
    if (bad) {
        x->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(sa->family, sa->socktype, sa->protocol);
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    exchange *x = arg;
    size_t len = size * n;
    http_response *r = x->res;
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
        r->headers_len = 0; /* a redirect or 1xx: keep only the final block */
    if (r->headers_len + len > HTTP_HEADERS_MAX) {
        x->headers_too_large = true;
        return 0;
    }
    if (!r->headers) {
        r->headers = malloc(HTTP_HEADERS_MAX + 1);
        if (!r->headers)
            return 0;
    }
    memcpy(r->headers + r->headers_len, data, len);
    r->headers_len += len;
    r->headers[r->headers_len] = '\0';
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    exchange *x = arg;
    size_t len = size * n;
    http_response *r = x->res;
    if (len > x->max_body || r->body_len > x->max_body - len) {
        x->too_large = true;
        return 0;
    }
    char *grown = realloc(r->body, r->body_len + len + 1);
    if (!grown)
        return 0;
    r->body = grown;
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return len;
}

/* host[:port] of url for messages and the bare host for checks; "" when
 * the URL does not parse. */
static void url_host(const char *url, char *out, size_t cap, char *bare, size_t bcap)
{
    out[0] = bare[0] = '\0';
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        snprintf(bare, bcap, "%s", host);
        if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
            snprintf(out, cap, "%s:%s", host, port);
        else
            snprintf(out, cap, "%s", host);
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

static tp_code setup(CURL *h, http_client *c, const http_request *req, exchange *x,
                     struct curl_slist **hdrs, long remaining)
{
    for (size_t i = 0; i < req->n_headers; i++) {
        struct curl_slist *next = curl_slist_append(*hdrs, req->headers[i]);
        if (!next)
            return TP_NOMEM;
        *hdrs = next;
    }
    long connect = c->connect_timeout_ms < remaining ? c->connect_timeout_ms : remaining;
    bool head = strcmp(req->method, "HEAD") == 0;
    CURLcode rc = CURLE_OK;
#define SET(opt, val) if (rc == CURLE_OK) rc = curl_easy_setopt(h, opt, val)
    SET(CURLOPT_URL, req->url);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_NOBODY, head ? 1L : 0L);
    SET(CURLOPT_HTTPHEADER, *hdrs);
    SET(CURLOPT_TIMEOUT_MS, remaining);
    SET(CURLOPT_CONNECTTIMEOUT_MS, connect);
    SET(CURLOPT_FOLLOWLOCATION, 1L);
    SET(CURLOPT_MAXREDIRS, 3L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_body);
    SET(CURLOPT_USERAGENT, "tagpin/" TAGPIN_VERSION);
    if (c->guard_addresses) {
        SET(CURLOPT_OPENSOCKETFUNCTION, open_socket);
        SET(CURLOPT_OPENSOCKETDATA, x);
    }
    if (c->ca_blob) {
        struct curl_blob blob = {c->ca_blob, c->ca_blob_len, CURL_BLOB_NOCOPY};
        SET(CURLOPT_CAINFO_BLOB, &blob);
    }
#undef SET
    return rc == CURLE_OK ? TP_OK : TP_NOMEM;
}

static tp_code translate(CURLcode rc, const exchange *x, const char *host,
                         const http_request *req, tp_error *err)
{
    if (x->refused)
        return tp_error_set(err, TP_FORBIDDEN,
                            "%s resolves to a link-local or metadata address; refused", host);
    if (x->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return tp_error_set(err, TP_TOO_LARGE, "response from %s is over %zu bytes", host,
                            req->max_body);
    if (x->headers_too_large)
        return tp_error_set(err, TP_TOO_LARGE, "headers from %s are over %d bytes", host,
                            HTTP_HEADERS_MAX);
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return tp_error_set(err, TP_TIMEOUT, "%s did not answer before the deadline", host);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return tp_error_set(err, TP_TLS, "TLS with %s failed: %s; check --ca-file", host,
                            curl_easy_strerror(rc));
    case CURLE_OUT_OF_MEMORY:
    case CURLE_WRITE_ERROR:
        return tp_error_set(err, TP_NOMEM, "out of memory talking to %s", host);
    default:
        return tp_error_set(err, TP_NETWORK, "cannot reach %s: %s", host,
                            curl_easy_strerror(rc));
    }
}

tp_code http_perform(http_client *c, const http_request *req, http_response *out,
                     tp_error *err)
{
    memset(out, 0, sizeof *out);
    char host[300], bare[300];
    url_host(req->url, host, sizeof host, bare, sizeof bare);
    if (c->guard_addresses && http_host_is_forbidden(bare))
        return tp_error_set(err, TP_FORBIDDEN, "%s is a metadata or link-local address; refused",
                            host[0] ? host : "(unparsable URL)");
    int64_t remaining = req->deadline_ms - tp_now_ms();
    if (remaining <= 0)
        return tp_error_set(err, TP_TIMEOUT, "deadline passed before contacting %s", host);
    CURL *h = curl_easy_init();
    if (!h)
        return tp_error_set(err, TP_NOMEM, "curl_easy_init failed");
    struct curl_slist *hdrs = NULL;
    exchange x = {.res = out, .max_body = req->max_body};
    tp_code code = setup(h, c, req, &x, &hdrs, (long)remaining);
    if (code != TP_OK) {
        tp_error_set(err, code, "cannot set up a request to %s", host);
        goto out;
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        code = translate(rc, &x, host, req, err);
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
out:
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (code != TP_OK)
        http_response_cleanup(out);
    return code;
}

void http_response_cleanup(http_response *res)
{
    if (!res)
        return;
    free(res->body);
    free(res->headers);
    memset(res, 0, sizeof *res);
}

bool http_response_header(const http_response *res, const char *name, char *out,
                          size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = res->headers, *end = res->headers + res->headers_len;
    if (!p || cap == 0)
        return false;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        if ((size_t)(line_end - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1, *ve = line_end;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            size_t vlen = (size_t)(ve - v);
            if (vlen >= cap)
                return false;
            memcpy(out, v, vlen);
            out[vlen] = '\0';
            return true;
        }
        p = line_end + 1;
    }
    return false;
}
