/* The admission pipeline shared by the HTTPS server and `tagpin review`:
 * decode the review, find the images, judge each with the policy, resolve
 * the ones to pin, and answer with a denial or a JSON Patch. */
#ifndef TAGPIN_ADMIT_H
#define TAGPIN_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../resolver/resolver.h"
#include "audit.h"
#include "policy.h"

typedef enum admit_endpoint {
    ADMIT_MUTATE,   /* judge and patch */
    ADMIT_VALIDATE, /* judge only, never patch */
} admit_endpoint;

/* Borrowed for the duration of one admit_handle call. */
typedef struct admit_env {
    policy_t *policy;     /* required */
    resolver_t *resolver; /* NULL: images to pin pass unchanged */
    audit_t *audit;       /* NULL: no audit records */
    bool keep_images;     /* fill admit_result.images (tagpin pin/check) */
} admit_env;

#define ADMIT_KIND_MAX 64

typedef struct admit_result {
    int http_status;      /* 200 with an AdmissionReview; 400/500 with text */
    char *body;           /* owned; release with admit_result_cleanup */
    size_t len;
    bool is_json;
    const char *decision; /* static: allowed, patched, denied, warned,
                             exempt, ignored, invalid, error */
    char operation[16];   /* for metrics; "" when the review was invalid */
    char kind[ADMIT_KIND_MAX];
    json_t *images;       /* owned; only with env->keep_images: the audit
                             record's image list, each with its "pointer" */
} admit_result;

/* Handles one request body. deadline_ms is absolute (tp_now_ms clock); the
 * answer comes before it. Always fills *out, even when out of memory
 * (then 500 with a static body). */
void admit_handle(const admit_env *env, admit_endpoint ep, const char *body,
                  size_t len, int64_t deadline_ms, admit_result *out);
void admit_result_cleanup(admit_result *r);

#endif
