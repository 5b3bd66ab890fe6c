#include "digest.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

typedef struct digest_alg {
    const char *name; /* as written in the digest string */
    size_t hex_len;
} digest_alg;

static const digest_alg algs[] = {
    {"sha256", 64},
    {"sha384", 96},
    {"sha512", 128},
};

static const digest_alg *alg_find(const char *s, size_t *prefix_len)
{
    const char *colon = strchr(s, ':');
    if (!colon)
        return NULL;
    size_t n = (size_t)(colon - s);
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        if (strlen(algs[i].name) == n && memcmp(algs[i].name, s, n) == 0) {
            *prefix_len = n + 1;
            return &algs[i];
        }
    }
    return NULL;
}

int digest_is_valid(const char *s)
{
    size_t off;
    const digest_alg *a = s ? alg_find(s, &off) : NULL;
    if (!a || strlen(s + off) != a->hex_len)
        return 0;
    for (const char *p = s + off; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

/* The one place OpenSSL's 1 = success convention is translated. */
static tp_code hash_hex(const char *alg, const void *data, size_t len,
                        char out[DIGEST_STR_MAX], tp_error *err)
{
    const EVP_MD *md = EVP_get_digestbyname(alg);
    if (!md)
        return tp_error_set(err, TP_MANIFEST, "unsupported digest algorithm %s", alg);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return tp_error_set(err, TP_NOMEM, "cannot allocate a hash context");
    unsigned char raw[EVP_MAX_MD_SIZE];
    unsigned int raw_len = 0;
    int ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
             EVP_DigestUpdate(ctx, data, len) == 1 &&
             EVP_DigestFinal_ex(ctx, raw, &raw_len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return tp_error_set(err, TP_NOMEM, "%s hashing failed", alg);
    static const char hex[] = "0123456789abcdef";
    size_t alg_len = strlen(alg);
    if (alg_len + 1 + 2 * (size_t)raw_len + 1 > DIGEST_STR_MAX)
        return tp_error_set(err, TP_INVAL, "digest does not fit");
    memcpy(out, alg, alg_len);
    out[alg_len] = ':';
    char *p = out + alg_len + 1;
    for (unsigned i = 0; i < raw_len; i++) {
        *p++ = hex[raw[i] >> 4];
        *p++ = hex[raw[i] & 15];
    }
    *p = '\0';
    return TP_OK;
}

tp_code digest_sha256(const void *data, size_t len, char out[DIGEST_STR_MAX],
                      tp_error *err)
{
    return hash_hex("sha256", data, len, out, err);
}

tp_code digest_verify(const void *data, size_t len, const char *claimed,
                      tp_error *err)
{
    if (!digest_is_valid(claimed))
        return tp_error_set(err, TP_MANIFEST, "registry sent a malformed digest \"%.80s\"",
                            claimed ? claimed : "");
    size_t off;
    const digest_alg *a = alg_find(claimed, &off);
    char got[DIGEST_STR_MAX];
    tp_code rc = hash_hex(a->name, data, len, got, err);
    if (rc != TP_OK)
        return rc;
    if (strcmp(got, claimed) != 0)
        return tp_error_set(err, TP_DIGEST_MISMATCH,
                            "content hashes to %s but the registry claimed %s", got, claimed);
    return TP_OK;
}
