/* WWW-Authenticate challenges come from any registry a Pod names. */
#include <stdint.h>
#include <string.h>

#include "auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    auth_challenge ch;
    tp_error err;
    if (auth_challenge_parse((const char *)data, size, &ch, &err) == TP_OK) {
        /* Every field must come back NUL-terminated within its buffer. */
        if (strnlen(ch.realm, sizeof ch.realm) == sizeof ch.realm ||
            strnlen(ch.service, sizeof ch.service) == sizeof ch.service ||
            strnlen(ch.scope, sizeof ch.scope) == sizeof ch.scope)
            __builtin_trap();
    }
    return 0;
}
