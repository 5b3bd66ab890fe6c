/* A selective JSON decoder: validates a whole document but builds jansson
 * values only for the members a caller asked for.
 *
 * An AdmissionReview is mostly what tagpin never reads (managedFields, the
 * last-applied annotation, env, volumes, status). jansson would allocate a
 * node for every one of them; here they are checked and skipped, which is
 * most of the decoding cost gone (docs/benchmarks.md).
 *
 * The grammar is RFC 8259, as strict as jansson's loader: UTF-8 checked
 * everywhere, no control characters in strings, no "\u0000", surrogates
 * paired, nothing after the document. Two checks only apply where values
 * are built: duplicate member names are refused, and integers and reals must
 * fit (jansson's "too big integer"); skipped parts are not checked for them. */
#ifndef TAGPIN_JSONSEL_H
#define TAGPIN_JSONSEL_H

#include <jansson.h>
#include <stddef.h>

#include "../resolver/error.h"

/* Which members of an object to keep. A selection is an array ended by an
 * entry whose key is NULL. members NULL means keep the member's whole value;
 * otherwise the value is kept when it is a scalar and filtered by members
 * when it is an object; an array's elements are filtered the same way. */
typedef struct jsonsel {
    const char *key;
    const struct jsonsel *members;
} jsonsel;

/* Decodes buf[0..len), which must hold one JSON object or array. members
 * selects what of the root object to build (NULL: everything). Nesting
 * deeper than max_depth is refused. Returns a new reference, or NULL with
 * err set: TP_JSON with "what at line L column C", TP_NOMEM. */
json_t *jsonsel_decode(const char *buf, size_t len, const jsonsel *members,
                       size_t max_depth, tp_error *err);

#endif
