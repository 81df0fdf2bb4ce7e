/*
 * check.h - the whole unit-test framework: a CHECK macro that records
 * file:line and carries on, a named-case runner, and the closing line
 * "N passed, N failed" that CI reads.
 *
 * A "case" is one call of RUN(fn); it passes when no CHECK inside it failed.
 * Include this header in exactly one .c file (it defines static state).
 */
#ifndef POKEFETCH_CHECK_H
#define POKEFETCH_CHECK_H

#include <stdio.h>

static int check_failures_in_case;
static int check_cases_passed;
static int check_cases_failed;

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            check_failures_in_case++;                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                   \
        }                                                                     \
    } while (0)

/* CHECKF: like CHECK, with a printf-style explanation of what was seen. */
#define CHECKF(cond, ...)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            check_failures_in_case++;                                         \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,  \
                    #cond);                                                   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
        }                                                                     \
    } while (0)

#define RUN(fn)                                                               \
    do {                                                                      \
        check_failures_in_case = 0;                                           \
        fn();                                                                 \
        if (check_failures_in_case) {                                         \
            check_cases_failed++;                                             \
            fprintf(stderr, "FAIL %s\n", #fn);                                \
        } else {                                                              \
            check_cases_passed++;                                             \
        }                                                                     \
    } while (0)

/* Prints the closing line and gives main() its exit status. */
#define CHECK_REPORT()                                                        \
    (printf("%d passed, %d failed\n", check_cases_passed,                     \
            check_cases_failed),                                              \
     check_cases_failed ? 1 : 0)

#endif
