/* Registry authentication pieces that hold no network state:
 * the WWW-Authenticate challenge parser and docker config.json credentials
 * (the format kubelet reads for imagePullSecrets). Tokens live in token.h. */
#ifndef TAGPIN_AUTH_H
#define TAGPIN_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define AUTH_REALM_MAX 1024
#define AUTH_PARAM_MAX 512
#define AUTH_HEADER_MAX 4096 /* longest WWW-Authenticate we parse */
#define AUTH_USER_MAX 256
#define AUTH_PASS_MAX 4096   /* cloud access tokens used as passwords are long */
#define AUTH_CONFIG_MAX (1024 * 1024)

typedef enum auth_scheme { AUTH_NONE, AUTH_BASIC, AUTH_BEARER } auth_scheme;

/* Caller-owned; NUL-terminated copies with quotes and escapes removed. */
typedef struct auth_challenge {
    auth_scheme scheme;
    char realm[AUTH_REALM_MAX];
    char service[AUTH_PARAM_MAX];
    char scope[AUTH_PARAM_MAX];
} auth_challenge;

/* Parses a WWW-Authenticate value s[0..len) (no NUL needed). Several
 * challenges may be listed; Bearer is preferred over Basic. A Bearer
 * challenge needs an http(s) realm. TP_AUTH with a reason when malformed or
 * when no Bearer/Basic challenge is present. */
tp_code auth_challenge_parse(const char *s, size_t len, auth_challenge *out,
                             tp_error *err);

typedef struct auth_creds auth_creds;

/* Parses a docker config.json (json[0..len), at most AUTH_CONFIG_MAX):
 * {"auths": {"<key>": {"auth": base64("user:pass")} | {"username", "password"}}}
 * or the legacy .dockercfg map without "auths". Keys are normalised as
 * kubelet does: scheme and path dropped ("https://host/v1/" -> "host"),
 * lower case, Docker Hub aliases folded to "docker.io", "*.domain" globs
 * kept. Returns a new object (caller frees) or NULL with err, which never
 * quotes a secret. */
auth_creds *auth_creds_parse(const char *json, size_t len, tp_error *err);
auth_creds *auth_creds_load(const char *path, tp_error *err);
void auth_creds_free(auth_creds *c);
size_t auth_creds_count(const auth_creds *c);

/* Finds credentials for a registry domain ("ghcr.io", "localhost:5000",
 * "docker.io"): exact key first, then a matching "*.suffix" glob (one
 * label, same port). Copies into caller buffers; false when none. */
bool auth_creds_lookup(const auth_creds *c, const char *domain, char user[AUTH_USER_MAX],
                       char pass[AUTH_PASS_MAX]);

/* "Basic base64(user:pass)" into out[0..cap); false when it does not fit. */
bool auth_basic_value(const char *user, const char *pass, char *out, size_t cap);

/* Folds Docker Hub aliases and lower-cases a host[:port] key in place. */
void auth_normalize_host(char *host);

#endif
