#include "auth.h"
#include "fileio.h"

#include <ctype.h>
#include <fnmatch.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- WWW-Authenticate (RFC 7235) ---- */

typedef struct cursor {
    const char *p, *end;
} cursor;

static bool is_tchar(char c)
{
    return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~/", c));
}

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static size_t take_token(cursor *c, const char **start)
{
    *start = c->p;
    while (c->p < c->end && is_tchar(*c->p))
        c->p++;
    return (size_t)(c->p - *start);
}

/* Reads a token or quoted-string value into out; false when malformed or
 * when it does not fit. */
static bool take_value(cursor *c, char *out, size_t cap)
{
    size_t n = 0;
    if (c->p < c->end && *c->p == '"') {
        c->p++;
        while (c->p < c->end && *c->p != '"') {
            if (*c->p == '\\' && c->p + 1 < c->end)
                c->p++;
            if (n + 1 >= cap)
                return false;
            out[n++] = *c->p++;
        }
        if (c->p >= c->end)
            return false; /* unterminated quote */
        c->p++;
    } else {
        const char *s;
        size_t len = take_token(c, &s);
        while (c->p < c->end && *c->p == '=') /* token68 padding */
            c->p++, len++;
        if (len == 0 || len >= cap)
            return false;
        memcpy(out, s, len);
        n = len;
    }
    out[n] = '\0';
    return true;
}

static void param_store(auth_challenge *ch, const char *name, size_t nlen, const char *v)
{
    char *dst = NULL;
    size_t cap = 0;
    if (nlen == 5 && strncasecmp(name, "realm", 5) == 0)
        dst = ch->realm, cap = sizeof ch->realm;
    else if (nlen == 7 && strncasecmp(name, "service", 7) == 0)
        dst = ch->service, cap = sizeof ch->service;
    else if (nlen == 5 && strncasecmp(name, "scope", 5) == 0)
        dst = ch->scope, cap = sizeof ch->scope;
    if (dst)
        snprintf(dst, cap, "%s", v);
}

static auth_scheme scheme_of(const char *s, size_t n)
{
    if (n == 6 && strncasecmp(s, "bearer", 6) == 0)
        return AUTH_BEARER;
    if (n == 5 && strncasecmp(s, "basic", 5) == 0)
        return AUTH_BASIC;
    return AUTH_NONE;
}

tp_code auth_challenge_parse(const char *s, size_t len, auth_challenge *out, tp_error *err)
{
    memset(out, 0, sizeof *out);
    if (len > AUTH_HEADER_MAX)
        return tp_error_set(err, TP_AUTH, "WWW-Authenticate header is over %d bytes",
                            AUTH_HEADER_MAX);
    cursor c = {s, s + len};
    auth_challenge cur = {0}, bearer = {0}, basic = {0};
    bool have_scheme = false;
    char value[AUTH_REALM_MAX];
    for (;;) {
        skip_ws(&c);
        while (c.p < c.end && (*c.p == ',' || *c.p == ' ' || *c.p == '\t'))
            c.p++;
        if (c.p >= c.end)
            break;
        const char *tok;
        size_t tlen = take_token(&c, &tok);
        if (tlen == 0)
            return tp_error_set(err, TP_AUTH, "malformed WWW-Authenticate header near \"%.*s\"",
                                (int)(c.end - c.p < 20 ? c.end - c.p : 20), c.p);
        skip_ws(&c);
        if (c.p < c.end && *c.p == '=' && have_scheme) {
            c.p++;
            skip_ws(&c);
            if (!take_value(&c, value, sizeof value))
                return tp_error_set(err, TP_AUTH,
                                    "malformed WWW-Authenticate header: bad value for %.*s",
                                    (int)(tlen > 32 ? 32 : tlen), tok);
            param_store(&cur, tok, tlen, value);
            skip_ws(&c);
            if (c.p < c.end && *c.p != ',') /* e.g. a quote closed too early */
                return tp_error_set(err, TP_AUTH,
                                    "malformed WWW-Authenticate header: junk after %.*s",
                                    (int)(tlen > 32 ? 32 : tlen), tok);
            continue;
        }
        /* A token not followed by '=' starts the next challenge. */
        if (have_scheme && cur.scheme == AUTH_BEARER && !bearer.scheme)
            bearer = cur;
        if (have_scheme && cur.scheme == AUTH_BASIC && !basic.scheme)
            basic = cur;
        memset(&cur, 0, sizeof cur);
        cur.scheme = scheme_of(tok, tlen);
        have_scheme = true;
    }
    if (have_scheme && cur.scheme == AUTH_BEARER && !bearer.scheme)
        bearer = cur;
    if (have_scheme && cur.scheme == AUTH_BASIC && !basic.scheme)
        basic = cur;
    if (bearer.scheme) {
        if (strncmp(bearer.realm, "https://", 8) != 0 && strncmp(bearer.realm, "http://", 7) != 0)
            return tp_error_set(err, TP_AUTH,
                                "malformed WWW-Authenticate header: Bearer challenge "
                                "without an http(s) realm");
        *out = bearer;
        return TP_OK;
    }
    if (basic.scheme) {
        *out = basic;
        return TP_OK;
    }
    return tp_error_set(err, TP_AUTH,
                        "WWW-Authenticate header offers neither Bearer nor Basic auth");
}

/* ---- base64 ---- */

static int b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes standard or URL-safe base64, padding optional; false when
 * malformed or over cap - 1 bytes. out is NUL-terminated. */
static bool b64_decode(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (const char *p = in; *p && *p != '='; p++) {
        int v = b64_val((unsigned char)*p);
        if (v < 0)
            return false;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= cap)
                return false;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[n] = '\0';
    return true;
}

bool auth_basic_value(const char *user, const char *pass, char *out, size_t cap)
{
    size_t ul = strlen(user), pl = strlen(pass);
    if (ul >= AUTH_USER_MAX || pl >= AUTH_PASS_MAX)
        return false;
    unsigned char raw[AUTH_USER_MAX + AUTH_PASS_MAX + 1];
    memcpy(raw, user, ul);
    raw[ul] = ':';
    memcpy(raw + ul + 1, pass, pl);
    size_t enc_len = 4 * ((ul + 1 + pl + 2) / 3);
    if (6 + enc_len + 1 > cap)
        return false;
    memcpy(out, "Basic ", 6);
    EVP_EncodeBlock((unsigned char *)out + 6, raw, (int)(ul + 1 + pl));
    OPENSSL_cleanse(raw, sizeof raw);
    return true;
}

/* ---- docker config.json ---- */

typedef struct cred_entry {
    char host[256]; /* normalised key: "ghcr.io", "localhost:5000", "*.corp" */
    char user[AUTH_USER_MAX];
    char pass[AUTH_PASS_MAX];
} cred_entry;

struct auth_creds {
    size_t n;
    cred_entry *e;
};

void auth_normalize_host(char *host)
{
    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (strcmp(host, "index.docker.io") == 0 || strcmp(host, "registry-1.docker.io") == 0 ||
        strcmp(host, "registry.hub.docker.com") == 0)
        snprintf(host, 256, "docker.io");
}

/* "https://Host:443/v1/" -> "host:443", as kubelet's parseSchemelessURL. */
static bool key_normalize(const char *key, char out[256])
{
    const char *s = strstr(key, "://");
    s = s ? s + 3 : key;
    size_t n = strcspn(s, "/");
    if (n == 0 || n >= 256)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    auth_normalize_host(out);
    return true;
}

static bool entry_fill(cred_entry *e, json_t *v)
{
    const char *auth = json_string_value(json_object_get(v, "auth"));
    const char *user = json_string_value(json_object_get(v, "username"));
    const char *pass = json_string_value(json_object_get(v, "password"));
    if (auth && *auth) {
        char raw[AUTH_USER_MAX + AUTH_PASS_MAX];
        if (!b64_decode(auth, raw, sizeof raw))
            return false;
        char *colon = strchr(raw, ':');
        bool ok = colon && (size_t)(colon - raw) < AUTH_USER_MAX &&
                  strlen(colon + 1) < AUTH_PASS_MAX;
        if (ok) {
            memcpy(e->user, raw, (size_t)(colon - raw));
            e->user[colon - raw] = '\0';
            memcpy(e->pass, colon + 1, strlen(colon + 1) + 1);
        }
        OPENSSL_cleanse(raw, sizeof raw);
        return ok;
    }
    if (!user || !pass || strlen(user) >= AUTH_USER_MAX || strlen(pass) >= AUTH_PASS_MAX)
        return false;
    snprintf(e->user, sizeof e->user, "%s", user);
    snprintf(e->pass, sizeof e->pass, "%s", pass);
    return true;
}

auth_creds *auth_creds_parse(const char *json, size_t len, tp_error *err)
{
    if (len > AUTH_CONFIG_MAX) {
        tp_error_set(err, TP_TOO_LARGE, "docker config is over %d bytes", AUTH_CONFIG_MAX);
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(root)) {
        /* je.text may quote the input; report the position only. */
        tp_error_set(err, TP_CONFIG, "docker config is not a JSON object (line %d)", je.line);
        json_decref(root);
        return NULL;
    }
    json_t *auths = json_object_get(root, "auths");
    if (!auths)
        auths = root; /* legacy .dockercfg: the map itself */
    auth_creds *c = calloc(1, sizeof *c);
    size_t cap = json_is_object(auths) ? json_object_size(auths) : 0;
    if (c && cap)
        c->e = calloc(cap, sizeof *c->e);
    if (!c || (cap && !c->e)) {
        tp_error_set(err, TP_NOMEM, NULL);
        auth_creds_free(c);
        json_decref(root);
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(auths, key, v) {
        cred_entry *e = &c->e[c->n];
        if (!json_is_object(v) || !key_normalize(key, e->host))
            continue;
        if (entry_fill(e, v))
            c->n++; /* entries without usable credentials are skipped, as kubelet does */
        else
            OPENSSL_cleanse(e, sizeof *e);
    }
    json_decref(root);
    return c;
}

auth_creds *auth_creds_load(const char *path, tp_error *err)
{
    char *buf;
    size_t n;
    if (tp_read_file(path, AUTH_CONFIG_MAX, "registry credentials file", &buf, &n, err) != TP_OK)
        return NULL;
    auth_creds *c = auth_creds_parse(buf, n, err);
    OPENSSL_cleanse(buf, n); /* it held passwords */
    free(buf);
    return c;
}

void auth_creds_free(auth_creds *c)
{
    if (!c)
        return;
    if (c->e)
        OPENSSL_cleanse(c->e, c->n * sizeof *c->e);
    free(c->e);
    free(c);
}

size_t auth_creds_count(const auth_creds *c)
{
    return c ? c->n : 0;
}

static void entry_copy(const cred_entry *e, char user[AUTH_USER_MAX], char pass[AUTH_PASS_MAX])
{
    snprintf(user, AUTH_USER_MAX, "%s", e->user);
    snprintf(pass, AUTH_PASS_MAX, "%s", e->pass);
}

bool auth_creds_lookup(const auth_creds *c, const char *domain, char user[AUTH_USER_MAX],
                       char pass[AUTH_PASS_MAX])
{
    char want[256];
    if (!c || snprintf(want, sizeof want, "%s", domain) >= (int)sizeof want)
        return false;
    auth_normalize_host(want);
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->e[i].host, want) == 0) {
            entry_copy(&c->e[i], user, pass);
            return true;
        }
    }
    /* kubelet's globs: "*.corp.io" matches one DNS label, never "a.b.corp.io";
     * fnmatch's star crosses dots, so the matched span is checked too. */
    for (size_t i = 0; i < c->n; i++) {
        const char *pat = c->e[i].host;
        if (!strchr(pat, '*'))
            continue;
        if (fnmatch(pat, want, 0) != 0)
            continue;
        const char *star = strchr(pat, '*');
        size_t pre = (size_t)(star - pat), suf = strlen(star + 1);
        if (strlen(want) < pre + suf)
            continue;
        size_t mid = strlen(want) - pre - suf;
        if (memchr(want + pre, '.', mid) || memchr(want + pre, ':', mid))
            continue;
        entry_copy(&c->e[i], user, pass);
        return true;
    }
    return false;
}
