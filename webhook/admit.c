#include "admit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit_internal.h"
#include "log.h"
#include "patch.h"

void admit_describe(const item *it, char *out, size_t cap)
{
    const char *list = it->site->list;
    const char *what = strcmp(list, "initContainers") == 0 ? "init container"
                     : strcmp(list, "ephemeralContainers") == 0 ? "ephemeral container"
                     : "container";
    snprintf(out, cap, "%s \"%s\" image \"%s\"", what, it->site->container,
             it->site->image);
}

static void warn(admission *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(admission *a, const char *fmt, ...)
{
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        json_array_append_new(a->warnings, json_string(line));
}

/* Records that an item would be refused: denied in enforce mode, a warning
 * in warn mode, and a warning when an UPDATE leaves the image unchanged. */
static void refuse(admission *a, item *it, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(admission *a, item *it, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->note, sizeof it->note, fmt, ap);
    va_end(ap);
    char who[NOTE_MAX];
    admit_describe(it, who, sizeof who);
    if (it->unchanged) {
        it->outcome = "warned";
        warn(a, "tagpin: %s %s; left as is because this update does not change it", who, it->note);
    } else if (a->set->mode == POLICY_MODE_WARN) {
        it->outcome = "warned";
        warn(a, "tagpin (warn mode): %s %s", who, it->note);
    } else {
        it->outcome = "denied";
        a->denied++;
    }
}

static bool in_scope(const admission *a)
{
    return !(a->set->scope == POLICY_SCOPE_PODS && a->kind == IMAGES_KIND_TEMPLATE);
}

static void judge(admission *a, item *it)
{
    const image_site *s = it->site;
    it->outcome = "allowed";
    if (!s->image)
        return; /* the API server's own validation rejects a missing image */
    if (a->rv.old_object) {
        const char *old = images_lookup(a->rv.old_object, s->pointer);
        it->unchanged = old && strcmp(old, s->image) == 0;
    }
    tp_error err;
    tp_error_clear(&err);
    it->valid = ref_parse(s->image, strlen(s->image), &it->ref, &err) == TP_OK;
    if (!it->valid) {
        it->verdict = (policy_verdict){POLICY_DENY, "invalid-reference", NULL};
        refuse(a, it, "is not a valid image reference: %s", err.msg);
        return;
    }
    policy_judge(a->env->policy, &it->ref, a->rv.namespace, &it->verdict);
    const policy_verdict *v = &it->verdict;
    if (v->action == POLICY_DENY) {
        refuse(a, it, "is denied by rule \"%s\"%s%s", v->rule,
               v->message ? ": " : "", v->message ? v->message : "");
    } else if (v->action == POLICY_PIN && !it->ref.has_digest &&
               a->ep == ADMIT_VALIDATE && a->set->validate_require_pinned) {
        it->verdict.rule = "require-pinned";
        refuse(a, it, "is not pinned to a digest (validate.requirePinned)");
    } else if (v->action == POLICY_PIN && !it->ref.has_digest && it->unchanged &&
               a->ep == ADMIT_MUTATE && in_scope(a)) {
        /* Pinning an image an update did not touch would change the pod
         * template and start a rollout nobody asked for. */
        char who[NOTE_MAX];
        admit_describe(it, who, sizeof who);
        it->outcome = "warned";
        warn(a, "tagpin: %s is not pinned; left as is because this update does not change it", who);
    }
}

/* Which items get resolved: pin verdicts without a digest, on /mutate, in
 * scope, and changed by this request. */
static bool wants_pin(const admission *a, const item *it)
{
    if (a->ep != ADMIT_MUTATE || !a->env->resolver || !it->valid)
        return false;
    if (it->verdict.action != POLICY_PIN || it->ref.has_digest)
        return false;
    if (strcmp(it->outcome, "allowed") != 0)
        return false;
    return in_scope(a);
}

static void check_platforms(admission *a, item *it)
{
    const resolution *r = it->res;
    if (!r->is_index)
        return;
    char missing[256] = "";
    size_t used = 0;
    for (size_t p = 0; p < a->set->n_required_platforms; p++) {
        const char *want = a->set->required_platforms[p];
        size_t wl = strlen(want);
        bool found = false;
        for (size_t i = 0; i < r->n_platforms && !found; i++)
            found = strncmp(r->platforms[i], want, wl) == 0 &&
                    (r->platforms[i][wl] == '\0' || r->platforms[i][wl] == '/');
        if (!found) {
            int w = snprintf(missing + used, sizeof missing - used, "%s%s",
                             used ? ", " : "", want);
            if (w > 0 && (size_t)w < sizeof missing - used)
                used += (size_t)w;
        }
    }
    if (!used)
        return;
    char who[NOTE_MAX];
    admit_describe(it, who, sizeof who);
    if (a->set->deny_missing_platforms) {
        it->verdict.rule = "required-platforms";
        refuse(a, it, "lacks required platforms %s (index %s)", missing, r->digest);
    } else {
        warn(a, "tagpin: %s lacks platforms %s (index %s)", who, missing, r->digest);
    }
}

static void finish_pin(admission *a, item *it)
{
    const resolution *r = it->res;
    char who[NOTE_MAX]; /* described only on the paths that warn: most pins don't */
    if (r->err.code != TP_OK) {
        admit_describe(it, who, sizeof who);
        if (a->set->on_resolve_failure == POLICY_DENY) {
            it->verdict.rule = "resolve-failure";
            refuse(a, it, "could not be pinned: %s", r->err.msg);
        } else {
            it->outcome = "warned";
            warn(a, "tagpin: %s admitted unpinned: %s", who, r->err.msg);
        }
        return;
    }
    if (patch_pinned_image(it->site->image, &it->ref, r->digest, a->set->output,
                           it->pinned, sizeof it->pinned) != TP_OK) {
        refuse(a, it, "is too long to pin");
        return;
    }
    it->outcome = "pinned";
    if (r->source == RESOLUTION_STALE) {
        admit_describe(it, who, sizeof who);
        warn(a, "tagpin: %s pinned to a cached digest %lld s old because the registry failed: %s",
             who, (long long)(r->age_ms / 1000), r->err.msg[0] ? r->err.msg : "unavailable");
    }
    check_platforms(a, it);
}

static void resolve_pins(admission *a)
{
    const ref_t **refs = calloc(a->n ? a->n : 1, sizeof *refs);
    size_t *which = calloc(a->n ? a->n : 1, sizeof *which);
    size_t k = 0;
    if (!refs || !which)
        goto out;
    for (size_t i = 0; i < a->n; i++) {
        if (wants_pin(a, &a->items[i])) {
            refs[k] = &a->items[i].ref;
            which[k++] = i;
        }
    }
    if (k == 0)
        goto out;
    a->res = calloc(k, sizeof *a->res);
    if (!a->res)
        goto out;
    resolver_resolve_many(a->env->resolver, refs, k, a->deadline_ms, a->res);
    for (size_t j = 0; j < k; j++) {
        item *it = &a->items[which[j]];
        it->res = &a->res[j];
        finish_pin(a, it);
    }
out:
    free(refs);
    free(which);
}


static void answer_text(admit_result *out, int status, const char *decision,
                        const char *reason)
{
    out->http_status = status;
    out->decision = decision;
    out->is_json = false;
    size_t n = strlen(reason);
    out->body = malloc(n + 2);
    if (!out->body) {
        out->http_status = 500;
        return;
    }
    memcpy(out->body, reason, n);
    out->body[n] = '\n';
    out->body[n + 1] = '\0';
    out->len = n + 1;
}

static bool judged_operation(const char *op)
{
    return strcmp(op, "CREATE") == 0 || strcmp(op, "UPDATE") == 0;
}

/* Everything after decoding: find, judge, resolve, answer. */
static void admit_review(admission *a, admit_result *out)
{
    const char *spec_path;
    a->kind = images_classify(a->rv.group, a->rv.kind, &spec_path);
    review_answer allow = {.allowed = true};
    if (a->kind == IMAGES_KIND_NONE || !judged_operation(a->rv.operation) ||
        !a->rv.object || a->set->mode == POLICY_MODE_OFF)
        goto allow_untouched;

    tp_error err;
    tp_error_clear(&err);
    /* Sized to the object: a fixed IMAGES_MAX array is 64 KiB, which glibc
     * serves by consolidating its fast bins, every review. */
    size_t cap = images_count(a->rv.object, spec_path);
    if (cap > IMAGES_MAX)
        cap = IMAGES_MAX;
    a->sites = malloc((cap ? cap : 1) * sizeof *a->sites);
    if (!a->sites) {
        answer_text(out, 500, "error", "out of memory");
        return;
    }
    if (images_collect(a->rv.object, spec_path, a->sites, cap, &a->n, &err) != TP_OK) {
        answer_text(out, 400, "invalid", err.msg);
        return;
    }
    if (a->n == 0)
        goto allow_untouched;
    a->items = calloc(a->n, sizeof *a->items);
    a->warnings = json_array();
    if (!a->items || !a->warnings) {
        answer_text(out, 500, "error", "out of memory");
        return;
    }
    for (size_t i = 0; i < a->n; i++) {
        a->items[i].site = &a->sites[i];
        a->items[i].outcome = "allowed";
    }
    a->exempt = policy_exempt(a->env->policy, a->rv.namespace);
    if (!a->exempt) {
        for (size_t i = 0; i < a->n; i++)
            judge(a, &a->items[i]);
        /* A denied request is answered as such: no registry call for it. */
        if (a->denied == 0)
            resolve_pins(a);
    }
    answer_build(a, out);
    return;

allow_untouched:
    out->http_status = 200;
    out->is_json = true;
    out->decision = "ignored";
    out->body = review_respond(&a->rv, &allow, &out->len);
    if (!out->body)
        answer_text(out, 500, "error", "out of memory");
}

void admit_handle(const admit_env *env, admit_endpoint ep, const char *body,
                  size_t len, int64_t deadline_ms, admit_result *out)
{
    memset(out, 0, sizeof *out);
    admission a = {
        .env = env,
        .set = policy_get_settings(env->policy),
        .ep = ep,
        .start_ms = tp_now_ms(),
        .deadline_ms = deadline_ms,
    };
    tp_error err;
    tp_error_clear(&err);
    if (review_decode(body, len, &a.rv, &err) != TP_OK) {
        answer_text(out, 400, "invalid", err.msg);
        return;
    }
    snprintf(out->operation, sizeof out->operation, "%s", a.rv.operation);
    snprintf(out->kind, sizeof out->kind, "%s", a.rv.kind);
    admit_review(&a, out);
    json_decref(a.warnings);
    free(a.res);
    free(a.items);
    free(a.sites);
    review_cleanup(&a.rv);
}

void admit_result_cleanup(admit_result *r)
{
    if (!r)
        return;
    free(r->body);
    r->body = NULL;
    r->len = 0;
    json_decref(r->images);
    r->images = NULL;
}
