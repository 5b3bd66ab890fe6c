#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
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

void audit_write(audit_t *a, json_t *record)
{
    if (!a || a->fd < 0 || !record)
        return;
    char *text = json_dumps(record, JSON_COMPACT);
    if (!text)
        return;
    size_t n = strlen(text);
    text[n] = '\n';
    /* O_APPEND plus one write per record keeps lines whole; the lock keeps
     * records from different threads in order on pipes too. */
    pthread_mutex_lock(&a->lock);
    size_t off = 0;
    while (off < n + 1) {
        ssize_t w = write(a->fd, text + off, n + 1 - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    pthread_mutex_unlock(&a->lock);
    free(text);
}
