/* Per-registry request counters and latency for metrics, with a cap on how
 * many registries get their own label (the rest count as "other"), so a
 * cluster pulling from many hosts cannot grow the exposition without bound.
 * Recorded once per HTTP exchange with a registry: the slow path, so one
 * small mutex is fine. Thread-safe. */
#ifndef TAGPIN_REGSTATS_H
#define TAGPIN_REGSTATS_H

#include <stddef.h>

#include "resolver.h"

typedef struct regstats regstats;

/* New table or NULL when out of memory. */
regstats *regstats_new(void);
void regstats_free(regstats *rs);

/* Counts one exchange with registry (the domain as written in references,
 * "docker.io" for Docker Hub): status is the HTTP status, 0 when no answer
 * arrived (timeout, TLS, network). rs may be NULL. */
void regstats_record(regstats *rs, const char *registry, long status, double seconds);

/* Copies up to cap registries into out; returns how many. */
size_t regstats_copy(regstats *rs, resolver_registry_stats *out, size_t cap);

#endif
