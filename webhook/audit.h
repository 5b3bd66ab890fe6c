/* The audit trail: one JSON record per admission that touched images, one
 * line each, on stdout or a file. Field names are documented in
 * docs/audit.md and stable. */
#ifndef TAGPIN_AUDIT_H
#define TAGPIN_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "../resolver/error.h"

typedef struct audit audit_t;

/* where: "-" for stdout, "off" (or NULL) for none, else a file appended to.
 * Returns a new sink, or NULL with err (TP_IO). "off" gives a sink that
 * drops records, so callers never branch. */
audit_t *audit_open(const char *where, tp_error *err);
void audit_close(audit_t *a);

/* Whether records are kept at all ("off" drops them): callers skip
 * building a record nobody reads. */
bool audit_enabled(const audit_t *a);

/* Writes one record, JSON text without its newline, as one line;
 * thread-safe. */
void audit_write_line(audit_t *a, const char *line, size_t len);

#endif
