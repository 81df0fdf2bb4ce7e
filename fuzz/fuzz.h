/*
 * fuzz.h - what the harnesses share: the libFuzzer entry point's
 * prototype, a check that says what went wrong and aborts, copies of
 * input pieces placed against the end of a heap block, and the split
 * chooser.
 *
 * Why abort and not return: libFuzzer, AFL++ and fuzz/replay.c all treat
 * an abort as "this input found a bug", and ASan prints a stack for it.
 *
 * Pieces flush against the end of a heap block: every piece a parser is
 * fed is copied so that its last byte is the block's last byte, so ASan's
 * redzone catches a read of data[len] whatever build runs the harness
 * (the libFuzzer input is one block, but pieces cut from it are not).
 * One block per run, not one per piece: a malloc per byte would make the
 * byte-at-a-time runs several times slower.
 *
 * Splits: two bytes of the input choose how the rest is cut. The low two
 * bits of the first pick a mode:
 *   0  three pieces, cut at fractions of the length the bytes give
 *      (STYLE.md sec. 12: "fed in two or three pieces");
 *   1  pseudo-random pieces of 1..8 bytes;
 *   2  pseudo-random pieces of 1..64 bytes;
 *   3  pseudo-random pieces of 1..4096 bytes;
 * the remaining bits seed the generator. The parser harnesses also run
 * one byte at a time and all at once, so every boundary is tried on every
 * input (fuzz_decode runs only all at once and split: mode 1 gives it
 * one-byte pieces often).
 */
#ifndef POKEFETCH_FUZZ_H
#define POKEFETCH_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#if defined(__GNUC__)
#define FUZZ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FUZZ_PRINTF(a, b)
#endif

static inline _Noreturn void fuzz_fail(const char *file, int line,
                                      const char *cond, const char *fmt,
                                      ...) FUZZ_PRINTF(4, 5);

/* Never returns: prints where and why, then aborts. */
static inline _Noreturn void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt,
          ...)
{
    va_list ap;

    fprintf(stderr, "%s:%d: fuzz check failed: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

/* FUZZ_CHECK(cond, "printf format", args...): the format is required. */
#define FUZZ_CHECK(cond, ...)                                                 \
    do {                                                                      \
        if (!(cond))                                                          \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                \
    } while (0)

/* malloc that cannot fail quietly; 0 bytes still gives a unique block. */
static inline void *
fuzz_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p) {
        fputs("fuzz: out of memory\n", stderr);
        abort();
    }
    return p;
}

/* A heap copy of s[0..n) in a block of exactly n bytes (see top). */
static inline char *
fuzz_dup(const void *s, size_t n)
{
    char *p = fuzz_alloc(n);

    if (n)
        memcpy(p, s, n);
    return p;
}

/*
 * Copies s[0..n) to the end of block (cap bytes, n <= cap) and returns
 * where it starts: data[n] is then ASan's redzone.
 */
static inline char *
fuzz_place(char *block, size_t cap, const void *s, size_t n)
{
    char *p = block + cap - n;

    if (n)
        memmove(p, s, n);
    return p;
}

struct fuzz_split {
    unsigned mode;
    uint32_t rng;
    size_t cut1, cut2; /* mode 0: piece boundaries */
};

/* The chooser for a body of len bytes, from control bytes a and b. */
static inline void
fuzz_split_init(struct fuzz_split *sp, unsigned a, unsigned b, size_t len)
{
    sp->mode = a & 3;
    /* xorshift32 must not start at 0. */
    sp->rng = (uint32_t)(a >> 2 | b << 6) * 2654435761u | 1;
    sp->cut1 = (size_t)((uint64_t)len * (a >> 2) / 64);
    sp->cut2 = sp->cut1 + (size_t)((uint64_t)(len - sp->cut1) * b / 256);
}

static inline uint32_t
fuzz_rand(struct fuzz_split *sp)
{
    uint32_t x = sp->rng;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    sp->rng = x;
    return x;
}

/*
 * Length of the next piece when off of len bytes are already fed: at
 * least 1 (0 only when nothing is left), at most len - off.
 */
static inline size_t
fuzz_split_next(struct fuzz_split *sp, size_t off, size_t len)
{
    static const uint32_t max[4] = {0, 8, 64, 4096};
    size_t n;

    if (off >= len)
        return 0;
    if (sp->mode == 0) {
        if (off < sp->cut1)
            return sp->cut1 - off;
        if (off < sp->cut2)
            return sp->cut2 - off;
        return len - off;
    }
    n = 1 + fuzz_rand(sp) % max[sp->mode];
    return n < len - off ? n : len - off;
}

#endif
