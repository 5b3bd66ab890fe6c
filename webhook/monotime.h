/* Deadlines for pthread_cond_timedwait on condition variables that use
 * CLOCK_MONOTONIC (pthread_condattr_setclock), so a wall-clock step never
 * stretches or cuts a wait. */
#ifndef TAGPIN_MONOTIME_H
#define TAGPIN_MONOTIME_H

#include <time.h>

/* The CLOCK_MONOTONIC time ms milliseconds from now. */
static inline struct timespec monotime_after_ms(long ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

#endif
