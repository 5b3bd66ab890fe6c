#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

struct audit {
    int fd;        /* -1: records are dropped */
    bool owns_fd;
    pthread_mutex_t lock;
};

audit_t *audit_open(const char *where, tp_error *err)
{
    audit_t *a = calloc(1, sizeof *a);
    if (!a) {
        tp_error_set(err, TP_NOMEM, NULL);
        return NULL;
    }
    pthread_mutex_init(&a->lock, NULL);
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
        pthread_mutex_destroy(&a->lock);
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
    pthread_mutex_destroy(&a->lock);
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
    /* O_APPEND plus one writev per record keeps lines whole; the lock keeps
     * records from different threads in order on pipes too. */
    struct iovec iov[2] = {{(void *)line, len}, {"\n", 1}};
    pthread_mutex_lock(&a->lock);
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
    pthread_mutex_unlock(&a->lock);
}
