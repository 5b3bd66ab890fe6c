/* The YAML 1.1 types kubectl's YAML-to-JSON conversion (go-yaml v2) gives
 * plain scalars; enough for Kubernetes objects, not a full schema. */
#include "yaml11.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static bool one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* YAML 1.1 ints (with '_' separators, 0x, 0b, 0 octal) as yaml.v2 reads
 * them; false when s is not one or does not fit. */
static bool parse_int(const char *s, json_int_t *out)
{
    char digits[72];
    size_t n = 0;
    for (const char *c = s; *c; c++) {
        if (n + 1 >= sizeof digits)
            return false;
        if (*c != '_')
            digits[n++] = *c;
    }
    digits[n] = '\0';
    const char *d = digits + (digits[0] == '-' || digits[0] == '+');
    int base = 10;
    if (d[0] == '0' && (d[1] == 'x' || d[1] == 'b')) {
        base = d[1] == 'x' ? 16 : 2;
        d += 2;
    } else if (d[0] == '0' && d[1]) {
        base = 8;
    }
    if (!*d || strspn(d, "0123456789abcdefABCDEF") != strlen(d))
        return false;
    char *end;
    errno = 0;
    unsigned long long u = strtoull(d, &end, base);
    if (*end || errno || u > (unsigned long long)INT64_MAX + (digits[0] == '-'))
        return false;
    *out = digits[0] == '-' ? (json_int_t)(0 - u) : (json_int_t)u;
    return true;
}

static bool parse_float(const char *s, double *out)
{
    size_t i = (s[0] == '-' || s[0] == '+');
    size_t digits = strspn(s + i, "0123456789_");
    i += digits;
    if (s[i] == '.') {
        size_t frac = strspn(s + i + 1, "0123456789_");
        digits += frac;
        i += 1 + frac;
    }
    if (!digits)
        return false;
    if (s[i] == 'e' || s[i] == 'E') {
        i++;
        i += (s[i] == '-' || s[i] == '+');
        size_t exp = strspn(s + i, "0123456789");
        if (!exp)
            return false;
        i += exp;
    }
    if (s[i] || strchr(s, '_'))
        return false; /* rare enough to leave a string */
    char *end;
    *out = strtod(s, &end);
    return *end == '\0' && *out - *out == 0; /* finite: JSON has no inf/nan */
}

static json_t *resolve_plain(const char *s, size_t len)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", "y", "Y", "yes", "Yes",
                                        "YES", "on", "On", "ON", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", "n", "N", "no", "No",
                                         "NO", "off", "Off", "OFF", NULL};
    if (strlen(s) != len)
        return json_stringn(s, len);
    if (one_of(s, nulls))
        return json_null();
    if (one_of(s, trues))
        return json_true();
    if (one_of(s, falses))
        return json_false();
    json_int_t i;
    double d;
    if (parse_int(s, &i))
        return json_integer(i);
    if (parse_float(s, &d))
        return json_real(d);
    return json_stringn(s, len);
}

json_t *yaml11_scalar(const char *value, size_t len, const char *tag, bool plain)
{
    static const char *const typed[] = {YAML_NULL_TAG, YAML_BOOL_TAG, YAML_INT_TAG,
                                        YAML_FLOAT_TAG, NULL};
    if (tag ? one_of(tag, typed) : plain)
        return resolve_plain(value, len);
    return json_stringn(value, len);
}
