/* A growable text buffer with a hard cap, for messages built piece by piece.
 * Past the cap, text is cut and ends with "..." instead of growing. */
#ifndef TAGPIN_TEXT_H
#define TAGPIN_TEXT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct text {
    char *buf;  /* owned; NUL-terminated when len > 0 or after text_cstr */
    size_t len;
    size_t cap;
    size_t max; /* hard cap in bytes, including the NUL */
    bool truncated;
    bool failed; /* out of memory: the text stops growing */
} text;

void text_init(text *t, size_t max);
void text_cleanup(text *t);
void text_printf(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Borrowed NUL-terminated view ("" when empty). */
const char *text_cstr(text *t);

#endif
