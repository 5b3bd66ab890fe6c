#include "filestamp.h"

#include <string.h>
#include <sys/stat.h>

void filestamp_take(const char *path, filestamp *out)
{
    struct stat st;
    memset(out, 0, sizeof *out);
    if (!path || stat(path, &st) != 0)
        return;
    out->exists = true;
    out->dev = st.st_dev;
    out->ino = st.st_ino;
    out->size = st.st_size;
    out->mtime = st.st_mtim;
}

bool filestamp_equal(const filestamp *a, const filestamp *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec;
}
