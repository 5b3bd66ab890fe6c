#include "jsonptr.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Follows pointer[0..len). */
static json_t *lookup(json_t *node, const char *pointer, size_t len)
{
    size_t i = 0;
    while (node && i < len) {
        if (pointer[i] != '/')
            return NULL;
        i++;
        char tok[JSONPTR_TOKEN_MAX];
        size_t n = 0;
        for (; i < len && pointer[i] != '/'; i++) {
            char c = pointer[i];
            if (c == '~') {
                if (i + 1 >= len || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))
                    return NULL;
                c = pointer[++i] == '0' ? '~' : '/';
            }
            if (n + 1 >= sizeof tok)
                return NULL;
            tok[n++] = c;
        }
        tok[n] = '\0';
        if (json_is_object(node)) {
            node = json_object_getn(node, tok, n);
        } else if (json_is_array(node)) {
            bool digits = n > 0 && strspn(tok, "0123456789") == n && (n == 1 || tok[0] != '0');
            node = digits && n < 10 ? json_array_get(node, strtoul(tok, NULL, 10)) : NULL;
        } else {
            return NULL;
        }
    }
    return node;
}

json_t *jsonptr_get(json_t *root, const char *pointer)
{
    return lookup(root, pointer, strlen(pointer));
}

int jsonptr_replace(json_t *root, const char *pointer, json_t *value)
{
    const char *slash = strrchr(pointer, '/');
    json_t *parent = slash ? lookup(root, pointer, (size_t)(slash - pointer)) : NULL;
    if (!parent || !lookup(root, pointer, strlen(pointer))) {
        json_decref(value);
        return -1;
    }
    if (json_is_array(parent))
        return json_array_set_new(parent, strtoul(slash + 1, NULL, 10), value);
    char tok[JSONPTR_TOKEN_MAX];
    size_t n = 0;
    for (const char *c = slash + 1; *c && n + 1 < sizeof tok; c++)
        tok[n++] = *c == '~' ? (*++c == '0' ? '~' : '/') : *c;
    return json_object_setn_new(parent, tok, n, value);
}
