/*
 * test_crc - unit tests of gzip's CRC-32 (include/crc.h, src/crc.c).
 *
 * zlib's crc32() is the reference. Every path this CPU has (crc.h's
 * crc_path, up to crc_fastest()) must give its value for every length
 * from 0 to past several 128-byte folding steps, at every alignment,
 * from any starting CRC, and for any split of the input into pieces fed
 * one after the other. Every input is placed flush against a PROT_NONE
 * page (guard.h), so a read past its end crashes. Lengths from 64 up
 * take the fast paths' every branch: the 128- and 64-byte folds, the
 * 16-byte ones and the tail. Their speed is bench/inflate-extract's.
 */
#include "crc.h"

#include "check.h"
#include "guard.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define DATA_LEN (1024 * 1024)

static unsigned char *data;

#include "rng.h"

static uint32_t
ref(uint32_t crc, const unsigned char *p, size_t n)
{
    return (uint32_t)crc32_z(crc, p, n);
}

static const char *const path_name[] = {"zlib's crc32()", "PCLMULQDQ",
                                        "VPCLMULQDQ"};

/* Known values: RFC 3720's and everyone's "123456789" check value. */
static void
test_known(void)
{
    static const char digits[] = "123456789";

    CHECK(crc_update(0, "", 0) == 0);
    CHECK(crc_update(0, digits, 9) == 0xCBF43926u);
    CHECK(ref(0, (const unsigned char *)digits, 9) == 0xCBF43926u);
}

static void
test_every_length_and_alignment(void)
{
    enum crc_path path;
    size_t len, off;

    printf("crc: %s is the fastest path on this CPU\n",
           path_name[crc_fastest()]);
    for (path = CRC_ZLIB; path <= crc_fastest(); path++) {
        for (len = 0; len <= 1100 && !check_failures_in_case; len++) {
            for (off = 0; off < 16 && !check_failures_in_case; off++) {
                const unsigned char *p =
                    (const unsigned char *)guard_place(data + off, len);
                uint32_t init = (uint32_t)rnd();

                CHECKF(crc_update_by(path, init, p, len) == ref(init, p, len),
                       "%s, %zu bytes at +%zu from %08x", path_name[path], len,
                       off, (unsigned)init);
            }
        }
        CHECKF(crc_update_by(path, ~0u, data, DATA_LEN) ==
                   ref(~0u, data, DATA_LEN),
               "%s, 1 MiB", path_name[path]);
    }
    CHECK(crc_update(0, data, DATA_LEN) == ref(0, data, DATA_LEN));
    /* A path this CPU lacks is its fastest one. */
    CHECK(crc_update_by(CRC_VPCLMUL, 0, data, DATA_LEN) ==
          ref(0, data, DATA_LEN));
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

    free(data);
    return CHECK_REPORT();
}
