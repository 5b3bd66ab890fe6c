/* The audit trail: one JSON record per admission that touched images, one
 * line each, on stdout or a file. Field names are documented in
 * docs/audit.md and stable. */
#ifndef TAGPIN_AUDIT_H
#define TAGPIN_AUDIT_H

#include <jansson.h>

#include <stdbool.h>

#include "../resolver/error.h"

typedef struct audit audit_t;

/* where: "-" for stdout, "off" (or NULL) for none, else a file appended to.
 * Returns a new sink, or NULL with err (TP_IO). "off" gives a sink that
 * drops records, so callers never branch. */
audit_t *audit_open(const char *where, tp_error *err);
void audit_close(audit_t *a);

/* Writes record (borrowed) as one line; thread-safe. */
void audit_write(audit_t *a, json_t *record);

#endif
