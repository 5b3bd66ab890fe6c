/* The policy file grammar, read with libyaml's event API.
 *
 * The loader is a recursive descent over events driven by the tables below:
 * each key names a type and where its value goes. The schema bounds the
 * nesting (root > rules > rule > list): a collection where a scalar is
 * expected is refused at its first event, before libyaml reads into it, so
 * no input can make the loader recurse deeper than that. Aliases are
 * refused, so nothing can be expanded. */
#include "policy_internal.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define RULES_MAX 1000
#define LIST_MAX 1000
#define STRING_MAX 1024
#define PATH_MAX_LEN 4096
#define RULE_NAME_MAX 128
#define BODY_MAX (64u << 20)
#define DURATION_TEXT_MAX 32
#define DAY_MS (24LL * 3600 * 1000)
#define KEYS_MAX 16
#define PATH_TEXT 96 /* "rules[999].namespaces[999]" and the like */

typedef enum ftype { F_STR, F_LIST, F_BOOL, F_ENUM, F_DURATION, F_SIZE, F_SECTION, F_RULES } ftype;

enum { /* value checks */
    V_NONEMPTY = 1 << 0, /* a list needs at least one entry */
    V_FOLD = 1 << 1,     /* lowercase: matched case-insensitively */
    V_EMPTY_OK = 1 << 2, /* "" means something */
    V_GLOB = 1 << 3,
    V_PATH = 1 << 4,
    V_RULE_NAME = 1 << 5,
    V_ADDR = 1 << 6,     /* host:port */
    V_HOST = 1 << 7,     /* host[:port] */
    V_PLATFORM = 1 << 8, /* os/arch[/variant] */
};

typedef enum estore { E_MODE, E_ACTION, E_OUTPUT, E_SCOPE, E_BOOL } estore;

typedef struct enum_def {
    const char *expect;
    const char *names[3];
    int values[3];
    estore store;
} enum_def;

typedef struct section section;

typedef struct field {
    const char *key;
    ftype type;
    unsigned checks;
    size_t off, off_n;   /* value and, for lists, count */
    const void *ext;     /* enum_def or section */
    long long min, max;  /* durations (ms) and sizes */
} field;

struct section {
    const char *expect;
    const field *fields;
    size_t n;
};

#define S(m) offsetof(policy_settings, m)
#define R(m) offsetof(policy_rule, m)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const enum_def mode_enum = {"enforce, warn or off", {"enforce", "warn", "off"},
    {POLICY_MODE_ENFORCE, POLICY_MODE_WARN, POLICY_MODE_OFF}, E_MODE};
static const enum_def action_enum = {"allow, deny or pin", {"allow", "deny", "pin"},
    {POLICY_ALLOW, POLICY_DENY, POLICY_PIN}, E_ACTION};
static const enum_def failure_enum = {"deny or allow", {"deny", "allow"},
    {POLICY_DENY, POLICY_ALLOW}, E_ACTION};
static const enum_def output_enum = {"tag+digest or digest", {"tag+digest", "digest"},
    {POLICY_OUTPUT_TAG_DIGEST, POLICY_OUTPUT_DIGEST}, E_OUTPUT};
static const enum_def scope_enum = {"all or pods", {"all", "pods"},
    {POLICY_SCOPE_ALL, POLICY_SCOPE_PODS}, E_SCOPE};
static const enum_def platforms_enum = {"warn or deny", {"warn", "deny"}, {0, 1}, E_BOOL};

static const field pinning_fields[] = {
    {"output", F_ENUM, 0, S(output), 0, &output_enum, 0, 0},
    {"scope", F_ENUM, 0, S(scope), 0, &scope_enum, 0, 0},
    {"onResolveFailure", F_ENUM, 0, S(on_resolve_failure), 0, &failure_enum, 0, 0},
    {"requiredPlatforms", F_LIST, V_PLATFORM, S(required_platforms),
     S(n_required_platforms), NULL, 0, 0},
    {"onMissingPlatforms", F_ENUM, 0, S(deny_missing_platforms), 0, &platforms_enum, 0, 0},
};
static const field validate_fields[] = {
    {"requirePinned", F_BOOL, 0, S(validate_require_pinned), 0, NULL, 0, 0},
};
static const field registry_fields[] = {
    {"caFile", F_STR, V_PATH, S(ca_file), 0, NULL, 0, 0},
    {"authFile", F_STR, V_PATH, S(auth_file), 0, NULL, 0, 0},
    {"insecure", F_LIST, V_HOST | V_FOLD, S(insecure_registries),
     S(n_insecure_registries), NULL, 0, 0},
    {"allow", F_LIST, V_GLOB | V_FOLD, S(allowed_registries), S(n_allowed_registries),
     NULL, 0, 0},
    {"connectTimeout", F_DURATION, 0, S(connect_timeout_ms), 0, NULL, 1, 600000},
    {"timeout", F_DURATION, 0, S(resolve_timeout_ms), 0, NULL, 1, 600000},
};
static const field cache_fields[] = {
    {"ttl", F_DURATION, 0, S(cache_ttl_ms), 0, NULL, 0, 366 * DAY_MS},
    {"staleMaxAge", F_DURATION, 0, S(cache_stale_max_ms), 0, NULL, 0, 366 * DAY_MS},
    {"negativeTtl", F_DURATION, 0, S(cache_negative_ttl_ms), 0, NULL, 0, 366 * DAY_MS},
    {"maxEntries", F_SIZE, 0, S(cache_max_entries), 0, NULL, 1, 1000000},
};
static const field server_fields[] = {
    {"listen", F_STR, V_ADDR, S(listen), 0, NULL, 0, 0},
    {"tlsCert", F_STR, V_PATH, S(tls_cert), 0, NULL, 0, 0},
    {"tlsKey", F_STR, V_PATH, S(tls_key), 0, NULL, 0, 0},
    {"maxBodyBytes", F_SIZE, 0, S(max_body_bytes), 0, NULL, 1, BODY_MAX},
    {"auditLog", F_STR, V_PATH, S(audit_log), 0, NULL, 0, 0},
    {"metricsListen", F_STR, V_ADDR, S(metrics_listen), 0, NULL, 0, 0},
    {"reloadInterval", F_DURATION, 0, S(reload_interval_ms), 0, NULL, 0, 3600000},
    {"shutdownDelay", F_DURATION, 0, S(shutdown_delay_ms), 0, NULL, 0, 300000},
    {"shutdownGrace", F_DURATION, 0, S(shutdown_grace_ms), 0, NULL, 0, 600000},
};

#define SECTION(name, fields, what) \
    static const section name = {what, fields, COUNT(fields)}
SECTION(pinning_section, pinning_fields, "a mapping of pinning settings");
SECTION(validate_section, validate_fields, "a mapping of validate settings");
SECTION(registry_section, registry_fields, "a mapping of registry settings");
SECTION(cache_section, cache_fields, "a mapping of cache settings");
SECTION(server_section, server_fields, "a mapping of server settings");

static const field top_fields[] = {
    {"mode", F_ENUM, 0, S(mode), 0, &mode_enum, 0, 0},
    {"exemptNamespaces", F_LIST, V_GLOB, S(exempt_namespaces), S(n_exempt_namespaces),
     NULL, 0, 0},
    {"defaultAction", F_ENUM, 0, S(default_action), 0, &action_enum, 0, 0},
    {"rules", F_RULES, 0, 0, 0, NULL, 0, 0},
    {"pinning", F_SECTION, 0, 0, 0, &pinning_section, 0, 0},
    {"validate", F_SECTION, 0, 0, 0, &validate_section, 0, 0},
    {"registry", F_SECTION, 0, 0, 0, &registry_section, 0, 0},
    {"cache", F_SECTION, 0, 0, 0, &cache_section, 0, 0},
    {"server", F_SECTION, 0, 0, 0, &server_section, 0, 0},
};
SECTION(top_section, top_fields, "a mapping of policy settings");

/* Table order matters: the rule checks below use these indexes. */
enum { RF_NAME, RF_IMAGES, RF_REGISTRIES, RF_TAGS, RF_NAMESPACES, RF_PINNED, RF_ACTION,
       RF_MESSAGE };
static const field rule_fields[] = {
    {"name", F_STR, V_RULE_NAME, R(name), 0, NULL, 0, 0},
    {"images", F_LIST, V_GLOB | V_FOLD | V_NONEMPTY, R(images), R(n_images), NULL, 0, 0},
    {"registries", F_LIST, V_GLOB | V_FOLD | V_NONEMPTY, R(registries), R(n_registries),
     NULL, 0, 0},
    {"tags", F_LIST, V_GLOB | V_FOLD | V_NONEMPTY | V_EMPTY_OK, R(tags), R(n_tags), NULL,
     0, 0},
    {"namespaces", F_LIST, V_GLOB | V_NONEMPTY, R(namespaces), R(n_namespaces), NULL, 0, 0},
    {"pinned", F_BOOL, 0, R(pinned), 0, NULL, 0, 0},
    {"action", F_ENUM, 0, R(action), 0, &action_enum, 0, 0},
    {"message", F_STR, 0, R(message), 0, NULL, 0, 0},
};
SECTION(rule_section, rule_fields, "a rule: a mapping with name, action and match fields");

_Static_assert(COUNT(top_fields) <= KEYS_MAX && COUNT(rule_fields) <= KEYS_MAX &&
               COUNT(registry_fields) <= KEYS_MAX, "seen masks hold KEYS_MAX keys");

typedef struct loader {
    yaml_parser_t yp;
    yaml_event_t ev;
    bool have_ev;
    const char *src;
    const char *text;
    size_t len;
    tp_error *err;
    policy_t *p;
    const char *list[LIST_MAX]; /* one list being read; entries in the arena */
    policy_rule *rules;         /* rules being read (heap, moved to the arena) */
    size_t n_rules, cap_rules;
} loader;

/* Which keys one mapping held, and where. */
typedef struct map_seen {
    unsigned mask;
    yaml_mark_t start;
    yaml_mark_t key[KEYS_MAX];
    yaml_mark_t value[KEYS_MAX];
} map_seen;

static bool failf(loader *L, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool failf(loader *L, yaml_mark_t m, const char *fmt, ...)
{
    char what[TP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (n < 0)
        snprintf(what, sizeof what, "invalid policy");
    tp_error_set(L->err, TP_POLICY, "%s:%zu:%zu: %s", L->src, m.line + 1, m.column + 1, what);
    return false;
}

static bool oom(loader *L)
{
    tp_error_set(L->err, TP_NOMEM, "%s: out of memory", L->src);
    return false;
}

/* libyaml's 1-is-success ends here. Reader errors (bad encoding) carry only
 * an offset, so the line and column are counted from the text. */
static bool yaml_fail(loader *L)
{
    if (L->yp.error == YAML_MEMORY_ERROR)
        return oom(L);
    const char *problem = L->yp.problem ? L->yp.problem : "unknown error";
    if (L->yp.error == YAML_READER_ERROR) {
        yaml_mark_t m = {0, 0, 0};
        for (size_t i = 0; i < L->yp.problem_offset && i < L->len; i++) {
            if (L->text[i] == '\n') {
                m.line++;
                m.column = 0;
            } else if (((unsigned char)L->text[i] & 0xc0) != 0x80) {
                m.column++;
            }
        }
        return failf(L, m, "YAML syntax error: %s (expected UTF-8 text)", problem);
    }
    if (L->yp.context)
        return failf(L, L->yp.problem_mark, "YAML syntax error: %s (%s at %zu:%zu)", problem,
                     L->yp.context, L->yp.context_mark.line + 1,
                     L->yp.context_mark.column + 1);
    return failf(L, L->yp.problem_mark, "YAML syntax error: %s", problem);
}

static bool next(loader *L)
{
    if (L->have_ev)
        yaml_event_delete(&L->ev);
    L->have_ev = yaml_parser_parse(&L->yp, &L->ev) == 1;
    return L->have_ev || yaml_fail(L);
}

static const char *scalar(const loader *L, size_t *len)
{
    *len = L->ev.data.scalar.length;
    return (const char *)L->ev.data.scalar.value;
}

static bool is_null(const yaml_event_t *e)
{
    if (e->type != YAML_SCALAR_EVENT || e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)e->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
           !strcmp(v, "NULL");
}

static const char *kind(const yaml_event_t *e)
{
    switch (e->type) {
    case YAML_SCALAR_EVENT: return is_null(e) ? "null" : "a scalar";
    case YAML_SEQUENCE_START_EVENT: return "a list";
    case YAML_MAPPING_START_EVENT: return "a mapping";
    case YAML_ALIAS_EVENT: return "an alias (anchors and aliases are not supported)";
    default: return "nothing";
    }
}

static bool wrong_type(loader *L, const char *path, const char *expect)
{
    return failf(L, L->ev.start_mark, "\"%s\": got %s (expected %s)", path, kind(&L->ev),
                 expect);
}

/* Expects a non-null scalar where the node starts. */
static bool want_scalar(loader *L, const char *path, const char *expect)
{
    if (L->ev.type != YAML_SCALAR_EVENT || is_null(&L->ev))
        return wrong_type(L, path, expect);
    return true;
}

/* A short, printable rendering of user text for messages: never a control
 * byte in a log line. */
static const char *quote(const char *s, size_t n, char *out, size_t cap)
{
    size_t i = 0, keep = n < cap - 4 ? n : cap - 4;
    for (; i < keep; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    if (keep < n)
        for (int k = 0; k < 3; k++)
            out[i++] = '.';
    out[i] = '\0';
    return out;
}

static void path_join(char *out, size_t cap, const char *parent, const char *key)
{
    int w = *parent ? snprintf(out, cap, "%s.%s", parent, key) : snprintf(out, cap, "%s", key);
    if (w < 0) /* a truncated path still reads well enough in a message */
        out[0] = '\0';
}

static void path_index(char *out, size_t cap, const char *parent, size_t i)
{
    int w = snprintf(out, cap, "%s[%zu]", parent, i);
    if (w < 0)
        out[0] = '\0';
}

static bool platform_ok(const char *s, size_t n)
{
    size_t parts = 1, part_len = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '/') {
            if (part_len == 0 || ++parts > 3)
                return false;
            part_len = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                   c == '_' || c == '-') {
            part_len++;
        } else {
            return false;
        }
    }
    return parts >= 2 && part_len > 0;
}

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
}

/* "host:port", "[v6]:port" or ":port"; port 0 lets tests pick a free one. */
static bool addr_ok(const char *s, size_t n)
{
    const char *colon = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!host_char(s[i]))
            return false;
        if (s[i] == ':')
            colon = s + i;
    }
    if (!colon || colon == s + n - 1 || s + n - colon - 1 > 5)
        return false;
    long port = 0;
    for (const char *c = colon + 1; c < s + n; c++) {
        if (*c < '0' || *c > '9')
            return false;
        port = port * 10 + (*c - '0');
    }
    return port <= 65535;
}

static bool host_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!host_char(s[i]))
            return false;
    return true;
}

/* Checks one string value against its field's rules; m is where it starts. */
static bool check_text(loader *L, const char *path, const char *s, size_t n, unsigned checks)
{
    yaml_mark_t m = L->ev.start_mark;
    char q[80];
    size_t max = checks & V_PATH ? PATH_MAX_LEN
                 : checks & V_RULE_NAME ? RULE_NAME_MAX : STRING_MAX;
    if (n > max)
        return failf(L, m, "\"%s\": %zu bytes long (expected at most %zu)", path, n, max);
    if (n == 0 && !(checks & V_EMPTY_OK))
        return failf(L, m, "\"%s\": empty string (expected %s)", path,
                     checks & V_RULE_NAME ? "a non-empty rule name" : "a non-empty value");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return failf(L, m, "\"%s\": control character 0x%02x at byte %zu (expected "
                         "one line of printable text)", path, (unsigned char)s[i], i);
    if ((checks & V_RULE_NAME) && n == 7 && !memcmp(s, "default", 7))
        return failf(L, m, "\"%s\": rule name \"default\" is reserved (expected another "
                     "name; \"default\" names the defaultAction verdict)", path);
    const char *why = checks & V_GLOB ? policy_glob_check(s) : NULL;
    if (why)
        return failf(L, m, "\"%s\": bad glob \"%s\": %s (expected * ? [a-z] [!x] \\x)", path,
                     quote(s, n, q, sizeof q), why);
    if ((checks & V_PLATFORM) && !platform_ok(s, n))
        return failf(L, m, "\"%s\": bad platform \"%s\" (expected os/arch[/variant] in "
                     "lowercase, like linux/amd64)", path, quote(s, n, q, sizeof q));
    if ((checks & V_ADDR) && !addr_ok(s, n))
        return failf(L, m, "\"%s\": bad address \"%s\" (expected host:port, like "
                     "127.0.0.1:8443 or [::]:8443)", path, quote(s, n, q, sizeof q));
    if ((checks & V_HOST) && !host_ok(s, n))
        return failf(L, m, "\"%s\": bad registry host \"%s\" (expected host or host:port)",
                     path, quote(s, n, q, sizeof q));
    return true;
}

/* Copies the current scalar into the arena and moves past it. */
static bool read_string(loader *L, const char *path, unsigned checks, const char **out)
{
    size_t n;
    if (!want_scalar(L, path, checks & V_PATH ? "a file path" : "a string"))
        return false;
    const char *v = scalar(L, &n);
    if (!check_text(L, path, v, n, checks))
        return false;
    char *copy = policy_arena_alloc(L->p, n + 1);
    if (!copy)
        return oom(L);
    for (size_t i = 0; i < n; i++)
        copy[i] = (checks & V_FOLD) && v[i] >= 'A' && v[i] <= 'Z' ? v[i] + ('a' - 'A') : v[i];
    copy[n] = '\0';
    *out = copy;
    return next(L);
}

static bool read_list(loader *L, const field *f, const char *path, void *base)
{
    const char *expect = f->checks & V_PLATFORM ? "a list of os/arch platforms"
                         : f->checks & V_GLOB   ? "a list of globs"
                                                : "a list of strings";
    if (L->ev.type != YAML_SEQUENCE_START_EVENT)
        return wrong_type(L, path, expect);
    yaml_mark_t start = L->ev.start_mark;
    size_t n = 0;
    if (!next(L))
        return false;
    while (L->ev.type != YAML_SEQUENCE_END_EVENT) {
        char item[PATH_TEXT];
        if (n == LIST_MAX)
            return failf(L, L->ev.start_mark, "\"%s\": more than %d entries (expected at "
                         "most %d)", path, LIST_MAX, LIST_MAX);
        path_index(item, sizeof item, path, n);
        if (!read_string(L, item, f->checks, &L->list[n]))
            return false;
        n++;
    }
    if (n == 0 && (f->checks & V_NONEMPTY))
        return failf(L, start, "\"%s\": empty list matches nothing (expected at least one "
                     "entry; leave the key out to match anything)", path);
    const char **copy = NULL;
    if (n > 0 && !(copy = policy_arena_alloc(L->p, n * sizeof *copy)))
        return oom(L);
    if (n > 0)
        memcpy(copy, L->list, n * sizeof *copy);
    *(const char *const **)((char *)base + f->off) = copy;
    *(size_t *)((char *)base + f->off_n) = n;
    return next(L);
}

static bool read_bool(loader *L, const field *f, const char *path, void *base)
{
    size_t n;
    if (!want_scalar(L, path, "true or false"))
        return false;
    const char *v = scalar(L, &n);
    bool plain = L->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE, value;
    if (plain && (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE")))
        value = true;
    else if (plain && (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE")))
        value = false;
    else {
        char q[80];
        return failf(L, L->ev.start_mark, "\"%s\": bad value %s%s%s (expected true or "
                     "false, unquoted)", path, plain ? "" : "\"", quote(v, n, q, sizeof q),
                     plain ? "" : "\"");
    }
    *(bool *)((char *)base + f->off) = value;
    return next(L);
}

static bool read_enum(loader *L, const field *f, const char *path, void *base)
{
    const enum_def *e = f->ext;
    size_t n;
    if (!want_scalar(L, path, e->expect))
        return false;
    const char *v = scalar(L, &n);
    for (size_t i = 0; i < COUNT(e->names) && e->names[i]; i++) {
        if (strlen(e->names[i]) != n || memcmp(e->names[i], v, n) != 0)
            continue;
        void *dst = (char *)base + f->off;
        switch (e->store) {
        case E_MODE: *(policy_mode *)dst = (policy_mode)e->values[i]; break;
        case E_ACTION: *(policy_action *)dst = (policy_action)e->values[i]; break;
        case E_OUTPUT: *(policy_output *)dst = (policy_output)e->values[i]; break;
        case E_SCOPE: *(policy_scope *)dst = (policy_scope)e->values[i]; break;
        case E_BOOL: *(bool *)dst = e->values[i] != 0; break;
        }
        return next(L);
    }
    char q[80];
    return failf(L, L->ev.start_mark, "\"%s\": bad value \"%s\" (expected %s)", path,
                 quote(v, n, q, sizeof q), e->expect);
}

/* "500ms", "2s", "1h30m" (units h, m, s, ms in any order, Go style without
 * fractions or signs) or a bare number of seconds. */
static bool duration_parse(const char *s, size_t n, long long *ms)
{
    long long total = 0;
    size_t i = 0;
    if (n == 0 || n > DURATION_TEXT_MAX)
        return false;
    while (i < n) {
        long long v = 0, unit;
        size_t digits = 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
            if (digits == 12)
                return false;
            v = v * 10 + (s[i] - '0');
        }
        if (digits == 0)
            return false;
        if (i == n && total == 0 && digits == n)
            unit = 1000; /* a bare number: seconds */
        else if (i + 1 < n && s[i] == 'm' && s[i + 1] == 's')
            unit = 1, i += 2;
        else if (i < n && (s[i] == 'h' || s[i] == 'm' || s[i] == 's'))
            unit = s[i] == 'h' ? 3600000 : s[i] == 'm' ? 60000 : 1000, i++;
        else
            return false;
        total += v * unit; /* at most 16 terms of < 3.6e18 / 16: checked below */
        if (total > 1000LL * 366 * DAY_MS)
            return false;
    }
    *ms = total;
    return true;
}

static const char *ms_text(long long ms, char *out, size_t cap)
{
    static const struct { long long ms; const char *unit; } units[] = {
        {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
    size_t u = 0;
    while (ms != 0 && ms % units[u].ms != 0)
        u++;
    if (ms == 0)
        u = 2;
    snprintf(out, cap, "%lld%s", ms / units[u].ms, units[u].unit);
    return out;
}

static bool read_duration(loader *L, const field *f, const char *path, void *base)
{
    static const char expect[] = "a duration like 500ms, 2s, 5m, 24h, 1h30m or whole seconds";
    size_t n;
    long long ms;
    char q[80], lo[32], hi[32];
    if (!want_scalar(L, path, expect))
        return false;
    const char *v = scalar(L, &n);
    if (!duration_parse(v, n, &ms))
        return failf(L, L->ev.start_mark, "\"%s\": bad duration \"%s\" (expected %s)", path,
                     quote(v, n, q, sizeof q), expect);
    if (ms < f->min || ms > f->max || ms > LONG_MAX)
        return failf(L, L->ev.start_mark, "\"%s\": %s is out of range (expected %s to %s)",
                     path, quote(v, n, q, sizeof q), ms_text(f->min, lo, sizeof lo),
                     ms_text(f->max, hi, sizeof hi));
    *(long *)((char *)base + f->off) = (long)ms;
    return next(L);
}

static bool read_size(loader *L, const field *f, const char *path, void *base)
{
    size_t n;
    char q[80];
    if (!want_scalar(L, path, "a whole number"))
        return false;
    const char *v = scalar(L, &n);
    long long value = 0;
    bool ok = n > 0 && n <= 18;
    for (size_t i = 0; ok && i < n; i++) {
        ok = v[i] >= '0' && v[i] <= '9';
        value = value * 10 + (v[i] - '0');
    }
    if (!ok)
        return failf(L, L->ev.start_mark, "\"%s\": bad number \"%s\" (expected a whole "
                     "number from %lld to %lld)", path, quote(v, n, q, sizeof q), f->min, f->max);
    if (value < f->min || value > f->max || (unsigned long long)value > SIZE_MAX)
        return failf(L, L->ev.start_mark, "\"%s\": %lld is out of range (expected %lld to "
                     "%lld)", path, value, f->min, f->max);
    *(size_t *)((char *)base + f->off) = (size_t)value;
    return next(L);
}

static bool read_map(loader *L, const section *sec, void *base, const char *path,
                     map_seen *seen);
static bool read_rules(loader *L, const char *path);

static bool read_section(loader *L, const field *f, const char *path)
{
    map_seen seen;
    if (!read_map(L, f->ext, &L->p->settings, path, &seen))
        return false;
    const policy_settings *s = &L->p->settings;
    if (f->ext == &server_section && !s->tls_cert != !s->tls_key)
        return failf(L, seen.start, "\"%s\": tlsCert and tlsKey must be set together "
                     "(expected both or neither)", path);
    return true;
}

static bool read_value(loader *L, const field *f, const char *path, void *base)
{
    switch (f->type) {
    case F_STR: return read_string(L, path, f->checks, (const char **)((char *)base + f->off));
    case F_LIST: return read_list(L, f, path, base);
    case F_BOOL: return read_bool(L, f, path, base);
    case F_ENUM: return read_enum(L, f, path, base);
    case F_DURATION: return read_duration(L, f, path, base);
    case F_SIZE: return read_size(L, f, path, base);
    case F_SECTION: return read_section(L, f, path);
    case F_RULES: return read_rules(L, path);
    }
    return false;
}

static bool unknown_key(loader *L, const section *sec, const char *path, const char *k,
                        size_t n)
{
    char keys[320] = "", q[80];
    size_t used = 0;
    for (size_t i = 0; i < sec->n; i++) {
        int w = snprintf(keys + used, sizeof keys - used, "%s%s", i ? ", " : "",
                         sec->fields[i].key);
        if (w < 0 || (size_t)w >= sizeof keys - used)
            break;
        used += (size_t)w;
    }
    return failf(L, L->ev.start_mark, "unknown key \"%s\"%s%s%s (expected one of: %s)",
                 quote(k, n, q, sizeof q), *path ? " in \"" : "", path, *path ? "\"" : "",
                 keys);
}

static bool read_map(loader *L, const section *sec, void *base, const char *path,
                     map_seen *seen)
{
    if (L->ev.type != YAML_MAPPING_START_EVENT) {
        if (*path)
            return wrong_type(L, path, sec->expect);
        return failf(L, L->ev.start_mark, "the document is %s (expected %s)", kind(&L->ev),
                     sec->expect);
    }
    memset(seen, 0, sizeof *seen);
    seen->start = L->ev.start_mark;
    if (!next(L))
        return false;
    while (L->ev.type != YAML_MAPPING_END_EVENT) {
        size_t n, i;
        char child[PATH_TEXT];
        if (L->ev.type != YAML_SCALAR_EVENT)
            return failf(L, L->ev.start_mark, "%s as a key (expected a plain key)",
                         kind(&L->ev));
        const char *k = scalar(L, &n);
        for (i = 0; i < sec->n; i++)
            if (strlen(sec->fields[i].key) == n && !memcmp(sec->fields[i].key, k, n))
                break;
        if (i == sec->n)
            return unknown_key(L, sec, path, k, n);
        if (seen->mask & (1u << i))
            return failf(L, L->ev.start_mark, "duplicate key \"%s\" (expected each key once; "
                         "first at %zu:%zu)", sec->fields[i].key, seen->key[i].line + 1,
                         seen->key[i].column + 1);
        seen->mask |= 1u << i;
        seen->key[i] = L->ev.start_mark;
        path_join(child, sizeof child, path, sec->fields[i].key);
        if (!next(L))
            return false;
        seen->value[i] = L->ev.start_mark;
        if (!read_value(L, &sec->fields[i], child, base))
            return false;
    }
    return next(L);
}

static bool check_rule(loader *L, policy_rule *r, const map_seen *seen, const char *path)
{
    if (!(seen->mask & (1u << RF_NAME)))
        return failf(L, seen->start, "\"%s\": rule has no \"name\" (expected a unique name)",
                     path);
    if (!(seen->mask & (1u << RF_ACTION)))
        return failf(L, seen->start, "rule \"%s\" has no \"action\" (expected allow, deny "
                     "or pin)", r->name);
    r->has_pinned = seen->mask & (1u << RF_PINNED);
    for (size_t i = 0; i < L->n_rules; i++)
        if (!strcmp(L->rules[i].name, r->name))
            return failf(L, seen->value[RF_NAME], "duplicate rule name \"%s\" (expected "
                         "unique names; rules[%zu] has it already)", r->name, i);
    return true;
}

static bool read_rules(loader *L, const char *path)
{
    if (L->ev.type != YAML_SEQUENCE_START_EVENT)
        return wrong_type(L, path, "a list of rules");
    L->n_rules = 0;
    if (!next(L))
        return false;
    while (L->ev.type != YAML_SEQUENCE_END_EVENT) {
        char item[PATH_TEXT];
        map_seen seen;
        if (L->n_rules == RULES_MAX)
            return failf(L, L->ev.start_mark, "more than %d rules (expected at most %d)",
                         RULES_MAX, RULES_MAX);
        if (L->n_rules == L->cap_rules) {
            size_t cap = L->cap_rules ? L->cap_rules * 2 : 16;
            policy_rule *grown = realloc(L->rules, cap * sizeof *grown);
            if (!grown)
                return oom(L);
            L->rules = grown;
            L->cap_rules = cap;
        }
        policy_rule *r = &L->rules[L->n_rules];
        memset(r, 0, sizeof *r);
        path_index(item, sizeof item, path, L->n_rules);
        if (!read_map(L, &rule_section, r, item, &seen) || !check_rule(L, r, &seen, item))
            return false;
        L->n_rules++;
    }
    policy_rule *copy = NULL;
    if (L->n_rules > 0 && !(copy = policy_arena_alloc(L->p, L->n_rules * sizeof *copy)))
        return oom(L);
    if (L->n_rules > 0)
        memcpy(copy, L->rules, L->n_rules * sizeof *copy);
    L->p->rules = copy;
    L->p->n_rules = L->n_rules;
    return next(L);
}

static bool read_document(loader *L)
{
    static const char empty[] = "empty policy (expected a mapping of policy settings; "
                                "write {} for all defaults)";
    map_seen seen;
    if (!next(L) || !next(L)) /* stream start, then the document or the end */
        return false;
    if (L->ev.type == YAML_STREAM_END_EVENT)
        return failf(L, L->ev.start_mark, "%s", empty);
    if (!next(L))
        return false;
    if (is_null(&L->ev))
        return failf(L, L->ev.start_mark, "%s", empty);
    if (!read_map(L, &top_section, &L->p->settings, "", &seen) || !next(L))
        return false;
    if (L->ev.type != YAML_STREAM_END_EVENT)
        return failf(L, L->ev.start_mark, "a second YAML document (expected one policy "
                     "per file)");
    return true;
}

bool policy_parse_yaml(policy_t *p, const char *text, size_t len, const char *src,
                       tp_error *err)
{
    loader *L = calloc(1, sizeof *L);
    if (!L) {
        tp_error_set(err, TP_NOMEM, "%s: out of memory", src);
        return false;
    }
    L->src = src;
    L->text = text;
    L->len = len;
    L->err = err;
    L->p = p;
    bool ok;
    if (yaml_parser_initialize(&L->yp) != 1) {
        ok = oom(L);
    } else {
        yaml_parser_set_input_string(&L->yp, (const unsigned char *)text, len);
        ok = read_document(L);
        if (L->have_ev)
            yaml_event_delete(&L->ev);
        yaml_parser_delete(&L->yp);
    }
    free(L->rules);
    free(L);
    return ok;
}
