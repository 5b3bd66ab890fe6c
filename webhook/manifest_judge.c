/* No judgement lives here: the verdicts are admit_handle's, so that a CI
 * gate and the cluster cannot disagree. This file only wraps documents into
 * reviews and maps the answers back to positions. */
#include "manifest_judge.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit.h"

#define FINDING_TEXT_MAX 8192
#define API_PART_MAX 256

typedef struct judging {
    const judge_env *env;
    const manifest_file *f;
    size_t doc;
    judge_report *out;
    tp_code rc;
} judging;

/* The object as the messages name it: "Deployment shop/web". */
typedef struct object_id {
    const char *kind;
    const char *ns;
    const char *name;
    char name_buf[320];
} object_id;

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
    char *s = malloc(FINDING_TEXT_MAX);
    if (!s)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s, FINDING_TEXT_MAX, fmt, ap);
    va_end(ap);
    if (n < 0)
        s[0] = '\0';
    return s;
}

/* Takes text, pointer and pinned (owned). */
static void add(judging *j, judge_kind kind, unsigned line, unsigned column, char *text,
                char *pointer, char *pinned, const manifest_scalar *s)
{
    judge_report *r = j->out;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        judge_finding *grown = realloc(r->items, cap * sizeof *grown);
        if (!grown)
            goto nomem;
        r->items = grown;
        r->cap = cap;
    }
    if (!text || (kind == JUDGE_PIN && (!pointer || !pinned)))
        goto nomem;
    r->items[r->n++] = (judge_finding){.kind = kind, .line = line, .column = column,
                                       .doc = j->doc, .text = text, .pointer = pointer,
                                       .pinned = pinned, .scalar = s};
    r->denied += kind == JUDGE_DENIED;
    r->warnings += kind == JUDGE_WARNING;
    r->errors += kind == JUDGE_ERROR;
    r->pins += kind == JUDGE_PIN;
    return;
nomem:
    j->rc = TP_NOMEM;
    free(text);
    free(pointer);
    free(pinned);
}

static const char *str(json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : "";
}

static void object_id_init(object_id *id, json_t *obj, const char *ns_default)
{
    json_t *meta = json_object_get(obj, "metadata");
    id->kind = str(obj, "kind");
    id->ns = *str(meta, "namespace") ? str(meta, "namespace")
                                     : ns_default ? ns_default : "default";
    id->name = str(meta, "name");
    if (!*id->name) {
        int w = snprintf(id->name_buf, sizeof id->name_buf, "%s*", str(meta, "generateName"));
        id->name = w > 1 && (size_t)w < sizeof id->name_buf ? id->name_buf : "(unnamed)";
    }
}

/* A dry-run CREATE as the API server would send it (new text, or NULL). */
static char *wrap(const object_id *id, json_t *obj, size_t doc)
{
    const char *api = str(obj, "apiVersion");
    const char *slash = strchr(api, '/');
    char group[API_PART_MAX], uid[64];
    snprintf(group, sizeof group, "%.*s", slash ? (int)(slash - api) : 0, api);
    const char *version = slash ? slash + 1 : api;
    snprintf(uid, sizeof uid, "tagpin-cli-%zu", doc);
    json_t *rv = json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:{s:s}, "
                           "s:O, s:b}}",
                           "apiVersion", "admission.k8s.io/v1", "kind", "AdmissionReview",
                           "request", "uid", uid, "kind", "group", group, "version", version,
                           "kind", id->kind, "name", id->name, "namespace", id->ns,
                           "operation", "CREATE", "userInfo", "username", "tagpin-cli",
                           "object", obj, "dryRun", 1);
    char *body = rv ? json_dumps(rv, JSON_COMPACT) : NULL;
    json_decref(rv);
    return body;
}

static const char *list_word(const char *list)
{
    return strcmp(list, "initContainers") == 0 ? "init container"
         : strcmp(list, "ephemeralContainers") == 0 ? "ephemeral container"
         : "container";
}

/* The image a warning is about: its text names `container "x" image "y"`. */
static json_t *warning_image(json_t *images, const char *warning)
{
    size_t i;
    json_t *img;
    json_array_foreach(images, i, img) {
        char who[1024];
        const char *word = list_word(str(img, "list"));
        snprintf(who, sizeof who, "%s \"%s\" image \"%s\"", word, str(img, "container"),
                 str(img, "image"));
        const char *at = strstr(warning, who);
        /* "container" must not match the tail of "init container". */
        while (at && at > warning && at[-1] != ' ')
            at = strstr(at + 1, who);
        if (at && !(strcmp(word, "container") == 0 && at - warning >= 5 &&
                    (strncmp(at - 5, "init ", 5) == 0 ||
                     (at - warning >= 10 && strncmp(at - 10, "ephemeral ", 10) == 0))))
            return img;
    }
    return NULL;
}

/* The answer's warnings speak as "tagpin: ..." to kubectl users; here the
 * line already says who is speaking. */
static const char *warn_mode_prefix = "tagpin (warn mode): ";

static const char *strip_prefix(const char *w)
{
    if (strncmp(w, "tagpin: ", 8) == 0)
        return w + 8;
    if (strncmp(w, warn_mode_prefix, strlen(warn_mode_prefix)) == 0)
        return w + strlen(warn_mode_prefix);
    return w;
}

static void place(judging *j, const char *prefix, json_t *img, const manifest_scalar **s,
                  unsigned *line, unsigned *column)
{
    const manifest_doc *d = &j->f->docs[j->doc];
    char full[MANIFEST_POINTER_MAX];
    *s = NULL;
    int w = snprintf(full, sizeof full, "%s%s", prefix, str(img, "pointer"));
    if (img && w > 0 && (size_t)w < sizeof full)
        *s = manifest_doc_find(j->f, d, full);
    *line = *s ? (*s)->line : d->line;
    *column = *s ? (*s)->column : d->column;
}

static void report_images(judging *j, const object_id *id, const char *prefix, json_t *images)
{
    size_t i;
    json_t *img;
    json_array_foreach(images, i, img) {
        const char *outcome = str(img, "outcome");
        const manifest_scalar *s;
        unsigned line, column;
        place(j, prefix, img, &s, &line, &column);
        if (strcmp(outcome, "denied") == 0) {
            add(j, JUDGE_DENIED, line, column,
                format("%s %s/%s: %s \"%s\" image \"%s\" %s", id->kind, id->ns, id->name,
                       list_word(str(img, "list")), str(img, "container"), str(img, "image"),
                       str(img, "reason")), NULL, NULL, NULL);
        } else if (strcmp(outcome, "pinned") == 0) {
            add(j, JUDGE_PIN, line, column,
                format("%s %s/%s: %s \"%s\" image \"%s\" pinned to %s", id->kind, id->ns,
                       id->name, list_word(str(img, "list")), str(img, "container"),
                       str(img, "image"), str(img, "pinned")),
                format("%s%s", prefix, str(img, "pointer")), strdup(str(img, "pinned")), s);
        }
    }
}

static void report_answer(judging *j, const object_id *id, const char *prefix,
                          const admit_result *res)
{
    json_t *answer = json_loadb(res->body, res->len, 0, NULL);
    json_t *response = json_object_get(answer, "response");
    const manifest_doc *d = &j->f->docs[j->doc];
    size_t before = j->out->denied;
    report_images(j, id, prefix, res->images);
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(response, "warnings"), i, w) {
        const manifest_scalar *s;
        unsigned line, column;
        const char *text = json_string_value(w) ? json_string_value(w) : "";
        json_t *img = warning_image(res->images, text);
        place(j, prefix, img, &s, &line, &column);
        add(j, JUDGE_WARNING, line, column,
            format("%s %s/%s: %s%s", id->kind, id->ns, id->name, strip_prefix(text),
                   strncmp(text, warn_mode_prefix, strlen(warn_mode_prefix)) == 0
                       ? " (warn mode)" : ""),
            NULL, NULL, NULL);
    }
    if (!json_is_true(json_object_get(response, "allowed")) && j->out->denied == before) {
        const char *msg = str(json_object_get(response, "status"), "message");
        add(j, JUDGE_DENIED, d->line, d->column,
            format("%s %s/%s: denied: %s", id->kind, id->ns, id->name,
                   *msg ? msg : "(no message)"), NULL, NULL, NULL);
    }
    json_decref(answer);
}

static void judge_object(judging *j, json_t *obj, const char *prefix)
{
    const manifest_doc *d = &j->f->docs[j->doc];
    object_id id;
    object_id_init(&id, obj, j->env->namespace);
    char *body = wrap(&id, obj, j->doc);
    if (!body) {
        j->rc = TP_NOMEM;
        return;
    }
    const policy_settings *set = policy_get_settings(j->env->policy);
    admit_env env = {.policy = j->env->policy, .resolver = j->env->resolver,
                     .keep_images = true};
    admit_result res;
    admit_handle(&env, j->env->validate ? ADMIT_VALIDATE : ADMIT_MUTATE, body, strlen(body),
                 tp_now_ms() + set->resolve_timeout_ms, &res);
    free(body);
    if (res.http_status != 200 || !res.body) {
        size_t n = res.body ? strcspn(res.body, "\n") : 0;
        add(j, JUDGE_ERROR, d->line, d->column,
            format("%s %s/%s: cannot be judged: %.*s", id.kind, id.ns, id.name, (int)n,
                   res.body ? res.body : ""), NULL, NULL, NULL);
    } else if (strcmp(res.decision, "ignored") != 0) {
        report_answer(j, &id, prefix, &res);
    }
    admit_result_cleanup(&res);
}

static bool is_list(json_t *obj)
{
    const char *kind = str(obj, "kind");
    size_t n = strlen(kind);
    return json_is_array(json_object_get(obj, "items")) && n >= 4 &&
           strcmp(kind + n - 4, "List") == 0;
}

tp_code manifest_judge_file(const judge_env *env, const manifest_file *f, judge_report *out)
{
    judging j = {.env = env, .f = f, .out = out, .rc = TP_OK};
    for (j.doc = 0; j.doc < f->n_docs && j.rc == TP_OK; j.doc++) {
        json_t *obj = f->docs[j.doc].root;
        if (!json_is_object(obj) || !*str(obj, "kind") || !*str(obj, "apiVersion"))
            continue; /* empty documents, and files that are not Kubernetes objects */
        if (!is_list(obj)) {
            judge_object(&j, obj, "");
            continue;
        }
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(obj, "items"), i, item) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "/items/%zu", i);
            if (json_is_object(item) && *str(item, "kind") && *str(item, "apiVersion"))
                judge_object(&j, item, prefix);
        }
    }
    return j.rc;
}

void judge_report_cleanup(judge_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].text);
        free(r->items[i].pointer);
        free(r->items[i].pinned);
    }
    free(r->items);
    memset(r, 0, sizeof *r);
}

/* Insertion sort: stable, and reports are short. */
void judge_report_sort(judge_report *r)
{
    for (size_t i = 1; i < r->n; i++) {
        judge_finding cur = r->items[i];
        size_t k = i;
        while (k > 0 && (r->items[k - 1].line > cur.line ||
                         (r->items[k - 1].line == cur.line && r->items[k - 1].column > cur.column))) {
            r->items[k] = r->items[k - 1];
            k--;
        }
        r->items[k] = cur;
    }
}
