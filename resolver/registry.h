/* The OCI distribution client: one tag to one digest, through HEAD with all
 * four manifest types, GET + hash when needed, the Bearer/Basic challenge
 * flow, retries for 429/502/503/504 within the deadline, and a cache of
 * index bodies by digest (immutable). No tag cache here: see cache.h. */
#ifndef TAGPIN_REGISTRY_H
#define TAGPIN_REGISTRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "error.h"
#include "http.h"
#include "ref.h"
#include "resolver.h"

typedef struct registry_client registry_client;

typedef struct regstats regstats;

typedef struct registry_counters {
    atomic_uint_fast64_t requests, token_fetches, token_fetch_errors;
    regstats *by_registry; /* borrowed; NULL: not counted per registry */
} registry_counters;

/* New client or NULL with err. http, creds (may be NULL) and counters are
 * borrowed and must outlive the client; insecure[] is copied. */
registry_client *registry_client_new(http_client *http, const auth_creds *creds,
                                     const char *const *insecure, size_t n_insecure,
                                     size_t max_manifest_bytes, registry_counters *counters,
                                     tp_error *err);
void registry_client_free(registry_client *rc);

/* Asks the registry which digest ref's tag (ref->tag, "latest" if none)
 * names, before deadline_ms. Fills out's digest, media type, index
 * platforms and request count; source is RESOLUTION_REGISTRY. On failure
 * out->err names registry, repository, status and a hint. Returns
 * out->err.code. */
tp_code registry_resolve(registry_client *rc, const ref_t *ref, int64_t deadline_ms,
                         resolution *out);

/* "registry-1.docker.io" for "docker.io", else domain itself (borrowed). */
const char *registry_api_host(const char *domain);

#endif
