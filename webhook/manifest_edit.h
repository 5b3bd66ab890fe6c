/* Rewriting scalar values inside YAML text without touching anything else,
 * for `tagpin pin`: comments, spacing and every other value stay byte for
 * byte. Spans come from manifest_yaml. */
#ifndef TAGPIN_MANIFEST_EDIT_H
#define TAGPIN_MANIFEST_EDIT_H

#include <stddef.h>

#include "../resolver/error.h"
#include "manifest_yaml.h"

typedef struct manifest_edit {
    size_t start, end; /* bytes of the input replaced */
    char *text;        /* owned replacement */
} manifest_edit;

/* The YAML text for value written in the scalar's style: plain stays plain
 * when value is safe unquoted (else double quotes), quoted keeps its quote
 * character. New string in *out. Block scalars (| >) are TP_INVAL: their
 * indentation belongs to the surrounding text. */
tp_code manifest_edit_render(const char *value, manifest_style style, char **out,
                             tp_error *err);

/* Applies edits to buf[0..len) into a new buffer (*out, NUL-terminated,
 * caller frees). Edits are sorted here; two edits of the same span with the
 * same text count once (an anchor used twice), overlapping ones are TP_INVAL.
 * The edits' texts stay owned by the caller. */
tp_code manifest_edit_apply(const char *buf, size_t len, manifest_edit *edits, size_t n,
                            char **out, size_t *out_len, tp_error *err);

#endif
