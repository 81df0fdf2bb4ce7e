/*
 * test_crc - unit tests of gzip's CRC-32 (include/crc.h, src/crc.c).
 *
 * zlib's crc32() is the reference. Both paths, the fast one (carry-less
 * multiply, when this CPU has it) and the portable one, must give its
 * value for every length from 0 to past several 64-byte folding steps,
 * at every alignment, from any starting CRC, and for any split of the
 * input into pieces fed one after the other. Every input is placed flush
 * against a PROT_NONE page (guard.h), so a read past its end crashes.
 * Lengths from 64 up take the fast path's every branch: the 64-byte
 * folds, the 16-byte ones and the byte tail. test_speed prints both
 * paths' and zlib's speed; it checks only the values.
 */
#include "crc.h"

#include "check.h"
#include "guard.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#define DATA_LEN (1024 * 1024)

static unsigned char *data;

#include "rng.h"

static uint32_t
ref(uint32_t crc, const unsigned char *p, size_t n)
{
    return (uint32_t)crc32_z(crc, p, n);
}

/* Known values: RFC 3720's and everyone's "123456789" check value. */
static void
test_known(void)
{
    static const char digits[] = "123456789";

    CHECK(crc_update(0, "", 0) == 0);
    CHECK(crc_update(0, digits, 9) == 0xCBF43926u);
    CHECK(crc_update_portable(0, digits, 9) == 0xCBF43926u);
    CHECK(ref(0, (const unsigned char *)digits, 9) == 0xCBF43926u);
}

static void
test_every_length_and_alignment(void)
{
    size_t len, off;
    int bad = 0;

    static const char *const path[] = {
        "the byte loop", "PCLMULQDQ, 128-bit", "VPCLMULQDQ, 256-bit"};

    printf("crc: %s on this CPU\n", path[crc_fast()]);
    for (len = 0; len <= 1100 && !bad; len++) {
        for (off = 0; off < 16 && !bad; off++) {
            const unsigned char *p =
                (const unsigned char *)guard_place(data + off, len);
            uint32_t init = (uint32_t)rnd();
            uint32_t want = ref(init, p, len);

            CHECKF(crc_update(init, p, len) == want,
                   "fast, %zu bytes at +%zu from %08x", len, off,
                   (unsigned)init);
            CHECKF(crc_update_portable(init, p, len) == want,
                   "portable, %zu bytes at +%zu", len, off);
            bad = check_failures_in_case;
        }
    }
    CHECK(crc_update(0, data, DATA_LEN) == ref(0, data, DATA_LEN));
    CHECK(crc_update(~0u, data, DATA_LEN) == ref(~0u, data, DATA_LEN));
}

/* Any split of the input gives the whole's value. */
static void
test_splits(void)
{
    for (int round = 0; round < 300; round++) {
        size_t len = (size_t)(rnd() % 20000), at = 0;
        const unsigned char *src = data + rnd() % (DATA_LEN - 20000);
        uint32_t crc = 0;

        while (at < len) {
            size_t piece = (size_t)(rnd() % (round % 2 ? 200 : 5000)) + 1;

            if (piece > len - at)
                piece = len - at;
            crc = crc_update(crc, guard_place(src + at, piece), piece);
            at += piece;
        }
        CHECKF(crc == ref(0, src, len), "round %d, %zu bytes", round, len);
        if (check_failures_in_case)
            break;
    }
}

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_speed(void)
{
    double best[3] = {1e9, 1e9, 1e9}, t;
    uint32_t v[3] = {0, 0, 0};

    for (int pass = 0; pass < 5; pass++) {
        t = now();
        v[0] = crc_update(0, data, DATA_LEN);
        t = now() - t;
        best[0] = t < best[0] ? t : best[0];
        t = now();
        v[1] = ref(0, data, DATA_LEN);
        t = now() - t;
        best[1] = t < best[1] ? t : best[1];
        t = now();
        v[2] = crc_update_portable(0, data, DATA_LEN / 16);
        t = (now() - t) * 16;
        best[2] = t < best[2] ? t : best[2];
    }
    CHECK(v[0] == v[1]);
    CHECK(v[2] == ref(0, data, DATA_LEN / 16));
    printf("crc speed (1 MiB, best of 5): crc_update %.0f MB/s, zlib "
           "crc32 %.0f MB/s, portable loop %.0f MB/s\n",
           DATA_LEN / 1e6 / best[0], DATA_LEN / 1e6 / best[1],
           DATA_LEN / 1e6 / best[2]);
}

int
main(void)
{
    data = malloc(DATA_LEN);
    if (!data)
        return 2;
    for (size_t i = 0; i < DATA_LEN; i++)
        data[i] = (unsigned char)(rnd() >> 56);

    RUN(test_known);
    RUN(test_every_length_and_alignment);
    RUN(test_splits);
    RUN(test_speed);

    free(data);
    return CHECK_REPORT();
}
