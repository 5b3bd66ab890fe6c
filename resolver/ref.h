/* Image references, parsed and normalized exactly as the distribution project
 * (github.com/distribution/reference, ParseNormalizedNamed) does:
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [domain "/"] path        domain := host [":" port]
 *   tag       := [\w][\w.-]{0,127}        digest := algorithm ":" hex
 *
 * A first component is a registry only if it contains '.' or ':', is
 * "localhost", or holds an uppercase letter; otherwise the domain is docker.io
 * and a single-component path gets "library/". "index.docker.io" becomes
 * "docker.io". Paths are lowercase. The normalized name is at most 255 bytes.
 * sha256/sha384/sha512 digests need exactly 64/96/128 lowercase hex digits;
 * other algorithms are refused as unsupported. One deliberate difference: a
 * first component taken as a registry but not a valid host (e.g. "a_b.com/x",
 * which distribution reads as a registry-less path) is refused, since no
 * registry could be asked for it. */
#ifndef TAGPIN_REF_H
#define TAGPIN_REF_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define REF_NAME_MAX 255
#define REF_TAG_MAX 128
#define REF_DIGEST_MAX 160 /* "sha512:" + 128 hex fits with room */

/* Caller-owned storage: every field is a NUL-terminated copy. */
typedef struct ref {
    char name[REF_NAME_MAX + 1];   /* normalized "docker.io/library/ubuntu" */
    char domain[REF_NAME_MAX + 1]; /* "docker.io", "localhost:5000" */
    char path[REF_NAME_MAX + 1];   /* "library/ubuntu" */
    char tag[REF_TAG_MAX + 1];     /* "" when has_tag is false */
    char digest[REF_DIGEST_MAX + 1]; /* "sha256:<hex>", "" when absent */
    bool has_tag;
    bool has_digest;
    size_t written_name_len; /* bytes of the input before ":tag" / "@digest" */
} ref_t;

/* Parses s[0..len) (no NUL needed) into *out. On failure returns TP_REF and
 * fills err->msg with why, e.g. "repository name must be lowercase";
 * *out is then unspecified. Never reads past s+len. */
tp_code ref_parse(const char *s, size_t len, ref_t *out, tp_error *err);

/* Docker's familiar form of a normalized name: "ubuntu" for
 * "docker.io/library/ubuntu", "org/app" for "docker.io/org/app", otherwise
 * the name unchanged. Returns a pointer into ref->name (borrowed). */
const char *ref_familiar_name(const ref_t *ref);

#endif
