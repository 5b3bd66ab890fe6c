/* The policy: the embedded defaults and their verdicts, rule matching, every
 * setting's default, every kind of error with its exact line:column, the
 * example files (tests/policies/ and every ```yaml block of docs/policy.md),
 * the glob dialect against fnmatch, and reference counting across threads. */
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "policy.h"

#define DIGEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static policy_t *load(const char *yaml, tp_error *err)
{
    tp_error_clear(err);
    return policy_load_buffer(yaml, strlen(yaml), "t.yaml", err);
}

/* Judges image in ns; a reference that does not parse fails the check. */
static policy_verdict judge(const policy_t *p, const char *image, const char *ns)
{
    policy_verdict v = {POLICY_ALLOW, "unparsed", NULL};
    ref_t ref;
    tp_error err;
    tp_error_clear(&err);
    CHECK_INT(ref_parse(image, strlen(image), &ref, &err), TP_OK);
    if (err.code == TP_OK)
        policy_judge(p, &ref, ns, &v);
    return v;
}

#define CHECK_VERDICT(p, image, ns, act, rule_name)                  \
    do {                                                             \
        policy_verdict v_ = judge(p, image, ns);                     \
        CHECK_STR(policy_action_name(v_.action), policy_action_name(act)); \
        CHECK_STR(v_.rule, rule_name);                               \
    } while (0)

/* The load must fail with TP_POLICY and exactly this message. */
#define CHECK_LOAD_ERROR(yaml, want)                                  \
    do {                                                             \
        tp_error e_;                                                 \
        policy_t *p_ = load(yaml, &e_);                              \
        CHECK(p_ == NULL);                                           \
        policy_free(p_);                                             \
        CHECK_INT(e_.code, TP_POLICY);                               \
        CHECK_STR(e_.msg, want);                                      \
    } while (0)

static void test_default_verdicts(void)
{
    tp_error err;
    policy_t *p = policy_load_default(&err);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "default policy: %s\n", err.msg);
        return;
    }
    CHECK_VERDICT(p, "nginx:latest", "apps", POLICY_DENY, "deny-latest");
    CHECK_VERDICT(p, "nginx:LATEST", "apps", POLICY_DENY, "deny-latest");
    CHECK_VERDICT(p, "nginx:1.25-latest", "apps", POLICY_DENY, "deny-latest");
    CHECK_VERDICT(p, "nginx", "apps", POLICY_DENY, "deny-untagged");
    CHECK_VERDICT(p, "ghcr.io/org/app", "apps", POLICY_DENY, "deny-untagged");
    CHECK_VERDICT(p, "org/app:main", "apps", POLICY_DENY, "deny-mutable-tags");
    CHECK_VERDICT(p, "app:nightly", "apps", POLICY_DENY, "deny-mutable-tags");
    CHECK_VERDICT(p, "app:2.0-SNAPSHOT", "apps", POLICY_DENY, "deny-mutable-tags");
    CHECK_VERDICT(p, "nginx:1.25.3", "apps", POLICY_PIN, "default");
    CHECK_VERDICT(p, "nginx:mainline-alpine", "apps", POLICY_PIN, "default");
    CHECK_VERDICT(p, "nginx@" DIGEST, "apps", POLICY_ALLOW, "allow-digest");
    CHECK_VERDICT(p, "nginx:latest@" DIGEST, "apps", POLICY_ALLOW, "allow-digest");
    policy_verdict v = judge(p, "nginx:latest", "apps");
    CHECK(v.message != NULL && strstr(v.message, "latest") != NULL);
    v = judge(p, "nginx:1.25.3", NULL);
    CHECK(v.message == NULL);
    CHECK(policy_exempt(p, "kube-system"));
    CHECK(!policy_exempt(p, "kube-public"));
    CHECK(!policy_exempt(p, ""));
    CHECK(!policy_exempt(p, NULL));
    CHECK(strstr(policy_default_yaml(), "name: allow-digest") != NULL);
    policy_free(p);
}

/* Values written in policy.h; "{}" (all defaults) and the embedded file must
 * both give them, so the file and the code cannot drift apart. */
static void check_defaults(const policy_settings *s)
{
    CHECK_STR(s->listen, "127.0.0.1:8443");
    CHECK(s->tls_cert == NULL);
    CHECK(s->tls_key == NULL);
    CHECK_INT(s->max_body_bytes, 3145728);
    CHECK_STR(s->audit_log, "-");
    CHECK(s->metrics_listen == NULL);
    CHECK_INT(s->mode, POLICY_MODE_ENFORCE);
    CHECK_INT(s->default_action, POLICY_PIN);
    CHECK_INT(s->n_exempt_namespaces, 1);
    if (s->n_exempt_namespaces == 1)
        CHECK_STR(s->exempt_namespaces[0], "kube-system");
    CHECK_INT(s->output, POLICY_OUTPUT_TAG_DIGEST);
    CHECK_INT(s->scope, POLICY_SCOPE_ALL);
    CHECK_INT(s->on_resolve_failure, POLICY_DENY);
    CHECK_INT(s->n_required_platforms, 2);
    if (s->n_required_platforms == 2) {
        CHECK_STR(s->required_platforms[0], "linux/amd64");
        CHECK_STR(s->required_platforms[1], "linux/arm64");
    }
    CHECK(!s->deny_missing_platforms);
    CHECK(!s->validate_require_pinned);
    CHECK(s->ca_file == NULL);
    CHECK(s->auth_file == NULL);
    CHECK_INT(s->n_insecure_registries, 0);
    CHECK_INT(s->n_allowed_registries, 0);
    CHECK_INT(s->connect_timeout_ms, 2000);
    CHECK_INT(s->resolve_timeout_ms, 8000);
    CHECK_INT(s->cache_ttl_ms, 300000);
    CHECK_INT(s->cache_stale_max_ms, 86400000);
    CHECK_INT(s->cache_negative_ttl_ms, 30000);
    CHECK_INT(s->cache_max_entries, 10000);
}

static void test_settings_defaults(void)
{
    tp_error err;
    policy_t *d = policy_load_default(&err), *e = load("{}", &err);
    CHECK(d != NULL && e != NULL);
    if (d)
        check_defaults(policy_get_settings(d));
    if (e) {
        check_defaults(policy_get_settings(e));
        CHECK_VERDICT(e, "nginx:latest", "apps", POLICY_DENY, "deny-latest");
    }
    policy_free(d);
    policy_free(e);
}

static void test_settings_set(void)
{
    tp_error err;
    policy_t *p = load("mode: warn\n"
                       "exemptNamespaces: [\"kube-*\", tagpin]\n"
                       "defaultAction: allow\n"
                       "pinning: {output: digest, scope: pods, onResolveFailure: allow,\n"
                       "  requiredPlatforms: [linux/arm/v7], onMissingPlatforms: deny}\n"
                       "validate: {requirePinned: true}\n"
                       "registry: {caFile: /ca.pem, authFile: /auth.json,\n"
                       "  insecure: [LocalHost:5000], allow: [\"*.Example.com\"],\n"
                       "  connectTimeout: 500ms, timeout: 1m30s}\n"
                       "cache: {ttl: 90, staleMaxAge: 0, negativeTtl: 2h, maxEntries: 5}\n"
                       "server: {listen: \"[::]:0\", tlsCert: /c, tlsKey: /k,\n"
                       "  maxBodyBytes: 67108864, auditLog: \"off\", metricsListen: \":9090\"}\n",
                       &err);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    const policy_settings *s = policy_get_settings(p);
    CHECK_INT(s->mode, POLICY_MODE_WARN);
    CHECK_STR(policy_mode_name(s->mode), "warn");
    CHECK(policy_exempt(p, "kube-public") && policy_exempt(p, "tagpin"));
    CHECK(!policy_exempt(p, "tagpin2"));
    CHECK_INT(s->default_action, POLICY_ALLOW);
    CHECK_INT(s->output, POLICY_OUTPUT_DIGEST);
    CHECK_INT(s->scope, POLICY_SCOPE_PODS);
    CHECK_INT(s->on_resolve_failure, POLICY_ALLOW);
    CHECK_INT(s->n_required_platforms, 1);
    CHECK_STR(s->required_platforms[0], "linux/arm/v7");
    CHECK(s->deny_missing_platforms);
    CHECK(s->validate_require_pinned);
    CHECK_STR(s->ca_file, "/ca.pem");
    CHECK_STR(s->auth_file, "/auth.json");
    CHECK_STR(s->insecure_registries[0], "localhost:5000"); /* hosts are case-insensitive */
    CHECK_STR(s->allowed_registries[0], "*.example.com");
    CHECK_INT(s->connect_timeout_ms, 500);
    CHECK_INT(s->resolve_timeout_ms, 90000);
    CHECK_INT(s->cache_ttl_ms, 90000);
    CHECK_INT(s->cache_stale_max_ms, 0);
    CHECK_INT(s->cache_negative_ttl_ms, 7200000);
    CHECK_INT(s->cache_max_entries, 5);
    CHECK_STR(s->listen, "[::]:0");
    CHECK_STR(s->tls_cert, "/c");
    CHECK_STR(s->tls_key, "/k");
    CHECK_INT(s->max_body_bytes, 64 << 20);
    CHECK_STR(s->audit_log, "off");
    CHECK_STR(s->metrics_listen, ":9090");
    policy_free(p);
}

/* A file replaces only what it names: the default rules stay unless
 * `rules` is written, and sections merge key by key. */
static void test_overlay(void)
{
    tp_error err;
    policy_t *p = load("mode: warn\ncache: {ttl: 1m}\n", &err);
    CHECK(p != NULL);
    if (p) {
        CHECK_VERDICT(p, "nginx:latest", "apps", POLICY_DENY, "deny-latest");
        CHECK_INT(policy_get_settings(p)->cache_ttl_ms, 60000);
        CHECK_INT(policy_get_settings(p)->cache_stale_max_ms, 86400000);
    }
    policy_free(p);
    p = load("rules: []\nexemptNamespaces: []\n", &err);
    CHECK(p != NULL);
    if (p) {
        CHECK_VERDICT(p, "nginx:latest", "apps", POLICY_PIN, "default");
        CHECK(!policy_exempt(p, "kube-system"));
    }
    policy_free(p);
}

static void test_rule_order(void)
{
    tp_error err;
    policy_t *p = load("rules:\n"
                       "- {name: first, tags: [\"1.*\"], action: allow, message: one}\n"
                       "- {name: second, tags: [\"1.2*\"], action: deny}\n"
                       "- {name: catch-all, action: deny}\n", &err);
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK_VERDICT(p, "app:1.2.3", "x", POLICY_ALLOW, "first");
    CHECK_STR(judge(p, "app:1.2.3", "x").message, "one");
    CHECK_VERDICT(p, "app:2.0", "x", POLICY_DENY, "catch-all");
    CHECK(judge(p, "app:2.0", "x").message == NULL);
    CHECK_VERDICT(p, "app", "x", POLICY_DENY, "catch-all");
    policy_free(p);
}

static void test_namespaces(void)
{
    tp_error err;
    policy_t *p = load("rules:\n"
                       "- {name: team, namespaces: [\"team-*\", ops], action: allow}\n"
                       "defaultAction: deny\n", &err);
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK_VERDICT(p, "app:1", "team-a", POLICY_ALLOW, "team");
    CHECK_VERDICT(p, "app:1", "ops", POLICY_ALLOW, "team");
    CHECK_VERDICT(p, "app:1", "ops2", POLICY_DENY, "default");
    CHECK_VERDICT(p, "app:1", NULL, POLICY_DENY, "default");
    CHECK_VERDICT(p, "app:1", "", POLICY_DENY, "default");
    policy_free(p);
}

/* images globs see both "docker.io/library/nginx" and "nginx"; `*` crosses
 * '/' (fnmatch without FNM_PATHNAME). */
static void test_images_and_registries(void)
{
    tp_error err;
    policy_t *p = load("defaultAction: deny\n"
                       "rules:\n"
                       "- {name: familiar, images: [nginx], action: allow}\n"
                       "- {name: library, images: [\"docker.io/library/*\"], action: pin}\n"
                       "- {name: org, images: [\"org/*\", \"*/tools/*\"], action: allow}\n"
                       "- {name: corp, registries: [\"*.corp.example\", \"localhost:*\"],\n"
                       "   tags: [\"v*\"], action: pin}\n"
                       "- {name: unpinned-quay, registries: [quay.io], pinned: false,"
                       " action: deny}\n"
                       "- {name: any-quay, registries: [quay.io], action: allow}\n", &err);
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK_VERDICT(p, "nginx:1", "x", POLICY_ALLOW, "familiar");
    CHECK_VERDICT(p, "docker.io/library/nginx:1", "x", POLICY_ALLOW, "familiar");
    CHECK_VERDICT(p, "index.docker.io/nginx:1", "x", POLICY_ALLOW, "familiar");
    CHECK_VERDICT(p, "ghcr.io/nginx:1", "x", POLICY_DENY, "default");
    CHECK_VERDICT(p, "redis:7", "x", POLICY_PIN, "library");
    CHECK_VERDICT(p, "org/app:1", "x", POLICY_ALLOW, "org");
    CHECK_VERDICT(p, "docker.io/org/app:1", "x", POLICY_ALLOW, "org");
    CHECK_VERDICT(p, "ghcr.io/org/app:1", "x", POLICY_DENY, "default");
    CHECK_VERDICT(p, "ghcr.io/a/tools/b:1", "x", POLICY_ALLOW, "org");
    CHECK_VERDICT(p, "r.corp.example/app:v1", "x", POLICY_PIN, "corp");
    CHECK_VERDICT(p, "R.Corp.Example/app:V1", "x", POLICY_PIN, "corp");
    CHECK_VERDICT(p, "r.corp.example/app:1", "x", POLICY_DENY, "default");
    CHECK_VERDICT(p, "corp.example/app:v1", "x", POLICY_DENY, "default");
    CHECK_VERDICT(p, "localhost:5000/app:v2", "x", POLICY_PIN, "corp");
    CHECK_VERDICT(p, "quay.io/a/b:1", "x", POLICY_DENY, "unpinned-quay");
    CHECK_VERDICT(p, "quay.io/a/b@" DIGEST, "x", POLICY_ALLOW, "any-quay");
    policy_free(p);
}

/* "" is "no tag"; other globs never match an untagged image. */
static void test_tags_empty(void)
{
    tp_error err;
    policy_t *p = load("defaultAction: allow\n"
                       "rules:\n"
                       "- {name: star, tags: [\"*\"], action: pin}\n", &err);
    CHECK(p != NULL);
    if (p) {
        CHECK_VERDICT(p, "app:x", "n", POLICY_PIN, "star");
        CHECK_VERDICT(p, "app", "n", POLICY_ALLOW, "default");
        CHECK_VERDICT(p, "app@" DIGEST, "n", POLICY_ALLOW, "default");
    }
    policy_free(p);
    p = load("rules:\n- {name: none, tags: [\"\"], action: allow}\n", &err);
    CHECK(p != NULL);
    if (p) {
        CHECK_VERDICT(p, "app", "n", POLICY_ALLOW, "none");
        CHECK_VERDICT(p, "app:1", "n", POLICY_PIN, "default");
    }
    policy_free(p);
}

/* Each kind of mistake, with the line:column that points at it. */
static void test_errors_keys_and_types(void)
{
    CHECK_LOAD_ERROR("mode: enforce\nmodee: warn\n",
                     "t.yaml:2:1: unknown key \"modee\" (expected one of: mode, "
                     "exemptNamespaces, defaultAction, rules, pinning, validate, registry, "
                     "cache, server)");
    CHECK_LOAD_ERROR("cache:\n  ttl: 1m\n  tll: 2m\n",
                     "t.yaml:3:3: unknown key \"tll\" in \"cache\" (expected one of: ttl, "
                     "staleMaxAge, negativeTtl, maxEntries)");
    CHECK_LOAD_ERROR("exemptNamespaces: kube-system\n",
                     "t.yaml:1:19: \"exemptNamespaces\": got a scalar (expected a list of globs)");
    CHECK_LOAD_ERROR("mode: [enforce]\n",
                     "t.yaml:1:7: \"mode\": got a list (expected enforce, warn or off)");
    CHECK_LOAD_ERROR("rules:\n  name: x\n",
                     "t.yaml:2:3: \"rules\": got a mapping (expected a list of rules)");
    CHECK_LOAD_ERROR("pinning: tag+digest\n",
                     "t.yaml:1:10: \"pinning\": got a scalar (expected a mapping of pinning "
                     "settings)");
    CHECK_LOAD_ERROR("server:\n  listen:\n",
                     "t.yaml:2:10: \"server.listen\": got null (expected a string)");
    CHECK_LOAD_ERROR("mode: warn\nserver: {}\nmode: off\n",
                     "t.yaml:3:1: duplicate key \"mode\" (expected each key once; first at 1:1)");
    CHECK_LOAD_ERROR("? [a]\n: b\n", "t.yaml:1:3: a list as a key (expected a plain key)");
    CHECK_LOAD_ERROR("exemptNamespaces: &a [x]\nregistry:\n  allow: *a\n",
                     "t.yaml:3:10: \"registry.allow\": got an alias (anchors and aliases are "
                     "not supported) (expected a list of globs)");
    CHECK_LOAD_ERROR("hello\n", "t.yaml:1:1: the document is a scalar (expected a mapping of "
                                "policy settings)");
    CHECK_LOAD_ERROR("", "t.yaml:1:1: empty policy (expected a mapping of policy settings; "
                         "write {} for all defaults)");
    CHECK_LOAD_ERROR("~\n", "t.yaml:1:1: empty policy (expected a mapping of policy settings; "
                            "write {} for all defaults)");
    CHECK_LOAD_ERROR("mode: warn\n---\nmode: off\n",
                     "t.yaml:2:1: a second YAML document (expected one policy per file)");
}

static void test_errors_values(void)
{
    CHECK_LOAD_ERROR("defaultAction: block\n",
                     "t.yaml:1:16: \"defaultAction\": bad value \"block\" (expected allow, deny "
                     "or pin)");
    CHECK_LOAD_ERROR("pinning:\n  output: tag\n",
                     "t.yaml:2:11: \"pinning.output\": bad value \"tag\" (expected tag+digest or "
                     "digest)");
    CHECK_LOAD_ERROR("cache:\n  ttl: 5 minutes\n",
                     "t.yaml:2:8: \"cache.ttl\": bad duration \"5 minutes\" (expected a duration "
                     "like 500ms, 2s, 5m, 24h, 1h30m or whole seconds)");
    CHECK_LOAD_ERROR("cache: {negativeTtl: 1h30}\n",
                     "t.yaml:1:22: \"cache.negativeTtl\": bad duration \"1h30\" (expected a "
                     "duration like 500ms, 2s, 5m, 24h, 1h30m or whole seconds)");
    CHECK_LOAD_ERROR("registry: {timeout: 0}\n",
                     "t.yaml:1:21: \"registry.timeout\": 0 is out of range (expected 1ms to 10m)");
    CHECK_LOAD_ERROR("server: {maxBodyBytes: 0}\n",
                     "t.yaml:1:24: \"server.maxBodyBytes\": 0 is out of range (expected 1 to "
                     "67108864)");
    CHECK_LOAD_ERROR("server:\n  maxBodyBytes: 67108865\n",
                     "t.yaml:2:17: \"server.maxBodyBytes\": 67108865 is out of range (expected "
                     "1 to 67108864)");
    CHECK_LOAD_ERROR("cache: {maxEntries: 1e4}\n",
                     "t.yaml:1:21: \"cache.maxEntries\": bad number \"1e4\" (expected a whole "
                     "number from 1 to 1000000)");
    CHECK_LOAD_ERROR("validate: {requirePinned: \"true\"}\n",
                     "t.yaml:1:27: \"validate.requirePinned\": bad value \"true\" (expected true "
                     "or false, unquoted)");
    CHECK_LOAD_ERROR("rules:\n- {name: p, pinned: yes, action: allow}\n",
                     "t.yaml:2:21: \"rules[0].pinned\": bad value yes (expected true or false, "
                     "unquoted)");
    CHECK_LOAD_ERROR("exemptNamespaces: [\"team-[ab\"]\n",
                     "t.yaml:1:20: \"exemptNamespaces[0]\": bad glob \"team-[ab\": '[' is never "
                     "closed by ']' (expected * ? [a-z] [!x] \\x)");
    CHECK_LOAD_ERROR("pinning:\n  requiredPlatforms: [linux]\n",
                     "t.yaml:2:23: \"pinning.requiredPlatforms[0]\": bad platform \"linux\" "
                     "(expected os/arch[/variant] in lowercase, like linux/amd64)");
    CHECK_LOAD_ERROR("server: {listen: localhost}\n",
                     "t.yaml:1:18: \"server.listen\": bad address \"localhost\" (expected "
                     "host:port, like 127.0.0.1:8443 or [::]:8443)");
    CHECK_LOAD_ERROR("server: {listen: \"127.0.0.1:70000\"}\n",
                     "t.yaml:1:18: \"server.listen\": bad address \"127.0.0.1:70000\" (expected "
                     "host:port, like 127.0.0.1:8443 or [::]:8443)");
    CHECK_LOAD_ERROR("server:\n  tlsCert: /c\n",
                     "t.yaml:2:3: \"server\": tlsCert and tlsKey must be set together "
                     "(expected both or neither)");
    CHECK_LOAD_ERROR("server: {auditLog: \"a\\0b\"}\n",
                     "t.yaml:1:20: \"server.auditLog\": control character 0x00 at byte 1 "
                     "(expected one line of printable text)");
}

static void test_errors_rules(void)
{
    CHECK_LOAD_ERROR("rules:\n  - name: x\n    tags: [a]\n",
                     "t.yaml:2:5: rule \"x\" has no \"action\" (expected allow, deny or pin)");
    CHECK_LOAD_ERROR("rules:\n- action: deny\n",
                     "t.yaml:2:3: \"rules[0]\": rule has no \"name\" (expected a unique name)");
    CHECK_LOAD_ERROR("rules:\n- name: a\n  action: allow\n- name: a\n  action: deny\n",
                     "t.yaml:4:9: duplicate rule name \"a\" (expected unique names; rules[0] "
                     "has it already)");
    CHECK_LOAD_ERROR("rules:\n- name: \"\"\n  action: allow\n",
                     "t.yaml:2:9: \"rules[0].name\": empty string (expected a non-empty rule "
                     "name)");
    CHECK_LOAD_ERROR("rules:\n- {name: default, action: pin}\n",
                     "t.yaml:2:10: \"rules[0].name\": rule name \"default\" is reserved "
                     "(expected another name; \"default\" names the defaultAction verdict)");
    CHECK_LOAD_ERROR("rules:\n- {name: x, tags: [], action: deny}\n",
                     "t.yaml:2:19: \"rules[0].tags\": empty list matches nothing (expected at "
                     "least one entry; leave the key out to match anything)");
    CHECK_LOAD_ERROR("rules:\n- {name: x, action: deny, colour: red}\n",
                     "t.yaml:2:27: unknown key \"colour\" in \"rules[0]\" (expected one of: "
                     "name, images, registries, tags, namespaces, pinned, action, message)");
    CHECK_LOAD_ERROR("rules:\n- [name, x]\n",
                     "t.yaml:2:3: \"rules[0]\": got a list (expected a rule: a mapping with "
                     "name, action and match fields)");
}

static void test_errors_syntax(void)
{
    CHECK_LOAD_ERROR("exemptNamespaces: [a, b\n",
                     "t.yaml:2:1: YAML syntax error: did not find expected ',' or ']' (while "
                     "parsing a flow sequence at 1:19)");
    CHECK_LOAD_ERROR("mode: enforce\n\tbad: 1\n",
                     "t.yaml:2:1: YAML syntax error: found a tab character that violates "
                     "indentation (while scanning a plain scalar at 1:7)");
    CHECK_LOAD_ERROR("mode: \xff\n",
                     "t.yaml:1:7: YAML syntax error: invalid leading UTF-8 octet (expected "
                     "UTF-8 text)");
}

/* Every cap answers with an error that says so, not with a crash or a hang. */
static void test_errors_caps(void)
{
    size_t big = POLICY_FILE_MAX + 1;
    char *buf = malloc(big + 8192 * 16);
    CHECK(buf != NULL);
    if (!buf)
        return;
    memset(buf, '#', big);
    tp_error err;
    CHECK(policy_load_buffer(buf, big, "t.yaml", &err) == NULL);
    CHECK_INT(err.code, TP_POLICY);
    CHECK_STR(err.msg, "t.yaml:1:1: policy is 1048577 bytes (expected at most 1048576)");

    size_t n = (size_t)snprintf(buf, big, "rules:\n");
    for (int i = 0; i <= 1000; i++)
        n += (size_t)snprintf(buf + n, big - n, "- {name: r%d, action: pin}\n", i);
    CHECK_LOAD_ERROR(buf, "t.yaml:1002:3: more than 1000 rules (expected at most 1000)");

    n = (size_t)snprintf(buf, big, "exemptNamespaces:\n");
    for (int i = 0; i <= 1000; i++)
        n += (size_t)snprintf(buf + n, big - n, "- n%d\n", i);
    CHECK_LOAD_ERROR(buf, "t.yaml:1002:3: \"exemptNamespaces\": more than 1000 entries "
                          "(expected at most 1000)");

    n = (size_t)snprintf(buf, big, "rules:\n- name: ");
    memset(buf + n, 'a', 129);
    snprintf(buf + n + 129, big - n - 129, "\n  action: pin\n");
    CHECK_LOAD_ERROR(buf, "t.yaml:2:9: \"rules[0].name\": 129 bytes long (expected at most 128)");

    /* 100000 nested '[' are refused at the second one, without recursion. */
    n = (size_t)snprintf(buf, big, "rules: ");
    memset(buf + n, '[', 100000);
    buf[n + 100000] = '\0';
    CHECK_LOAD_ERROR(buf, "t.yaml:1:9: \"rules[0]\": got a list (expected a rule: a mapping "
                          "with name, action and match fields)");
    free(buf);
}

static char *read_source_file(const char *rel, size_t *len)
{
    const char *dir = getenv("TAGPIN_SOURCE_DIR");
    char path[4096];
    int w = snprintf(path, sizeof path, "%s/%s", dir ? dir : ".", rel);
    if (w < 0 || (size_t)w >= sizeof path)
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(POLICY_FILE_MAX + 1);
    *len = buf ? fread(buf, 1, POLICY_FILE_MAX, f) : 0;
    fclose(f);
    if (buf)
        buf[*len] = '\0';
    return buf;
}

/* Every .yaml file in tests/policies loads through policy_load_file. */
static void test_example_files(void)
{
    const char *src = getenv("TAGPIN_SOURCE_DIR");
    char dir[4096], path[4096 + 256];
    snprintf(dir, sizeof dir, "%s/tests/policies", src ? src : ".");
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    if (!d)
        return;
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".yaml") != 0)
            continue;
        int w = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        CHECK(w > 0 && (size_t)w < sizeof path);
        tp_error err;
        tp_error_clear(&err);
        policy_t *p = policy_load_file(path, &err);
        if (!p)
            fprintf(stderr, "%s\n", err.msg);
        CHECK(p != NULL);
        policy_free(p);
        files++;
    }
    closedir(d);
    CHECK(files >= 3);
}

/* Every ```yaml block of docs/policy.md is a policy that loads, so the
 * documentation cannot drift from the loader. Mistakes shown in the docs use
 * ```text blocks. */
static void test_docs_examples(void)
{
    size_t len;
    char *md = read_source_file("docs/policy.md", &len);
    CHECK(md != NULL);
    if (!md)
        return;
    int blocks = 0, full = 0, defaults = 0;
    for (char *at = strstr(md, "\n```yaml\n"); at; at = strstr(at, "\n```yaml\n")) {
        char *body = at + 9, *end = strstr(body, "\n```");
        CHECK(end != NULL);
        if (!end)
            break;
        tp_error err;
        tp_error_clear(&err);
        policy_t *p = policy_load_buffer(body, (size_t)(end - body + 1), "docs/policy.md",
                                         &err); /* the block with its last newline */
        if (!p)
            fprintf(stderr, "docs block %d: %s\n", blocks + 1, err.msg);
        CHECK(p != NULL);
        size_t n = (size_t)(end - body + 1);
        char saved = body[n];
        body[n] = '\0'; /* so that strstr below looks inside this block only */
        if (strncmp(body, "# tagpin default policy", 23) == 0) {
            defaults++;
            CHECK(n == strlen(policy_default_yaml()) &&
                  memcmp(body, policy_default_yaml(), n) == 0);
        }
        if (p && strstr(body, "registry.shop.example")) { /* the complete example */
            full++;
            CHECK_VERDICT(p, "nginx:latest", "shop", POLICY_DENY, "deny-latest");
            CHECK_VERDICT(p, "registry.shop.example/api:v2.1.0", "shop", POLICY_PIN,
                          "ours-release-tags");
            CHECK_VERDICT(p, "registry.shop.example/api:wip", "shop", POLICY_DENY,
                          "ours-other-tags");
            CHECK_VERDICT(p, "app:nightly", "sandbox-data", POLICY_PIN, "sandbox-nightly");
            CHECK_VERDICT(p, "redis:7.2", "shop", POLICY_PIN, "hub-official");
            CHECK(policy_exempt(p, "cert-manager-webhook"));
            CHECK(policy_get_settings(p)->deny_missing_platforms);
        }
        body[n] = saved;
        policy_free(p);
        blocks++;
        at = end;
    }
    CHECK(blocks >= 3);
    CHECK_INT(full, 1);
    CHECK_INT(defaults, 1);
    free(md);
}

static void test_load_file(void)
{
    tp_error err;
    char path[] = "/tmp/tagpin-policy-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    static const char text[] = "mode: off\n";
    CHECK_INT(write(fd, text, sizeof text - 1), (long long)(sizeof text - 1));
    close(fd);
    policy_t *p = policy_load_file(path, &err);
    CHECK(p != NULL);
    if (p)
        CHECK_INT(policy_get_settings(p)->mode, POLICY_MODE_OFF);
    policy_free(p);
    unlink(path);

    CHECK(policy_load_file("/nonexistent/tagpin.yaml", &err) == NULL);
    CHECK_INT(err.code, TP_IO);
    CHECK_CONTAINS(err.msg, "/nonexistent/tagpin.yaml: cannot open");
    CHECK(policy_load_file("/tmp", &err) == NULL);
    CHECK_INT(err.code, TP_IO);
    CHECK_CONTAINS(err.msg, "/tmp: cannot read");
    /* a file error names the file and the line */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    static const char bad[] = "mode: warn\nmode: off\n";
    CHECK_INT(write(fd, bad, sizeof bad - 1), (long long)(sizeof bad - 1));
    close(fd);
    CHECK(policy_load_file(path, &err) == NULL);
    char want[128];
    snprintf(want, sizeof want, "%s:2:1: duplicate key", path);
    CHECK_CONTAINS(err.msg, want);
    unlink(path);
}

/* The glob dialect agrees with fnmatch(pattern, s, 0) wherever both apply. */
static void test_glob_matches_fnmatch(void)
{
    static const char *const patterns[] = {
        "", "*", "**", "?", "a*", "*a", "*a*", "a?c", "a*b*c", "*/*", "docker.io/*",
        "[abc]", "[!abc]", "[^abc]", "[a-c]x", "[]]", "[!]]", "[a-]", "[]-a]", "\\*",
        "a\\?c", "[\\]]", "*.example.com", "v[0-9]*", "*-snapshot", "a*a*a*a*a*a*b",
        "[*]", "x[?]y", "*[0-9]"};
    static const char *const subjects[] = {
        "", "a", "b", "abc", "aXc", "ab", "ba", "a/b", "docker.io/library/nginx", "]",
        "-", "*", "a?c", "abbbc", "r.example.com", "example.com", "v1.2", "1.0-snapshot",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "x?y", "xzy", "c9", "[", "ax"};
    int compared = 0;
    for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++) {
        CHECK(policy_glob_match(patterns[i], patterns[i]) ==
              (fnmatch(patterns[i], patterns[i], 0) == 0));
        for (size_t j = 0; j < sizeof subjects / sizeof *subjects; j++) {
            bool mine = policy_glob_match(patterns[i], subjects[j]);
            bool libc = fnmatch(patterns[i], subjects[j], 0) == 0;
            if (mine != libc)
                fprintf(stderr, "glob \"%s\" on \"%s\": %d, fnmatch %d\n", patterns[i],
                        subjects[j], mine, libc);
            CHECK(mine == libc);
            compared++;
        }
    }
    CHECK(compared > 600);
    /* linear time: this would take fnmatch's recursion a very long while */
    char s[256];
    memset(s, 'a', 255);
    s[255] = '\0';
    CHECK(!policy_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", s));
}

typedef struct worker {
    policy_t *p;
    int ok;
} worker;

static void *worker_run(void *arg)
{
    worker *w = arg;
    ref_t ref;
    if (ref_parse("nginx:latest", 12, &ref, NULL) != TP_OK)
        return NULL;
    for (int i = 0; i < 2000; i++) {
        policy_t *mine = policy_retain(w->p);
        policy_verdict v;
        policy_judge(mine, &ref, "apps", &v);
        if (v.action == POLICY_DENY && strcmp(v.rule, "deny-latest") == 0)
            w->ok++;
        policy_free(mine);
    }
    policy_free(w->p); /* the reference this thread was handed */
    return NULL;
}

/* Threads share one snapshot; the last policy_free releases it (ASan would
 * report a use after free or a leak if the count were wrong). */
static void test_refcount(void)
{
    tp_error err;
    policy_t *p = policy_load_default(&err);
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK(policy_retain(p) == p);
    policy_free(p);
    policy_free(NULL);
    CHECK(policy_retain(NULL) == NULL);
    pthread_t t[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){policy_retain(p), 0};
        CHECK_INT(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
    }
    policy_free(p); /* the workers may now hold the only references */
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(w[i].ok, 2000);
    }
}

CHECK_MAIN(CHECK_CASE(test_default_verdicts), CHECK_CASE(test_settings_defaults),
           CHECK_CASE(test_settings_set), CHECK_CASE(test_overlay),
           CHECK_CASE(test_rule_order), CHECK_CASE(test_namespaces),
           CHECK_CASE(test_images_and_registries), CHECK_CASE(test_tags_empty),
           CHECK_CASE(test_errors_keys_and_types), CHECK_CASE(test_errors_values),
           CHECK_CASE(test_errors_rules), CHECK_CASE(test_errors_syntax),
           CHECK_CASE(test_errors_caps), CHECK_CASE(test_example_files),
           CHECK_CASE(test_docs_examples), CHECK_CASE(test_load_file),
           CHECK_CASE(test_glob_matches_fnmatch), CHECK_CASE(test_refcount))
