/* Prometheus text exposition on its own plain-HTTP listener (/metrics).
 *
 * Admission requests by operation, kind and decision; a latency histogram
 * whose buckets resolve well below the API server's 5 ms bucket; the
 * resolver's cache and registry counters; certificate expiry; build info. */
#ifndef TAGPIN_METRICS_H
#define TAGPIN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "../resolver/error.h"
#include "../resolver/resolver.h"

typedef struct metrics metrics_t;

/* New registry of counters; resolver (borrowed, may be NULL) is read at
 * scrape time. cert_file (may be NULL) gives tagpin_certificate_expiry. */
metrics_t *metrics_new(resolver_t *resolver, const char *cert_file);
void metrics_free(metrics_t *m);

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
