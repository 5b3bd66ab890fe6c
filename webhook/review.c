#include "review.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonsel.h"
#include "jsonw.h"
#include "patch.h"

/* What tagpin reads of a review; everything else is validated and skipped
 * (jsonsel.h). Readers: decode_request and set_display_name below;
 * images.c, the container lists under each kind's pod spec (Pod: spec,
 * workloads: spec.template.spec, PodTemplate: template.spec, CronJob:
 * spec.jobTemplate.spec.template.spec, EphemeralContainers: the top level);
 * answer.c and patch.c, the pinned annotation and whether metadata and
 * annotations exist. A new reader must add its members here. */
static const jsonsel container_members[] = {{"name", NULL}, {"image", NULL}, {NULL, NULL}};
#define POD_SPEC_LISTS                                                            \
    {"containers", container_members}, {"initContainers", container_members},    \
    {"ephemeralContainers", container_members}
static const jsonsel pod_spec[] = {POD_SPEC_LISTS, {NULL, NULL}};
static const jsonsel pod_template[] = {{"spec", pod_spec}, {NULL, NULL}};
static const jsonsel job_spec[] = {{"template", pod_template}, {NULL, NULL}};
static const jsonsel job_template[] = {{"spec", job_spec}, {NULL, NULL}};
static const jsonsel object_spec[] = {
    POD_SPEC_LISTS, {"template", pod_template}, {"jobTemplate", job_template}, {NULL, NULL}};
static const jsonsel annotations[] = {{PATCH_ANNOTATION, NULL}, {NULL, NULL}};
static const jsonsel metadata[] = {{"name", NULL}, {"generateName", NULL}, {"namespace", NULL},
                                   {"annotations", annotations}, {NULL, NULL}};
static const jsonsel object_members[] = {
    {"metadata", metadata}, {"spec", object_spec}, {"template", pod_template},
    {"ephemeralContainers", container_members}, {NULL, NULL}};
static const jsonsel user_members[] = {{"username", NULL}, {"groups", NULL}, {NULL, NULL}};
static const jsonsel request_members[] = {
    {"uid", NULL}, {"kind", NULL}, {"subResource", NULL}, {"name", NULL}, {"namespace", NULL},
    {"operation", NULL}, {"userInfo", user_members}, {"dryRun", NULL},
    {"object", object_members}, {"oldObject", object_members}, {NULL, NULL}};
static const jsonsel review_members[] = {
    {"apiVersion", NULL}, {"kind", NULL}, {"request", request_members}, {NULL, NULL}};

static const char *str_or(json_t *obj, const char *key, const char *fallback)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : fallback;
}

static void set_display_name(review *r)
{
    json_t *meta = json_object_get(r->object ? r->object : r->old_object, "metadata");
    const char *name = json_string_value(json_object_get(json_object_get(r->root, "request"), "name"));
    if (!name || !*name)
        name = str_or(meta, "name", "");
    if (*name) {
        r->name = name;
        return;
    }
    const char *gen = str_or(meta, "generateName", "");
    int w = snprintf(r->name_buf, sizeof r->name_buf, "%s*", gen);
    r->name = (w > 1 && (size_t)w < sizeof r->name_buf) ? r->name_buf : "(unnamed)";
}

static tp_code decode_request(review *r, json_t *req, tp_error *err)
{
    r->uid = json_string_value(json_object_get(req, "uid"));
    if (!r->uid || !*r->uid)
        return tp_error_set(err, TP_REVIEW, "request.uid is missing");
    json_t *kind = json_object_get(req, "kind");
    if (!json_is_object(kind))
        return tp_error_set(err, TP_REVIEW, "request.kind is missing");
    r->group = str_or(kind, "group", "");
    r->version = str_or(kind, "version", "");
    r->kind = str_or(kind, "kind", "");
    r->subresource = str_or(req, "subResource", "");
    r->namespace = str_or(req, "namespace", "");
    r->operation = str_or(req, "operation", "");
    if (!*r->operation)
        return tp_error_set(err, TP_REVIEW, "request.operation is missing");
    json_t *user = json_object_get(req, "userInfo");
    r->username = str_or(user, "username", "");
    r->groups = json_is_array(json_object_get(user, "groups")) ? json_object_get(user, "groups") : NULL;
    r->dry_run = json_is_true(json_object_get(req, "dryRun"));
    r->object = json_object_get(req, "object");
    r->old_object = json_object_get(req, "oldObject");
    if (r->object && json_is_null(r->object))
        r->object = NULL;
    if (r->old_object && json_is_null(r->old_object))
        r->old_object = NULL;
    if (r->object && !json_is_object(r->object))
        return tp_error_set(err, TP_REVIEW, "request.object is not an object");
    if (r->old_object && !json_is_object(r->old_object))
        return tp_error_set(err, TP_REVIEW, "request.oldObject is not an object");
    set_display_name(r);
    return TP_OK;
}

tp_code review_decode(const char *body, size_t len, review *out, tp_error *err)
{
    memset(out, 0, sizeof *out);
    tp_error jerr;
    tp_error_clear(&jerr);
    json_t *root = jsonsel_decode(body, len, review_members, REVIEW_MAX_DEPTH, &jerr);
    if (!root)
        return tp_error_set(err, jerr.code, "not JSON: %s", jerr.msg);
    tp_code rc = TP_REVIEW;
    const char *api = json_string_value(json_object_get(root, "apiVersion"));
    const char *kind = json_string_value(json_object_get(root, "kind"));
    json_t *req = json_object_get(root, "request");
    if (!json_is_object(root) || !kind || strcmp(kind, "AdmissionReview") != 0)
        tp_error_set(err, TP_REVIEW, "not an AdmissionReview (kind must be AdmissionReview)");
    else if (!api || (strcmp(api, "admission.k8s.io/v1") != 0 &&
                      strcmp(api, "admission.k8s.io/v1beta1") != 0))
        tp_error_set(err, TP_REVIEW, "unsupported apiVersion %s (want admission.k8s.io/v1)",
                     api ? api : "(missing)");
    else if (!json_is_object(req))
        tp_error_set(err, TP_REVIEW, "AdmissionReview has no request");
    else {
        out->root = root;
        out->api_version = api;
        rc = decode_request(out, req, err);
    }
    if (rc != TP_OK) {
        json_decref(root);
        memset(out, 0, sizeof *out);
    }
    return rc;
}

void review_cleanup(review *r)
{
    if (!r)
        return;
    json_decref(r->root);
    memset(r, 0, sizeof *r);
}

static void write_status(jsonw *w, const review_answer *a)
{
    jsonw_key(w, "status");
    jsonw_object(w);
    jsonw_key(w, "code");
    jsonw_int(w, a->code ? a->code : 403);
    jsonw_key(w, "reason");
    jsonw_string(w, "Forbidden");
    if (a->message) {
        jsonw_key(w, "message");
        jsonw_string(w, a->message);
    }
    jsonw_end(w);
}

char *review_respond(const review *r, const review_answer *a, size_t *len)
{
    jsonw w;
    jsonw_init(&w);
    jsonw_object(&w);
    jsonw_key(&w, "apiVersion");
    jsonw_string(&w, r->api_version ? r->api_version : "admission.k8s.io/v1");
    jsonw_key(&w, "kind");
    jsonw_string(&w, "AdmissionReview");
    jsonw_key(&w, "response");
    jsonw_object(&w);
    jsonw_key(&w, "uid");
    jsonw_string(&w, r->uid ? r->uid : "");
    jsonw_key(&w, "allowed");
    jsonw_bool(&w, a->allowed);
    if (!a->allowed)
        write_status(&w, a);
    if (a->patch) {
        jsonw_key(&w, "patchType");
        jsonw_string(&w, "JSONPatch");
        jsonw_key(&w, "patch");
        jsonw_base64(&w, a->patch, a->patch_len);
    }
    if (a->warnings && json_array_size(a->warnings) > 0) {
        jsonw_key(&w, "warnings");
        jsonw_value(&w, a->warnings);
    }
    if (a->audit_annotations) {
        jsonw_key(&w, "auditAnnotations");
        jsonw_raw(&w, a->audit_annotations, strlen(a->audit_annotations));
    }
    jsonw_end(&w);
    jsonw_end(&w);
    return jsonw_finish(&w, len);
}
