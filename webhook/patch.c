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

static int add_op(json_t *ops, const char *op, const char *path, json_t *value)
{
    json_t *o = json_pack("{s:s, s:s, s:o}", "op", op, "path", path, "value", value);
    return o ? json_array_append_new(ops, o) : -1;
}

int patch_add_replace(json_t *ops, const char *path, const char *value)
{
    json_t *v = json_string(value);
    return v ? add_op(ops, "replace", path, v) : -1;
}

int patch_add_annotation(json_t *ops, json_t *object, const char *value)
{
    json_t *meta = json_object_get(object, "metadata");
    json_t *annotations = json_object_get(meta, "annotations");
    if (!json_is_object(meta))
        return add_op(ops, "add", "/metadata",
                      json_pack("{s:{s:s}}", "annotations", PATCH_ANNOTATION, value));
    if (!json_is_object(annotations))
        return add_op(ops, "add", "/metadata/annotations",
                      json_pack("{s:s}", PATCH_ANNOTATION, value));
    char token[64];
    if (patch_escape_token(PATCH_ANNOTATION, token, sizeof token) != TP_OK)
        return -1;
    char path[96];
    int w = snprintf(path, sizeof path, "/metadata/annotations/%s", token);
    if (w < 0 || (size_t)w >= sizeof path)
        return -1;
    /* "add" on an existing member replaces it (RFC 6902 4.1). */
    json_t *v = json_string(value);
    return v ? add_op(ops, "add", path, v) : -1;
}
