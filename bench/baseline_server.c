/* tagpin_baseline_server: the admission benchmark's yardstick. A minimal
 * libmicrohttpd TLS server with the same daemon flags as webhook/server.c
 * (internal polling thread, thread per connection, TLS) that reads the
 * POSTed body and answers every request with one fixed AdmissionReview.
 * Whatever throughput it reaches is what MHD + TLS + loopback allow on this
 * machine; tagpin's figure divided by it is the cost of tagpin's own work.
 *   tagpin_baseline_server CERT KEY PORTFILE
 * Listens on 127.0.0.1 on a free port, writes the port to PORTFILE, stops
 * on SIGTERM or SIGINT. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PEM (64u << 10)
#define MAX_BODY (3u << 20) /* tagpin's default server.maxBodyBytes */

/* The size and shape of tagpin's answer for the benchmark's review: allowed,
 * with a base64 JSON Patch pinning three images and annotations. */
static const char answer[] =
    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"response\":{"
    "\"uid\":\"00000000-0000-0000-0000-000000000000\",\"allowed\":true,\"patchType\":\"JSONPatch\","
    "\"patch\":\"W3sib3AiOiJyZXBsYWNlIiwicGF0aCI6Ii9zcGVjL3RlbXBsYXRlL3NwZWMvY29udGFpbmVycy8wL2lt"
    "YWdlIiwidmFsdWUiOiIxMjcuMC4wLjE6NTAwMC9iZW5jaC93ZWI6MS4wQHNoYTI1NjowMDAwMDAwMDAwMDAwMDAwMDAw"
    "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw"
    "In0seyJvcCI6InJlcGxhY2UiLCJwYXRoIjoiL3NwZWMvdGVtcGxhdGUvc3BlYy9jb250YWluZXJzLzEvaW1hZ2UiLCJ2"
    "YWx1ZSI6IjEyNy4wLjAuMTo1MDAwL2JlbmNoL3NpZGVjYXI6Mi4xQHNoYTI1NjowMDAwMDAwMDAwMDAwMDAwMDAwMDAw"
    "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMCJ9"
    "LHsib3AiOiJyZXBsYWNlIiwicGF0aCI6Ii9zcGVjL3RlbXBsYXRlL3NwZWMvaW5pdENvbnRhaW5lcnMvMC9pbWFnZSIs"
    "InZhbHVlIjoiMTI3LjAuMC4xOjUwMDAvYmVuY2gvbWlncmF0ZTozLjJAc2hhMjU2OjAwMDAwMDAwMDAwMDAwMDAwMDAw"
    "MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMCJ9XQ==\","
    "\"auditAnnotations\":{\"tagpin.dev/pinned\":\"3\"}}}";

typedef struct upload {
    size_t bytes;
} upload;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *data, size_t *data_size, void **con_cls)
{
    upload *u = *con_cls;
    if (!u) { /* first call: headers only */
        if (!(u = calloc(1, sizeof *u)))
            return MHD_NO;
        *con_cls = u;
        return MHD_YES;
    }
    if (*data_size) { /* body chunk: count it, as a real server must read it */
        u->bytes += *data_size;
        *data_size = 0;
        return u->bytes > MAX_BODY ? MHD_NO : MHD_YES;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        sizeof answer - 1, (void *)answer, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    free(*con_cls);
    *con_cls = NULL;
}

static char *read_pem(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *b = f ? malloc(MAX_PEM + 1) : NULL;
    size_t n = b ? fread(b, 1, MAX_PEM + 1, f) : 0;
    if (f)
        fclose(f);
    if (!b || n == 0 || n > MAX_PEM) {
        free(b);
        return NULL;
    }
    b[n] = '\0';
    return b;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fputs("usage: tagpin_baseline_server CERT KEY PORTFILE\n", stderr);
        return 2;
    }
    char *cert = read_pem(argv[1]), *key = read_pem(argv[2]);
    if (!cert || !key) {
        fprintf(stderr, "baseline: cannot read %s or %s\n", argv[1], argv[2]);
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* MHD's threads inherit the mask */
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_TLS |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_CONNECTION_LIMIT,
        1024u, MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_END);
    if (!d) {
        fputs("baseline: MHD_start_daemon failed\n", stderr);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    FILE *pf = fopen(argv[3], "w");
    if (!info || !pf || fprintf(pf, "%u\n", (unsigned)info->port) < 0 || fclose(pf) != 0) {
        fputs("baseline: cannot write the port file\n", stderr);
        MHD_stop_daemon(d);
        return 1;
    }
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    free(cert);
    free(key);
    return 0;
}
