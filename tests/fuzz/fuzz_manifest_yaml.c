/* Arbitrary bytes into manifest_yaml_parse (every scalar, or only "image"
 * ones, by the first byte). A file that parses must record scalars whose
 * spans lie inside the input and whose pointers resolve in their document;
 * one that does not must say "fuzz:..." why. The first scalars are also
 * rewritten as pin would and the result read again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_edit.h"
#include "jsonptr.h"
#include "manifest_yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void rewrite(const char *buf, size_t len, const manifest_scalar *s)
{
    manifest_edit e = {.start = s->start, .end = s->end};
    tp_error err;
    if (manifest_edit_render("registry.example/app:1@sha256:0123456789abcdef0123456789abcdef"
                             "0123456789abcdef0123456789abcdef", s->style, &e.text, &err) != TP_OK)
        return;
    char *out;
    size_t out_len;
    manifest_file again;
    if (manifest_edit_apply(buf, len, &e, 1, &out, &out_len, &err) == TP_OK) {
        if (manifest_yaml_parse(out, out_len, "again", NULL, &again, &err) == TP_OK)
            manifest_file_cleanup(&again);
        free(out);
    }
    free(e.text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    manifest_file f;
    tp_error err;
    const char *key = size > 0 && (data[0] & 1) ? "image" : NULL;
    tp_code rc = manifest_yaml_parse(buf, size, "fuzz", key, &f, &err);
    if (rc != TP_OK) {
        if (rc != TP_NOMEM && strncmp(err.msg, "fuzz", 4) != 0)
            abort();
        return 0;
    }
    size_t rewritten = 0;
    for (size_t d = 0; d < f.n_docs; d++) {
        const manifest_doc *doc = &f.docs[d];
        if (!doc->root || doc->first + doc->count > f.n_scalars)
            abort();
        for (size_t i = doc->first; i < doc->first + doc->count; i++) {
            const manifest_scalar *s = &f.scalars[i];
            if (s->start > s->end || s->end > size || s->line == 0 || s->column == 0)
                abort();
            if (!jsonptr_get(doc->root, s->pointer))
                abort();
            if (manifest_doc_find(&f, doc, s->pointer) == NULL)
                abort();
            if (rewritten < 4 && !s->via_alias) {
                rewrite(buf, size, s);
                rewritten++;
            }
        }
    }
    manifest_file_cleanup(&f);
    return 0;
}
