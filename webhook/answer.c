/* Turns judged items into the AdmissionReview answer and the audit record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit_internal.h"
#include "log.h"
#include "patch.h"
#include "text.h"

static const char *verdict_name(const item *it)
{
    if (!it->site->image)
        return "none";
    if (!it->valid)
        return "invalid";
    switch (it->verdict.action) {
    case POLICY_ALLOW: return "allow";
    case POLICY_DENY: return "deny";
    default: return "pin";
    }
}

static const char *source_name(resolution_source s)
{
    return s == RESOLUTION_CACHE ? "cache" : s == RESOLUTION_STALE ? "stale" : "registry";
}

/* One image as the audit trail and auditAnnotations record it. */
static json_t *image_record(const admission *a, const item *it)
{
    json_t *o = json_pack("{s:s, s:s, s:s?, s:s, s:s, s:s?}",
                          "container", it->site->container, "list", it->site->list,
                          "image", it->site->image, "verdict", verdict_name(it),
                          "outcome", it->outcome,
                          "rule", a->exempt ? "exempt-namespace" : it->verdict.rule);
    if (!o)
        return NULL;
    if (it->unchanged)
        json_object_set_new(o, "unchanged", json_true());
    if (it->res && it->res->err.code == TP_OK) {
        json_object_set_new(o, "digest", json_string(it->res->digest));
        json_object_set_new(o, "source", json_string(source_name(it->res->source)));
    }
    if (it->pinned[0])
        json_object_set_new(o, "pinned", json_string(it->pinned));
    if (a->env->keep_images)
        json_object_set_new(o, "pointer", json_string(it->site->pointer));
    if (it->note[0])
        json_object_set_new(o, "reason", json_string(it->note));
    else if (it->res && it->res->err.code != TP_OK)
        json_object_set_new(o, "reason", json_string(it->res->err.msg));
    return o;
}

static json_t *image_records(const admission *a)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < a->n; i++)
        if (a->items[i].site->image)
            json_array_append_new(arr, image_record(a, &a->items[i]));
    return arr;
}

static void denial_message(const admission *a, text *msg)
{
    const review *rv = &a->rv;
    if (*rv->namespace)
        text_printf(msg, "%s %s/%s: ", rv->kind, rv->namespace, rv->name);
    else
        text_printf(msg, "%s %s: ", rv->kind, rv->name);
    bool needs_hint = false;
    size_t shown = 0;
    for (size_t i = 0; i < a->n; i++) {
        const item *it = &a->items[i];
        if (strcmp(it->outcome, "denied") != 0)
            continue;
        char who[NOTE_MAX];
        admit_describe(it, who, sizeof who);
        text_printf(msg, "%s%s %s", shown++ ? "; " : "", who, it->note);
        /* Rules that explain themselves need no generic advice. */
        needs_hint |= it->valid && it->verdict.action == POLICY_DENY && !it->verdict.message;
    }
    if (needs_hint)
        text_printf(msg, ". Pin a version tag or a digest instead "
                         "(for example app:1.4.2 or app@sha256:<digest>)");
}

/* Keeps earlier pins that are still in use, adds this request's. */
static char *annotation_value(const admission *a)
{
    json_t *map = json_object();
    json_t *meta = json_object_get(a->rv.object, "metadata");
    const char *old = json_string_value(json_object_get(json_object_get(meta, "annotations"),
                                                        PATCH_ANNOTATION));
    json_t *prev = old ? json_loads(old, 0, NULL) : NULL;
    const char *key;
    json_t *val;
    json_object_foreach(prev, key, val) {
        const char *digest = json_string_value(val);
        for (size_t i = 0; digest && i < a->n; i++) {
            const char *img = a->items[i].site->image;
            const char *at = img ? strrchr(img, '@') : NULL;
            if (at && strcmp(at + 1, digest) == 0) {
                json_object_set(map, key, val);
                break;
            }
        }
    }
    json_decref(prev);
    for (size_t i = 0; i < a->n; i++) {
        const item *it = &a->items[i];
        if (strcmp(it->outcome, "pinned") == 0)
            json_object_set_new(map, it->site->image, json_string(it->res->digest));
    }
    char *out = json_dumps(map, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(map);
    return out;
}

/* The JSON Patch text, or NULL when nothing changes. */
static char *build_patch(const admission *a)
{
    json_t *ops = json_array();
    for (size_t i = 0; ops && i < a->n; i++) {
        const item *it = &a->items[i];
        if (strcmp(it->outcome, "pinned") == 0)
            patch_add_replace(ops, it->site->pointer, it->pinned);
    }
    char *patch = NULL;
    if (ops && json_array_size(ops) > 0) {
        char *value = annotation_value(a);
        if (value && patch_add_annotation(ops, a->rv.object, value) == 0)
            patch = json_dumps(ops, JSON_COMPACT);
        free(value);
    }
    json_decref(ops);
    return patch;
}

static void write_audit(const admission *a, const char *decision, json_t *images,
                        const char *message)
{
    if (!a->env->audit)
        return;
    char when[48];
    log_format_time(when, sizeof when);
    const review *rv = &a->rv;
    json_t *rec = json_pack(
        "{s:s, s:s, s:s, s:s, s:O?, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:I, s:O}",
        "time", when, "event", "admission", "uid", rv->uid, "user", rv->username,
        "groups", rv->groups, "operation", rv->operation, "kind", rv->kind,
        "apiGroup", rv->group, "namespace", rv->namespace, "name", rv->name,
        "dryRun", rv->dry_run, "endpoint", a->ep == ADMIT_MUTATE ? "mutate" : "validate",
        "decision", decision, "latencyMs", (json_int_t)(tp_now_ms() - a->start_ms),
        "images", images);
    if (rec && message)
        json_object_set_new(rec, "message", json_string(message));
    audit_write(a->env->audit, rec);
    json_decref(rec);
}

static json_t *audit_annotations(const char *decision, json_t *images)
{
    char *summary = json_dumps(images, JSON_COMPACT);
    json_t *ann = json_pack("{s:s, s:s?}", "decision", decision, "images", summary);
    free(summary);
    return ann;
}

void answer_build(admission *a, admit_result *out)
{
    text msg;
    text_init(&msg, MESSAGE_MAX);
    review_answer ans = {.allowed = a->denied == 0, .warnings = a->warnings};
    char *patch = NULL;
    const char *decision;
    if (!ans.allowed) {
        denial_message(a, &msg);
        ans.code = 403;
        ans.message = text_cstr(&msg);
        decision = "denied";
    } else if ((patch = build_patch(a)) != NULL) {
        ans.patch = patch;
        ans.patch_len = strlen(patch);
        decision = "patched";
    } else {
        decision = a->exempt ? "exempt" : json_array_size(a->warnings) ? "warned" : "allowed";
    }
    json_t *images = image_records(a);
    ans.audit_annotations = audit_annotations(decision, images);

    out->http_status = 200;
    out->is_json = true;
    out->decision = decision;
    out->body = review_respond(&a->rv, &ans, &out->len);
    if (!out->body) {
        out->http_status = 500;
        out->is_json = false;
        out->decision = "error";
    }
    write_audit(a, decision, images, ans.message);
    json_decref(ans.audit_annotations);
    if (a->env->keep_images)
        out->images = json_incref(images);
    json_decref(images);
    free(patch);
    text_cleanup(&msg);
}
