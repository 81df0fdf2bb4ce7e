/*
 * crc - the CRC-32 of gzip (RFC 1952 sec. 8: polynomial 0x04C11DB7,
 * bits reflected, register preset to all ones and inverted at the end),
 * the check every gzip response carries in its trailer.
 *
 * Why our own: Debian 12's zlib computes it at 2-4 GB/s on this
 * project's machines, which made it a third of the client's CPU for a
 * gzip response (bench/results/inflate-extract.md). On x86-64 CPUs with
 * PCLMULQDQ (all since 2010) crc_update folds 64 bytes per step with
 * carry-less multiplication, 128 with VPCLMULQDQ and AVX2, several times
 * faster; elsewhere it is a table-driven byte loop, and the decoder then
 * uses zlib's crc32() instead (crc_fast() says which).
 *
 * Pure computation, any split of the input gives the same value:
 *     crc = 0;  (the CRC of nothing)
 *     crc = crc_update(crc, piece, len);  for each piece
 * gives what zlib's crc32() gives for the whole.
 */
#ifndef POKEFETCH_CRC_H
#define POKEFETCH_CRC_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc_update(uint32_t crc, const void *buf, size_t len);

/* 0: the byte loop on this CPU; 1: carry-less multiply on 128-bit
   registers; 2: on 256-bit ones. Build with -DCRC_NO_SIMD for 0 anywhere,
   -DCRC_NO_WIDE for at most 1 (tests cover each path that way). */
int crc_fast(void);

/* The byte-at-a-time reference (and the tail of the fast path); exposed
   so tests can compare the two on the same machine. */
uint32_t crc_update_portable(uint32_t crc, const void *buf, size_t len);

#endif
