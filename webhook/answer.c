/* Turns judged items into the AdmissionReview answer and the audit record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit_internal.h"
#include "jsonw.h"
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
static void image_record(jsonw *w, const admission *a, const item *it)
{
    jsonw_object(w);
    jsonw_key(w, "container");
    jsonw_string(w, it->site->container);
    jsonw_key(w, "list");
    jsonw_string(w, it->site->list);
    jsonw_key(w, "image");
    jsonw_string(w, it->site->image);
    jsonw_key(w, "verdict");
    jsonw_string(w, verdict_name(it));
    jsonw_key(w, "outcome");
    jsonw_string(w, it->outcome);
    const char *rule = a->exempt ? "exempt-namespace" : it->verdict.rule;
    if (rule) {
        jsonw_key(w, "rule");
        jsonw_string(w, rule);
    }
    if (it->unchanged) {
        jsonw_key(w, "unchanged");
        jsonw_bool(w, true);
    }
    if (it->res && it->res->err.code == TP_OK) {
        jsonw_key(w, "digest");
        jsonw_string(w, it->res->digest);
        jsonw_key(w, "source");
        jsonw_string(w, source_name(it->res->source));
    }
    if (it->pinned[0]) {
        jsonw_key(w, "pinned");
        jsonw_string(w, it->pinned);
    }
    if (a->env->keep_images) {
        jsonw_key(w, "pointer");
        jsonw_string(w, it->site->pointer);
    }
    const char *reason = it->note[0] ? it->note
                       : it->res && it->res->err.code != TP_OK ? it->res->err.msg : NULL;
    if (reason) {
        jsonw_key(w, "reason");
        jsonw_string(w, reason);
    }
    jsonw_end(w);
}

/* The image list as JSON text (new string), shared by auditAnnotations and
 * the audit record. */
static char *image_records(const admission *a, size_t *len)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_array(&w);
    for (size_t i = 0; i < a->n; i++)
        if (a->items[i].site->image)
            image_record(&w, a, &a->items[i]);
    jsonw_end(&w);
    return jsonw_finish(&w, len);
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
    jsonw w;
    jsonw_init(&w);
    jsonw_value(&w, map);
    json_decref(map);
    return jsonw_finish(&w, NULL);
}

/* The JSON Patch text, or NULL when nothing changes. */
static char *build_patch(const admission *a, size_t *len)
{
    jsonw ops;
    jsonw_init(&ops);
    jsonw_array(&ops);
    bool changes = false;
    for (size_t i = 0; i < a->n; i++) {
        const item *it = &a->items[i];
        if (strcmp(it->outcome, "pinned") == 0) {
            patch_add_replace(&ops, it->site->pointer, it->pinned);
            changes = true;
        }
    }
    char *value = changes ? annotation_value(a) : NULL;
    if (!value) {
        jsonw_cleanup(&ops);
        return NULL;
    }
    patch_add_annotation(&ops, a->rv.object, value);
    free(value);
    jsonw_end(&ops);
    return jsonw_finish(&ops, len);
}

static void write_audit(const admission *a, const char *decision, const char *images,
                        size_t images_len, const char *message)
{
    if (!audit_enabled(a->env->audit))
        return;
    char when[48];
    log_format_time(when, sizeof when);
    const review *rv = &a->rv;
    jsonw w;
    jsonw_init(&w);
    jsonw_object(&w);
    jsonw_key(&w, "time"); jsonw_string(&w, when);
    jsonw_key(&w, "event"); jsonw_string(&w, "admission");
    jsonw_key(&w, "uid"); jsonw_string(&w, rv->uid);
    jsonw_key(&w, "user"); jsonw_string(&w, rv->username);
    if (rv->groups) {
        jsonw_key(&w, "groups");
        jsonw_value(&w, rv->groups);
    }
    jsonw_key(&w, "operation"); jsonw_string(&w, rv->operation);
    jsonw_key(&w, "kind"); jsonw_string(&w, rv->kind);
    jsonw_key(&w, "apiGroup"); jsonw_string(&w, rv->group);
    jsonw_key(&w, "namespace"); jsonw_string(&w, rv->namespace);
    jsonw_key(&w, "name"); jsonw_string(&w, rv->name);
    jsonw_key(&w, "dryRun"); jsonw_bool(&w, rv->dry_run);
    jsonw_key(&w, "endpoint"); jsonw_string(&w, a->ep == ADMIT_MUTATE ? "mutate" : "validate");
    jsonw_key(&w, "decision"); jsonw_string(&w, decision);
    jsonw_key(&w, "latencyMs"); jsonw_int(&w, (long long)(tp_now_ms() - a->start_ms));
    jsonw_key(&w, "images"); jsonw_raw(&w, images, images_len);
    if (message) {
        jsonw_key(&w, "message");
        jsonw_string(&w, message);
    }
    jsonw_end(&w);
    size_t len;
    char *line = jsonw_finish(&w, &len);
    if (line)
        audit_write_line(a->env->audit, line, len);
    free(line);
}

/* auditAnnotations: {"decision":…,"images":"<the image list as text>"};
 * the API server's audit log takes string values only. */
static char *audit_annotations(const char *decision, const char *images, size_t images_len)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_object(&w);
    jsonw_key(&w, "decision");
    jsonw_string(&w, decision);
    jsonw_key(&w, "images");
    jsonw_stringn(&w, images, images_len);
    jsonw_end(&w);
    return jsonw_finish(&w, NULL);
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
    } else if ((patch = build_patch(a, &ans.patch_len)) != NULL) {
        ans.patch = patch;
        decision = "patched";
    } else {
        decision = a->exempt ? "exempt" : json_array_size(a->warnings) ? "warned" : "allowed";
    }
    size_t images_len = 0;
    char *images = image_records(a, &images_len);
    char *annotations = images ? audit_annotations(decision, images, images_len) : NULL;
    ans.audit_annotations = annotations;

    out->http_status = 200;
    out->is_json = true;
    out->decision = decision;
    out->body = annotations ? review_respond(&a->rv, &ans, &out->len) : NULL;
    if (!out->body) {
        out->http_status = 500;
        out->is_json = false;
        out->decision = "error";
    }
    if (images)
        write_audit(a, decision, images, images_len, ans.message);
    if (images && a->env->keep_images)
        out->images = json_loadb(images, images_len, 0, NULL);
    free(annotations);
    free(images);
    free(patch);
    text_cleanup(&msg);
}
