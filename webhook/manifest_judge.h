/* Judging manifest files as the cluster would: each document (and each item
 * of a `kind: List`) is wrapped in a dry-run AdmissionReview CREATE and sent
 * through admit_handle, the webhook's own pipeline; its per-image results are
 * mapped back to lines and columns. Shared by `tagpin check` and `tagpin pin`. */
#ifndef TAGPIN_MANIFEST_JUDGE_H
#define TAGPIN_MANIFEST_JUDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "../resolver/resolver.h"
#include "manifest_yaml.h"
#include "policy.h"

typedef enum judge_kind {
    JUDGE_DENIED,  /* the cluster would refuse the object for this image */
    JUDGE_WARNING, /* admitted with a warning */
    JUDGE_ERROR,   /* the object cannot be judged (malformed, out of memory) */
    JUDGE_PIN,     /* the image would be pinned to `pinned` */
} judge_kind;

typedef struct judge_finding {
    judge_kind kind;
    unsigned line, column;         /* 1-based: the image, else the document */
    size_t doc;                    /* index in the file's documents */
    char *text;                    /* owned: "Deployment ns/name: container ..." */
    char *pointer;                 /* owned, JUDGE_PIN: image pointer in the document */
    char *pinned;                  /* owned, JUDGE_PIN: the new value */
    const manifest_scalar *scalar; /* JUDGE_PIN: borrowed from the file, may be NULL */
} judge_finding;

typedef struct judge_report {
    judge_finding *items;          /* owned, in the order found */
    size_t n, cap;
    size_t denied, warnings, errors, pins;
} judge_report;

/* Borrowed for the call. */
typedef struct judge_env {
    policy_t *policy;
    resolver_t *resolver;  /* NULL: offline, images to pin pass unresolved */
    const char *namespace; /* for objects without metadata.namespace; NULL: "default" */
    bool validate;         /* judge as the /validate endpoint (no pinning) */
} judge_env;

/* Judges every document of f (parsed with only_key "image") and appends to
 * *out, which the caller zeroes first and releases with judge_report_cleanup.
 * Returns TP_NOMEM only when nothing more can be recorded; judgement problems
 * are JUDGE_ERROR findings. */
tp_code manifest_judge_file(const judge_env *env, const manifest_file *f, judge_report *out);
void judge_report_cleanup(judge_report *r);

/* Sorts findings by line and column, keeping the found order on ties. */
void judge_report_sort(judge_report *r);

#endif
