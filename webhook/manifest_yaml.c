/* libyaml's event API, not its document loader: the loader tags every
 * untagged scalar as !!str, which would make `replicas: 3` a string, and it
 * keeps no byte offsets (marks count characters; see byte_offset). */
#include "manifest_yaml.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "yaml11.h"

typedef struct frame {
    json_t *node;        /* borrowed: held by its parent or the document */
    bool is_map;
    char *key;           /* owned pending key of a mapping; NULL: a key comes next */
    size_t key_len;
    size_t path_len;     /* this node's pointer is path[0..path_len) */
    bool path_ok;        /* false: the pointer outgrew MANIFEST_POINTER_MAX */
    char *anchor;        /* owned, or NULL */
    size_t first_scalar; /* scalars recorded inside start here */
    size_t nodes_at_start;
    size_t height;       /* levels below and including this one */
} frame;

typedef struct anchor {
    char *name;          /* owned */
    json_t *value;       /* owned reference */
    size_t path_len;     /* where it was defined, for re-rooting its scalars */
    bool path_ok;
    size_t first, last;  /* its scalars: file.scalars[first..last) */
    size_t nodes, height;
    bool is_scalar;
    manifest_scalar span;/* is_scalar: its text (pointer unused) */
} anchor;

typedef struct parser {
    const char *buf, *source, *only_key;
    size_t len, cur_char, cur_byte, bom;
    manifest_file *out;
    size_t cap_docs, cap_scalars;
    frame stack[MANIFEST_DEPTH_MAX];
    size_t depth;
    json_t *root;        /* owned: the document being built */
    bool doc_placed;     /* the document's position is known */
    manifest_doc doc;
    char path[MANIFEST_POINTER_MAX];
    anchor *anchors;
    size_t n_anchors, cap_anchors;
    size_t nodes, alias_nodes;
    tp_error *err;
} parser;

static tp_code fail(parser *p, yaml_mark_t m, tp_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static tp_code fail(parser *p, yaml_mark_t m, tp_code code, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return tp_error_set(p->err, code, "%s:%zu:%zu: %s", p->source, m.line + 1,
                        m.column + 1, what);
}

/* libyaml counts characters (a UTF-8 sequence is one) after the BOM; marks
 * mostly move forward, so a cursor makes the walk linear. */
static size_t byte_offset(parser *p, size_t char_index)
{
    if (char_index < p->cur_char) {
        p->cur_char = 0;
        p->cur_byte = p->bom;
    }
    while (p->cur_char < char_index && p->cur_byte < p->len) {
        p->cur_byte++;
        while (p->cur_byte < p->len && ((unsigned char)p->buf[p->cur_byte] & 0xC0) == 0x80)
            p->cur_byte++;
        p->cur_char++;
    }
    return p->cur_byte;
}

static manifest_style style_of(yaml_scalar_style_t s)
{
    switch (s) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE: return MANIFEST_SINGLE_QUOTED;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return MANIFEST_DOUBLE_QUOTED;
    case YAML_LITERAL_SCALAR_STYLE: return MANIFEST_LITERAL;
    case YAML_FOLDED_SCALAR_STYLE: return MANIFEST_FOLDED;
    default: return MANIFEST_PLAIN;
    }
}

static json_t *scalar_value(const yaml_event_t *e)
{
    const char *tag = (const char *)e->data.scalar.tag;
    bool plain = !tag && e->data.scalar.plain_implicit &&
                 e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    return yaml11_scalar((const char *)e->data.scalar.value, e->data.scalar.length, tag, plain);
}

/* Appends the pointer token of top's next child; returns its length. */
static size_t child_path(parser *p, const frame *top, bool *ok)
{
    if (!top) {
        *ok = true;
        return 0;
    }
    *ok = top->path_ok;
    size_t n = top->path_len;
    char idx[24];
    const char *tok = top->key;
    size_t tok_len = top->key_len;
    if (!top->is_map) {
        snprintf(idx, sizeof idx, "%zu", json_array_size(top->node));
        tok = idx;
        tok_len = strlen(idx);
    }
    if (n + 1 >= sizeof p->path) {
        *ok = false;
        return n;
    }
    p->path[n++] = '/';
    for (size_t i = 0; i < tok_len && *ok; i++) {
        const char *esc = tok[i] == '~' ? "~0" : tok[i] == '/' ? "~1" : NULL;
        size_t w = esc ? 2 : 1;
        if (n + w >= sizeof p->path) {
            *ok = false;
            break;
        }
        memcpy(p->path + n, esc ? esc : &tok[i], w);
        n += w;
    }
    return n;
}

static bool wanted(const parser *p, const frame *top, bool path_ok)
{
    if (!path_ok)
        return false;
    if (!p->only_key)
        return true;
    return top && top->is_map && strcmp(top->key, p->only_key) == 0;
}

static tp_code add_scalar(parser *p, const manifest_scalar *s, const char *ptr, size_t ptr_len)
{
    if (p->out->n_scalars == p->cap_scalars) {
        size_t cap = p->cap_scalars ? p->cap_scalars * 2 : 64;
        manifest_scalar *grown = realloc(p->out->scalars, cap * sizeof *grown);
        if (!grown)
            return tp_error_set(p->err, TP_NOMEM, NULL);
        p->out->scalars = grown;
        p->cap_scalars = cap;
    }
    char *copy = malloc(ptr_len + 1);
    if (!copy)
        return tp_error_set(p->err, TP_NOMEM, NULL);
    memcpy(copy, ptr, ptr_len);
    copy[ptr_len] = '\0';
    manifest_scalar *dst = &p->out->scalars[p->out->n_scalars++];
    *dst = *s;
    dst->pointer = copy;
    return TP_OK;
}

static tp_code count_node(parser *p, yaml_mark_t m, size_t n)
{
    if (p->nodes + n > MANIFEST_NODES_MAX)
        return fail(p, m, TP_TOO_LARGE, "more than %u values", MANIFEST_NODES_MAX);
    p->nodes += n;
    return TP_OK;
}

/* Places v (stolen) under the top frame or as the document. */
static tp_code attach(parser *p, frame *top, json_t *v, size_t height)
{
    if (!v)
        return tp_error_set(p->err, TP_NOMEM, NULL);
    if (!top) {
        p->root = v;
        return TP_OK;
    }
    int rc = top->is_map ? json_object_setn_new(top->node, top->key, top->key_len, v)
                         : json_array_append_new(top->node, v);
    if (top->is_map) {
        free(top->key);
        top->key = NULL;
    }
    if (height + 1 > top->height)
        top->height = height + 1;
    return rc == 0 ? TP_OK : tp_error_set(p->err, TP_NOMEM, NULL);
}

static tp_code add_anchor(parser *p, const char *name, json_t *value, anchor *a)
{
    if (p->n_anchors == p->cap_anchors) {
        size_t cap = p->cap_anchors ? p->cap_anchors * 2 : 8;
        anchor *grown = realloc(p->anchors, cap * sizeof *grown);
        if (!grown)
            return tp_error_set(p->err, TP_NOMEM, NULL);
        p->anchors = grown;
        p->cap_anchors = cap;
    }
    a->name = strdup(name);
    if (!a->name)
        return tp_error_set(p->err, TP_NOMEM, NULL);
    a->value = json_incref(value);
    p->anchors[p->n_anchors++] = *a;
    return TP_OK;
}

static void clear_anchors(parser *p)
{
    for (size_t i = 0; i < p->n_anchors; i++) {
        free(p->anchors[i].name);
        json_decref(p->anchors[i].value);
    }
    p->n_anchors = 0;
}

static unsigned chars_between(const parser *p, size_t from, size_t to)
{
    unsigned n = 0;
    for (size_t b = from; b < to; b++)
        n += ((unsigned char)p->buf[b] & 0xC0) != 0x80;
    return n;
}

/* A scalar's mark starts at its properties (&anchor, !tag); the text comes
 * after them, possibly after a comment and on a later line. */
static void skip_properties(const parser *p, manifest_scalar *s)
{
    size_t i = s->start, line_start = s->start;
    bool new_line = false;
    while (i < s->end) {
        char c = p->buf[i];
        if (c == ' ' || c == '\t' || c == '\r') {
            i++;
        } else if (c == '\n') {
            line_start = ++i;
            new_line = true;
            s->line++;
        } else if (c == '#') {
            while (i < s->end && p->buf[i] != '\n')
                i++;
        } else if (c == '&' || c == '!') {
            while (i < s->end && !strchr(" \t\r\n", p->buf[i]))
                i++;
        } else {
            break;
        }
    }
    s->column = new_line ? 1 + chars_between(p, line_start, i)
                         : s->column + chars_between(p, s->start, i);
    s->start = i;
}

static manifest_scalar span_of(parser *p, const yaml_event_t *e)
{
    manifest_scalar s = {
        .line = (unsigned)e->start_mark.line + 1,
        .column = (unsigned)e->start_mark.column + 1,
        .style = style_of(e->data.scalar.style),
        .anchored = e->data.scalar.anchor != NULL,
    };
    s.start = byte_offset(p, e->start_mark.index);
    s.end = byte_offset(p, e->end_mark.index);
    if (e->data.scalar.anchor || e->data.scalar.tag)
        skip_properties(p, &s);
    return s;
}

static tp_code on_scalar(parser *p, frame *top, const yaml_event_t *e, size_t plen, bool pok)
{
    tp_code rc = count_node(p, e->start_mark, 1);
    if (rc != TP_OK)
        return rc;
    manifest_scalar span = span_of(p, e);
    if (wanted(p, top, pok) && (rc = add_scalar(p, &span, p->path, plen)) != TP_OK)
        return rc;
    json_t *v = scalar_value(e);
    if (e->data.scalar.anchor) {
        anchor a = {.is_scalar = true, .span = span, .nodes = 1, .path_len = plen,
                    .path_ok = pok, .first = p->out->n_scalars, .last = p->out->n_scalars};
        if (v && (rc = add_anchor(p, (const char *)e->data.scalar.anchor, v, &a)) != TP_OK) {
            json_decref(v);
            return rc;
        }
    }
    return attach(p, top, v, 0);
}

/* Records the anchor's scalars again under the alias's pointer. */
static tp_code copy_scalars(parser *p, const anchor *a, size_t plen)
{
    for (size_t i = a->first; i < a->last; i++) {
        manifest_scalar s = p->out->scalars[i];
        const char *rest = s.pointer + a->path_len;
        size_t rest_len = strlen(rest);
        if (plen + rest_len >= sizeof p->path)
            continue;
        memcpy(p->path + plen, rest, rest_len);
        s.via_alias = true;
        tp_code rc = add_scalar(p, &s, p->path, plen + rest_len);
        if (rc != TP_OK)
            return rc;
    }
    return TP_OK;
}

static tp_code on_alias(parser *p, frame *top, const yaml_event_t *e, size_t plen, bool pok)
{
    const char *name = (const char *)e->data.alias.anchor;
    const anchor *a = NULL;
    for (size_t i = p->n_anchors; i-- > 0 && !a;)
        if (strcmp(p->anchors[i].name, name) == 0)
            a = &p->anchors[i];
    if (!a)
        return fail(p, e->start_mark, TP_INVAL, "undefined alias *%s", name);
    if (p->alias_nodes + a->nodes > MANIFEST_ALIAS_NODES_MAX)
        return fail(p, e->start_mark, TP_TOO_LARGE, "aliases expand to more than %u values",
                    MANIFEST_ALIAS_NODES_MAX);
    if (p->depth + a->height > MANIFEST_DEPTH_MAX)
        return fail(p, e->start_mark, TP_TOO_LARGE, "nested deeper than %d levels",
                    MANIFEST_DEPTH_MAX);
    tp_code rc = count_node(p, e->start_mark, a->nodes);
    if (rc != TP_OK)
        return rc;
    p->alias_nodes += a->nodes;
    if (a->is_scalar && wanted(p, top, pok)) {
        manifest_scalar s = a->span;
        s.via_alias = true;
        rc = add_scalar(p, &s, p->path, plen);
    } else if (!a->is_scalar && pok && a->path_ok) {
        rc = copy_scalars(p, a, plen);
    }
    if (rc != TP_OK)
        return rc;
    return attach(p, top, json_deep_copy(a->value), a->height);
}

static tp_code on_start(parser *p, frame *top, const yaml_event_t *e, size_t plen, bool pok)
{
    if (p->depth == MANIFEST_DEPTH_MAX)
        return fail(p, e->start_mark, TP_TOO_LARGE, "nested deeper than %d levels",
                    MANIFEST_DEPTH_MAX);
    tp_code rc = count_node(p, e->start_mark, 1);
    if (rc != TP_OK)
        return rc;
    bool is_map = e->type == YAML_MAPPING_START_EVENT;
    const yaml_char_t *anchor_name = is_map ? e->data.mapping_start.anchor
                                            : e->data.sequence_start.anchor;
    json_t *node = is_map ? json_object() : json_array();
    frame f = {.node = node, .is_map = is_map, .path_len = plen, .path_ok = pok,
               .first_scalar = p->out->n_scalars, .nodes_at_start = p->nodes - 1,
               .height = 1};
    if (anchor_name && !(f.anchor = strdup((const char *)anchor_name))) {
        json_decref(node);
        return tp_error_set(p->err, TP_NOMEM, NULL);
    }
    if ((rc = attach(p, top, node, 1)) != TP_OK) {
        free(f.anchor);
        return rc;
    }
    p->stack[p->depth++] = f;
    return TP_OK;
}

static tp_code on_end(parser *p)
{
    frame f = p->stack[--p->depth];
    free(f.key);
    frame *parent = p->depth ? &p->stack[p->depth - 1] : NULL;
    if (parent && f.height + 1 > parent->height)
        parent->height = f.height + 1;
    tp_code rc = TP_OK;
    if (f.anchor) {
        anchor a = {.path_len = f.path_len, .path_ok = f.path_ok, .first = f.first_scalar,
                    .last = p->out->n_scalars, .nodes = p->nodes - f.nodes_at_start,
                    .height = f.height};
        rc = add_anchor(p, f.anchor, f.node, &a);
        free(f.anchor);
    }
    return rc;
}

static tp_code on_key(parser *p, frame *top, const yaml_event_t *e)
{
    if (e->type != YAML_SCALAR_EVENT)
        return fail(p, e->start_mark, TP_INVAL, "only plain or quoted keys are supported");
    const char *k = (const char *)e->data.scalar.value;
    size_t len = e->data.scalar.length;
    if (e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strcmp(k, "<<") == 0)
        return fail(p, e->start_mark, TP_INVAL, "merge keys (<<) are not supported; "
                                                "write the keys out");
    if (memchr(k, '\0', len))
        return fail(p, e->start_mark, TP_INVAL, "a key holds a NUL character");
    if (json_object_getn(top->node, k, len))
        return fail(p, e->start_mark, TP_INVAL, "duplicate key \"%.100s\"", k);
    if (!(top->key = malloc(len + 1)))
        return tp_error_set(p->err, TP_NOMEM, NULL);
    memcpy(top->key, k, len + 1);
    top->key_len = len;
    if (e->data.scalar.anchor) {
        anchor a = {.is_scalar = true, .span = span_of(p, e), .nodes = 1,
                    .first = p->out->n_scalars, .last = p->out->n_scalars};
        json_t *v = json_stringn(k, len);
        tp_code rc = v ? add_anchor(p, (const char *)e->data.scalar.anchor, v, &a)
                       : tp_error_set(p->err, TP_NOMEM, NULL);
        json_decref(v);
        return rc;
    }
    return TP_OK;
}

static tp_code on_node(parser *p, const yaml_event_t *e)
{
    frame *top = p->depth ? &p->stack[p->depth - 1] : NULL;
    if (top && top->is_map && !top->key)
        return on_key(p, top, e);
    if (!p->doc_placed) {
        p->doc.line = (unsigned)e->start_mark.line + 1;
        p->doc.column = (unsigned)e->start_mark.column + 1;
        p->doc_placed = true;
    }
    bool pok;
    size_t plen = child_path(p, top, &pok);
    switch (e->type) {
    case YAML_SCALAR_EVENT: return on_scalar(p, top, e, plen, pok);
    case YAML_ALIAS_EVENT: return on_alias(p, top, e, plen, pok);
    default: return on_start(p, top, e, plen, pok);
    }
}

static tp_code doc_start(parser *p, const yaml_event_t *e)
{
    if (p->out->n_docs == MANIFEST_DOCS_MAX)
        return fail(p, e->start_mark, TP_TOO_LARGE, "more than %d documents", MANIFEST_DOCS_MAX);
    memset(&p->doc, 0, sizeof p->doc);
    p->doc.first = p->out->n_scalars;
    p->doc.line = (unsigned)e->start_mark.line + 1;
    p->doc.column = (unsigned)e->start_mark.column + 1;
    p->doc_placed = false;
    return TP_OK;
}

static tp_code doc_end(parser *p)
{
    if (p->out->n_docs == p->cap_docs) {
        size_t cap = p->cap_docs ? p->cap_docs * 2 : 8;
        manifest_doc *grown = realloc(p->out->docs, cap * sizeof *grown);
        if (!grown)
            return tp_error_set(p->err, TP_NOMEM, NULL);
        p->out->docs = grown;
        p->cap_docs = cap;
    }
    p->doc.root = p->root ? p->root : json_null();
    p->root = NULL;
    p->doc.count = p->out->n_scalars - p->doc.first;
    p->out->docs[p->out->n_docs++] = p->doc;
    clear_anchors(p);
    return TP_OK;
}

static tp_code on_event(parser *p, const yaml_event_t *e)
{
    switch (e->type) {
    case YAML_DOCUMENT_START_EVENT: return doc_start(p, e);
    case YAML_DOCUMENT_END_EVENT: return doc_end(p);
    case YAML_SCALAR_EVENT:
    case YAML_ALIAS_EVENT:
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: return on_node(p, e);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: return on_end(p);
    default: return TP_OK;
    }
}

static tp_code yaml_failure(parser *p, const yaml_parser_t *yp)
{
    if (yp->error == YAML_MEMORY_ERROR)
        return tp_error_set(p->err, TP_NOMEM, NULL);
    if (yp->error == YAML_READER_ERROR)
        return tp_error_set(p->err, TP_INVAL, "%s: not UTF-8: %s at byte %zu", p->source,
                            yp->problem ? yp->problem : "unreadable", yp->problem_offset);
    if (!yp->context)
        return fail(p, yp->problem_mark, TP_INVAL, "YAML syntax error: %s",
                    yp->problem ? yp->problem : "unknown");
    return fail(p, yp->problem_mark, TP_INVAL, "YAML syntax error: %s (%s at %zu:%zu)",
                yp->problem ? yp->problem : "unknown", yp->context,
                yp->context_mark.line + 1, yp->context_mark.column + 1);
}

static tp_code run(parser *p, yaml_parser_t *yp)
{
    for (;;) {
        yaml_event_t e;
        if (!yaml_parser_parse(yp, &e))
            return yaml_failure(p, yp);
        tp_code rc = on_event(p, &e);
        bool done = e.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&e);
        if (rc != TP_OK || done)
            return rc;
    }
}

tp_code manifest_yaml_parse(const char *buf, size_t len, const char *source,
                            const char *only_key, manifest_file *out, tp_error *err)
{
    memset(out, 0, sizeof *out);
    parser p = {.buf = buf, .len = len, .source = source ? source : "-",
                .only_key = only_key, .out = out, .err = err};
    if (len > MANIFEST_FILE_MAX)
        return tp_error_set(err, TP_TOO_LARGE, "%s: larger than %u bytes", p.source,
                            MANIFEST_FILE_MAX);
    if (len >= 2 && ((buf[0] == '\xFE' && buf[1] == '\xFF') || (buf[0] == '\xFF' && buf[1] == '\xFE')))
        return tp_error_set(err, TP_INVAL, "%s: UTF-16 is not supported; use UTF-8", p.source);
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        p.bom = p.cur_byte = 3;
    yaml_parser_t yp;
    if (!yaml_parser_initialize(&yp))
        return tp_error_set(err, TP_NOMEM, NULL);
    yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
    tp_code rc = run(&p, &yp);
    yaml_parser_delete(&yp);
    while (p.depth > 0) {
        frame *f = &p.stack[--p.depth];
        free(f->key);
        free(f->anchor);
    }
    clear_anchors(&p);
    free(p.anchors);
    json_decref(p.root);
    if (rc != TP_OK)
        manifest_file_cleanup(out);
    return rc;
}

void manifest_file_cleanup(manifest_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n_docs; i++)
        json_decref(f->docs[i].root);
    for (size_t i = 0; i < f->n_scalars; i++)
        free(f->scalars[i].pointer);
    free(f->docs);
    free(f->scalars);
    memset(f, 0, sizeof *f);
}

const manifest_scalar *manifest_doc_find(const manifest_file *f, const manifest_doc *doc,
                                         const char *pointer)
{
    for (size_t i = doc->first; i < doc->first + doc->count && i < f->n_scalars; i++)
        if (strcmp(f->scalars[i].pointer, pointer) == 0)
            return &f->scalars[i];
    return NULL;
}
