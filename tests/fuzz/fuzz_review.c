/* Review decoding and the whole judging pipeline on arbitrary bytes, with
 * the default policy and no resolver (nothing reaches a network). */
#include <stdint.h>
#include <stdlib.h>

#include "admit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static policy_t *policy;
    if (!policy && !(policy = policy_load_default(NULL)))
        abort();
    admit_env env = {.policy = policy};
    admit_result res;
    admit_handle(&env, size % 2 ? ADMIT_VALIDATE : ADMIT_MUTATE, (const char *)data, size,
                 tp_now_ms() + 1000, &res);
    /* Every input gets an answer: a review (200) or a one-line reason (4xx). */
    if (!res.body || (res.http_status != 200 && res.http_status != 400))
        abort();
    admit_result_cleanup(&res);
    return 0;
}
