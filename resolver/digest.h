/* Content digests: "sha256:<hex>" over exact bytes, with OpenSSL EVP.
 * OpenSSL's 1/0 convention stops here; callers see tp_code. */
#ifndef TAGPIN_DIGEST_H
#define TAGPIN_DIGEST_H

#include <stddef.h>

#include "error.h"

/* "sha512:" + 128 hex + NUL */
#define DIGEST_STR_MAX 136

/* Writes "sha256:<64 lowercase hex>" of data[0..len) into out (caller-owned,
 * DIGEST_STR_MAX bytes). Returns TP_OK or TP_NOMEM. */
tp_code digest_sha256(const void *data, size_t len, char out[DIGEST_STR_MAX],
                      tp_error *err);

/* Checks that data[0..len) hashes to claimed ("sha256:", "sha384:" or
 * "sha512:" + lowercase hex). TP_DIGEST_MISMATCH (with both digests in
 * err->msg) when it does not, TP_MANIFEST when claimed is not a digest we
 * can compute. */
tp_code digest_verify(const void *data, size_t len, const char *claimed,
                      tp_error *err);

/* True when s is "<alg>:<hex>" with a supported alg and exact hex length. */
int digest_is_valid(const char *s);

#endif
