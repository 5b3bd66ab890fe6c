/* The serving certificate and key, re-read when their files change.
 *
 * cert-manager rotates a Secret, the kubelet swaps the volume's `..data`
 * symlink, and the next TLS handshake must present the new pair while
 * connections already open keep theirs. libmicrohttpd (GnuTLS backend)
 * calls tls_creds_retrieve for every handshake (MHD_OPTION_HTTPS_CERT_
 * CALLBACK); it hands out the current immutable pair. A new pair is loaded
 * and checked (the key must match the certificate) before it is swapped in;
 * a bad pair is refused and the old one stays. Thread-safe. */
#ifndef TAGPIN_TLS_CREDS_H
#define TAGPIN_TLS_CREDS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>

#include "../resolver/error.h"
#include "filestamp.h"

typedef struct tls_creds tls_creds;

/* Loads the first pair from cert_path (PEM chain, leaf first) and key_path
 * (PEM key); both paths are copied. NULL with err when either file is
 * unreadable or invalid or the key does not match the certificate. */
tls_creds *tls_creds_new(const char *cert_path, const char *key_path, tp_error *err);

/* Frees every pair. Call only once no handshake can run (daemon stopped).
 * NULL is fine. */
void tls_creds_free(tls_creds *tc);

/* Re-reads the files when their stat fingerprint changed (always with
 * force) and swaps the pair in when the content differs and is valid.
 * RELOAD_ERROR fills err; the previous pair stays in force and the same
 * files are not retried until they change again. */
reload_result tls_creds_reload(tls_creds *tc, bool force, tp_error *err);

/* The current certificate's notAfter (unix seconds) and serial number
 * (lowercase hex into serial[0..cap)). */
double tls_creds_expiry(tls_creds *tc);
void tls_creds_serial(tls_creds *tc, char *serial, size_t cap);

/* Makes tc the pair source of tls_creds_retrieve. GnuTLS's retrieve
 * function takes no user argument and libmicrohttpd exposes no way from a
 * session to its daemon's closure, so the source is process-wide: one
 * HTTPS server per process. NULL clears it. */
void tls_creds_activate(tls_creds *tc);

/* gnutls_certificate_retrieve_function2 serving the active pair. GnuTLS
 * borrows the pair (it frees nothing it got this way) and uses it during
 * the handshake; afterwards the session keeps the pointers only for
 * gnutls_certificate_get_ours(), which tagpin never calls. So a replaced
 * pair is freed TLS_CREDS_RETIRE_MS after the swap, far longer than a
 * handshake may take (the server's connection timeout), not per session. */
int tls_creds_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                       const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                       gnutls_pcert_st **pcert, unsigned int *pcert_length,
                       gnutls_privkey_t *privkey);

#define TLS_CREDS_RETIRE_MS (10 * 60 * 1000)

#endif
