#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

tp_code netaddr_parse(const char *text, struct sockaddr_storage *out, socklen_t *len,
                      tp_error *err)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return tp_error_set(err, TP_CONFIG, "listen address is empty (want ADDR:PORT)");
    const char *colon = strrchr(text, ':');
    if (!colon)
        return tp_error_set(err, TP_CONFIG, "listen address %s has no port (want ADDR:PORT)", text);
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port > 65535)
        return tp_error_set(err, TP_CONFIG, "listen address %s: bad port", text);

    char host[64];
    size_t hl = (size_t)(colon - text);
    if (hl >= 2 && text[0] == '[' && text[hl - 1] == ']') {
        text++;
        hl -= 2;
    }
    if (hl >= sizeof host)
        return tp_error_set(err, TP_CONFIG, "listen address %s: host too long", text);
    memcpy(host, text, hl);
    host[hl] = '\0';

    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (hl == 0 || inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        if (hl == 0)
            v4->sin_addr.s_addr = htonl(INADDR_ANY);
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
        return TP_OK;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        return TP_OK;
    }
    return tp_error_set(err, TP_CONFIG, "listen address %s: %s is not a numeric IP address",
                        text, host);
}
