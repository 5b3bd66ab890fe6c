#include "commands.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../resolver/fileio.h"
#include "../resolver/resolver.h"
#include "admit.h"
#include "app.h"
#include "log.h"
#include "patch.h"
#include "policy.h"
#include "server.h"

#define REVIEW_FILE_MAX (64u << 20)

policy_t *cli_load_policy(const cli_options *o)
{
    tp_error err;
    tp_error_clear(&err);
    policy_t *p = o->config ? policy_load_file(o->config, &err) : policy_load_default(&err);
    if (!p)
        cli_fail("policy", &err);
    return p;
}

/* The resolver as the policy file and the flags configure it; flags win. */
resolver_t *cli_make_resolver(const cli_options *o, const policy_settings *s, tp_error *err)
{
    resolver_config rc = {
        .ca_file = o->ca_file ? o->ca_file : s->ca_file,
        .auth_file = o->auth_file ? o->auth_file : s->auth_file,
        .insecure_registries = s->insecure_registries,
        .n_insecure_registries = s->n_insecure_registries,
        .allowed_registries = s->allowed_registries,
        .n_allowed_registries = s->n_allowed_registries,
        .connect_timeout_ms = s->connect_timeout_ms,
        .cache_ttl_ms = s->cache_ttl_ms,
        .cache_stale_max_ms = s->cache_stale_max_ms,
        .cache_negative_ttl_ms = s->cache_negative_ttl_ms,
        .cache_max_entries = s->cache_max_entries,
    };
    return resolver_new(&rc, err);
}

void cli_fail(const char *what, const tp_error *err)
{
    fprintf(stderr, "tagpin: %s: %s\n", what, err->msg[0] ? err->msg : tp_code_message(err->code));
}

static json_t *str_or_null(const char *s, bool present)
{
    return present ? json_string(s) : json_null();
}

int cmd_ref(const cli_options *o)
{
    if (o->nargs == 0) {
        fputs("usage: tagpin ref IMAGE...\n", stderr);
        return 2;
    }
    int bad = 0;
    for (int i = 0; i < o->nargs; i++) {
        const char *in = o->args[i];
        ref_t r;
        tp_error err;
        tp_error_clear(&err);
        bool ok = ref_parse(in, strlen(in), &r, &err) == TP_OK;
        json_t *line = json_pack("{s:s, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                                 "input", in, "valid", ok,
                                 "name", str_or_null(r.name, ok),
                                 "familiar", str_or_null(ok ? ref_familiar_name(&r) : "", ok),
                                 "domain", str_or_null(r.domain, ok),
                                 "path", str_or_null(r.path, ok),
                                 "tag", str_or_null(r.tag, ok && r.has_tag),
                                 "digest", str_or_null(r.digest, ok && r.has_digest),
                                 "error", str_or_null(err.msg, !ok));
        char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
        if (text)
            puts(text);
        free(text);
        json_decref(line);
        bad |= !ok;
    }
    return bad ? 1 : 0;
}

static tp_code read_input(const char *path, char **buf, size_t *len, tp_error *err)
{
    if (strcmp(path, "-") != 0)
        return tp_read_file(path, REVIEW_FILE_MAX, "review", buf, len, err);
    return tp_read_file("/dev/stdin", REVIEW_FILE_MAX, "review", buf, len, err);
}

int cmd_review(const cli_options *o)
{
    if (o->nargs != 1) {
        fputs("usage: tagpin review [--config FILE] [--validate] FILE|-\n", stderr);
        return 2;
    }
    policy_t *policy = cli_load_policy(o);
    if (!policy)
        return 2;
    tp_error err;
    tp_error_clear(&err);
    const policy_settings *s = policy_get_settings(policy);
    char *body = NULL;
    size_t len = 0;
    resolver_t *resolver = NULL;
    int rc = 2;
    if (read_input(o->args[0], &body, &len, &err) != TP_OK) {
        cli_fail("input", &err);
        goto out;
    }
    if (!(resolver = cli_make_resolver(o, s, &err))) {
        cli_fail("resolver", &err);
        goto out;
    }
    admit_env env = {.policy = policy, .resolver = resolver, .audit = NULL};
    admit_result res;
    admit_handle(&env, o->validate ? ADMIT_VALIDATE : ADMIT_MUTATE, body, len,
                 tp_now_ms() + s->resolve_timeout_ms, &res);
    if (res.http_status == 200) {
        fwrite(res.body, 1, res.len, stdout);
        putchar('\n');
        rc = 0;
    } else {
        fprintf(stderr, "tagpin: HTTP %d: %s", res.http_status, res.body ? res.body : "error\n");
        rc = 1;
    }
    admit_result_cleanup(&res);
out:
    resolver_free(resolver);
    free(body);
    policy_free(policy);
    return rc;
}

