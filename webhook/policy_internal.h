/* Internal to the policy module: policy.c owns the object, its arena, globs
 * and judging; policy_load.c turns YAML text into a policy. */
#ifndef TAGPIN_POLICY_INTERNAL_H
#define TAGPIN_POLICY_INTERNAL_H

#include <stdatomic.h>

#include "policy.h"

/* One rule; every string and list lives in the policy's arena. Empty lists
 * mean "no condition on this field". Image, registry and tag globs are stored
 * lowercase and matched against lowercased subjects. */
typedef struct policy_rule {
    const char *name;
    const char *message; /* NULL: none */
    const char *const *images; size_t n_images;
    const char *const *registries; size_t n_registries;
    const char *const *tags; size_t n_tags;
    const char *const *namespaces; size_t n_namespaces;
    bool has_pinned; /* whether `pinned` was written */
    bool pinned;
    policy_action action;
} policy_rule;

typedef struct policy_block policy_block;

struct policy {
    atomic_uint refs;
    policy_settings settings;
    const policy_rule *rules;
    size_t n_rules;
    policy_block *arena; /* everything above points into it */
};

/* Memory that lives and dies with p (max_align_t aligned); NULL when out of
 * memory. */
void *policy_arena_alloc(policy_t *p, size_t n);

/* NULL when pattern is a glob policy_glob_match understands, otherwise why
 * not (a static string). */
const char *policy_glob_check(const char *pattern);

/* Parses one YAML text over p: keys present in the text replace p's values
 * (lists and rules are replaced whole). Returns false with err filled
 * ("SRC:LINE:COL: ..."); p is then half-updated and must be freed. */
bool policy_parse_yaml(policy_t *p, const char *text, size_t len,
                       const char *src, tp_error *err);

#endif
