/* RFC 6902 JSON Patch pieces and the pinned image form. */
#ifndef TAGPIN_PATCH_H
#define TAGPIN_PATCH_H

#include <jansson.h>
#include <stddef.h>

#include "../resolver/error.h"
#include "../resolver/ref.h"
#include "jsonw.h"
#include "policy.h"

/* The annotation tagpin writes on the object's own metadata (never on a pod
 * template, so recording a pin never starts a rollout). Its value is a JSON
 * object mapping each reference as written to the digest it was pinned to. */
#define PATCH_ANNOTATION "tagpin.io/pinned"
#define PATCH_ANNOTATION_TOKEN "tagpin.io~1pinned" /* as an RFC 6901 token */

/* Escapes one reference token per RFC 6901 ('~' -> "~0", '/' -> "~1") into
 * out. Returns TP_TOO_LARGE when cap is too small. */
tp_code patch_escape_token(const char *token, char *out, size_t cap);

/* The pinned form of an image as written: "app:1.4.2@sha256:…" for
 * POLICY_OUTPUT_TAG_DIGEST, "app@sha256:…" for POLICY_OUTPUT_DIGEST.
 * written must carry no digest. TP_TOO_LARGE when out is too small. */
tp_code patch_pinned_image(const char *written, const ref_t *ref,
                           const char *digest, policy_output output,
                           char *out, size_t cap);

/* Writes {"op":"replace","path":path,"value":value} into ops, an open
 * JSON array. */
void patch_add_replace(jsonw *ops, const char *path, const char *value);

/* Writes the op that sets PATCH_ANNOTATION to value (JSON text) in
 * object's metadata, creating metadata.annotations when the object has none. */
void patch_add_annotation(jsonw *ops, json_t *object, const char *value);

#endif
