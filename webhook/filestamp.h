/* Has a file changed? A stat fingerprint that follows symlinks (device,
 * inode, size, mtime in ns), so the atomic `..data` symlink swap Kubernetes
 * does for ConfigMap and Secret volumes shows up as a new inode, and a file
 * edited in place shows up as a new size or mtime. Callers confirm a change
 * with a hash of the content before acting, so a touch reloads nothing. */
#ifndef TAGPIN_FILESTAMP_H
#define TAGPIN_FILESTAMP_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

typedef struct filestamp {
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} filestamp;

/* Fills out for path (exists = false when stat fails). */
void filestamp_take(const char *path, filestamp *out);
bool filestamp_equal(const filestamp *a, const filestamp *b);

/* What a reload attempt did. */
typedef enum reload_result {
    RELOAD_UNCHANGED, /* nothing to do: same files or same content */
    RELOAD_OK,        /* new content in force */
    RELOAD_ERROR,     /* new content refused (logged); the old stays */
} reload_result;

#endif
