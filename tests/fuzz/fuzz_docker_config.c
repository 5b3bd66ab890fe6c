/* docker config.json from a Secret: parse, then look up a few hosts. */
#include <stdint.h>
#include <string.h>

#include "auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tp_error err;
    auth_creds *c = auth_creds_parse((const char *)data, size, &err);
    static const char *const hosts[] = {"docker.io", "ghcr.io", "localhost:5000", "a.corp.io"};
    char user[AUTH_USER_MAX], pass[AUTH_PASS_MAX];
    for (size_t i = 0; c && i < sizeof hosts / sizeof hosts[0]; i++)
        if (auth_creds_lookup(c, hosts[i], user, pass) &&
            (strnlen(user, sizeof user) == sizeof user || strnlen(pass, sizeof pass) == sizeof pass))
            __builtin_trap();
    auth_creds_free(c);
    return 0;
}
