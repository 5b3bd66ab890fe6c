#include "images.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct kind_entry {
    const char *group;
    const char *kind;
    images_kind what;
    const char *spec_path;
} kind_entry;

/* extensions/v1beta1 still carried these kinds on old servers. */
static const kind_entry kinds[] = {
    {"", "Pod", IMAGES_KIND_POD, "/spec"},
    {"", "EphemeralContainers", IMAGES_KIND_POD, ""},
    {"", "ReplicationController", IMAGES_KIND_TEMPLATE, "/spec/template/spec"},
    {"", "PodTemplate", IMAGES_KIND_TEMPLATE, "/template/spec"},
    {"apps", "Deployment", IMAGES_KIND_TEMPLATE, "/spec/template/spec"},
    {"apps", "ReplicaSet", IMAGES_KIND_TEMPLATE, "/spec/template/spec"},
    {"apps", "StatefulSet", IMAGES_KIND_TEMPLATE, "/spec/template/spec"},
    {"apps", "DaemonSet", IMAGES_KIND_TEMPLATE, "/spec/template/spec"},
    {"extensions", "Deployment", IMAGES_KIND_TEMPLATE, "/spec/template/spec"},
    {"extensions", "ReplicaSet", IMAGES_KIND_TEMPLATE, "/spec/template/spec"},
    {"extensions", "DaemonSet", IMAGES_KIND_TEMPLATE, "/spec/template/spec"},
    {"batch", "Job", IMAGES_KIND_TEMPLATE, "/spec/template/spec"},
    {"batch", "CronJob", IMAGES_KIND_TEMPLATE, "/spec/jobTemplate/spec/template/spec"},
};

static const char *const lists[] = {"containers", "initContainers", "ephemeralContainers"};

images_kind images_classify(const char *group, const char *kind,
                            const char **spec_path)
{
    *spec_path = NULL;
    if (!group || !kind)
        return IMAGES_KIND_NONE;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(kinds[i].group, group) == 0 && strcmp(kinds[i].kind, kind) == 0) {
            *spec_path = kinds[i].spec_path;
            return kinds[i].what;
        }
    }
    return IMAGES_KIND_NONE;
}

/* Follows a pointer made only of object keys and array indexes we wrote
 * ourselves (no escapes needed: our keys hold no '~' or '/'). */
static json_t *pointer_get(json_t *node, const char *pointer)
{
    const char *p = pointer;
    while (node && *p == '/') {
        p++;
        size_t len = strcspn(p, "/");
        char key[64];
        if (len >= sizeof key)
            return NULL;
        memcpy(key, p, len);
        key[len] = '\0';
        if (json_is_object(node)) {
            node = json_object_get(node, key);
        } else if (json_is_array(node)) {
            char *end;
            unsigned long idx = strtoul(key, &end, 10);
            node = (*end == '\0' && len > 0) ? json_array_get(node, idx) : NULL;
        } else {
            return NULL;
        }
        p += len;
    }
    return *p == '\0' ? node : NULL;
}

static tp_code collect_list(json_t *spec, const char *spec_path, const char *list,
                            image_site *sites, size_t cap, size_t *n, tp_error *err)
{
    json_t *arr = json_object_get(spec, list);
    if (!arr || json_is_null(arr))
        return TP_OK;
    if (!json_is_array(arr))
        return tp_error_set(err, TP_REVIEW, "%s/%s is not a list", spec_path, list);

    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        if (!json_is_object(c))
            return tp_error_set(err, TP_REVIEW, "%s/%s/%zu is not an object",
                                spec_path, list, i);
        if (*n >= cap)
            return tp_error_set(err, TP_TOO_LARGE, "more than %zu containers", cap);
        image_site *s = &sites[(*n)++];
        s->list = list;
        s->index = i;
        const char *name = json_string_value(json_object_get(c, "name"));
        s->container = name ? name : "";
        s->image = json_string_value(json_object_get(c, "image"));
        int w = snprintf(s->pointer, sizeof s->pointer, "%s/%s/%zu/image",
                         spec_path, list, i);
        if (w < 0 || (size_t)w >= sizeof s->pointer)
            return tp_error_set(err, TP_TOO_LARGE, "container pointer too long");
    }
    return TP_OK;
}

tp_code images_collect(json_t *object, const char *spec_path,
                       image_site *sites, size_t cap, size_t *n, tp_error *err)
{
    *n = 0;
    if (!json_is_object(object))
        return tp_error_set(err, TP_REVIEW, "request.object is not an object");
    json_t *spec = pointer_get(object, spec_path);
    if (!spec || json_is_null(spec))
        return TP_OK;
    if (!json_is_object(spec))
        return tp_error_set(err, TP_REVIEW, "%s is not an object", spec_path);

    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        tp_code rc = collect_list(spec, spec_path, lists[l], sites, cap, n, err);
        if (rc != TP_OK)
            return rc;
    }
    return TP_OK;
}

size_t images_count(json_t *object, const char *spec_path)
{
    json_t *spec = json_is_object(object) ? pointer_get(object, spec_path) : NULL;
    size_t n = 0;
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
        n += json_array_size(json_object_get(spec, lists[l]));
    return n;
}

const char *images_lookup(json_t *other, const char *pointer)
{
    return json_string_value(pointer_get(other, pointer));
}
