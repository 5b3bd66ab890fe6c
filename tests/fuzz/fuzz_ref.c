/* Arbitrary bytes into ref_parse; an accepted reference, printed back as
 * name[:tag][@digest], must parse to the same fields. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ref_t a, b;
    char buf[REF_NAME_MAX + REF_TAG_MAX + REF_DIGEST_MAX + 8];
    if (ref_parse((const char *)data, size, &a, NULL) != TP_OK)
        return 0;
    int n = snprintf(buf, sizeof buf, "%s%s%s%s%s", a.name, a.has_tag ? ":" : "", a.tag,
                     a.has_digest ? "@" : "", a.digest);
    if (n < 0 || (size_t)n >= sizeof buf || a.written_name_len > size ||
        ref_parse(buf, (size_t)n, &b, NULL) != TP_OK || strcmp(a.name, b.name) != 0 ||
        strcmp(a.domain, b.domain) != 0 || strcmp(a.path, b.path) != 0 ||
        strcmp(a.tag, b.tag) != 0 || strcmp(a.digest, b.digest) != 0 ||
        b.written_name_len != strlen(a.name) || !ref_familiar_name(&a)[0])
        abort();
    return 0;
}
