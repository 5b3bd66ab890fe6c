/* `tagpin check FILE...` and `tagpin pin FILE...`: manifests judged by the
 * webhook's own pipeline (manifest_judge), then reported (check) or rewritten
 * image by image (pin). pin is all or nothing: every file is judged, edited
 * and re-read before the first one is written. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../resolver/fileio.h"
#include "commands.h"
#include "jsonptr.h"
#include "manifest_edit.h"
#include "manifest_judge.h"

typedef struct input {
    const char *path;  /* as given; "-" is stdin */
    const char *name;  /* in messages */
    char *buf;         /* owned */
    size_t len;
    manifest_file mf;
    judge_report rep;
    char *out;         /* owned: the pinned text */
    size_t out_len;
} input;

static bool is_stdin(const input *in)
{
    return strcmp(in->path, "-") == 0;
}

static void say(FILE *to, const input *in, unsigned line, unsigned column, const char *what,
                const char *text)
{
    fprintf(to, "%s:%u:%u: %s%s\n", in->name, line, column, what, text);
}

/* Reads, parses and judges one input; false after printing why not. */
static bool input_judge(input *in, const judge_env *env, FILE *diag)
{
    tp_error err;
    tp_error_clear(&err);
    in->name = is_stdin(in) ? "<stdin>" : in->path;
    if (tp_read_file(is_stdin(in) ? "/dev/stdin" : in->path, MANIFEST_FILE_MAX, "manifest",
                     &in->buf, &in->len, &err) != TP_OK) {
        fprintf(diag, "tagpin: %s\n", err.msg);
        return false;
    }
    if (manifest_yaml_parse(in->buf, in->len, in->name, "image", &in->mf, &err) != TP_OK) {
        fprintf(diag, "%s\n", err.msg); /* "FILE:LINE:COL: what" */
        return false;
    }
    if (manifest_judge_file(env, &in->mf, &in->rep) != TP_OK) {
        fprintf(diag, "%s: error: out of memory\n", in->name);
        return false;
    }
    judge_report_sort(&in->rep);
    for (size_t i = 0; i < in->rep.n; i++) {
        const judge_finding *f = &in->rep.items[i];
        if (f->kind != JUDGE_PIN)
            say(diag, in, f->line, f->column,
                f->kind == JUDGE_WARNING ? "warning: " : f->kind == JUDGE_ERROR ? "error: " : "",
                f->text);
    }
    return in->rep.errors == 0;
}

static void input_cleanup(input *in)
{
    manifest_file_cleanup(&in->mf);
    judge_report_cleanup(&in->rep);
    free(in->buf);
    free(in->out);
}

/* The rewrite must read back as the original documents with exactly the
 * pinned values changed; an anchor shared with a non-image field, for one,
 * would change more. */
static bool output_verify(const input *in)
{
    manifest_file after;
    tp_error err;
    if (manifest_yaml_parse(in->out, in->out_len, in->name, "image", &after, &err) != TP_OK) {
        fprintf(stderr, "%s: error: the pinned text does not parse (%s)\n", in->name, err.msg);
        return false;
    }
    bool same = after.n_docs == in->mf.n_docs;
    for (size_t d = 0; same && d < after.n_docs; d++) {
        json_t *want = json_deep_copy(in->mf.docs[d].root);
        for (size_t i = 0; want && i < in->rep.n; i++) {
            const judge_finding *f = &in->rep.items[i];
            if (f->kind == JUDGE_PIN && f->doc == d)
                jsonptr_replace(want, f->pointer, json_string(f->pinned));
        }
        if (!want || !json_equal(want, after.docs[d].root)) {
            say(stderr, in, in->mf.docs[d].line, in->mf.docs[d].column, "error: ",
                "pinning this document would change more than its image values "
                "(an anchor shared with other fields?)");
            same = false;
        }
        json_decref(want);
    }
    manifest_file_cleanup(&after);
    return same;
}

/* Builds in->out from the pins; false after printing why not. */
static bool output_build(input *in)
{
    manifest_edit *edits = calloc(in->rep.pins ? in->rep.pins : 1, sizeof *edits);
    size_t n = 0;
    bool ok = edits != NULL;
    tp_error err;
    tp_error_clear(&err);
    for (size_t i = 0; ok && i < in->rep.n; i++) {
        const judge_finding *f = &in->rep.items[i];
        if (f->kind != JUDGE_PIN)
            continue;
        if (!f->scalar) {
            say(stderr, in, f->line, f->column, "error: cannot find the text of ", f->pointer);
            ok = false;
        } else if (manifest_edit_render(f->pinned, f->scalar->style, &edits[n].text, &err) != TP_OK) {
            say(stderr, in, f->line, f->column, "error: ", err.msg);
            ok = false;
        } else {
            edits[n].start = f->scalar->start;
            edits[n++].end = f->scalar->end;
        }
    }
    if (ok && manifest_edit_apply(in->buf, in->len, edits, n, &in->out, &in->out_len, &err) != TP_OK) {
        fprintf(stderr, "%s: error: %s\n", in->name, err.msg);
        ok = false;
    }
    for (size_t i = 0; edits && i < n; i++)
        free(edits[i].text);
    free(edits);
    return ok && output_verify(in);
}

static bool write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        data += w;
        len -= (size_t)w;
    }
    return true;
}

/* A temporary file beside the target, renamed over it: readers see the old
 * or the new file, never half of one. Mode and (when allowed) owner kept;
 * a symlink is followed so that the link stays a link. */
static tp_code write_atomic(const char *path, const char *data, size_t len, tp_error *err)
{
    char *real = realpath(path, NULL);
    struct stat st;
    if (!real || stat(real, &st) != 0) {
        free(real);
        return tp_error_set(err, TP_IO, "%s: %s", path, strerror(errno));
    }
    const char *slash = strrchr(real, '/');
    char tmp[PATH_MAX + 32];
    int w = snprintf(tmp, sizeof tmp, "%.*s/.%s.tagpin-XXXXXX", (int)(slash - real), real,
                     slash + 1);
    int fd = (w > 0 && (size_t)w < sizeof tmp) ? mkstemp(tmp) : -1;
    tp_code rc = TP_OK;
    if (fd < 0) {
        rc = tp_error_set(err, TP_IO, "%s: cannot create a temporary file: %s", path,
                          strerror(errno));
    } else {
        if (fchown(fd, st.st_uid, st.st_gid) != 0) {
            /* not root: the file becomes ours, as any editor would leave it */
        }
        if (fchmod(fd, st.st_mode & 07777) != 0 || !write_all(fd, data, len) || fsync(fd) != 0)
            rc = tp_error_set(err, TP_IO, "%s: %s", tmp, strerror(errno));
        if (close(fd) != 0 && rc == TP_OK)
            rc = tp_error_set(err, TP_IO, "%s: %s", tmp, strerror(errno));
        if (rc == TP_OK && rename(tmp, real) != 0)
            rc = tp_error_set(err, TP_IO, "%s: %s", path, strerror(errno));
        if (rc != TP_OK)
            unlink(tmp);
    }
    free(real);
    return rc;
}

static int write_outputs(const cli_options *o, input *ins, int n)
{
    bool wrote_stdout = false;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        input *in = &ins[i];
        if (o->to_stdout || is_stdin(in)) {
            /* Files after the first get their own document separator. */
            if (wrote_stdout)
                fputs("---\n", stdout);
            fwrite(in->out, 1, in->out_len, stdout);
            if (in->out_len && in->out[in->out_len - 1] != '\n')
                fputc('\n', stdout);
            wrote_stdout = true;
            continue;
        }
        if (in->rep.pins == 0)
            continue;
        tp_error err;
        tp_error_clear(&err);
        if (write_atomic(in->path, in->out, in->out_len, &err) != TP_OK) {
            fprintf(stderr, "tagpin: %s\n", err.msg);
            rc = 2;
            continue;
        }
        fprintf(stderr, "tagpin: %s: pinned %zu image%s\n", in->name, in->rep.pins,
                in->rep.pins == 1 ? "" : "s");
    }
    if (fflush(stdout) != 0)
        rc = 2;
    return rc;
}

static int usage_error(bool pin, const char *why)
{
    if (why)
        fprintf(stderr, "tagpin: %s\n", why);
    fputs(pin ? "usage: tagpin pin [--config FILE] [--ca-file FILE] [--auth-file FILE]\n"
                "                  [--namespace NS] [--stdout] FILE...|-\n"
              : "usage: tagpin check [--config FILE] [--ca-file FILE] [--auth-file FILE]\n"
                "                    [--namespace NS] [--offline] [--validate] FILE...|-\n",
          stderr);
    return 2;
}

static int check_args(const cli_options *o, bool pin)
{
    if (o->nargs < 1)
        return usage_error(pin, NULL);
    if (pin && o->offline)
        return usage_error(pin, "pin needs the registry; --offline is for check");
    if (!pin && o->to_stdout)
        return usage_error(pin, "--stdout is for pin");
    if (pin && o->validate)
        return usage_error(pin, "--validate is for check (the /validate endpoint never pins)");
    int stdins = 0;
    for (int i = 0; i < o->nargs; i++)
        stdins += strcmp(o->args[i], "-") == 0;
    return stdins > 1 ? usage_error(pin, "stdin (-) given twice") : 0;
}

static int run(const cli_options *o, bool pin)
{
    int rc = check_args(o, pin);
    if (rc != 0)
        return rc;
    policy_t *policy = cli_load_policy(o);
    if (!policy)
        return 2;
    tp_error err;
    tp_error_clear(&err);
    judge_env env = {.policy = policy, .namespace = o->namespace, .validate = o->validate};
    input *ins = calloc((size_t)o->nargs, sizeof *ins);
    rc = 2;
    if (!ins || (!o->offline &&
                 !(env.resolver = cli_make_resolver(o, policy_get_settings(policy), &err)))) {
        cli_fail(ins ? "resolver" : "input", &err);
        goto out;
    }
    FILE *diag = pin ? stderr : stdout;
    bool failed = false;
    size_t denied = 0;
    for (int i = 0; i < o->nargs; i++) {
        ins[i].path = o->args[i];
        failed |= !input_judge(&ins[i], &env, diag);
        denied += ins[i].rep.denied;
    }
    if (failed || denied || !pin) {
        if (pin)
            fprintf(stderr, "tagpin: no file written (%s)\n",
                    failed ? "errors above" : "images denied above");
        rc = failed ? 2 : denied ? 1 : 0;
        goto out;
    }
    for (int i = 0; i < o->nargs; i++)
        failed |= !output_build(&ins[i]);
    if (failed) {
        fputs("tagpin: no file written (errors above)\n", stderr);
        goto out;
    }
    rc = write_outputs(o, ins, o->nargs);
out:
    for (int i = 0; ins && i < o->nargs; i++)
        input_cleanup(&ins[i]);
    free(ins);
    resolver_free(env.resolver);
    policy_free(policy);
    return rc;
}

int cmd_check(const cli_options *o)
{
    return run(o, false);
}

int cmd_pin(const cli_options *o)
{
    return run(o, true);
}
