/*
 * crc - the CRC-32 of gzip (RFC 1952 sec. 8: polynomial 0x04C11DB7,
 * bits reflected, register preset to all ones and inverted at the end),
 * the check every gzip response carries in its trailer.
 *
 * Why not zlib's crc32() alone: Debian 12's zlib computes it at 2-4 GB/s
 * on this project's machines, a fifth of the client's CPU on a job with
 * gzip bodies. On x86-64 CPUs with PCLMULQDQ (all since 2010) crc_update
 * folds 64 bytes per step with carry-less multiplication, 128 with
 * VPCLMULQDQ and AVX2, several times faster; elsewhere, and for short
 * pieces, it is crc32(). The decoder (decode_zlib.c) is its only user.
 *
 * Pure computation, any split of the input gives the same value:
 *     crc = 0;  (the CRC of nothing)
 *     crc = crc_update(crc, piece, len);  for each piece (not NULL)
 * gives what zlib's crc32() gives for the whole.
 */
#ifndef POKEFETCH_CRC_H
#define POKEFETCH_CRC_H

#include <stddef.h>
#include <stdint.h>

/* The ways to compute it, slowest first. */
enum crc_path {
    CRC_ZLIB = 0, /* zlib's crc32(): any CPU */
    CRC_PCLMUL,   /* 128-bit carry-less multiply (x86-64) */
    CRC_VPCLMUL,  /* 256-bit, with AVX2 (x86-64) */
};

/* By the fastest path this CPU has. */
uint32_t crc_update(uint32_t crc, const void *buf, size_t len);

/* The path crc_update takes on this CPU. */
enum crc_path crc_fastest(void);

/* By a given path (one this CPU lacks is taken as crc_fastest()): tests
   compare every path with crc32() on the same inputs, benchmarks time
   each. */
uint32_t crc_update_by(enum crc_path path, uint32_t crc, const void *buf,
                       size_t len);

#endif
