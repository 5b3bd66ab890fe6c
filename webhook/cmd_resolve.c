/* tagpin resolve: tags to digests from the command line, through the same
 * resolver (and cache) the webhook uses. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../resolver/resolver.h"
#include "commands.h"
#include "patch.h"
#include "policy.h"

static const char *source_name(resolution_source s)
{
    return s == RESOLUTION_CACHE ? "cache" : s == RESOLUTION_STALE ? "stale" : "registry";
}

static void print_json(const char *input, const char *pinned, const resolution *r)
{
    json_t *o = json_pack("{s:s, s:s?}", "input", input, "pinned", pinned);
    if (!o)
        return;
    if (r && r->err.code == TP_OK) {
        json_t *platforms = json_array();
        for (size_t i = 0; i < r->n_platforms; i++)
            json_array_append_new(platforms, json_string(r->platforms[i]));
        json_object_set_new(o, "digest", json_string(r->digest));
        json_object_set_new(o, "mediaType", json_string(r->media_type));
        json_object_set_new(o, "index", json_boolean(r->is_index));
        json_object_set_new(o, "platforms", platforms);
        json_object_set_new(o, "source", json_string(source_name(r->source)));
    }
    if (r) {
        json_object_set_new(o, "requests", json_integer(r->requests));
        if (r->err.code != TP_OK)
            json_object_set_new(o, "error", json_string(r->err.msg));
    }
    char *text = json_dumps(o, JSON_COMPACT);
    if (text)
        puts(text);
    free(text);
    json_decref(o);
}

static int report(const cli_options *o, const policy_settings *s, const char *input,
                  const ref_t *ref, const resolution *r)
{
    char pinned[REF_NAME_MAX + REF_TAG_MAX + REF_DIGEST_MAX + 8];
    bool ok = r->err.code == TP_OK &&
              patch_pinned_image(input, ref, r->digest, s->output, pinned, sizeof pinned) == TP_OK;
    if (o->json)
        print_json(input, ok ? pinned : NULL, r);
    else if (ok)
        puts(pinned);
    else
        fprintf(stderr, "tagpin: %s: %s\n", input, r->err.msg);
    return ok ? 0 : 1;
}

int cmd_resolve(const cli_options *o)
{
    if (o->nargs == 0) {
        fputs("usage: tagpin resolve [--config FILE] [--json] IMAGE...\n", stderr);
        return 2;
    }
    policy_t *policy = cli_load_policy(o);
    if (!policy)
        return 2;
    tp_error err;
    tp_error_clear(&err);
    const policy_settings *s = policy_get_settings(policy);
    size_t n = (size_t)o->nargs;
    ref_t *refs = calloc(n, sizeof *refs);
    const ref_t **todo = calloc(n, sizeof *todo);
    resolution *res = calloc(n, sizeof *res);
    resolver_t *resolver = NULL;
    int rc = 2;
    if (!refs || !todo || !res) {
        fputs("tagpin: out of memory\n", stderr);
        goto out;
    }
    if (!(resolver = cli_make_resolver(o, s, &err))) {
        cli_fail("resolver", &err);
        goto out;
    }
    rc = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        tp_error_clear(&res[i].err);
        if (ref_parse(o->args[i], strlen(o->args[i]), &refs[i], &res[i].err) != TP_OK)
            continue;
        if (refs[i].has_digest) /* already pinned: nothing to ask */
            tp_error_set(&res[i].err, TP_INVAL, "already pinned to a digest");
        else
            todo[k++] = &refs[i];
    }
    resolution *answers = calloc(k ? k : 1, sizeof *answers);
    if (!answers) {
        rc = 2;
        goto out;
    }
    resolver_resolve_many(resolver, todo, k, tp_now_ms() + s->resolve_timeout_ms, answers);
    for (size_t i = 0, j = 0; i < n; i++) {
        if (j < k && todo[j] == &refs[i])
            res[i] = answers[j++];
        rc |= report(o, s, o->args[i], &refs[i], &res[i]);
    }
    free(answers);
out:
    resolver_free(resolver);
    free(res);
    free(todo);
    free(refs);
    policy_free(policy);
    return rc;
}
