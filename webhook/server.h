/* The HTTPS admission server (libmicrohttpd, GnuTLS backend).
 *
 * POST /mutate and /validate run the admission pipeline; GET /healthz and
 * /readyz answer probes. One thread per connection, so a request waiting on
 * a slow registry never holds up another connection's cached answers; the
 * API server keeps several keep-alive connections open for concurrency.
 * The certificate is served per handshake from webhook/tls_creds.h, so a
 * rotation never touches open connections. */
#ifndef TAGPIN_SERVER_H
#define TAGPIN_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../resolver/error.h"
#include "app.h"
#include "filestamp.h"

typedef struct server_config {
    const char *listen;   /* "127.0.0.1:8443", "[::]:8443", ":8443"; port 0 picks one */
    const char *tls_cert; /* PEM certificate chain file */
    const char *tls_key;  /* PEM private key file */
    size_t max_body_bytes;
} server_config;

typedef struct server server_t;

/* Starts serving with app (borrowed, must outlive the server). Returns NULL
 * with err on a bad address, unreadable or invalid certificate, or a port
 * in use. */
server_t *server_start(const server_config *cfg, app_t *app, tp_error *err);

/* The bound port (useful with port 0). */
unsigned server_port(const server_t *s);

/* Re-reads the certificate and key when their files changed (always with
 * force); logs and counts the outcome, updates the expiry metric. A bad
 * pair is refused and the current one stays. Thread-safe. */
reload_result server_reload_tls(server_t *s, bool force);

/* From now on every answer carries Connection: close. */
void server_begin_drain(server_t *s);

/* Stops accepting new connections (connects are refused), then waits up to
 * grace_ms for in-flight requests to finish. Idle keep-alive connections are
 * not waited for. Returns how many requests are still running. */
unsigned server_drain(server_t *s, long grace_ms);

/* Closes every connection, waits for request handlers still running (each
 * is bounded by its own deadline), frees. NULL is fine. */
void server_stop(server_t *s);

/* Deadline for a request that started at start_ms with the API server's
 * `?timeout=` value (e.g. "10s"; NULL when absent), capped by cap_ms: we
 * answer with a margin before the API server gives up. */
int64_t server_deadline(int64_t start_ms, const char *timeout, long cap_ms);

#endif
