/* What the in-process benchmark loops share: a monotonic clock and the
 * count argument. */
#ifndef TAGPIN_BENCH_LOOP_COMMON_H
#define TAGPIN_BENCH_LOOP_COMMON_H

#include <stdlib.h>
#include <time.h>

static inline double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The repetition count N from text: 1 to 100,000,000, else 0. */
static inline long loop_count(const char *text)
{
    char *end = NULL;
    long n = strtol(text, &end, 10);
    return (end && !*end && n >= 1 && n <= 100000000) ? n : 0;
}

#endif
