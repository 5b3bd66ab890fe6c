/* Bearer tokens: fetched from a challenge's realm, anonymously or with
 * Basic credentials, and cached per registry + scope until they expire.
 * The cache also remembers Basic authorisation per registry, so the next
 * request carries it without a 401 round trip. Thread-safe. */
#ifndef TAGPIN_TOKEN_H
#define TAGPIN_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "error.h"
#include "http.h"

#define TOKEN_MAX (16 * 1024)       /* longest token accepted */
#define TOKEN_VALUE_MAX (TOKEN_MAX + 16) /* "Bearer " + token */
#define TOKEN_BODY_MAX (64 * 1024)
#define TOKEN_SCOPE_ANY "*"         /* key for registry-wide Basic values */

typedef struct token_cache token_cache;

/* New cache for at most max_entries values (0: 1024), or NULL. */
token_cache *token_cache_new(size_t max_entries);
void token_cache_free(token_cache *tc);

/* Copies the cached Authorization value for registry+scope (falling back to
 * the registry-wide TOKEN_SCOPE_ANY one) into out when still valid at
 * now_ms. False when none. */
bool token_cache_get(token_cache *tc, const char *registry, const char *scope,
                     int64_t now_ms, char *out, size_t cap);

/* Stores value (copied) until expires_ms; the oldest entry makes room. */
void token_cache_put(token_cache *tc, const char *registry, const char *scope,
                     const char *value, int64_t expires_ms);

/* Drops registry+scope, e.g. after the registry refused the value. */
void token_cache_drop(token_cache *tc, const char *registry, const char *scope);

/* Asks ch's realm for a token for scope (ch->scope when scope is NULL),
 * with Basic user/pass when user is non-NULL. On TP_OK out holds
 * "Bearer <token>" and *ttl_ms its lifetime (expires_in, default 60 s).
 * Errors name the realm host and status, never the credentials. */
tp_code token_fetch(http_client *http, const auth_challenge *ch, const char *scope,
                    const char *user, const char *pass, int64_t deadline_ms, char *out,
                    size_t cap, int64_t *ttl_ms, tp_error *err);

#endif
