/* Prometheus text exposition on its own plain-HTTP listener (/metrics).
 *
 * Admission requests by operation, kind and decision; a latency histogram
 * whose buckets resolve well below the API server's 5 ms bucket; the
 * resolver's cache, resolution and per-registry counters; policy and
 * certificate reloads; certificate expiry; build info. docs/operate.md
 * lists every series. */
#ifndef TAGPIN_METRICS_H
#define TAGPIN_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../resolver/error.h"
#include "../resolver/resolver.h"

typedef struct metrics metrics_t;

/* New registry of counters; resolver (borrowed, may be NULL) is read at
 * scrape time. cert_file (may be NULL) gives tagpin_certificate_expiry. */
metrics_t *metrics_new(resolver_t *resolver, const char *cert_file);
void metrics_free(metrics_t *m);

/* What a reload counter is about. */
typedef enum metrics_config {
    METRICS_CONFIG_POLICY,
    METRICS_CONFIG_CERTIFICATE,
} metrics_config;

/* Counts one reload that changed something (ok) or was refused; an ok one
 * also sets the last-success timestamp. m may be NULL. Thread-safe. */
void metrics_reload(metrics_t *m, metrics_config which, bool ok);

/* The serving certificate's notAfter (unix seconds). m may be NULL. */
void metrics_set_cert_expiry(metrics_t *m, double unix_seconds);

/* Requests being handled on the HTTPS listener: +1 when one starts, -1
 * when it completes. m may be NULL. Thread-safe, lock-free. */
void metrics_in_flight(metrics_t *m, int delta);

/* Counts one answered admission request; thread-safe. Strings are copied. */
void metrics_observe(metrics_t *m, const char *operation, const char *kind,
                     const char *decision, double seconds);

/* Writes the exposition into a new string (caller frees), or NULL. */
char *metrics_render(metrics_t *m, size_t *len);

/* Serves GET /metrics on listen ("ADDR:PORT") until metrics_stop. */
tp_code metrics_serve(metrics_t *m, const char *listen, tp_error *err);
unsigned metrics_port(const metrics_t *m);
void metrics_stop(metrics_t *m);

#endif
