#include "tls_creds.h"

#include <gnutls/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../resolver/digest.h"
#include "../resolver/fileio.h"
#include "../resolver/resolver.h"

#define TLS_FILE_MAX (256 * 1024)
#define CHAIN_MAX 16
#define SERIAL_MAX 41 /* 20 bytes as hex */

/* One immutable certificate chain and key, as GnuTLS wants them. */
typedef struct pair {
    gnutls_pcert_st pcerts[CHAIN_MAX];
    unsigned n;
    gnutls_privkey_t key;
    double expiry;
    char serial[SERIAL_MAX];
    char cert_hash[DIGEST_STR_MAX], key_hash[DIGEST_STR_MAX];
    int64_t retired_ms;
    struct pair *next; /* in the retired list */
} pair;

struct tls_creds {
    pthread_mutex_t mu;        /* guards current and retired */
    pthread_mutex_t reload_mu; /* one reload at a time: stamps stay consistent */
    pair *current;
    pair *retired;
    char *cert_path, *key_path;
    filestamp cert_stamp, key_stamp; /* of the files last tried */
};

static _Atomic(tls_creds *) active;

static void pair_free(pair *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->n; i++)
        gnutls_pcert_deinit(&p->pcerts[i]);
    if (p->key)
        gnutls_privkey_deinit(p->key);
    free(p);
}

static tp_code gnutls_fail(tp_error *err, const char *what, int rc)
{
    return tp_error_set(err, TP_TLS, "%s: %s", what, gnutls_strerror(rc));
}

/* Reads notAfter and the serial of the leaf. */
static void pair_describe(pair *p)
{
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0)
        return;
    if (gnutls_x509_crt_import(crt, &p->pcerts[0].cert, GNUTLS_X509_FMT_DER) >= 0) {
        time_t t = gnutls_x509_crt_get_expiration_time(crt);
        p->expiry = t == (time_t)-1 ? 0 : (double)t;
        unsigned char serial[20];
        size_t n = sizeof serial;
        if (gnutls_x509_crt_get_serial(crt, serial, &n) >= 0)
            for (size_t i = 0; i < n && 2 * i + 2 < sizeof p->serial; i++)
                snprintf(p->serial + 2 * i, 3, "%02x", serial[i]);
    }
    gnutls_x509_crt_deinit(crt);
}

/* Parses and checks a pair: GnuTLS's own credential loader refuses a key
 * that does not match the certificate, so the pair is first loaded there. */
static pair *pair_load(char *cert, size_t cert_len, char *key, size_t key_len, tp_error *err)
{
    gnutls_datum_t c = {(unsigned char *)cert, (unsigned)cert_len};
    gnutls_datum_t k = {(unsigned char *)key, (unsigned)key_len};
    gnutls_certificate_credentials_t check;
    int rc = gnutls_certificate_allocate_credentials(&check);
    if (rc < 0) {
        gnutls_fail(err, "TLS credentials", rc);
        return NULL;
    }
    rc = gnutls_certificate_set_x509_key_mem2(check, &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
    gnutls_certificate_free_credentials(check);
    if (rc < 0) {
        gnutls_fail(err, "certificate and key", rc);
        return NULL;
    }
    pair *p = calloc(1, sizeof *p);
    if (!p) {
        tp_error_set(err, TP_NOMEM, NULL);
        return NULL;
    }
    p->n = CHAIN_MAX;
    rc = gnutls_pcert_list_import_x509_raw(p->pcerts, &p->n, &c, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0) {
        p->n = 0;
        gnutls_fail(err, "certificate chain", rc);
    } else if ((rc = gnutls_privkey_init(&p->key)) < 0 ||
               (rc = gnutls_privkey_import_x509_raw(p->key, &k, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
        gnutls_fail(err, "private key", rc);
    } else if (digest_sha256(cert, cert_len, p->cert_hash, err) == TP_OK &&
               digest_sha256(key, key_len, p->key_hash, err) == TP_OK) {
        pair_describe(p);
        return p;
    }
    pair_free(p);
    return NULL;
}

/* Reads both files; the key's bytes are wiped before they are freed. */
static pair *pair_read(tls_creds *tc, tp_error *err)
{
    char *cert = NULL, *key = NULL;
    size_t cert_len = 0, key_len = 0;
    pair *p = NULL;
    if (tp_read_file(tc->cert_path, TLS_FILE_MAX, "TLS certificate", &cert, &cert_len, err) ==
            TP_OK &&
        tp_read_file(tc->key_path, TLS_FILE_MAX, "TLS key", &key, &key_len, err) == TP_OK)
        p = pair_load(cert, cert_len, key, key_len, err);
    if (key)
        explicit_bzero(key, key_len);
    free(key);
    free(cert);
    return p;
}

tls_creds *tls_creds_new(const char *cert_path, const char *key_path, tp_error *err)
{
    if (!cert_path || !key_path) {
        tp_error_set(err, TP_CONFIG,
                     "HTTPS needs --tls-cert and --tls-key (or server.tlsCert/tlsKey)");
        return NULL;
    }
    tls_creds *tc = calloc(1, sizeof *tc);
    if (!tc || !(tc->cert_path = strdup(cert_path)) || !(tc->key_path = strdup(key_path))) {
        tp_error_set(err, TP_NOMEM, NULL);
        tls_creds_free(tc);
        return NULL;
    }
    pthread_mutex_init(&tc->mu, NULL);
    pthread_mutex_init(&tc->reload_mu, NULL);
    filestamp_take(cert_path, &tc->cert_stamp);
    filestamp_take(key_path, &tc->key_stamp);
    if (!(tc->current = pair_read(tc, err))) {
        tls_creds_free(tc);
        return NULL;
    }
    return tc;
}

void tls_creds_free(tls_creds *tc)
{
    if (!tc)
        return;
    tls_creds *self = tc;
    atomic_compare_exchange_strong(&active, &self, NULL);
    if (tc->cert_path && tc->key_path) { /* the mutexes were initialised */
        pthread_mutex_destroy(&tc->mu);
        pthread_mutex_destroy(&tc->reload_mu);
    }
    pair_free(tc->current);
    while (tc->retired) {
        pair *next = tc->retired->next;
        pair_free(tc->retired);
        tc->retired = next;
    }
    free(tc->cert_path);
    free(tc->key_path);
    free(tc);
}

/* Frees retired pairs no handshake can still be using. Called with mu. */
static void retired_sweep(tls_creds *tc, int64_t now)
{
    pair **pp = &tc->retired;
    while (*pp) {
        pair *p = *pp;
        if (now - p->retired_ms >= TLS_CREDS_RETIRE_MS) {
            *pp = p->next;
            pair_free(p);
        } else {
            pp = &p->next;
        }
    }
}

static reload_result swap_in(tls_creds *tc, pair *next)
{
    int64_t now = tp_now_ms();
    pthread_mutex_lock(&tc->mu);
    pair *old = tc->current;
    bool same = strcmp(old->cert_hash, next->cert_hash) == 0 &&
                strcmp(old->key_hash, next->key_hash) == 0;
    if (!same) {
        tc->current = next;
        old->retired_ms = now;
        old->next = tc->retired;
        tc->retired = old;
    }
    retired_sweep(tc, now);
    pthread_mutex_unlock(&tc->mu);
    if (same)
        pair_free(next);
    return same ? RELOAD_UNCHANGED : RELOAD_OK;
}

reload_result tls_creds_reload(tls_creds *tc, bool force, tp_error *err)
{
    filestamp cs, ks;
    reload_result res = RELOAD_UNCHANGED;
    pthread_mutex_lock(&tc->reload_mu);
    filestamp_take(tc->cert_path, &cs);
    filestamp_take(tc->key_path, &ks);
    if (force || !filestamp_equal(&cs, &tc->cert_stamp) || !filestamp_equal(&ks, &tc->key_stamp)) {
        /* Remember what was tried, good or bad: a refused pair is retried
         * when the files change again, not logged every interval. */
        tc->cert_stamp = cs;
        tc->key_stamp = ks;
        pair *next = pair_read(tc, err);
        res = next ? swap_in(tc, next) : RELOAD_ERROR;
    } else {
        pthread_mutex_lock(&tc->mu);
        retired_sweep(tc, tp_now_ms());
        pthread_mutex_unlock(&tc->mu);
    }
    pthread_mutex_unlock(&tc->reload_mu);
    return res;
}

double tls_creds_expiry(tls_creds *tc)
{
    pthread_mutex_lock(&tc->mu);
    double t = tc->current->expiry;
    pthread_mutex_unlock(&tc->mu);
    return t;
}

void tls_creds_serial(tls_creds *tc, char *serial, size_t cap)
{
    pthread_mutex_lock(&tc->mu);
    snprintf(serial, cap, "%s", tc->current->serial);
    pthread_mutex_unlock(&tc->mu);
}

void tls_creds_activate(tls_creds *tc)
{
    atomic_store(&active, tc);
}

int tls_creds_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                       const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                       gnutls_pcert_st **pcert, unsigned int *pcert_length,
                       gnutls_privkey_t *privkey)
{
    (void)session, (void)req_ca_dn, (void)nreqs, (void)pk_algos, (void)pk_algos_length;
    tls_creds *tc = atomic_load(&active);
    if (!tc)
        return -1;
    pthread_mutex_lock(&tc->mu);
    pair *p = tc->current;
    *pcert = p->pcerts;
    *pcert_length = p->n;
    *privkey = p->key;
    pthread_mutex_unlock(&tc->mu);
    return 0;
}
