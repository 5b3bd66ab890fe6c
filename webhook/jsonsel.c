#include "jsonsel.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define NUMBER_MAX 64  /* longest number lexeme that is built (skipped: any) */
#define KEY_INLINE 128 /* member names up to this length need no allocation */

typedef struct parser {
    const unsigned char *start, *p, *end;
    size_t depth, max_depth;
    char *buf;        /* the last decoded string, NUL-terminated */
    size_t len, cap;
    const char *what; /* first error, at err_at */
    const unsigned char *err_at;
    bool nomem;
} parser;

static int fail(parser *ps, const char *what)
{
    if (!ps->what) {
        ps->what = what;
        ps->err_at = ps->p;
    }
    return -1;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static int buf_put(parser *ps, const void *data, size_t n)
{
    if (ps->len + n + 1 > ps->cap) {
        size_t cap = ps->cap ? ps->cap : 256;
        while (cap < ps->len + n + 1)
            cap *= 2;
        char *b = realloc(ps->buf, cap);
        if (!b) {
            ps->nomem = true;
            return fail(ps, "out of memory");
        }
        ps->buf = b;
        ps->cap = cap;
    }
    memcpy(ps->buf + ps->len, data, n);
    ps->len += n;
    ps->buf[ps->len] = '\0';
    return 0;
}

static int hex4(parser *ps, unsigned *out)
{
    if (ps->end - ps->p < 4)
        return fail(ps, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = ps->p[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? c - 'a' + 10u
                   : c >= 'A' && c <= 'F' ? c - 'A' + 10u : 16u;
        if (d == 16)
            return fail(ps, "invalid \\u escape");
        v = v * 16 + d;
    }
    ps->p += 4;
    *out = v;
    return 0;
}

/* After "\u": one code point, a surrogate pair counted as one. */
static int unicode_escape(parser *ps, bool decode)
{
    unsigned cp;
    if (hex4(ps, &cp) != 0)
        return -1;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(ps, "invalid Unicode escape: lone low surrogate");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        unsigned lo;
        if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
            return fail(ps, "invalid Unicode escape: unpaired high surrogate");
        ps->p += 2;
        if (hex4(ps, &lo) != 0)
            return -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(ps, "invalid Unicode escape: unpaired high surrogate");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    if (cp == 0)
        return fail(ps, "\\u0000 is not allowed");
    if (!decode)
        return 0;
    unsigned char u[4];
    size_t n;
    if (cp < 0x80) { u[0] = (unsigned char)cp; n = 1; }
    else if (cp < 0x800) { u[0] = (unsigned char)(0xC0 | cp >> 6); n = 2; }
    else if (cp < 0x10000) { u[0] = (unsigned char)(0xE0 | cp >> 12); n = 3; }
    else { u[0] = (unsigned char)(0xF0 | cp >> 18); n = 4; }
    for (size_t i = 1; i < n; i++)
        u[i] = (unsigned char)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3F));
    return buf_put(ps, u, n);
}

static int escape(parser *ps, bool decode)
{
    if (ps->p >= ps->end)
        return fail(ps, "unterminated string");
    unsigned char c = *ps->p++;
    char out;
    switch (c) {
    case '"': case '\\': case '/': out = (char)c; break;
    case 'b': out = '\b'; break;
    case 'f': out = '\f'; break;
    case 'n': out = '\n'; break;
    case 'r': out = '\r'; break;
    case 't': out = '\t'; break;
    case 'u': return unicode_escape(ps, decode);
    default: return fail(ps, "invalid escape");
    }
    return decode ? buf_put(ps, &out, 1) : 0;
}

/* At the opening quote of a string that holds escapes: decodes it into
 * ps->buf. */
static int string(parser *ps)
{
    ps->p++;
    ps->len = 0;
    if (buf_put(ps, "", 0) != 0)
        return -1;
    for (;;) {
        size_t run = json_plain_run(ps->p, ps->end);
        if (run && buf_put(ps, ps->p, run) != 0)
            return -1;
        ps->p += run;
        if (ps->p >= ps->end)
            return fail(ps, "unterminated string");
        unsigned char c = *ps->p;
        if (c == '"') {
            ps->p++;
            return 0;
        }
        if (c == '\\') {
            ps->p++;
            if (escape(ps, true) != 0)
                return -1;
        } else if (c < 0x20) {
            return fail(ps, "control character in string");
        } else {
            size_t n = utf8_seq_len(ps->p, ps->end);
            if (n == 0)
                return fail(ps, "invalid UTF-8 in string");
            if (buf_put(ps, ps->p, n) != 0)
                return -1;
            ps->p += n;
        }
    }
}

/* The escapes that stand for one byte; "\\u" is the other kind. */
static bool short_escape(unsigned char c)
{
    static const bool one_byte[256] = {['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1,
                                       ['f'] = 1, ['n'] = 1, ['r'] = 1, ['t'] = 1};
    return one_byte[c];
}

/* At the opening quote: validates the string and moves past it, building
 * nothing. The bytes between the quotes are raw[0..*n). Returns 1 when they
 * hold escapes (the text differs from them: decode with string()), 0 when
 * they are the text itself, -1 on error. Most strings of a review are
 * skipped or plain, so this loop, not string(), is the decoder's hot path. */
static int scan_string(parser *ps, const unsigned char **raw, size_t *n)
{
    const unsigned char *p = ps->p + 1, *end = ps->end;
    int escapes = 0;
    *raw = p;
    for (;;) {
        p += json_plain_run(p, end);
        if (p >= end) {
            ps->p = p;
            return fail(ps, "unterminated string");
        }
        unsigned char c = *p;
        if (c == '"')
            break;
        if (c == '\\') {
            escapes = 1;
            if (end - p >= 2 && short_escape(p[1])) {
                p += 2;
                continue;
            }
            ps->p = p + 1;
            if (escape(ps, false) != 0)
                return -1;
            p = ps->p;
        } else if (c < 0x20) {
            ps->p = p;
            return fail(ps, "control character in string");
        } else {
            size_t len = utf8_seq_len(p, end);
            if (len == 0) {
                ps->p = p;
                return fail(ps, "invalid UTF-8 in string");
            }
            p += len;
        }
    }
    *n = (size_t)(p - *raw);
    ps->p = p + 1;
    return escapes;
}

/* The text of the string scanned from the quote at q: raw itself when it
 * holds no escapes, else decoded into ps->buf. NULL on error. */
static const char *string_text(parser *ps, const unsigned char *q, int escapes,
                               const unsigned char *raw, size_t *n)
{
    if (!escapes)
        return (const char *)raw;
    const unsigned char *after = ps->p;
    ps->p = q;
    if (string(ps) != 0)
        return NULL;
    ps->p = after;
    *n = ps->len;
    return ps->buf;
}

static bool digit(const parser *ps)
{
    return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

static int digits(parser *ps)
{
    if (!digit(ps))
        return fail(ps, "invalid number");
    while (digit(ps))
        ps->p++;
    return 0;
}

static int number(parser *ps, json_t **out)
{
    const unsigned char *start = ps->p;
    bool real = false;
    if (*ps->p == '-')
        ps->p++;
    if (ps->p < ps->end && *ps->p == '0')
        ps->p++;
    else if (digits(ps) != 0)
        return -1;
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        real = true;
        if (digits(ps) != 0)
            return -1;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        real = true;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (digits(ps) != 0)
            return -1;
    }
    if (!out)
        return 0;
    char lexeme[NUMBER_MAX + 1];
    size_t n = (size_t)(ps->p - start);
    if (n > NUMBER_MAX)
        return fail(ps, "number too long");
    memcpy(lexeme, start, n);
    lexeme[n] = '\0';
    errno = 0;
    if (real) {
        double d = strtod(lexeme, NULL);
        if (errno == ERANGE && (d > 1.0 || d < -1.0))
            return fail(ps, "real number overflow");
        *out = json_real(d);
    } else {
        long long v = strtoll(lexeme, NULL, 10);
        if (errno == ERANGE)
            return fail(ps, "too big integer");
        *out = json_integer((json_int_t)v);
    }
    return *out ? 0 : fail(ps, "out of memory");
}

static int literal(parser *ps, const char *word, json_t *value, json_t **out)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
        json_decref(value);
        return fail(ps, "invalid token");
    }
    ps->p += n;
    if (out)
        *out = value;
    else
        json_decref(value);
    return 0;
}

static int value(parser *ps, const jsonsel *sel, json_t **out);

static const jsonsel *select_member(const jsonsel *sel, const char *key, size_t n,
                                    bool *keep)
{
    *keep = sel == NULL;
    for (; sel && sel->key; sel++)
        if (strncmp(sel->key, key, n) == 0 && sel->key[n] == '\0') {
            *keep = true;
            return sel->members;
        }
    return NULL;
}

/* One "name": value pair; built into obj when obj is set and sel keeps it. */
static int member(parser *ps, const jsonsel *sel, json_t *obj)
{
    if (ps->p >= ps->end || *ps->p != '"')
        return fail(ps, "string or '}' expected");
    const unsigned char *q = ps->p, *raw;
    size_t n;
    int escapes = scan_string(ps, &raw, &n);
    if (escapes < 0)
        return -1;
    bool keep = false;
    const jsonsel *child = NULL;
    char inline_key[KEY_INLINE];
    char *key = NULL;
    if (obj) {
        const char *name = string_text(ps, q, escapes, raw, &n);
        if (!name)
            return -1;
        child = select_member(sel, name, n, &keep);
        if (keep) {
            key = n < sizeof inline_key ? inline_key : malloc(n + 1);
            if (!key)
                return fail(ps, "out of memory");
            memcpy(key, name, n);
            key[n] = '\0';
            if (json_object_get(obj, key)) {
                if (key != inline_key)
                    free(key);
                return fail(ps, "duplicate object key");
            }
        }
    }
    skip_ws(ps);
    int rc = -1;
    json_t *v = NULL;
    if (ps->p >= ps->end || *ps->p != ':') {
        fail(ps, "':' expected");
    } else {
        ps->p++;
        skip_ws(ps);
        rc = value(ps, child, keep ? &v : NULL);
    }
    if (rc == 0 && keep && json_object_set_new_nocheck(obj, key, v) != 0)
        rc = fail(ps, "out of memory");
    if (key != inline_key)
        free(key);
    return rc;
}

/* Objects and arrays: '{' or '[' at p. out NULL: validate only. */
static int container(parser *ps, const jsonsel *sel, json_t **out)
{
    bool is_object = *ps->p == '{';
    char close = is_object ? '}' : ']';
    if (++ps->depth > ps->max_depth)
        return fail(ps, "nested too deep");
    ps->p++;
    json_t *c = NULL;
    if (out && !(c = is_object ? json_object() : json_array()))
        return fail(ps, "out of memory");
    skip_ws(ps);
    int rc = 0;
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
    } else {
        for (;;) {
            json_t *elem = NULL;
            if (is_object)
                rc = member(ps, sel, c);
            else if ((rc = value(ps, sel, c ? &elem : NULL)) == 0 && c &&
                     json_array_append_new(c, elem) != 0)
                rc = fail(ps, "out of memory");
            if (rc != 0)
                break;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                skip_ws(ps);
                continue;
            }
            if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                break;
            }
            rc = fail(ps, is_object ? "',' or '}' expected" : "',' or ']' expected");
            break;
        }
    }
    ps->depth--;
    if (rc != 0) {
        json_decref(c);
        return -1;
    }
    if (out)
        *out = c;
    return 0;
}

static int value(parser *ps, const jsonsel *sel, json_t **out)
{
    if (ps->p >= ps->end)
        return fail(ps, "unexpected end of input");
    switch (*ps->p) {
    case '{':
    case '[':
        return container(ps, sel, out);
    case '"': {
        const unsigned char *q = ps->p, *raw;
        size_t n;
        int escapes = scan_string(ps, &raw, &n);
        if (escapes < 0 || !out)
            return escapes < 0 ? -1 : 0;
        const char *text = string_text(ps, q, escapes, raw, &n);
        if (!text)
            return -1;
        if (!(*out = json_stringn_nocheck(text, n)))
            return fail(ps, "out of memory");
        return 0;
    }
    case 't': return literal(ps, "true", json_true(), out);
    case 'f': return literal(ps, "false", json_false(), out);
    case 'n': return literal(ps, "null", json_null(), out);
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
            return number(ps, out);
        return fail(ps, "invalid token");
    }
}

static void position(const parser *ps, size_t *line, size_t *column)
{
    *line = 1;
    const unsigned char *bol = ps->start;
    for (const unsigned char *q = ps->start; q < ps->err_at; q++)
        if (*q == '\n') {
            (*line)++;
            bol = q + 1;
        }
    *column = (size_t)(ps->err_at - bol) + 1;
}

json_t *jsonsel_decode(const char *buf, size_t len, const jsonsel *members,
                       size_t max_depth, tp_error *err)
{
    parser ps = {.start = (const unsigned char *)buf, .p = (const unsigned char *)buf,
                 .end = (const unsigned char *)buf + len, .max_depth = max_depth};
    json_t *root = NULL;
    skip_ws(&ps);
    if (ps.p >= ps.end || (*ps.p != '{' && *ps.p != '['))
        fail(&ps, "'[' or '{' expected");
    else if (container(&ps, members, &root) == 0) {
        skip_ws(&ps);
        if (ps.p < ps.end)
            fail(&ps, "end of file expected");
    }
    free(ps.buf);
    if (!ps.what)
        return root;
    json_decref(root);
    if (ps.nomem) {
        tp_error_set(err, TP_NOMEM, "out of memory decoding JSON");
        return NULL;
    }
    size_t line, column;
    position(&ps, &line, &column);
    if (strcmp(ps.what, "nested too deep") == 0)
        tp_error_set(err, TP_JSON, "nested deeper than %zu levels at line %zu column %zu",
                     max_depth, line, column);
    else
        tp_error_set(err, TP_JSON, "%s at line %zu column %zu", ps.what, line, column);
    return NULL;
}
