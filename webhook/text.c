#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void text_init(text *t, size_t max)
{
    memset(t, 0, sizeof *t);
    t->max = max < 8 ? 8 : max;
}

void text_cleanup(text *t)
{
    if (!t)
        return;
    free(t->buf);
    memset(t, 0, sizeof *t);
}

static bool reserve(text *t, size_t need)
{
    if (need <= t->cap)
        return true;
    size_t cap = t->cap ? t->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > t->max)
        cap = t->max;
    char *grown = realloc(t->buf, cap);
    if (!grown) {
        t->failed = true;
        return false;
    }
    t->buf = grown;
    t->cap = cap;
    return need <= cap;
}

static void truncate_here(text *t)
{
    t->truncated = true;
    if (!reserve(t, t->max))
        return;
    t->len = t->max - 4;
    memcpy(t->buf + t->len, "...", 4);
    t->len += 3;
}

void text_printf(text *t, const char *fmt, ...)
{
    if (t->truncated || t->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (t->len + (size_t)n + 1 > t->max) {
        truncate_here(t);
        return;
    }
    if (!reserve(t, t->len + (size_t)n + 1))
        return;
    va_start(ap, fmt);
    vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

const char *text_cstr(text *t)
{
    return t->len ? t->buf : "";
}
