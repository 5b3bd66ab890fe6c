/* A tiny libuv-style test harness: each case is a function registered in a
 * table; `./test_x` runs all, `./test_x NAME` runs one alone. Assertions print
 * both values and the location, and count failures rather than abort, so one
 * run shows every broken case. */
#ifndef TAGPIN_CHECK_H
#define TAGPIN_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int check_failures;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            check_failures++;                                                \
        }                                                                    \
    } while (0)

#define CHECK_INT(a, b)                                                       \
    do {                                                                      \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);       \
        if (check_a_ != check_b_) {                                           \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n",         \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);          \
            check_failures++;                                                 \
        }                                                                     \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *check_a_ = (a), *check_b_ = (b);                           \
        if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {       \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n",      \
                    __FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)", \
                    check_b_ ? check_b_ : "(null)");                           \
            check_failures++;                                                  \
        }                                                                      \
    } while (0)

/* Substring check, for error messages. */
#define CHECK_CONTAINS(hay, needle)                                            \
    do {                                                                       \
        const char *check_h_ = (hay), *check_n_ = (needle);                    \
        if (!check_h_ || !strstr(check_h_, check_n_)) {                        \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n",         \
                    __FILE__, __LINE__, check_h_ ? check_h_ : "(null)",        \
                    check_n_);                                                 \
            check_failures++;                                                  \
        }                                                                      \
    } while (0)

typedef struct check_case {
    const char *name;
    void (*fn)(void);
} check_case;

/* Each test file ends with CHECK_MAIN(case1, case2, ...). */
#define CHECK_CASE(fn) {#fn, fn}
#define CHECK_MAIN(...)                                                       \
    int check_failures;                                                       \
    int main(int argc, char **argv)                                           \
    {                                                                         \
        static const check_case cases[] = {__VA_ARGS__};                      \
        size_t n = sizeof cases / sizeof cases[0], ran = 0;                   \
        for (size_t i = 0; i < n; i++) {                                      \
            if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)              \
                continue;                                                     \
            int before = check_failures;                                      \
            cases[i].fn();                                                    \
            ran++;                                                            \
            printf("%s %s\n", check_failures == before ? "ok  " : "FAIL",     \
                   cases[i].name);                                            \
        }                                                                     \
        if (ran == 0) {                                                       \
            fprintf(stderr, "no test case matched\n");                        \
            return 2;                                                         \
        }                                                                     \
        printf("%zu cases, %d failed checks\n", ran, check_failures);        \
        return check_failures ? 1 : 0;                                        \
    }

#endif
