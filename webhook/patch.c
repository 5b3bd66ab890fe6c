#include "patch.h"

#include <stdio.h>
#include <string.h>

tp_code patch_escape_token(const char *token, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = token; *p; p++) {
        const char *rep = *p == '~' ? "~0" : *p == '/' ? "~1" : NULL;
        size_t n = rep ? 2 : 1;
        if (o + n >= cap)
            return TP_TOO_LARGE;
        if (rep) {
            memcpy(out + o, rep, 2);
        } else {
            out[o] = *p;
        }
        o += n;
    }
    if (o >= cap)
        return TP_TOO_LARGE;
    out[o] = '\0';
    return TP_OK;
}

tp_code patch_pinned_image(const char *written, const ref_t *ref,
                           const char *digest, policy_output output,
                           char *out, size_t cap)
{
    size_t keep = strlen(written);
    if (output == POLICY_OUTPUT_DIGEST && ref->written_name_len <= keep)
        keep = ref->written_name_len;
    int w = snprintf(out, cap, "%.*s@%s", (int)keep, written, digest);
    return (w < 0 || (size_t)w >= cap) ? TP_TOO_LARGE : TP_OK;
}

/* {"op":op,"path":path,"value": opens here; the caller writes the value
 * and closes the op with jsonw_end. */
static void begin_op(jsonw *ops, const char *op, const char *path)
{
    jsonw_object(ops);
    jsonw_key(ops, "op");
    jsonw_string(ops, op);
    jsonw_key(ops, "path");
    jsonw_string(ops, path);
    jsonw_key(ops, "value");
}

void patch_add_replace(jsonw *ops, const char *path, const char *value)
{
    begin_op(ops, "replace", path);
    jsonw_string(ops, value);
    jsonw_end(ops);
}

void patch_add_annotation(jsonw *ops, json_t *object, const char *value)
{
    json_t *meta = json_object_get(object, "metadata");
    json_t *annotations = json_object_get(meta, "annotations");
    if (!json_is_object(meta)) {
        begin_op(ops, "add", "/metadata");
        jsonw_object(ops);
        jsonw_key(ops, "annotations");
    } else if (!json_is_object(annotations)) {
        begin_op(ops, "add", "/metadata/annotations");
    } else {
        /* "add" on an existing member replaces it (RFC 6902 4.1). */
        begin_op(ops, "add", "/metadata/annotations/" PATCH_ANNOTATION_TOKEN);
        jsonw_string(ops, value);
        jsonw_end(ops);
        return;
    }
    jsonw_object(ops);
    jsonw_key(ops, PATCH_ANNOTATION);
    jsonw_string(ops, value);
    jsonw_end(ops);
    if (!json_is_object(meta))
        jsonw_end(ops);
    jsonw_end(ops);
}
