/* One HTTP exchange with libcurl: a fresh easy handle per request, timeouts
 * derived from an absolute deadline, capped headers and body, an extra CA
 * bundle on top of the system store, and a guard that refuses link-local
 * and cloud metadata addresses after DNS resolution (SSRF).
 * CURLcode stops here; callers see tp_code. */
#ifndef TAGPIN_HTTP_H
#define TAGPIN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define HTTP_HEADERS_MAX (64 * 1024)

typedef struct http_client http_client;

/* New client or NULL with err. extra_ca_file (may be NULL) is appended to
 * the system CA bundle, read once here. guard_addresses: refuse link-local
 * and metadata addresses (turn off only in tests). Calls curl_global_init
 * once per process. */
http_client *http_client_new(const char *extra_ca_file, long connect_timeout_ms,
                             bool guard_addresses, tp_error *err);
void http_client_free(http_client *c);

typedef struct http_request {
    const char *method;               /* "GET" or "HEAD" */
    const char *url;                  /* borrowed */
    const char *const *headers;       /* "Name: value" lines, borrowed */
    size_t n_headers;
    size_t max_body;                  /* bytes; more is TP_TOO_LARGE */
    int64_t deadline_ms;              /* absolute, tp_now_ms() clock */
} http_request;

typedef struct http_response {
    long status;
    char *body;      /* owned, NUL-terminated, body_len bytes before the NUL */
    size_t body_len;
    char *headers;   /* owned raw header block of the final response */
    size_t headers_len;
} http_response;

/* Performs req. TP_OK means an HTTP status arrived (any status); transport
 * failures are TP_TIMEOUT, TP_TLS, TP_NETWORK, TP_FORBIDDEN (guarded
 * address), TP_TOO_LARGE or TP_NOMEM with err->msg naming the host.
 * out is always initialised; release it with http_response_cleanup. */
tp_code http_perform(http_client *c, const http_request *req, http_response *out,
                     tp_error *err);
void http_response_cleanup(http_response *res);

/* Copies the value of the first header called name (any case: HTTP/2
 * sends lower case) into out[0..cap), trimmed. False when absent or when
 * it does not fit. */
bool http_response_header(const http_response *res, const char *name, char *out,
                          size_t cap);

/* True when host (no port) must never be contacted: metadata names and
 * literal link-local / metadata addresses. */
bool http_host_is_forbidden(const char *host);

#endif
