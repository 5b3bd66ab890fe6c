/* Where a Kubernetes object keeps its images.
 *
 * Pod: spec.{containers,initContainers,ephemeralContainers}; the workload
 * kinds: the same lists under spec.template.spec (PodTemplate: template.spec,
 * CronJob: spec.jobTemplate.spec.template.spec); the v1.20 ephemeral
 * containers subresource object (EphemeralContainers): ephemeralContainers. */
#ifndef TAGPIN_IMAGES_H
#define TAGPIN_IMAGES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../resolver/error.h"

#define IMAGES_MAX 512         /* image fields per object; more is refused */
#define IMAGES_POINTER_MAX 96  /* longest pointer: CronJob's, well under */

typedef enum images_kind {
    IMAGES_KIND_NONE,     /* a kind tagpin leaves alone */
    IMAGES_KIND_POD,      /* a Pod or its ephemeral containers */
    IMAGES_KIND_TEMPLATE, /* a workload that stamps out Pods */
} images_kind;

typedef struct image_site {
    const char *list;      /* "containers", "initContainers", "ephemeralContainers" */
    size_t index;          /* position in that list */
    const char *container; /* borrowed from the object; "" when unnamed */
    const char *image;     /* borrowed; NULL when missing or not a string */
    char pointer[IMAGES_POINTER_MAX]; /* RFC 6901 pointer to the image field */
} image_site;

/* Classifies a request kind (API group, Kind). group is "" for the core
 * group. Returns the pod-spec pointer prefix through *spec_path (borrowed
 * static string, e.g. "/spec/template/spec"), or IMAGES_KIND_NONE. */
images_kind images_classify(const char *group, const char *kind,
                            const char **spec_path);

/* How many sites images_collect would find: the lengths of the container
 * lists under spec_path that are arrays. Sizes the array it fills. */
size_t images_count(json_t *object, const char *spec_path);

/* Fills sites[0..*n) with every container of object, in list order.
 * Missing lists are fine; a list or container of the wrong JSON type is
 * TP_REVIEW with a message naming the path; more than cap sites is
 * TP_TOO_LARGE. Pointers in sites borrow from object. */
tp_code images_collect(json_t *object, const char *spec_path,
                       image_site *sites, size_t cap, size_t *n,
                       tp_error *err);

/* The image string at the same pointer in another object (the oldObject of
 * an UPDATE), or NULL. Borrowed from other. */
const char *images_lookup(json_t *other, const char *pointer);

#endif
