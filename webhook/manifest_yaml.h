/* Multi-document YAML manifests read into JSON, remembering where each scalar
 * was written, so that `tagpin pin` can rewrite an image value in place and
 * `tagpin check` can say FILE:LINE:COL.
 *
 * Values are typed as kubectl's YAML-to-JSON conversion types them (YAML
 * 1.1): quoted and !!str scalars are strings; plain ones may be null, bool,
 * int or float; mapping keys are always strings. Aliases are expanded (with
 * a budget, so a billion-laughs file is refused); merge keys (<<), complex
 * keys and duplicate keys are refused rather than guessed at. Only UTF-8. */
#ifndef TAGPIN_MANIFEST_YAML_H
#define TAGPIN_MANIFEST_YAML_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../resolver/error.h"

#define MANIFEST_FILE_MAX (8u << 20)     /* bytes per file */
#define MANIFEST_DOCS_MAX 10000          /* documents per file */
#define MANIFEST_DEPTH_MAX 48            /* nesting; workloads need ~15 */
#define MANIFEST_NODES_MAX (1u << 20)    /* values per file, aliases expanded */
#define MANIFEST_ALIAS_NODES_MAX 100000  /* values copied through aliases per file */
#define MANIFEST_POINTER_MAX 512         /* longer pointers are not recorded */

typedef enum manifest_style {
    MANIFEST_PLAIN,
    MANIFEST_SINGLE_QUOTED,
    MANIFEST_DOUBLE_QUOTED,
    MANIFEST_LITERAL, /* | block */
    MANIFEST_FOLDED,  /* > block */
} manifest_style;

/* One scalar value (never a key) and where its text is. */
typedef struct manifest_scalar {
    char *pointer;        /* owned by the file: RFC 6901 pointer in its document */
    size_t start, end;    /* byte offsets of the text in the input, quotes included */
    unsigned line, column;/* 1-based; column counts characters */
    manifest_style style;
    bool via_alias;       /* reached through *alias: the text is the anchor's */
    bool anchored;        /* carries &anchor: the text may be used elsewhere too */
} manifest_scalar;

typedef struct manifest_doc {
    json_t *root;          /* owned by the file; json null for an empty document */
    unsigned line, column; /* where its content starts (1-based) */
    size_t first, count;   /* its scalars: file.scalars[first .. first+count) */
} manifest_doc;

typedef struct manifest_file {
    manifest_doc *docs;
    size_t n_docs;
    manifest_scalar *scalars;
    size_t n_scalars;
} manifest_file;

/* Parses buf[0..len). source names the input in errors, which read
 * "SOURCE:LINE:COL: what is wrong" (TP_INVAL for YAML errors and refused
 * constructs, TP_TOO_LARGE past a cap, TP_NOMEM). only_key: record only the
 * scalars whose last pointer token is this key (e.g. "image"); NULL records
 * every scalar value. On success the caller owns *out and calls
 * manifest_file_cleanup; on failure *out holds nothing. */
tp_code manifest_yaml_parse(const char *buf, size_t len, const char *source,
                            const char *only_key, manifest_file *out, tp_error *err);
void manifest_file_cleanup(manifest_file *f);

/* The recorded scalar of doc at pointer, or NULL. Borrowed from f. */
const manifest_scalar *manifest_doc_find(const manifest_file *f, const manifest_doc *doc,
                                         const char *pointer);

#endif
