#include "manifest_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Plain only when the text cannot read as anything but this string: the
 * characters of image references (no ": ", " #", flow indicators), an
 * alphanumeric start, and a '/', ':' or '@' so that it is never a number,
 * bool or null. Anything else is double-quoted rather than reasoned about. */
static bool plain_safe(const char *v)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789._/:@+-";
    size_t n = strlen(v);
    return n > 0 && strspn(v, safe) == n &&
           strchr(safe, v[0]) && strchr("._/:@+-", v[0]) == NULL && strpbrk(v, "/:@") != NULL;
}

static char *quoted(const char *v, char q)
{
    size_t n = strlen(v), cap = 4 * n + 3, w = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[w++] = q;
    for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
        if (q == '\'' && *c == '\'') {
            out[w++] = '\'';
            out[w++] = '\'';
        } else if (q == '"' && (*c == '"' || *c == '\\')) {
            out[w++] = '\\';
            out[w++] = (char)*c;
        } else if (q == '"' && (*c < 0x20 || *c == 0x7F)) {
            w += (size_t)snprintf(out + w, cap - w, "\\x%02X", *c);
        } else {
            out[w++] = (char)*c;
        }
    }
    out[w++] = q;
    out[w] = '\0';
    return out;
}

tp_code manifest_edit_render(const char *value, manifest_style style, char **out,
                             tp_error *err)
{
    *out = NULL;
    switch (style) {
    case MANIFEST_LITERAL:
    case MANIFEST_FOLDED:
        return tp_error_set(err, TP_INVAL, "a block scalar (| or >) cannot be rewritten in "
                                           "place; write the image on one line");
    case MANIFEST_SINGLE_QUOTED:
        *out = quoted(value, '\'');
        break;
    case MANIFEST_PLAIN:
        *out = plain_safe(value) ? strdup(value) : quoted(value, '"');
        break;
    default:
        *out = quoted(value, '"');
        break;
    }
    return *out ? TP_OK : tp_error_set(err, TP_NOMEM, NULL);
}

static int by_start(const void *a, const void *b)
{
    const manifest_edit *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start ? 1 : 0;
}

tp_code manifest_edit_apply(const char *buf, size_t len, manifest_edit *edits, size_t n,
                            char **out, size_t *out_len, tp_error *err)
{
    *out = NULL;
    *out_len = 0;
    qsort(edits, n, sizeof *edits, by_start);
    size_t total = len;
    for (size_t i = 0; i < n; i++) {
        const manifest_edit *e = &edits[i];
        if (e->start > e->end || e->end > len)
            return tp_error_set(err, TP_INVAL, "edit outside the text");
        if (i > 0 && e->start < edits[i - 1].end) {
            const manifest_edit *prev = &edits[i - 1];
            if (e->start == prev->start && e->end == prev->end && strcmp(e->text, prev->text) == 0)
                continue;
            return tp_error_set(err, TP_INVAL, "one YAML value would get two different "
                                               "images (an anchor used by both?)");
        }
        total += strlen(e->text);
    }
    char *dst = malloc(total + 1);
    if (!dst)
        return tp_error_set(err, TP_NOMEM, NULL);
    size_t at = 0, w = 0;
    for (size_t i = 0; i < n; i++) {
        const manifest_edit *e = &edits[i];
        if (e->start < at)
            continue; /* the duplicate accepted above */
        memcpy(dst + w, buf + at, e->start - at);
        w += e->start - at;
        size_t tl = strlen(e->text);
        memcpy(dst + w, e->text, tl);
        w += tl;
        at = e->end;
    }
    memcpy(dst + w, buf + at, len - at);
    w += len - at;
    dst[w] = '\0';
    *out = dst;
    *out_len = w;
    return TP_OK;
}
