/* Differential: with no selection, jsonsel must agree with jansson (duplicate
 * keys refused) on every input it accepts, and jsonw must write the value
 * back so that it reads the same; with a selection, jsonsel must never
 * accept what the full decode refuses for anything but a skipped duplicate. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonsel.h"
#include "jsonw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const jsonsel some[] = {{"a", NULL}, {"request", NULL}, {NULL, NULL}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tp_error err;
    json_t *mine = jsonsel_decode((const char *)data, size, NULL, 2048, &err);
    if (mine) {
        json_t *theirs = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
        if (!theirs || !json_equal(mine, theirs))
            __builtin_trap();
        json_decref(theirs);
        /* And the writer gives it back unchanged (or refuses past its depth). */
        jsonw w;
        jsonw_init(&w);
        jsonw_value(&w, mine);
        size_t len;
        char *text = jsonw_finish(&w, &len);
        json_t *again = text ? json_loadb(text, len, 0, NULL) : NULL;
        if (text && (!again || !json_equal(again, mine)))
            __builtin_trap();
        json_decref(again);
        free(text);
    }
    tp_error part_err;
    json_t *part = jsonsel_decode((const char *)data, size, some, 2048, &part_err);
    /* A selection may skip a duplicate key or a number out of range (both
     * checked only where values are built, jsonsel.h), never a syntax error. */
    if (part && !mine && !strstr(err.msg, "duplicate object key") &&
        !strstr(err.msg, "too big integer") && !strstr(err.msg, "real number overflow") &&
        !strstr(err.msg, "number too long"))
        __builtin_trap();
    json_decref(part);
    json_decref(mine);
    return 0;
}
