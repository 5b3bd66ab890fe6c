#include "registry.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "digest.h"
#include "manifest.h"
#include "regstats.h"
#include "token.h"

#define INDEX_CACHE_MAX 128
#define RETRY_MAX 5
#define URL_MAX (REF_NAME_MAX * 2 + REF_DIGEST_MAX + 64)

typedef struct index_entry {
    char digest[DIGEST_STR_MAX];
    manifest_info info;
} index_entry;

struct registry_client {
    http_client *http;
    const auth_creds *creds;
    char **insecure;
    size_t n_insecure;
    size_t max_manifest;
    registry_counters *ctr;
    token_cache *tokens;
    pthread_mutex_t idx_mu;
    index_entry *idx; /* ring of immutable index bodies' parse results */
    size_t idx_n, idx_next;
};

/* State of one resolution: what we ask, whom, and with which credentials. */
typedef struct call {
    registry_client *rc;
    const ref_t *ref;
    const char *tag;
    const char *host; /* API host, "registry-1.docker.io" for docker.io */
    char base[URL_MAX]; /* "https://host/v2/<path>/manifests/" */
    char scope[REF_NAME_MAX + 32];
    int64_t deadline;
    resolution *out;
    tp_error *err;
    bool auth_tried, have_creds;
    char authz[TOKEN_VALUE_MAX + 32]; /* "Authorization: ..." or "" */
} call;

const char *registry_api_host(const char *domain)
{
    return strcmp(domain, "docker.io") == 0 ? "registry-1.docker.io" : domain;
}

registry_client *registry_client_new(http_client *http, const auth_creds *creds,
                                     const char *const *insecure, size_t n_insecure,
                                     size_t max_manifest_bytes, registry_counters *counters,
                                     tp_error *err)
{
    registry_client *rc = calloc(1, sizeof *rc);
    if (!rc)
        goto nomem;
    rc->http = http;
    rc->creds = creds;
    rc->max_manifest = max_manifest_bytes;
    rc->ctr = counters;
    rc->tokens = token_cache_new(0);
    rc->idx = calloc(INDEX_CACHE_MAX, sizeof *rc->idx);
    rc->insecure = calloc(n_insecure + 1, sizeof *rc->insecure);
    if (!rc->tokens || !rc->idx || !rc->insecure || pthread_mutex_init(&rc->idx_mu, NULL)) {
        token_cache_free(rc->tokens);
        free(rc->idx);
        free(rc->insecure);
        free(rc);
        goto nomem;
    }
    for (size_t i = 0; i < n_insecure; i++) {
        rc->insecure[i] = strdup(insecure[i]);
        if (!rc->insecure[i]) {
            rc->n_insecure = i;
            registry_client_free(rc);
            goto nomem;
        }
    }
    rc->n_insecure = n_insecure;
    return rc;
nomem:
    tp_error_set(err, TP_NOMEM, NULL);
    return NULL;
}

void registry_client_free(registry_client *rc)
{
    if (!rc)
        return;
    for (size_t i = 0; i < rc->n_insecure; i++)
        free(rc->insecure[i]);
    free(rc->insecure);
    token_cache_free(rc->tokens);
    pthread_mutex_destroy(&rc->idx_mu);
    free(rc->idx);
    free(rc);
}

static bool index_cache_get(registry_client *rc, const char *digest, manifest_info *out)
{
    bool found = false;
    pthread_mutex_lock(&rc->idx_mu);
    for (size_t i = 0; i < rc->idx_n && !found; i++) {
        if (strcmp(rc->idx[i].digest, digest) == 0) {
            *out = rc->idx[i].info;
            found = true;
        }
    }
    pthread_mutex_unlock(&rc->idx_mu);
    return found;
}

static void index_cache_put(registry_client *rc, const char *digest, const manifest_info *info)
{
    pthread_mutex_lock(&rc->idx_mu);
    index_entry *e = &rc->idx[rc->idx_next];
    rc->idx_next = (rc->idx_next + 1) % INDEX_CACHE_MAX;
    if (rc->idx_n < INDEX_CACHE_MAX)
        rc->idx_n++;
    snprintf(e->digest, sizeof e->digest, "%s", digest);
    e->info = *info;
    pthread_mutex_unlock(&rc->idx_mu);
}

static bool is_insecure(const registry_client *rc, const char *domain)
{
    for (size_t i = 0; i < rc->n_insecure; i++)
        if (strcmp(rc->insecure[i], domain) == 0)
            return true;
    return false;
}

/* Sets a status error: "<status> from <registry> for <repo>:<tag>: <hint>". */
static tp_code status_error(call *c, long status)
{
    const char *d = c->ref->domain, *repo = c->ref->path;
    tp_code code = TP_REGISTRY;
    char hint[640];
    if (status == 401 && c->have_creds) {
        code = TP_AUTH;
        snprintf(hint, sizeof hint, "the credentials for %s were refused or lack pull access; "
                 "check the registry credentials secret", d);
    } else if (status == 401) {
        code = TP_AUTH;
        snprintf(hint, sizeof hint, "add credentials for %s to the registry credentials secret", d);
    } else if (status == 403) {
        code = TP_AUTH;
        snprintf(hint, sizeof hint, "access denied; the credentials for %s need pull access", d);
    } else if (status == 404) {
        code = TP_NOT_FOUND;
        snprintf(hint, sizeof hint, "no such manifest; check the repository and tag");
    } else if (status == 429) {
        code = TP_RATE_LIMITED;
        snprintf(hint, sizeof hint, "rate limited; retry later, add credentials or use a mirror");
    } else if (status >= 500) {
        snprintf(hint, sizeof hint, "the registry failed; retry later or check its health");
    } else {
        snprintf(hint, sizeof hint, "unexpected answer from the registry");
    }
    tp_error_set(c->err, code, "%ld from %s for %s:%s: %s", status, d, repo, c->tag, hint);
    c->err->http_status = (int)status;
    return code;
}

/* Delay before retrying a 429/5xx: Retry-After (seconds or HTTP date), else
 * exponential backoff from 200 ms. */
static int64_t retry_delay(const http_response *res, int attempt)
{
    char v[64];
    if (http_response_header(res, "retry-after", v, sizeof v)) {
        char *end;
        long long s = strtoll(v, &end, 10);
        if (end != v && *end == '\0' && s >= 0 && s < 86400)
            return s * 1000;
        time_t when = curl_getdate(v, NULL);
        if (when > 0) {
            int64_t d = ((int64_t)when - (int64_t)time(NULL)) * 1000;
            return d > 0 ? d : 0;
        }
    }
    return (int64_t)200 << (attempt < 4 ? attempt : 4);
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static bool retryable(long status)
{
    return status == 429 || status == 502 || status == 503 || status == 504;
}

static tp_code authorize_bearer(call *c, const auth_challenge *ch, const char *user,
                                const char *pass)
{
    char value[TOKEN_VALUE_MAX];
    int64_t ttl = 0;
    tp_error sub;
    tp_error_clear(&sub);
    c->out->requests++;
    atomic_fetch_add(&c->rc->ctr->token_fetches, 1);
    tp_code code = token_fetch(c->rc->http, ch, ch->scope[0] ? NULL : c->scope, user, pass,
                               c->deadline, value, sizeof value, &ttl, &sub);
    if (code != TP_OK) {
        atomic_fetch_add(&c->rc->ctr->token_fetch_errors, 1);
        tp_error_set(c->err, code, "token for %s from %s failed: %s%s", c->ref->path,
                     c->ref->domain, sub.msg,
                     sub.http_status == 401 && user
                         ? "; the registry credentials were refused, check the secret"
                         : "");
        c->err->http_status = sub.http_status;
        return code;
    }
    /* Expire a little early so a token never dies in flight. */
    int64_t margin = ttl / 10 < 5000 ? ttl / 10 : 5000;
    token_cache_put(c->rc->tokens, c->host, c->scope, value, tp_now_ms() + ttl - margin);
    snprintf(c->authz, sizeof c->authz, "Authorization: %s", value);
    memset(value, 0, sizeof value);
    return TP_OK;
}

/* Answers a 401: parse the challenge, then fetch a token or use Basic. */
static tp_code authorize(call *c, const http_response *res)
{
    char hdr[AUTH_HEADER_MAX + 1];
    auth_challenge ch;
    tp_error sub;
    if (!http_response_header(res, "www-authenticate", hdr, sizeof hdr)) {
        tp_error_set(c->err, TP_AUTH, "401 from %s for %s without a usable WWW-Authenticate "
                     "challenge", c->ref->domain, c->ref->path);
        c->err->http_status = 401;
        return TP_AUTH;
    }
    if (auth_challenge_parse(hdr, strlen(hdr), &ch, &sub) != TP_OK) {
        tp_error_set(c->err, TP_AUTH, "401 from %s for %s: %s", c->ref->domain, c->ref->path,
                     sub.msg);
        c->err->http_status = 401;
        return TP_AUTH;
    }
    char user[AUTH_USER_MAX] = "", pass[AUTH_PASS_MAX] = "";
    c->have_creds = auth_creds_lookup(c->rc->creds, c->ref->domain, user, pass);
    tp_code code = TP_OK;
    if (ch.scheme == AUTH_BEARER) {
        code = authorize_bearer(c, &ch, c->have_creds ? user : NULL, pass);
    } else if (!c->have_creds) {
        code = status_error(c, 401);
    } else {
        char value[TOKEN_VALUE_MAX];
        if (!auth_basic_value(user, pass, value, sizeof value)) {
            code = tp_error_set(c->err, TP_AUTH, "credentials for %s are too long", c->ref->domain);
        } else {
            token_cache_put(c->rc->tokens, c->host, TOKEN_SCOPE_ANY, value,
                            tp_now_ms() + 3600 * 1000);
            snprintf(c->authz, sizeof c->authz, "Authorization: %s", value);
        }
        memset(value, 0, sizeof value);
    }
    memset(user, 0, sizeof user);
    memset(pass, 0, sizeof pass);
    return code;
}

/* One logical request: cached authorisation, one 401 answered, 429/5xx
 * retried while the deadline allows. TP_OK means res holds an HTTP answer
 * whose status the caller judges. */
static tp_code do_request(call *c, const char *method, const char *url, size_t max_body,
                          http_response *res)
{
    long retried_status = 0;
    for (int attempt = 0;; attempt++) {
        if (!c->authz[0]) {
            char value[TOKEN_VALUE_MAX];
            if (token_cache_get(c->rc->tokens, c->host, c->scope, tp_now_ms(), value,
                                sizeof value))
                snprintf(c->authz, sizeof c->authz, "Authorization: %s", value);
        }
        const char *hdrs[2] = {MANIFEST_ACCEPT, c->authz};
        http_request req = {.method = method, .url = url, .headers = hdrs,
                            .n_headers = c->authz[0] ? 2 : 1, .max_body = max_body,
                            .deadline_ms = c->deadline};
        tp_error sub;
        tp_error_clear(&sub);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        tp_code code = http_perform(c->rc->http, &req, res, &sub);
        regstats_record(c->rc->ctr->by_registry, c->ref->domain,
                        code == TP_OK ? res->status : 0, seconds_since(&t0));
        if (code == TP_TIMEOUT && retried_status) /* the cause is the 429/5xx */
            return status_error(c, retried_status);
        if (code != TP_OK)
            return tp_error_set(c->err, code, "%s (resolving %s/%s:%s)", sub.msg, c->ref->domain,
                                c->ref->path, c->tag);
        c->out->requests++;
        atomic_fetch_add(&c->rc->ctr->requests, 1);
        if (res->status == 401 && !c->auth_tried) {
            c->auth_tried = true;
            if (c->authz[0]) /* a cached value the registry no longer takes */
                token_cache_drop(c->rc->tokens, c->host, c->scope);
            c->authz[0] = '\0';
            code = authorize(c, res);
            http_response_cleanup(res);
            if (code != TP_OK)
                return code;
            continue;
        }
        if (!retryable(res->status) || attempt + 1 >= RETRY_MAX)
            return TP_OK;
        int64_t wait = retry_delay(res, attempt);
        if (tp_now_ms() + wait >= c->deadline)
            return TP_OK; /* no time left: the caller reports the status */
        retried_status = res->status;
        http_response_cleanup(res);
        sleep_ms(wait);
    }
}

/* GETs a manifest (by tag or digest), checks its bytes against the digest
 * the registry claims (or expect_digest), and parses it. */
static tp_code fetch_manifest(call *c, const char *ref_part, const char *expect_digest,
                              char digest[DIGEST_STR_MAX], manifest_info *info)
{
    char url[URL_MAX + REF_DIGEST_MAX];
    snprintf(url, sizeof url, "%s%s", c->base, ref_part);
    http_response res;
    tp_code code = do_request(c, "GET", url, c->rc->max_manifest, &res);
    if (code == TP_TOO_LARGE)
        c->err->http_status = 200;
    if (code != TP_OK)
        return code;
    char claimed[DIGEST_STR_MAX] = "", ct[RESOLUTION_MEDIA_TYPE_MAX] = "";
    tp_error sub;
    if (res.status != 200) {
        code = status_error(c, res.status);
        goto out;
    }
    http_response_header(&res, "docker-content-digest", claimed, sizeof claimed);
    http_response_header(&res, "content-type", ct, sizeof ct);
    if (expect_digest && claimed[0] && strcmp(claimed, expect_digest) != 0) {
        code = tp_error_set(c->err, TP_DIGEST_MISMATCH, "%s for %s sent %s when asked for %s",
                            c->ref->domain, c->ref->path, claimed, expect_digest);
        goto out;
    }
    if (expect_digest)
        snprintf(claimed, sizeof claimed, "%s", expect_digest);
    if (claimed[0]) {
        code = digest_verify(res.body ? res.body : "", res.body_len, claimed, &sub);
        snprintf(digest, DIGEST_STR_MAX, "%s", claimed);
    } else {
        code = digest_sha256(res.body ? res.body : "", res.body_len, digest, &sub);
    }
    if (code == TP_OK)
        code = manifest_parse(res.body ? res.body : "", res.body_len, ct, info, &sub);
    if (code != TP_OK)
        tp_error_set(c->err, code, "%s for %s:%s: %s; not pinned", c->ref->domain, c->ref->path,
                     c->tag, sub.msg);
    else if (info->is_index)
        index_cache_put(c->rc, digest, info);
out:
    http_response_cleanup(&res);
    return code;
}

static void result_fill(call *c, const char *digest, const manifest_info *info)
{
    resolution *o = c->out;
    snprintf(o->digest, sizeof o->digest, "%s", digest);
    snprintf(o->media_type, sizeof o->media_type, "%s", info->media_type);
    o->is_index = info->is_index;
    o->n_platforms = info->n_platforms;
    memcpy(o->platforms, info->platforms, sizeof o->platforms);
}

/* HEAD answered with a digest: done unless the content may be an index,
 * whose platforms come from its body (cached by digest). */
static tp_code after_head(call *c, const char *digest, const char *ct)
{
    manifest_info info;
    memset(&info, 0, sizeof info);
    bool known = strncmp(ct, MT_OCI_MANIFEST, strlen(MT_OCI_MANIFEST)) == 0 ||
                 strncmp(ct, MT_DOCKER_MANIFEST, strlen(MT_DOCKER_MANIFEST)) == 0;
    if (known) {
        snprintf(info.media_type, sizeof info.media_type, "%.*s", (int)strcspn(ct, "; "), ct);
    } else if (!index_cache_get(c->rc, digest, &info)) {
        char got[DIGEST_STR_MAX];
        tp_code code = fetch_manifest(c, digest, digest, got, &info);
        if (code != TP_OK)
            return code;
    }
    result_fill(c, digest, &info);
    return TP_OK;
}

static tp_code resolve_tag(call *c)
{
    char url[URL_MAX + REF_TAG_MAX];
    snprintf(url, sizeof url, "%s%s", c->base, c->tag);
    http_response res;
    tp_code code = do_request(c, "HEAD", url, 0, &res);
    if (code != TP_OK)
        return code;
    char digest[DIGEST_STR_MAX] = "", ct[RESOLUTION_MEDIA_TYPE_MAX] = "";
    long status = res.status;
    http_response_header(&res, "docker-content-digest", digest, sizeof digest);
    http_response_header(&res, "content-type", ct, sizeof ct);
    http_response_cleanup(&res);
    if (status == 200 && digest_is_valid(digest))
        return after_head(c, digest, ct);
    /* No digest, or HEAD refused: read the body and hash it ourselves. */
    if (status == 200 || status == 405 || status == 501 || status == 400) {
        manifest_info info;
        code = fetch_manifest(c, c->tag, NULL, digest, &info);
        if (code == TP_OK)
            result_fill(c, digest, &info);
        return code;
    }
    return status_error(c, status);
}

tp_code registry_resolve(registry_client *rc, const ref_t *ref, int64_t deadline_ms,
                         resolution *out)
{
    memset(out, 0, sizeof *out);
    out->source = RESOLUTION_REGISTRY;
    call *c = calloc(1, sizeof *c);
    if (!c)
        return tp_error_set(&out->err, TP_NOMEM, NULL);
    c->rc = rc;
    c->ref = ref;
    c->tag = ref->has_tag && ref->tag[0] ? ref->tag : "latest";
    c->host = registry_api_host(ref->domain);
    c->deadline = deadline_ms;
    c->out = out;
    c->err = &out->err;
    int w1 = snprintf(c->base, sizeof c->base, "%s://%s/v2/%s/manifests/",
                      is_insecure(rc, ref->domain) ? "http" : "https", c->host, ref->path);
    int w2 = snprintf(c->scope, sizeof c->scope, "repository:%s:pull", ref->path);
    tp_code code;
    if (w1 < 0 || (size_t)w1 >= sizeof c->base || w2 < 0 || (size_t)w2 >= sizeof c->scope)
        code = tp_error_set(c->err, TP_REF, "reference %s is too long for a URL", ref->name);
    else
        code = resolve_tag(c);
    memset(c->authz, 0, sizeof c->authz);
    free(c);
    if (code != TP_OK)
        memset(out->digest, 0, sizeof out->digest);
    return code;
}
