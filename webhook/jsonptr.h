/* RFC 6901 JSON pointers over jansson values ("/a~1b/0" is key "a/b",
 * then index 0), for the manifests `tagpin pin` edits. */
#ifndef TAGPIN_JSONPTR_H
#define TAGPIN_JSONPTR_H

#include <jansson.h>

#define JSONPTR_TOKEN_MAX 512 /* longer tokens match nothing */

/* The value at pointer (borrowed from root), or NULL. "" is root itself;
 * array indexes are digits without leading zeros. */
json_t *jsonptr_get(json_t *root, const char *pointer);

/* Replaces the existing value at pointer with value (stolen, also on
 * failure). Returns 0, or -1 when nothing is there to replace. */
int jsonptr_replace(json_t *root, const char *pointer, json_t *value);

#endif
