#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

struct audit {
    int fd;        /* -1: records are dropped */
    bool owns_fd;
    /* Shared for lines the kernel writes whole (see audit_write_line),
     * exclusive for longer ones. */
    pthread_rwlock_t lock;
};

audit_t *audit_open(const char *where, tp_error *err)
{
    audit_t *a = calloc(1, sizeof *a);
    if (!a) {
        tp_error_set(err, TP_NOMEM, NULL);
        return NULL;
    }
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* A long record must not wait behind an endless stream of short ones. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&a->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    a->fd = -1;
    if (!where || strcmp(where, "off") == 0)
        return a;
    if (strcmp(where, "-") == 0) {
        a->fd = STDOUT_FILENO;
        return a;
    }
    a->fd = open(where, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (a->fd < 0) {
        tp_error_set(err, TP_IO, "audit log %s: %s", where, strerror(errno));
        pthread_rwlock_destroy(&a->lock);
        free(a);
        return NULL;
    }
    a->owns_fd = true;
    return a;
}

void audit_close(audit_t *a)
{
    if (!a)
        return;
    if (a->owns_fd)
        close(a->fd);
    pthread_rwlock_destroy(&a->lock);
    free(a);
}

bool audit_enabled(const audit_t *a)
{
    return a && a->fd >= 0;
}

void audit_write_line(audit_t *a, const char *line, size_t len)
{
    if (!audit_enabled(a))
        return;
    /* One writev per record keeps lines whole: a write of at most PIPE_BUF
     * bytes is never split on a pipe, and a regular file (O_APPEND) takes
     * its own lock for the whole write. So short records go out side by
     * side; only longer ones, which a pipe may split, hold the others off.
     * A mutex here made every connection thread queue on the audit line's
     * write: futex waits and context switches on each busy review. */
    struct iovec iov[2] = {{(void *)line, len}, {"\n", 1}};
    bool whole = len < PIPE_BUF;
    if (whole)
        pthread_rwlock_rdlock(&a->lock);
    else
        pthread_rwlock_wrlock(&a->lock);
    while (iov[1].iov_len > 0) {
        ssize_t w = writev(a->fd, iov[0].iov_len ? iov : iov + 1, iov[0].iov_len ? 2 : 1);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        size_t done = (size_t)w;
        for (int i = 0; i < 2 && done > 0; i++) {
            size_t take = done < iov[i].iov_len ? done : iov[i].iov_len;
            iov[i].iov_base = (char *)iov[i].iov_base + take;
            iov[i].iov_len -= take;
            done -= take;
        }
    }
    pthread_rwlock_unlock(&a->lock);
}
