/*
 * crc - gzip's CRC-32; see include/crc.h for the contract.
 *
 * The scalar twin is zlib's crc32(). The fast path is for x86-64 only
 * and never divides until the end. The arithmetic: a CRC is a
 * remainder. For a message M (a polynomial over GF(2), one coefficient
 * per bit) the register holds M(x) * x^32 mod P(x), P = x^32 +
 * 0x04C11DB7. gzip's variant is "reflected": the first byte's lowest
 * bit is the highest power of x.
 *
 * Take the message 16 bytes at a time; a block R (128 coefficients)
 * followed by the rest of the message contributes R * x^(8 * rest), so R
 * can be replaced by anything equal to it mod P once multiplied forward.
 * Split R = H * x^64 + L (H the first 8 bytes); then moving R forward by
 * D bits onto a later block is
 *     R * x^D = H * x^(D+64) + L * x^D = H * k1 + L * k2  (mod P)
 * with k1 = x^(D+64) mod P and k2 = x^D mod P, two 32-bit constants. Each
 * product is one PCLMULQDQ (64 x 64 -> 128-bit carry-less multiply) and
 * fits in 96 bits, so the sum XORed into that block is again a 128-bit
 * block: the message got 16 bytes shorter and its CRC did not change.
 * Four blocks are carried at once (D = 512) so the multiplier's latency
 * overlaps, then folded into one (D = 128), and the last 16 bytes plus
 * the tail go to crc32(): 16 + tail bytes of slow work per call instead
 * of all of them. With VPCLMULQDQ each 256-bit register carries two
 * blocks, so the main loop folds 128 bytes per step (D = 1024) before
 * handing four blocks to the same end.
 *
 * Two details of the reflected form: a carry-less product of two reflected
 * 64-bit values comes out one bit short of its reflected 128-bit place
 * (it has 127 bits), which is a factor x, so the constants are taken one
 * power lower (x^(D+63), x^(D-1)); and a 32-bit reflected constant sits
 * in the high half of its 64-bit lane. The constants are computed once
 * from P by xpow_mod(), not copied from anywhere; tests/test_crc.c checks
 * every path at every length and alignment against crc32().
 */
#include "crc.h"

#include <zlib.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define FOLD __attribute__((target("sse2,pclmul")))
#define FOLD_WIDE __attribute__((target("avx2,vpclmulqdq,pclmul")))

static struct {
    int checked;
    enum crc_path fastest;
    /* Per distance D: [0] multiplies a block's first 8 bytes (H), [1]
       its last 8 (L). */
    long long by128[2], by512[2], by1024[2];
} fold;

/* x^n mod P, reflected (bit i is the coefficient of x^(31-i)). */
static uint32_t
xpow_mod(unsigned n)
{
    uint32_t r = 0x80000000u; /* x^0 */

    while (n--)
        r = (r >> 1) ^ (0xEDB88320u & (0u - (r & 1u)));
    return r;
}

static void
fold_constants(long long k[2], unsigned d)
{
    k[0] = (long long)((uint64_t)xpow_mod(d + 63) << 32);
    k[1] = (long long)((uint64_t)xpow_mod(d - 1) << 32);
}

FOLD static inline __m128i
fold16(__m128i block, __m128i k, __m128i onto)
{
    /* imm 0x00: low halves (H * k1); 0x11: high halves (L * k2). */
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(block, k, 0x00),
                                       _mm_clmulepi64_si128(block, k, 0x11)),
                         onto);
}

/* x[0..3]: the 64 bytes before p, folded. Carries them over p[0 .. len)
   and returns the CRC of everything. */
FOLD static inline uint32_t
fold_rest(__m128i x[4], const unsigned char *p, size_t len)
{
    const __m128i *q = (const __m128i *)(const void *)p;
    __m128i k512 = _mm_set_epi64x(fold.by512[1], fold.by512[0]);
    __m128i k128 = _mm_set_epi64x(fold.by128[1], fold.by128[0]);
    __m128i last;
    unsigned char bytes[16];

    for (; len >= 64; q += 4, len -= 64) {
        x[0] = fold16(x[0], k512, _mm_loadu_si128(q));
        x[1] = fold16(x[1], k512, _mm_loadu_si128(q + 1));
        x[2] = fold16(x[2], k512, _mm_loadu_si128(q + 2));
        x[3] = fold16(x[3], k512, _mm_loadu_si128(q + 3));
    }
    last = fold16(fold16(fold16(x[0], k128, x[1]), k128, x[2]), k128, x[3]);
    for (; len >= 16; q++, len -= 16)
        last = fold16(last, k128, _mm_loadu_si128(q));
    /* The register's value is the CRC of these 16 bytes from a zero
       register (crc32's ~0 in, since it inverts), then the tail. */
    _mm_storeu_si128((__m128i *)(void *)bytes, last);
    return (uint32_t)crc32_z(crc32_z(~0ul, bytes, 16),
                             (const unsigned char *)q, len);
}

/*
 * len >= 64. Measured on the 1351-id job with gzip bodies (bench/
 * inflate-extract's (k) rows: 168 MB of output in the decoder's then
 * 8 KiB chunks), in one run on a loaded 2-core machine: 24 ms of CRC where
 * crc32() takes 83, 59 ms less, 20% of the 298 ms of CPU the client
 * spent on the job, for the ~100 lines of this path.
 */
FOLD static uint32_t
fold_narrow(uint32_t crc, const unsigned char *p, size_t len)
{
    const __m128i *q = (const __m128i *)(const void *)p;
    __m128i x[4];

    /* The register (~crc) counts as if XORed into the first bytes. */
    x[0] = _mm_xor_si128(_mm_loadu_si128(q), _mm_cvtsi32_si128((int)~crc));
    x[1] = _mm_loadu_si128(q + 1);
    x[2] = _mm_loadu_si128(q + 2);
    x[3] = _mm_loadu_si128(q + 3);
    return fold_rest(x, p + 64, len - 64);
}

FOLD_WIDE static inline __m256i
fold32(__m256i blocks, __m256i k, __m256i onto)
{
    return _mm256_xor_si256(
        _mm256_xor_si256(_mm256_clmulepi64_epi128(blocks, k, 0x00),
                         _mm256_clmulepi64_epi128(blocks, k, 0x11)),
        onto);
}

/*
 * The 256-bit main loop: y[0..3] carry eight blocks, 128 bytes per step.
 * len >= 128. Measured in the same run as fold_narrow: 13.5 ms against
 * its 24, 11 ms less, 3.6% of the client's CPU on the job, for these ~50
 * lines (fold32, fold_wide, their constants and the CPU check).
 */
FOLD_WIDE static uint32_t
fold_wide(uint32_t crc, const unsigned char *p, size_t len)
{
    const __m256i *q = (const __m256i *)(const void *)p;
    __m256i k = _mm256_broadcastsi128_si256(
        _mm_set_epi64x(fold.by1024[1], fold.by1024[0]));
    __m256i y[4];
    __m128i x[4];

    y[0] =
        _mm256_xor_si256(_mm256_loadu_si256(q),
                         _mm256_zextsi128_si256(_mm_cvtsi32_si128((int)~crc)));
    y[1] = _mm256_loadu_si256(q + 1);
    y[2] = _mm256_loadu_si256(q + 2);
    y[3] = _mm256_loadu_si256(q + 3);
    for (q += 4, len -= 128; len >= 128; q += 4, len -= 128) {
        y[0] = fold32(y[0], k, _mm256_loadu_si256(q));
        y[1] = fold32(y[1], k, _mm256_loadu_si256(q + 1));
        y[2] = fold32(y[2], k, _mm256_loadu_si256(q + 2));
        y[3] = fold32(y[3], k, _mm256_loadu_si256(q + 3));
    }
    /* The first four blocks forward by 512 bits onto the last four. */
    k = _mm256_broadcastsi128_si256(
        _mm_set_epi64x(fold.by512[1], fold.by512[0]));
    y[2] = fold32(y[0], k, y[2]);
    y[3] = fold32(y[1], k, y[3]);
    x[0] = _mm256_castsi256_si128(y[2]);
    x[1] = _mm256_extracti128_si256(y[2], 1);
    x[2] = _mm256_castsi256_si128(y[3]);
    x[3] = _mm256_extracti128_si256(y[3], 1);
    return fold_rest(x, (const unsigned char *)q, len);
}

enum crc_path
crc_fastest(void)
{
    if (!fold.checked) {
        fold.checked = 1;
        fold_constants(fold.by128, 128);
        fold_constants(fold.by512, 512);
        fold_constants(fold.by1024, 1024);
        __builtin_cpu_init();
        if (__builtin_cpu_supports("pclmul"))
            fold.fastest = CRC_PCLMUL;
        if (fold.fastest && __builtin_cpu_supports("avx2") &&
            __builtin_cpu_supports("vpclmulqdq"))
            fold.fastest = CRC_VPCLMUL;
    }
    return fold.fastest;
}

uint32_t
crc_update_by(enum crc_path path, uint32_t crc, const void *buf, size_t len)
{
    if (path > crc_fastest()) /* which also makes the constants, once */
        path = crc_fastest();
    if (path == CRC_VPCLMUL && len >= 128)
        return fold_wide(crc, buf, len);
    if (path != CRC_ZLIB && len >= 64)
        return fold_narrow(crc, buf, len);
    return (uint32_t)crc32_z(crc, buf, len);
}

#else

enum crc_path
crc_fastest(void)
{
    return CRC_ZLIB;
}

uint32_t
crc_update_by(enum crc_path path, uint32_t crc, const void *buf, size_t len)
{
    (void)path;
    return (uint32_t)crc32_z(crc, buf, len);
}

#endif

uint32_t
crc_update(uint32_t crc, const void *buf, size_t len)
{
    return crc_update_by(crc_fastest(), crc, buf, len);
}
