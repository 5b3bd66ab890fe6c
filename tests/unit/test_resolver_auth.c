/* WWW-Authenticate challenges and docker config.json credentials. */
#include "auth.h"
#include "check.h"

static tp_code parse(const char *s, auth_challenge *ch, tp_error *err)
{
    tp_error_clear(err);
    return auth_challenge_parse(s, strlen(s), ch, err);
}

static void challenge_bearer(void)
{
    auth_challenge ch;
    tp_error err;
    CHECK_INT(parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                    "scope=\"repository:library/ubuntu:pull\"", &ch, &err), TP_OK);
    CHECK_INT(ch.scheme, AUTH_BEARER);
    CHECK_STR(ch.realm, "https://auth.docker.io/token");
    CHECK_STR(ch.service, "registry.docker.io");
    CHECK_STR(ch.scope, "repository:library/ubuntu:pull");
}

static void challenge_case_spaces_escapes(void)
{
    auth_challenge ch;
    tp_error err;
    CHECK_INT(parse("  bearer   Realm = \"https://r/t\" ,  SERVICE=svc , scope=\"a\\\"b\"", &ch,
                    &err), TP_OK);
    CHECK_INT(ch.scheme, AUTH_BEARER);
    CHECK_STR(ch.realm, "https://r/t");
    CHECK_STR(ch.service, "svc");
    CHECK_STR(ch.scope, "a\"b");
}

static void challenge_basic_and_preference(void)
{
    auth_challenge ch;
    tp_error err;
    CHECK_INT(parse("Basic realm=\"Registry Realm\"", &ch, &err), TP_OK);
    CHECK_INT(ch.scheme, AUTH_BASIC);
    CHECK_STR(ch.realm, "Registry Realm");
    CHECK_INT(parse("Basic realm=\"x\", Bearer realm=\"https://t/\",service=\"s\"", &ch, &err),
              TP_OK);
    CHECK_INT(ch.scheme, AUTH_BEARER);
    CHECK_STR(ch.service, "s");
}

static void challenge_malformed(void)
{
    auth_challenge ch;
    tp_error err;
    static const char *const bad[] = {
        "Bearer realm=\"https://127.0.0.1:1/token,service=\"unterminated",
        "Bearer service=\"x\",scope=\"y\"",        /* no realm */
        "realm=\"https://r/\",service=\"x\"",       /* no scheme */
        "Bearer realm=\"file:///etc/passwd\"",      /* not http(s) */
        "Negotiate abc==",                          /* nothing we speak */
        "Bearer realm=\"https://r/\" junk",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(parse(bad[i], &ch, &err), TP_AUTH);
        CHECK(err.msg[0] != '\0');
    }
    CHECK_INT(parse("Bearer realm=\"https://r/\"", &ch, &err), TP_OK);
}

static void challenge_caps(void)
{
    char big[AUTH_HEADER_MAX + 64];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "Bearer realm=\"https://r/", 24);
    auth_challenge ch;
    tp_error err;
    CHECK_INT(parse(big, &ch, &err), TP_AUTH);
    CHECK_CONTAINS(err.msg, "over");
    /* A realm longer than our buffer is refused, not truncated. */
    char longrealm[AUTH_REALM_MAX + 64];
    int w = snprintf(longrealm, sizeof longrealm, "Bearer realm=\"https://");
    memset(longrealm + w, 'r', sizeof longrealm - (size_t)w - 2);
    longrealm[sizeof longrealm - 2] = '"';
    longrealm[sizeof longrealm - 1] = '\0';
    CHECK_INT(parse(longrealm, &ch, &err), TP_AUTH);
}

static auth_creds *creds(const char *json)
{
    tp_error err;
    tp_error_clear(&err);
    auth_creds *c = auth_creds_parse(json, strlen(json), &err);
    if (!c)
        fprintf(stderr, "parse failed: %s\n", err.msg);
    return c;
}

static void config_auth_forms(void)
{
    /* "YWxpY2U6czNjcjN0" = "alice:s3cr3t", "Ym9iOnA6dw==" = "bob:p:w" */
    auth_creds *c = creds("{\"auths\":{"
                          "\"https://index.docker.io/v1/\":{\"auth\":\"YWxpY2U6czNjcjN0\"},"
                          "\"Registry.Example.com:5000\":{\"username\":\"u\",\"password\":\"p\"},"
                          "\"http://ghcr.io/v2/ignored\":{\"auth\":\"Ym9iOnA6dw==\"},"
                          "\"*.corp.io\":{\"username\":\"g\",\"password\":\"h\"},"
                          "\"broken.io\":{\"auth\":\"!!!\"}}}");
    CHECK(c != NULL);
    char user[AUTH_USER_MAX], pass[AUTH_PASS_MAX];
    CHECK_INT(auth_creds_count(c), 4);
    CHECK(auth_creds_lookup(c, "docker.io", user, pass));
    CHECK_STR(user, "alice");
    CHECK_STR(pass, "s3cr3t");
    CHECK(auth_creds_lookup(c, "registry.example.com:5000", user, pass));
    CHECK_STR(user, "u");
    CHECK(!auth_creds_lookup(c, "registry.example.com", user, pass)); /* port must match */
    CHECK(auth_creds_lookup(c, "ghcr.io", user, pass));
    CHECK_STR(pass, "p:w"); /* split at the first colon only */
    CHECK(auth_creds_lookup(c, "eu.corp.io", user, pass));
    CHECK_STR(user, "g");
    CHECK(!auth_creds_lookup(c, "a.b.corp.io", user, pass)); /* one label only */
    CHECK(!auth_creds_lookup(c, "broken.io", user, pass));
    CHECK(!auth_creds_lookup(c, "quay.io", user, pass));
    auth_creds_free(c);
}

static void config_legacy_and_errors(void)
{
    auth_creds *c = creds("{\"quay.io\":{\"auth\":\"YWxpY2U6czNjcjN0\",\"email\":\"x\"}}");
    char user[AUTH_USER_MAX], pass[AUTH_PASS_MAX];
    CHECK(c && auth_creds_lookup(c, "quay.io", user, pass));
    auth_creds_free(c);
    tp_error err;
    const char *bad = "{\"auths\": {\"x\": {\"password\": \"hunter2\"";
    CHECK(auth_creds_parse(bad, strlen(bad), &err) == NULL);
    CHECK_INT(err.code, TP_CONFIG);
    CHECK(strstr(err.msg, "hunter2") == NULL);
    CHECK(auth_creds_parse("[]", 2, &err) == NULL);
    c = creds("{}");
    CHECK(c && auth_creds_count(c) == 0);
    auth_creds_free(c);
}

static void basic_value(void)
{
    char v[64];
    CHECK(auth_basic_value("alice", "s3cr3t", v, sizeof v));
    CHECK_STR(v, "Basic YWxpY2U6czNjcjN0");
    CHECK(!auth_basic_value("alice", "s3cr3t", v, 10));
}

CHECK_MAIN(CHECK_CASE(challenge_bearer), CHECK_CASE(challenge_case_spaces_escapes),
           CHECK_CASE(challenge_basic_and_preference), CHECK_CASE(challenge_malformed),
           CHECK_CASE(challenge_caps), CHECK_CASE(config_auth_forms),
           CHECK_CASE(config_legacy_and_errors), CHECK_CASE(basic_value))
