/* AdmissionReview v1 in and out (jansson).
 *
 * review_decode checks the envelope and hands back borrowed views of the
 * fields tagpin needs; review_respond builds the answer, always echoing the
 * request's uid, apiVersion and kind. */
#ifndef TAGPIN_REVIEW_H
#define TAGPIN_REVIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../resolver/error.h"

#define REVIEW_MAX_DEPTH 64 /* Kubernetes workloads nest ~15 deep */

typedef struct review {
    json_t *root;            /* owned: the whole decoded body */
    const char *api_version; /* echoed: "admission.k8s.io/v1" (or v1beta1) */
    const char *uid;
    const char *group;       /* request.kind.group, "" for core */
    const char *version;
    const char *kind;        /* request.kind.kind */
    const char *subresource; /* "" when none */
    const char *namespace;   /* "" for cluster-scoped */
    const char *name;        /* metadata.name, else generateName + "*" form */
    const char *operation;   /* CREATE, UPDATE, DELETE, CONNECT */
    const char *username;    /* "" when absent */
    json_t *groups;          /* borrowed array or NULL */
    bool dry_run;
    json_t *object;          /* borrowed; NULL for DELETE */
    json_t *old_object;      /* borrowed; NULL unless UPDATE */
    char name_buf[320];      /* storage for the generateName form */
} review;

/* Decodes body[0..len). On failure returns TP_JSON (not JSON, too deep) or
 * TP_REVIEW (not an AdmissionReview, missing request/uid) with a one-line
 * reason in err, and *out holds nothing to clean up. On success the caller
 * owns *out and calls review_cleanup. */
tp_code review_decode(const char *body, size_t len, review *out, tp_error *err);
void review_cleanup(review *r);

/* What the answer says. Borrowed strings; NULL/0 members are left out. */
typedef struct review_answer {
    bool allowed;
    int code;                 /* status.code when denied (403) */
    const char *message;      /* status.message when denied */
    json_t *warnings;         /* borrowed array of strings, or NULL */
    const char *audit_annotations; /* JSON object text, embedded as is */
    const char *patch;        /* RFC 6902 JSON text, base64-encoded here */
    size_t patch_len;
} review_answer;

/* Serializes the response AdmissionReview for r (new string, caller frees
 * with free()), or NULL when out of memory. */
char *review_respond(const review *r, const review_answer *a, size_t *len);

#endif
