#include "token.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct token_entry {
    char *key;   /* "registry scope" */
    char *value; /* "Bearer ..." or "Basic ..." */
    int64_t expires_ms;
} token_entry;

struct token_cache {
    pthread_mutex_t mu;
    size_t n, max;
    token_entry *e;
};

token_cache *token_cache_new(size_t max_entries)
{
    token_cache *tc = calloc(1, sizeof *tc);
    if (!tc)
        return NULL;
    tc->max = max_entries ? max_entries : 1024;
    tc->e = calloc(tc->max, sizeof *tc->e);
    if (!tc->e || pthread_mutex_init(&tc->mu, NULL) != 0) {
        free(tc->e);
        free(tc);
        return NULL;
    }
    return tc;
}

static void entry_clear(token_entry *e)
{
    if (e->value)
        memset(e->value, 0, strlen(e->value));
    free(e->value);
    free(e->key);
    memset(e, 0, sizeof *e);
}

void token_cache_free(token_cache *tc)
{
    if (!tc)
        return;
    for (size_t i = 0; i < tc->n; i++)
        entry_clear(&tc->e[i]);
    pthread_mutex_destroy(&tc->mu);
    free(tc->e);
    free(tc);
}

static bool key_make(char *out, size_t cap, const char *registry, const char *scope)
{
    int w = snprintf(out, cap, "%s %s", registry, scope ? scope : "");
    return w >= 0 && (size_t)w < cap;
}

static token_entry *find(token_cache *tc, const char *key)
{
    for (size_t i = 0; i < tc->n; i++)
        if (strcmp(tc->e[i].key, key) == 0)
            return &tc->e[i];
    return NULL;
}

static bool get_one(token_cache *tc, const char *key, int64_t now, char *out, size_t cap)
{
    token_entry *e = find(tc, key);
    if (!e || e->expires_ms <= now || strlen(e->value) >= cap)
        return false;
    memcpy(out, e->value, strlen(e->value) + 1);
    return true;
}

bool token_cache_get(token_cache *tc, const char *registry, const char *scope,
                     int64_t now_ms, char *out, size_t cap)
{
    char k1[1024], k2[1024];
    if (!key_make(k1, sizeof k1, registry, scope) ||
        !key_make(k2, sizeof k2, registry, TOKEN_SCOPE_ANY))
        return false;
    pthread_mutex_lock(&tc->mu);
    bool found = get_one(tc, k1, now_ms, out, cap) || get_one(tc, k2, now_ms, out, cap);
    pthread_mutex_unlock(&tc->mu);
    return found;
}

void token_cache_put(token_cache *tc, const char *registry, const char *scope,
                     const char *value, int64_t expires_ms)
{
    char k[1024];
    if (!key_make(k, sizeof k, registry, scope))
        return;
    char *key = strdup(k), *val = strdup(value);
    if (!key || !val) {
        free(key);
        free(val);
        return; /* a token we cannot cache is fetched again next time */
    }
    pthread_mutex_lock(&tc->mu);
    token_entry *e = find(tc, k);
    if (!e && tc->n < tc->max)
        e = &tc->e[tc->n++];
    if (!e) { /* full: replace the one that expires first */
        e = &tc->e[0];
        for (size_t i = 1; i < tc->n; i++)
            if (tc->e[i].expires_ms < e->expires_ms)
                e = &tc->e[i];
    }
    entry_clear(e);
    e->key = key;
    e->value = val;
    e->expires_ms = expires_ms;
    pthread_mutex_unlock(&tc->mu);
}

void token_cache_drop(token_cache *tc, const char *registry, const char *scope)
{
    char k[1024];
    if (!key_make(k, sizeof k, registry, scope))
        return;
    pthread_mutex_lock(&tc->mu);
    token_entry *e = find(tc, k);
    if (e) {
        entry_clear(e);
        *e = tc->e[--tc->n];
        memset(&tc->e[tc->n], 0, sizeof tc->e[tc->n]);
    }
    pthread_mutex_unlock(&tc->mu);
}

static tp_code token_url(const auth_challenge *ch, const char *scope, char *url, size_t cap,
                         tp_error *err)
{
    char *svc = curl_easy_escape(NULL, ch->service, 0);
    char *scp = curl_easy_escape(NULL, scope, 0);
    const char *sep = strchr(ch->realm, '?') ? "&" : "?";
    int w = -1;
    if (svc && scp)
        w = snprintf(url, cap, "%s%s%s%s%s%s%s", ch->realm, sep,
                     ch->service[0] ? "service=" : "", ch->service[0] ? svc : "",
                     ch->service[0] && scope[0] ? "&" : "", scope[0] ? "scope=" : "",
                     scope[0] ? scp : "");
    curl_free(svc);
    curl_free(scp);
    if (w < 0 || (size_t)w >= cap)
        return tp_error_set(err, TP_AUTH, "token realm URL is too long");
    return TP_OK;
}

static tp_code token_parse(const http_response *res, const char *realm, char *out, size_t cap,
                           int64_t *ttl_ms, tp_error *err)
{
    json_t *root = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
    const char *tok = json_string_value(json_object_get(root, "token"));
    if (!tok || !*tok)
        tok = json_string_value(json_object_get(root, "access_token"));
    json_int_t expires = json_integer_value(json_object_get(root, "expires_in"));
    tp_code rc = TP_OK;
    if (!tok || !*tok)
        rc = tp_error_set(err, TP_AUTH, "token server %s answered without a token", realm);
    else if (strlen(tok) > TOKEN_MAX || snprintf(out, cap, "Bearer %s", tok) >= (int)cap)
        rc = tp_error_set(err, TP_TOO_LARGE, "token from %s is over %d bytes", realm, TOKEN_MAX);
    else
        *ttl_ms = (expires > 0 && expires < 86400 * 7 ? expires : 60) * (int64_t)1000;
    json_decref(root);
    return rc;
}

tp_code token_fetch(http_client *http, const auth_challenge *ch, const char *scope,
                    const char *user, const char *pass, int64_t deadline_ms, char *out,
                    size_t cap, int64_t *ttl_ms, tp_error *err)
{
    char url[AUTH_REALM_MAX + 3 * 2 * AUTH_PARAM_MAX + 32];
    tp_code rc = token_url(ch, scope ? scope : ch->scope, url, sizeof url, err);
    if (rc != TP_OK)
        return rc;
    char basic[TOKEN_VALUE_MAX] = "Authorization: ";
    const char *hdrs[1] = {basic};
    size_t nh = 0;
    if (user && !auth_basic_value(user, pass, basic + 15, sizeof basic - 15))
        return tp_error_set(err, TP_AUTH, "registry credentials are too long");
    if (user)
        nh = 1;
    http_request req = {.method = "GET", .url = url, .headers = hdrs, .n_headers = nh,
                        .max_body = TOKEN_BODY_MAX, .deadline_ms = deadline_ms};
    http_response res;
    rc = http_perform(http, &req, &res, err);
    memset(basic, 0, sizeof basic);
    if (rc != TP_OK)
        return rc;
    if (res.status != 200) {
        err->http_status = (int)res.status;
        rc = tp_error_set(err, TP_AUTH, "token server %s answered %ld", ch->realm, res.status);
    } else {
        rc = token_parse(&res, ch->realm, out, cap, ttl_ms, err);
    }
    if (res.body)
        memset(res.body, 0, res.body_len);
    http_response_cleanup(&res);
    return rc;
}
