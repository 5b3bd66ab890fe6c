/* Listen addresses as users write them: "127.0.0.1:8443", "[::1]:8443",
 * "0.0.0.0:8443", ":8443" (all IPv4 interfaces). Numeric hosts only, so
 * parsing never waits on DNS. */
#ifndef TAGPIN_NETADDR_H
#define TAGPIN_NETADDR_H

#include <sys/socket.h>

#include "../resolver/error.h"

tp_code netaddr_parse(const char *text, struct sockaddr_storage *out, socklen_t *len,
                      tp_error *err);

#endif
