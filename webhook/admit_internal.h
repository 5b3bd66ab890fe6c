/* Internal to the admission pipeline (admit.c judges and resolves,
 * answer.c turns the judged items into the response and the audit record). */
#ifndef TAGPIN_ADMIT_INTERNAL_H
#define TAGPIN_ADMIT_INTERNAL_H

#include <jansson.h>

#include "admit.h"
#include "images.h"
#include "review.h"

#define PINNED_MAX (REF_NAME_MAX + REF_TAG_MAX + REF_DIGEST_MAX + 8)
#define MESSAGE_MAX 8192
#define NOTE_MAX 640

typedef struct item {
    const image_site *site;
    ref_t ref;
    bool valid;
    bool unchanged;         /* UPDATE that leaves this image as it was */
    policy_verdict verdict;
    const char *outcome;    /* allowed, denied, pinned, warned */
    resolution *res;        /* set when a resolution was attempted */
    char note[NOTE_MAX];    /* why denied or warned, for people */
    char pinned[PINNED_MAX];
} item;

typedef struct admission {
    const admit_env *env;
    const policy_settings *set;
    admit_endpoint ep;
    review rv;
    image_site *sites;
    item *items;
    resolution *res;
    size_t n;
    int64_t start_ms;
    int64_t deadline_ms;
    json_t *warnings;
    size_t denied;
    bool exempt;            /* namespace exempt: judged as allowed */
    images_kind kind;
} admission;

/* "container \"app\" image \"nginx:1\"" (or init/ephemeral container). */
void admit_describe(const item *it, char *out, size_t cap);

/* Fills out from the judged admission: denial, or allowance with warnings,
 * patch and auditAnnotations; writes the audit record. */
void answer_build(admission *a, admit_result *out);

#endif
