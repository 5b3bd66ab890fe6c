/* A JSON text writer: compact output appended to one growing buffer.
 *
 * tagpin writes several small JSON documents per review (the patch, the
 * pinned-images annotation, auditAnnotations, the response, the audit
 * record). Building jansson trees only to dump them cost about as much as
 * the rest of a review; this writes the text directly. Commas and colons
 * are placed by the writer, so callers only say what comes next.
 *
 *     jsonw w;
 *     jsonw_init(&w);
 *     jsonw_object(&w);
 *     jsonw_key(&w, "allowed"); jsonw_bool(&w, true);
 *     jsonw_end(&w);
 *     char *text = jsonw_finish(&w, &len);   // owned by the caller
 *
 * Strings are escaped as RFC 8259 requires; bytes that are not valid UTF-8
 * become U+FFFD, so the output is always valid JSON. After an allocation
 * failure or misuse (nesting past JSONW_DEPTH_MAX), writes do nothing and
 * jsonw_finish returns NULL. */
#ifndef TAGPIN_JSONW_H
#define TAGPIN_JSONW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define JSONW_DEPTH_MAX 32

typedef struct jsonw {
    char *buf;      /* owned until jsonw_finish */
    size_t len, cap;
    bool failed;
    bool after_key; /* the next value completes a member */
    unsigned depth;
    bool has_items[JSONW_DEPTH_MAX + 1]; /* per level: a comma goes first */
    char closer[JSONW_DEPTH_MAX];        /* '}' or ']' for each open level */
} jsonw;

void jsonw_init(jsonw *w);
void jsonw_cleanup(jsonw *w);
/* The text (new string, caller frees) and its length, or NULL on failure.
 * Resets w. */
char *jsonw_finish(jsonw *w, size_t *len);

void jsonw_object(jsonw *w);
void jsonw_array(jsonw *w);
void jsonw_end(jsonw *w); /* closes the innermost object or array */
void jsonw_key(jsonw *w, const char *key);

void jsonw_string(jsonw *w, const char *s);
void jsonw_stringn(jsonw *w, const char *s, size_t n);
/* data as a base64 string (RFC 4648, padded), encoded in place: no
 * escaping pass over text that needs none. */
void jsonw_base64(jsonw *w, const void *data, size_t n);
void jsonw_bool(jsonw *w, bool b);
void jsonw_int(jsonw *w, long long v);
/* A value that is already JSON text (trusted: the caller wrote it). */
void jsonw_raw(jsonw *w, const char *json, size_t n);
/* A jansson value; object members in key order, so output is stable. */
void jsonw_value(jsonw *w, json_t *v);

#endif
