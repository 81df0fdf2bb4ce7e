/*
 * crc - gzip's CRC-32; see include/crc.h for the contract.
 *
 * The arithmetic. A CRC is a remainder: for a message M (a polynomial over
 * GF(2), one coefficient per bit) the register holds M(x) * x^32 mod P(x),
 * P = x^32 + 0x04C11DB7. gzip's variant is "reflected": the first byte's
 * lowest bit is the highest power of x, so shifting the register right is
 * multiplying by x (crc_update_portable does that, a byte at a time).
 *
 * The fast path never divides until the end. Take the message 16 bytes at
 * a time; a block R (128 coefficients) followed by the rest of the message
 * contributes R * x^(8 * rest), so R can be replaced by anything equal to
 * it mod P once multiplied forward. Split R = H * x^64 + L (H the first 8
 * bytes); then moving R forward by D bits onto the next block is
 *     R * x^D = H * x^(D+64) + L * x^D = H * k1 + L * k2  (mod P)
 * with k1 = x^(D+64) mod P and k2 = x^D mod P, two 32-bit constants. Each
 * product is one PCLMULQDQ (64 x 64 -> 128-bit carry-less multiply) and
 * fits in 96 bits, so the sum XORed into the next block is again a 128-bit
 * block: the message got 16 bytes shorter and its CRC did not change.
 * Four blocks are carried at once (D = 512) so the multiplier's latency
 * overlaps, then folded into one (D = 128), and the last 16 bytes plus
 * the tail go through the byte loop: 16 + tail bytes of slow work per
 * call instead of all of them. With VPCLMULQDQ (256-bit registers, AVX2)
 * each register carries two blocks, so a step folds 128 bytes.
 *
 * Two details of the reflected form: a carry-less product of two reflected
 * 64-bit values comes out one bit short of its reflected 128-bit place
 * (it has 127 bits), which is a factor x, so the constants are taken one
 * power lower (x^(D+63), x^(D-1)); and a 32-bit reflected constant sits
 * in the high half of its 64-bit lane. The constants are computed once
 * from P by fold_constant(), not copied from anywhere: tests/test_crc.c
 * checks every length and alignment against zlib's crc32().
 */
#include "crc.h"

#define POLY_REFLECTED 0xEDB88320u /* 0x04C11DB7 with its bits reversed */

/*
 * A byte at a time: entry b is eight steps of the bit loop from b (one
 * multiplication by x each, P subtracted whenever a coefficient leaves
 * the register), spelled out by the preprocessor so the table is a
 * constant computed from P, with nothing to initialise at run time.
 */
#define STEP(c) (((c) >> 1) ^ (((c) & 1u) ? POLY_REFLECTED : 0u))
#define BYTE(b) STEP(STEP(STEP(STEP(STEP(STEP(STEP(STEP((uint32_t)(b)))))))))
#define ROW4(b) BYTE(b), BYTE((b) + 1), BYTE((b) + 2), BYTE((b) + 3)
#define ROW16(b) ROW4(b), ROW4((b) + 4), ROW4((b) + 8), ROW4((b) + 12)
#define ROW64(b) ROW16(b), ROW16((b) + 16), ROW16((b) + 32), ROW16((b) + 48)
static const uint32_t byte_table[256] = {ROW64(0), ROW64(64), ROW64(128),
                                         ROW64(192)};

static uint32_t
raw_update(uint32_t reg, const unsigned char *p, size_t n)
{
    while (n--)
        reg = byte_table[(reg ^ *p++) & 0xffu] ^ (reg >> 8);
    return reg;
}

uint32_t
crc_update_portable(uint32_t crc, const void *buf, size_t len)
{
    return ~raw_update(~crc, buf, len);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(CRC_NO_SIMD)
#include <immintrin.h>

/* x^n mod P, reflected (bit i is the coefficient of x^(31-i)). */
static uint32_t
xpow_mod(unsigned n)
{
    uint32_t r = 0x80000000u; /* x^0 */

    while (n--)
        r = (r >> 1) ^ (POLY_REFLECTED & (0u - (r & 1u)));
    return r;
}

/* The 64-bit multiplier that moves a half-block forward by n bits. */
static uint64_t
fold_constant(unsigned n)
{
    return (uint64_t)xpow_mod(n - 1) << 32;
}

static struct {
    int checked, usable, wide;
    uint64_t by1024_hi, by1024_lo, by512_hi, by512_lo;
    uint64_t by256_hi, by256_lo, by128_hi, by128_lo;
} clmul;

__attribute__((target("sse2,pclmul"))) static inline __m128i
fold(__m128i block, __m128i k, __m128i next)
{
    /* imm 0x00: low halves (H * k1); 0x11: high halves (L * k2). */
    __m128i h = _mm_clmulepi64_si128(block, k, 0x00);
    __m128i l = _mm_clmulepi64_si128(block, k, 0x11);

    return _mm_xor_si128(_mm_xor_si128(h, l), next);
}

/* len >= 64. */
__attribute__((target("sse2,pclmul"))) static uint32_t
clmul_update(uint32_t reg, const unsigned char *p, size_t len)
{
    const __m128i *q = (const __m128i *)(const void *)p;
    /* _mm_set_epi64x takes the high lane first. */
    __m128i k512 = _mm_set_epi64x((long long)clmul.by512_hi,
                                  (long long)clmul.by512_lo);
    __m128i k128 = _mm_set_epi64x((long long)clmul.by128_hi,
                                  (long long)clmul.by128_lo);
    __m128i x0 = _mm_loadu_si128(q), x1 = _mm_loadu_si128(q + 1);
    __m128i x2 = _mm_loadu_si128(q + 2), x3 = _mm_loadu_si128(q + 3);
    unsigned char last[16];

    /* The register's old value counts as if XORed into the first bytes. */
    x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)reg));
    q += 4;
    len -= 64;
    while (len >= 64) {
        x0 = fold(x0, k512, _mm_loadu_si128(q));
        x1 = fold(x1, k512, _mm_loadu_si128(q + 1));
        x2 = fold(x2, k512, _mm_loadu_si128(q + 2));
        x3 = fold(x3, k512, _mm_loadu_si128(q + 3));
        q += 4;
        len -= 64;
    }
    x1 = fold(x0, k128, x1);
    x2 = fold(x1, k128, x2);
    x3 = fold(x2, k128, x3);
    while (len >= 16) {
        x3 = fold(x3, k128, _mm_loadu_si128(q++));
        len -= 16;
    }
    _mm_storeu_si128((__m128i *)(void *)last, x3);
    reg = raw_update(0, last, sizeof last);
    return raw_update(reg, (const unsigned char *)q, len);
}

/* The same with 256-bit registers (VPCLMULQDQ + AVX2): two blocks per
   register, eight per step (D = 1024), then halved down to one block.
   len >= 128. */
__attribute__((target("avx2,vpclmulqdq,pclmul"))) static uint32_t
vclmul_update(uint32_t reg, const unsigned char *p, size_t len)
{
    const __m256i *q = (const __m256i *)(const void *)p;
    __m256i k1024 = _mm256_set_epi64x(
        (long long)clmul.by1024_hi, (long long)clmul.by1024_lo,
        (long long)clmul.by1024_hi, (long long)clmul.by1024_lo);
    __m256i k256 = _mm256_set_epi64x(
        (long long)clmul.by256_hi, (long long)clmul.by256_lo,
        (long long)clmul.by256_hi, (long long)clmul.by256_lo);
    __m128i k128 = _mm_set_epi64x((long long)clmul.by128_hi,
                                  (long long)clmul.by128_lo);
    __m256i y0 = _mm256_loadu_si256(q), y1 = _mm256_loadu_si256(q + 1);
    __m256i y2 = _mm256_loadu_si256(q + 2), y3 = _mm256_loadu_si256(q + 3);
    __m128i x;
    unsigned char last[16];

    y0 = _mm256_xor_si256(y0, _mm256_zextsi128_si256(
                                  _mm_cvtsi32_si128((int)reg)));
    q += 4;
    len -= 128;
#define VFOLD(y, k, next)                                                     \
    _mm256_xor_si256(_mm256_xor_si256(_mm256_clmulepi64_epi128(y, k, 0x00),   \
                                      _mm256_clmulepi64_epi128(y, k, 0x11)),  \
                     next)
    while (len >= 128) {
        y0 = VFOLD(y0, k1024, _mm256_loadu_si256(q));
        y1 = VFOLD(y1, k1024, _mm256_loadu_si256(q + 1));
        y2 = VFOLD(y2, k1024, _mm256_loadu_si256(q + 2));
        y3 = VFOLD(y3, k1024, _mm256_loadu_si256(q + 3));
        q += 4;
        len -= 128;
    }
    y1 = VFOLD(y0, k256, y1);
    y2 = VFOLD(y1, k256, y2);
    y3 = VFOLD(y2, k256, y3);
#undef VFOLD
    x = fold(_mm256_castsi256_si128(y3), k128,
             _mm256_extracti128_si256(y3, 1));
    p = (const unsigned char *)q;
    while (len >= 16) {
        x = fold(x, k128, _mm_loadu_si128((const __m128i *)(const void *)p));
        p += 16;
        len -= 16;
    }
    _mm_storeu_si128((__m128i *)(void *)last, x);
    reg = raw_update(0, last, sizeof last);
    return raw_update(reg, p, len);
}

int
crc_fast(void)
{
    if (!clmul.checked) {
        clmul.checked = 1;
        __builtin_cpu_init();
        clmul.usable = __builtin_cpu_supports("sse2") &&
                       __builtin_cpu_supports("pclmul");
        /* lo multiplies a block's first 8 bytes (H), hi its last 8 (L). */
        clmul.by512_lo = fold_constant(512 + 64);
        clmul.by512_hi = fold_constant(512);
        clmul.by128_lo = fold_constant(128 + 64);
        clmul.by128_hi = fold_constant(128);
#ifndef CRC_NO_WIDE
        clmul.wide = clmul.usable && __builtin_cpu_supports("avx2") &&
                     __builtin_cpu_supports("vpclmulqdq");
#endif
        clmul.by1024_lo = fold_constant(1024 + 64);
        clmul.by1024_hi = fold_constant(1024);
        clmul.by256_lo = fold_constant(256 + 64);
        clmul.by256_hi = fold_constant(256);
    }
    return clmul.usable + clmul.wide;
}

uint32_t
crc_update(uint32_t crc, const void *buf, size_t len)
{
    if (len >= 64 && crc_fast()) {
        if (len >= 128 && clmul.wide)
            return ~vclmul_update(~crc, buf, len);
        return ~clmul_update(~crc, buf, len);
    }
    return crc_update_portable(crc, buf, len);
}

#else

int
crc_fast(void)
{
    return 0;
}

uint32_t
crc_update(uint32_t crc, const void *buf, size_t len)
{
    return crc_update_portable(crc, buf, len);
}

#endif
