#include "manifest.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static bool type_is(const char *mt, const char *want)
{
    size_t n = strlen(want);
    return strncmp(mt, want, n) == 0 && (mt[n] == '\0' || mt[n] == ';' || mt[n] == ' ');
}

bool manifest_type_is_index(const char *mt)
{
    return mt && (type_is(mt, MT_OCI_INDEX) || type_is(mt, MT_DOCKER_LIST));
}

static bool type_known(const char *mt)
{
    return manifest_type_is_index(mt) || type_is(mt, MT_OCI_MANIFEST) ||
           type_is(mt, MT_DOCKER_MANIFEST);
}

static void platform_add(manifest_info *out, json_t *p)
{
    const char *os = json_string_value(json_object_get(p, "os"));
    const char *arch = json_string_value(json_object_get(p, "architecture"));
    const char *variant = json_string_value(json_object_get(p, "variant"));
    if (!os || !arch || strcmp(os, "unknown") == 0) /* buildx attestations */
        return;
    char s[RESOLUTION_PLATFORM_MAX];
    int w = variant && *variant ? snprintf(s, sizeof s, "%s/%s/%s", os, arch, variant)
                                : snprintf(s, sizeof s, "%s/%s", os, arch);
    if (w < 0 || (size_t)w >= sizeof s)
        return;
    for (size_t i = 0; i < out->n_platforms; i++)
        if (strcmp(out->platforms[i], s) == 0)
            return;
    if (out->n_platforms < RESOLUTION_MAX_PLATFORMS)
        memcpy(out->platforms[out->n_platforms++], s, (size_t)w + 1);
}

static tp_code media_type_pick(json_t *root, const char *content_type, manifest_info *out,
                               tp_error *err)
{
    const char *mt = json_string_value(json_object_get(root, "mediaType"));
    if (!mt && content_type && type_known(content_type))
        mt = content_type;
    if (!mt)
        mt = json_is_array(json_object_get(root, "manifests")) ? MT_OCI_INDEX : MT_OCI_MANIFEST;
    if (!type_known(mt))
        return tp_error_set(err, TP_MANIFEST, "unsupported manifest media type \"%.100s\"", mt);
    size_t n = strcspn(mt, "; ");
    if (n >= sizeof out->media_type)
        return tp_error_set(err, TP_MANIFEST, "media type too long");
    memcpy(out->media_type, mt, n);
    out->media_type[n] = '\0';
    out->is_index = manifest_type_is_index(out->media_type);
    return TP_OK;
}

tp_code manifest_parse(const char *body, size_t len, const char *content_type,
                       manifest_info *out, tp_error *err)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    tp_code rc = TP_OK;
    if (!json_is_object(root)) {
        rc = tp_error_set(err, TP_MANIFEST, "manifest is not a JSON object (line %d: %s)",
                          je.line, root ? "not an object" : je.text);
        goto out;
    }
    if (json_integer_value(json_object_get(root, "schemaVersion")) != 2) {
        rc = tp_error_set(err, TP_MANIFEST,
                          "manifest schemaVersion is not 2 (schema 1 is not pullable by containerd)");
        goto out;
    }
    rc = media_type_pick(root, content_type, out, err);
    if (rc != TP_OK || !out->is_index)
        goto out;
    json_t *list = json_object_get(root, "manifests");
    if (!json_is_array(list)) {
        rc = tp_error_set(err, TP_MANIFEST, "index has no manifests array");
        goto out;
    }
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m) {
        json_t *p = json_object_get(m, "platform");
        if (json_is_object(p))
            platform_add(out, p);
    }
out:
    json_decref(root);
    return rc;
}
