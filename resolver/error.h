/* tagpin's one error enum: 0 is OK, names and messages come from one table.
 *
 * Details travel in a caller-owned tp_error filled by the lowest layer that
 * knows them (which registry, which line of the policy, which container).
 * Dependencies' own conventions are translated to tp_code at the call site. */
#ifndef TAGPIN_ERROR_H
#define TAGPIN_ERROR_H

#include <stddef.h>

#define TP_ERROR_MAP(X)                                                   \
    X(OK, "success")                                                      \
    X(NOMEM, "out of memory")                                             \
    X(INVAL, "invalid argument")                                          \
    X(IO, "input/output error")                                           \
    X(TOO_LARGE, "input too large")                                       \
    X(REF, "invalid image reference")                                     \
    X(JSON, "malformed JSON")                                             \
    X(REVIEW, "not a valid AdmissionReview")                              \
    X(POLICY, "invalid policy")                                           \
    X(CONFIG, "invalid configuration")                                    \
    X(TLS, "TLS error")                                                   \
    X(NETWORK, "network error")                                           \
    X(TIMEOUT, "deadline exceeded")                                       \
    X(FORBIDDEN, "registry not allowed")                                  \
    X(AUTH, "registry authentication failed")                             \
    X(NOT_FOUND, "manifest not found")                                    \
    X(RATE_LIMITED, "registry rate limit")                                \
    X(REGISTRY, "registry error")                                         \
    X(MANIFEST, "invalid manifest")                                       \
    X(DIGEST_MISMATCH, "digest mismatch")                                 \
    X(PLATFORM, "required platform missing")

typedef enum tp_code {
#define TP_ERROR_ENUM(name, msg) TP_##name,
    TP_ERROR_MAP(TP_ERROR_ENUM)
#undef TP_ERROR_ENUM
    TP_CODE_COUNT
} tp_code;

#define TP_ERROR_MSG_MAX 512

typedef struct tp_error {
    tp_code code;
    int http_status;              /* registry/HTTP status when one is known, else 0 */
    char msg[TP_ERROR_MSG_MAX];   /* one line, never holds a credential */
} tp_error;

/* "TP_REF" style name and the table's generic message; never NULL. */
const char *tp_code_name(tp_code code);
const char *tp_code_message(tp_code code);

/* Resets err to TP_OK with an empty message. err may be NULL. */
void tp_error_clear(tp_error *err);

/* Fills err (may be NULL) with code and a printf-style one-line detail, and
 * returns code so callers can `return tp_error_set(err, TP_REF, ...)`.
 * A NULL fmt uses the table's message. Output is truncated, never overflows. */
tp_code tp_error_set(tp_error *err, tp_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
