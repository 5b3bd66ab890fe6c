#include "jsonw.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define VALUE_DEPTH_MAX 16 /* jansson values written through jsonw_value */

void jsonw_init(jsonw *w)
{
    memset(w, 0, sizeof *w);
}

void jsonw_cleanup(jsonw *w)
{
    free(w->buf);
    jsonw_init(w);
}

char *jsonw_finish(jsonw *w, size_t *len)
{
    char *text = NULL;
    if (!w->failed && w->depth == 0 && w->buf) {
        text = w->buf;
        text[w->len] = '\0';
        if (len)
            *len = w->len;
        w->buf = NULL;
    }
    jsonw_cleanup(w);
    return text;
}

static void grow(jsonw *w, size_t n)
{
    size_t cap = w->cap ? w->cap : 4096; /* an answer or audit record fits at once */
    while (cap < w->len + n + 1)
        cap *= 2;
    char *b = realloc(w->buf, cap);
    if (!b) {
        w->failed = true;
        return;
    }
    w->buf = b;
    w->cap = cap;
}

/* The common case, room already there, stays a compare and a copy. */
static inline void put(jsonw *w, const void *data, size_t n)
{
    if (w->len + n + 1 > w->cap)
        grow(w, n);
    if (w->failed)
        return;
    memcpy(w->buf + w->len, data, n);
    w->len += n;
}

/* Before any value: the comma that separates it from the previous one. */
static void begin_value(jsonw *w)
{
    if (w->after_key)
        w->after_key = false;
    else if (w->has_items[w->depth])
        put(w, ",", 1);
    w->has_items[w->depth] = true;
}

static void open_container(jsonw *w, char c)
{
    begin_value(w);
    if (w->depth == JSONW_DEPTH_MAX) {
        w->failed = true;
        return;
    }
    put(w, &c, 1);
    w->closer[w->depth] = c == '{' ? '}' : ']';
    w->has_items[++w->depth] = false;
}

void jsonw_object(jsonw *w)
{
    open_container(w, '{');
}

void jsonw_array(jsonw *w)
{
    open_container(w, '[');
}

void jsonw_end(jsonw *w)
{
    if (w->failed || w->depth == 0) {
        w->failed = true;
        return;
    }
    w->depth--;
    w->after_key = false;
    put(w, &w->closer[w->depth], 1);
}

#define ESCAPE_SLICE 4096 /* input bytes escaped per reservation */

/* Escapes s[0..stop) (a UTF-8 sequence may run on to end) into room
 * already made; returns where it stopped. */
static const unsigned char *escape_slice(jsonw *w, const unsigned char *s,
                                         const unsigned char *stop, const unsigned char *end)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char *o = (unsigned char *)w->buf + w->len;
    while (s < stop) {
        size_t run = json_plain_run(s, stop);
        memcpy(o, s, run);
        o += run;
        s += run;
        if (s >= stop)
            break;
        unsigned char c = *s;
        if (c >= 0x80) {
            size_t len = utf8_seq_len(s, end);
            if (len)
                memcpy(o, s, len);
            else
                memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD for a byte that is not UTF-8 */
            o += len ? len : 3;
            s += len ? len : 1;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        default:
            memcpy(o, "u00", 3);
            o[3] = (unsigned char)hex[c >> 4];
            o[4] = (unsigned char)hex[c & 15];
            o += 5;
        }
        s++;
    }
    w->len = (size_t)(o - (unsigned char *)w->buf);
    return s;
}

/* Room for the worst case (every byte a "\\u00XX") is made once per slice,
 * so the copying loop never checks; a long string costs at most six slices
 * of slack, not six times its length. */
static void escaped(jsonw *w, const unsigned char *s, size_t n)
{
    const unsigned char *end = s + n;
    bool open = false;
    do {
        size_t slice = (size_t)(end - s) < ESCAPE_SLICE ? (size_t)(end - s) : ESCAPE_SLICE;
        if (w->len + 6 * slice + 3 > w->cap) /* and both quotes */
            grow(w, 6 * slice + 2);
        if (w->failed)
            return;
        if (!open)
            w->buf[w->len++] = '"';
        open = true;
        s = escape_slice(w, s, s + slice, end);
    } while (s < end);
    w->buf[w->len++] = '"';
}

void jsonw_key(jsonw *w, const char *key)
{
    begin_value(w);
    escaped(w, (const unsigned char *)key, strlen(key));
    put(w, ":", 1);
    w->after_key = true;
}

void jsonw_stringn(jsonw *w, const char *s, size_t n)
{
    begin_value(w);
    escaped(w, (const unsigned char *)s, n);
}

void jsonw_string(jsonw *w, const char *s)
{
    jsonw_stringn(w, s, strlen(s));
}

void jsonw_base64(jsonw *w, const void *data, size_t n)
{
    begin_value(w);
    if (n > (size_t)INT32_MAX / 2) {
        w->failed = true;
        return;
    }
    size_t text = 4 * ((n + 2) / 3);
    if (w->len + text + 3 > w->cap) /* quotes, and the NUL EVP_EncodeBlock adds */
        grow(w, text + 2);
    if (w->failed)
        return;
    w->buf[w->len++] = '"';
    w->len += (size_t)EVP_EncodeBlock((unsigned char *)w->buf + w->len, data, (int)n);
    w->buf[w->len++] = '"';
}

void jsonw_bool(jsonw *w, bool b)
{
    begin_value(w);
    put(w, b ? "true" : "false", b ? 4 : 5);
}

void jsonw_int(jsonw *w, long long v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", v);
    begin_value(w);
    put(w, num, (size_t)n);
}

void jsonw_raw(jsonw *w, const char *json, size_t n)
{
    begin_value(w);
    put(w, json, n);
}

static int key_order(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void value_at(jsonw *w, json_t *v, unsigned depth);

static void object_sorted(jsonw *w, json_t *obj, unsigned depth)
{
    size_t n = json_object_size(obj), i = 0;
    const char **keys = n ? malloc(n * sizeof *keys) : NULL;
    if (n && !keys) {
        w->failed = true;
        return;
    }
    const char *key;
    json_t *member;
    json_object_foreach(obj, key, member)
        keys[i++] = key;
    if (n > 1)
        qsort(keys, n, sizeof *keys, key_order);
    jsonw_object(w);
    for (i = 0; i < n; i++) {
        jsonw_key(w, keys[i]);
        value_at(w, json_object_get(obj, keys[i]), depth + 1);
    }
    jsonw_end(w);
    free(keys);
}

static void value_at(jsonw *w, json_t *v, unsigned depth)
{
    if (depth > VALUE_DEPTH_MAX) {
        w->failed = true;
        return;
    }
    char num[32];
    size_t n;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        object_sorted(w, v, depth);
        break;
    case JSON_ARRAY:
        jsonw_array(w);
        for (size_t i = 0; i < json_array_size(v); i++)
            value_at(w, json_array_get(v, i), depth + 1);
        jsonw_end(w);
        break;
    case JSON_STRING:
        jsonw_stringn(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        jsonw_int(w, (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        n = (size_t)snprintf(num, sizeof num, "%.17g", json_real_value(v));
        if (!strpbrk(num, ".eE") && n + 3 <= sizeof num) { /* so it reads back as a real */
            memcpy(num + n, ".0", 3);
            n += 2;
        }
        jsonw_raw(w, num, n);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        jsonw_bool(w, json_is_true(v));
        break;
    default:
        jsonw_raw(w, "null", 4);
    }
}

void jsonw_value(jsonw *w, json_t *v)
{
    if (v)
        value_at(w, v, 0);
    else
        jsonw_raw(w, "null", 4);
}
