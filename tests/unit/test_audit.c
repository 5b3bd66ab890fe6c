/* The audit sink: records written by many threads at once arrive as whole
 * lines, through a pipe too, where the kernel may split long writes. */
#include "check.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"

#define WRITERS 4
#define RECORDS 300 /* per writer; every seventh is longer than PIPE_BUF */

typedef struct sink {
    const char *fifo;
    char *text;
    size_t len, cap;
} sink;

static void *drain(void *arg)
{
    sink *s = arg;
    int fd = open(s->fifo, O_RDONLY);
    if (fd < 0)
        return NULL;
    for (;;) {
        if (s->cap - s->len < 65536) {
            s->cap = s->cap ? s->cap * 2 : 1 << 20;
            s->text = realloc(s->text, s->cap);
            if (!s->text)
                break;
        }
        ssize_t n = read(fd, s->text + s->len, s->cap - s->len - 1);
        if (n <= 0)
            break;
        s->len += (size_t)n;
    }
    close(fd);
    if (s->text)
        s->text[s->len] = '\0';
    return NULL;
}

typedef struct writer {
    audit_t *audit;
    int id;
} writer;

static size_t record_fill(int i)
{
    return i % 7 == 0 ? 3 * PIPE_BUF + (size_t)i : 40 + (size_t)i % 50;
}

static void *write_records(void *arg)
{
    const writer *w = arg;
    char *line = malloc(4 * PIPE_BUF + 64);
    for (int i = 0; line && i < RECORDS; i++) {
        int n = snprintf(line, 64, "{\"w\":%d,\"i\":%d,\"fill\":\"", w->id, i);
        size_t fill = record_fill(i);
        memset(line + n, 'a' + w->id, fill);
        memcpy(line + (size_t)n + fill, "\"}", 2);
        audit_write_line(w->audit, line, (size_t)n + fill + 2);
    }
    free(line);
    return NULL;
}

/* Every record once, each line one whole record of one writer. */
static void concurrent_records_stay_whole_on_a_pipe(void)
{
    char dir[] = "/tmp/tagpin-audit.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char fifo[64];
    snprintf(fifo, sizeof fifo, "%s/audit", dir);
    CHECK_INT(mkfifo(fifo, 0600), 0);
    sink s = {.fifo = fifo};
    pthread_t reader;
    pthread_create(&reader, NULL, drain, &s);
    tp_error err;
    audit_t *a = audit_open(fifo, &err); /* blocks until the reader opens */
    CHECK(a != NULL);
    pthread_t t[WRITERS];
    writer w[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        w[i] = (writer){a, i};
        pthread_create(&t[i], NULL, write_records, &w[i]);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);
    audit_close(a);
    pthread_join(reader, NULL);

    static unsigned char seen[WRITERS][RECORDS];
    size_t lines = 0, bad = 0;
    for (char *line = s.text, *nl; line && (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = '\0';
        lines++;
        int id, i, off = 0;
        if (sscanf(line, "{\"w\":%d,\"i\":%d,\"fill\":\"%n", &id, &i, &off) != 2 || !off ||
            id < 0 || id >= WRITERS || i < 0 || i >= RECORDS) {
            bad++;
            continue;
        }
        size_t fill = record_fill(i);
        bool whole = strlen(line) == (size_t)off + fill + 2 &&
                     strcmp(line + off + fill, "\"}") == 0;
        for (size_t k = 0; whole && k < fill; k++)
            whole = line[off + k] == 'a' + id;
        if (!whole)
            bad++;
        else
            seen[id][i]++;
    }
    CHECK_INT(lines, WRITERS * RECORDS);
    CHECK_INT(bad, 0);
    size_t once = 0;
    for (int id = 0; id < WRITERS; id++)
        for (int i = 0; i < RECORDS; i++)
            once += seen[id][i] == 1;
    CHECK_INT(once, WRITERS * RECORDS);
    free(s.text);
    unlink(fifo);
    rmdir(dir);
}

CHECK_MAIN(CHECK_CASE(concurrent_records_stay_whole_on_a_pipe))
