/* Manifest and index bodies, as a registry (or a liar) sends them. */
#include <stdint.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    manifest_info m;
    tp_error err;
    if (manifest_parse((const char *)data, size, NULL, &m, &err) == TP_OK) {
        if (m.n_platforms > RESOLUTION_MAX_PLATFORMS || (!m.is_index && m.n_platforms))
            __builtin_trap();
        for (size_t i = 0; i < m.n_platforms; i++)
            if (strnlen(m.platforms[i], RESOLUTION_PLATFORM_MAX) == RESOLUTION_PLATFORM_MAX)
                __builtin_trap();
    }
    return 0;
}
