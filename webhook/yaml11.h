/* Typing YAML scalars into JSON values the way kubectl does (YAML 1.1 via
 * go-yaml v2): null (~, null), bools (true, yes, on, y and their negations
 * in three casings), ints (decimal, 0x, 0b, leading-0 octal, '_'
 * separators), finite floats; everything else is a string. */
#ifndef TAGPIN_YAML11_H
#define TAGPIN_YAML11_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* value[0..len) with its explicit tag (NULL: none). plain: an untagged plain
 * scalar, the only kind resolved by content; quoted ones and !!str are
 * strings, !!int/!!float/!!bool/!!null are resolved. New value, NULL when
 * out of memory or the string is not UTF-8. */
json_t *yaml11_scalar(const char *value, size_t len, const char *tag, bool plain);

#endif
