/* Manifest and index bodies (OCI and Docker v2), parsed with jansson only as
 * far as resolution needs: the media type and, for an OCI index or Docker
 * manifest list, the platforms it holds. */
#ifndef TAGPIN_MANIFEST_H
#define TAGPIN_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "resolver.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"

/* The Accept header value naming all four: with fewer, registries answer
 * 404 for OCI content or hand back one platform's child of a list. */
#define MANIFEST_ACCEPT                                                   \
    "Accept: " MT_OCI_INDEX ", " MT_OCI_MANIFEST ", " MT_DOCKER_LIST ", " \
    MT_DOCKER_MANIFEST

typedef struct manifest_info {
    char media_type[RESOLUTION_MEDIA_TYPE_MAX];
    bool is_index;
    size_t n_platforms; /* distinct "os/arch[/variant]", attestations skipped */
    char platforms[RESOLUTION_MAX_PLATFORMS][RESOLUTION_PLATFORM_MAX];
} manifest_info;

/* True for the two index media types (parameters after ';' ignored). */
bool manifest_type_is_index(const char *media_type);

/* Parses body[0..len). The media type comes from the body's mediaType,
 * else content_type (may be NULL), else the shape ("manifests" = index).
 * TP_MANIFEST with a reason for anything that is not a schema 2 manifest
 * or index. */
tp_code manifest_parse(const char *body, size_t len, const char *content_type,
                       manifest_info *out, tp_error *err);

#endif
