#include "fileio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

tp_code tp_read_file(const char *path, size_t max, const char *what, char **out,
                     size_t *len, tp_error *err)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return tp_error_set(err, TP_IO, "%s %s: cannot open: %s", what, path, strerror(errno));
    /* One byte more than the cap tells "too large" from "exactly the cap". */
    char *buf = malloc(max + 2);
    if (!buf) {
        fclose(f);
        return tp_error_set(err, TP_NOMEM, "%s %s: out of memory", what, path);
    }
    size_t n = fread(buf, 1, max + 1, f);
    int failed = ferror(f);
    int saved = errno;
    fclose(f);
    tp_code rc = TP_OK;
    if (failed)
        rc = tp_error_set(err, TP_IO, "%s %s: cannot read: %s", what, path, strerror(saved));
    else if (n > max)
        rc = tp_error_set(err, TP_TOO_LARGE, "%s %s: larger than %zu bytes", what, path, max);
    if (rc != TP_OK) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return TP_OK;
}
