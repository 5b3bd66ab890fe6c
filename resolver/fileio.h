/* Reading whole files with a size cap, for certificates, keys, CA bundles,
 * credentials and policies: a wrong path (a device, a huge file) must not
 * exhaust memory. */
#ifndef TAGPIN_FILEIO_H
#define TAGPIN_FILEIO_H

#include <stddef.h>

#include "error.h"

/* Reads path into a new NUL-terminated buffer (*out, caller frees; for
 * secrets, cleanse before free). what names the file in errors ("TLS key").
 * TP_IO when it cannot be opened or read, TP_TOO_LARGE past max bytes,
 * TP_NOMEM. */
tp_code tp_read_file(const char *path, size_t max, const char *what, char **out,
                     size_t *len, tp_error *err);

#endif
