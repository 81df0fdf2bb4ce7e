/*
 * jfield.c - stream a JSON body through a validating lexer and extract the
 * value of one top-level key, in fixed memory (see jfield.h).
 *
 * What it does. jf_feed() runs one state machine over every byte, in any
 * split: strings (escapes \" \\ \/ \b \f \n \r \t \uXXXX, surrogates
 * paired, no raw control bytes), numbers (the full RFC 8259 sec. 6
 * grammar), the literals true/false/null, whitespace, and nesting up to
 * JF_MAX_DEPTH tracked in a bit stack (1 = object, 0 = array). There must
 * be exactly one value, an object, then only whitespace. Where the input
 * allows, a block lexer (blk_run) does the same work 64 bytes at a time,
 * jumping over strings with a mask of the block's quotes, and hands back
 * to the byte lexer at anything it does not handle: same grammar, same
 * verdicts, same offsets, only faster on the bulk of a body.
 *
 * Only top-level keys are looked at: each is decoded as it arrives and
 * compared with the wanted key byte by byte; other keys are never
 * buffered. While a top-level key still matches, its raw bytes go to
 * keep; a mismatch rolls keep back. When it matches completely, ':' and
 * the raw value follow it into keep. A string value is copied as the
 * lexer goes (at most JF_MAX_VALUE raw bytes between the quotes, else
 * JF_E_TOO_LONG). Any other value is captured: the lexer runs as for any
 * value, and the bytes it got through are appended to keep afterwards,
 * in one pass per input (capture_put), dropping the whitespace between
 * tokens and checking the UTF-8 of the value's strings; its compact text
 * may take JF_MAX_VALUE bytes. The capture starts at the value's first
 * byte and ends where the lexer is next after a value at the top level
 * (label after:); it is flushed at the end of each input and before any
 * error the lexer finds inside the value, so that the first problem in
 * byte order wins whichever of the two found it. A second matching key
 * is JF_E_DUP_KEY at its closing quote, so keep never holds more than
 * one member.
 *
 * jf_finish() appends '}' to keep ("{" + member + "}"), tokenizes it with
 * jsmn (strict, parent links, JF_NTOK tokens on the stack: enough for the
 * largest value), walks the root object member by member skipping each
 * value's subtree, and hands out the value: a string decoded into the
 * caller's buffer, validating escapes, surrogate pairs and the raw UTF-8
 * of the value; anything else as the text jsmn's token spans.
 *
 * What it does not do: validate the raw UTF-8 of anything but the kept
 * value's strings (other strings may hold any byte >= 0x20 except '"'
 * and '\\');
 * allocate; print; look at bytes it has not been given. An empty body (or
 * whitespace only) is JF_E_TRUNCATED: the JSON text never started.
 *
 * Verdict order: the first problem in byte order wins, the same for any
 * split. jf_feed() returns every verdict but JF_E_TRUNCATED and
 * JF_E_NO_KEY at the byte that makes it certain (the kept string's raw
 * UTF-8 is checked at its closing quote, or when it passes the limit; a
 * captured value's as its bytes are appended); those two can only be
 * known at jf_finish(). A raw key that could equal the wanted key is at
 * most 6 bytes per decoded byte and always fits in keep, so
 * JF_E_TOO_LONG is only ever about the value here. JF_E_SYNTAX is what is
 * left when no more specific verdict (CONTROL, ESCAPE, SURROGATE, UTF8)
 * says what is wrong; err_byte keeps the offending byte for the message.
 *
 * error_offset: the offending byte for jf_feed() errors (for DUP_KEY the
 * second key's closing quote, for TOO_LONG the first byte past
 * JF_MAX_VALUE, for bad UTF-8 the first byte of the bad sequence, for a
 * surrogate the byte that shows the pair incomplete); the end of the
 * body for TRUNCATED and NO_KEY.
 *
 * Invariants: keep_len < JF_KEEP_CAP, leaving room for the final '}':
 * keep_lim bounds what is copied while lexing, and the few bytes written
 * past it (quotes, ':') are counted in the _Static_assert below.
 * depth <= JF_MAX_DEPTH. err, once set, stays until jf_begin(). copy is
 * set only while lexing the top-level key or string value that keep
 * collects; capture only while lexing another kind of value it collects
 * (never both).
 */
#include "jfield.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/*
 * jsmn is compiled here and nowhere else: static, so its symbols stay in
 * this file; strict, so primitives must be true/false/null/numbers and
 * keys strings; parent links, so closing brackets are O(depth). It builds
 * cleanly under our warning flags, so no pragma is needed.
 */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

/*
 * Tokens for "{" key ":" value "}": two, and the value's. Each of a
 * compact value's tokens but the first takes two bytes at least ("0,",
 * "[]"), so JF_MAX_VALUE bytes hold at most (JF_MAX_VALUE + 1) / 2.
 */
#define JF_NTOK (2 + (JF_MAX_VALUE + 1) / 2 + 1)

/*
 * Raw bytes a matching top-level key can occupy in keep while being
 * lexed: two quotes, at most 6 raw bytes per decoded byte ("\u0061"), and
 * a surrogate pair (12 raw bytes) not yet decoded when it overshoots.
 */
#define KEY_RAW_MAX (2 + 6 * JF_MAX_KEY + 12)

/* '{' + key + ':' + quoted value + '}' must fit, or the limits lie. */
_Static_assert(1 + KEY_RAW_MAX + 1 + JF_MAX_VALUE + 2 + 1 <= JF_KEEP_CAP,
               "keep too small for the longest key and value");
_Static_assert(JF_MAX_DEPTH % 8 == 0, "depth bit stack is whole bytes");
_Static_assert(JF_KEEP_CAP < 65536, "keep offsets fit jsmn's int");

enum {
    ST_START,     /* before the top-level value */
    ST_OBJ_FIRST, /* after '{': a key or '}' */
    ST_OBJ_KEY,   /* after ',' in an object: a key */
    ST_KSTR,      /* in a key below the top level */
    ST_TKEY,      /* in a top-level key: compared, maybe kept */
    ST_COLON,     /* after a key */
    ST_VALUE,     /* after ':', or ',' in an array */
    ST_ARR_FIRST, /* after '[': a value or ']' */
    ST_VSTR,      /* in a string value that is not kept */
    ST_CSTR,      /* in the string value being kept */
    ST_AFTER,     /* after a value: ',' or a closing bracket */
    ST_END,       /* after the top-level object: whitespace only */
    ST_ESC,       /* after '\\' in a string; ret is where to go back */
    ST_HEX,       /* in the four hex digits of \u */
    ST_LOW_BS,    /* after a high surrogate: the '\\' of its low half */
    ST_LOW_U,     /* the 'u' of the low half */
    ST_MINUS,     /* number: after '-' */
    ST_ZERO,      /* number: integer part "0", no digit may follow */
    ST_INT,       /* number: in the integer digits */
    ST_DOT,       /* number: after '.', a digit must follow */
    ST_FRAC,      /* number: in the fraction digits */
    ST_EXP,       /* number: after 'e' or 'E' */
    ST_ESIGN,     /* number: after the exponent sign */
    ST_EDIG,      /* number: in the exponent digits */
    ST_LIT,       /* in true, false or null; lit holds the rest */
};

/*
 * Bytes that end a run of plain string bytes: '"', '\\', and the control
 * bytes 0x00-0x1f, which RFC 8259 sec. 7 allows only escaped.
 */
#define ONES8 1, 1, 1, 1, 1, 1, 1, 1
static const unsigned char str_stop[256] = {
    ONES8, ONES8, ONES8, ONES8, ['"'] = 1, ['\\'] = 1,
};

/*
 * Find the lowest marked byte of a word with ctz where that is cheap, and
 * use SSE2 (every x86-64) for 16 bytes at a time where there is one. The
 * block lexer (BLOCKS, blk_run) needs ctz and little-endian words too;
 * without them everything goes through the byte lexer alone. Two switches
 * for tests and measurements, results the same either way: -DJF_NO_SIMD
 * leaves SSE2 out (the portable word-at-a-time code runs instead, on
 * x86-64 too), -DJF_NO_BLOCKS leaves the block lexer out.
 */
#if defined(__GNUC__) && defined(__BYTE_ORDER__)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SCAN_CTZ 1
#if !defined(JF_NO_BLOCKS)
#define BLOCKS 1
#endif
#endif
#endif
#if defined(SCAN_CTZ) && defined(__SSE2__) && !defined(JF_NO_SIMD)
#define SCAN_SSE2 1
#include <emmintrin.h>
#endif

/*
 * The first byte in [p, end) that ends a run of plain string bytes (see
 * str_stop), or end. Most of a body is string bytes, so this is the hot
 * loop. With SSE2, 16 bytes per step: equal to '"', equal to '\\', or
 * unchanged by max(v, 0x1f), that is <= 0x1f. Then (or without SSE2)
 * eight bytes per step with the "has a zero byte" trick, where
 * (v - 0x01..) & ~v & 0x80.. marks each byte of v that is zero (and may
 * also mark bytes above a true mark, never below, so the lowest mark is
 * exact), applied to w ^ '"', w ^ '\\' and, with 0x20 for 0x01, to w for
 * bytes below 0x20. The last bytes go one by one through str_stop. No
 * load reaches past end.
 */
static inline const unsigned char *
str_scan(const unsigned char *p, const unsigned char *end)
{
    const uint64_t ones = 0x0101010101010101u;
    const uint64_t high = 0x8080808080808080u;
    uint64_t w, a, b, m;
#ifdef SCAN_SSE2
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1f);
    __m128i v, hit;
    int k;

    while (end - p >= 16) {
        v = _mm_loadu_si128((const __m128i *)(const void *)p);
        hit = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
            _mm_cmpeq_epi8(_mm_max_epu8(v, ctl), ctl));
        k = _mm_movemask_epi8(hit);
        if (k)
            return p + __builtin_ctz((unsigned)k);
        p += 16;
    }
#endif
    while (end - p >= 8) {
        memcpy(&w, p, 8);
        a = w ^ ones * '"';
        b = w ^ ones * '\\';
        m = ((a - ones) & ~a) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w);
        m &= high;
        if (m) {
#ifdef SCAN_CTZ
            return p + (__builtin_ctzll(m) >> 3);
#else
            break;
#endif
        }
        p += 8;
    }
    while (p < end && !str_stop[*p])
        p++;
    return p;
}

static int
is_ws(unsigned c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static int
is_digit(unsigned c)
{
    return c - '0' < 10u;
}

static int
hex_val(unsigned c)
{
    if (c - '0' < 10u)
        return (int)(c - '0');
    c |= 0x20; /* ASCII letters to lower case */
    if (c - 'a' < 6u)
        return (int)(c - 'a' + 10);
    return -1;
}

/* Encodes code point cp (not a surrogate, <= 0x10ffff); returns length. */
static size_t
utf8_put(unsigned char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/*
 * A sequence that starts with byte c: its length (1 for ASCII), and the
 * range [*lo, *hi] the byte after c must be in; 0 if c cannot start a
 * well-formed one: no overlongs, no encoded surrogates, nothing past
 * U+10FFFF (RFC 3629 sec. 4). Later bytes are 0x80-0xbf.
 */
static size_t
utf8_lead(unsigned c, unsigned *lo, unsigned *hi)
{
    *lo = 0x80;
    *hi = 0xbf;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    if (c >= 0xe0 && c <= 0xef) {
        if (c == 0xe0)
            *lo = 0xa0;
        else if (c == 0xed)
            *hi = 0x9f;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (c == 0xf0)
            *lo = 0x90;
        else if (c == 0xf4)
            *hi = 0x8f;
        return 4;
    }
    return 0;
}

/*
 * Length of the UTF-8 sequence starting at s, or 0 if the bytes of it
 * that are there (n of them) cannot start a well-formed one. The length
 * may exceed n: the caller decides if a cut sequence is an error.
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
    unsigned lo, hi;
    size_t len = utf8_lead(s[0], &lo, &hi), i;

    if (len <= 1)
        return len;
    if (n >= 2 && (s[1] < lo || s[1] > hi))
        return 0;
    for (i = 2; i < len && i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

/*
 * Offset of the first sequence in s[0..n) that is not well-formed UTF-8,
 * or n. With partial, a sequence cut short by the end is not an error.
 */
static size_t
utf8_bad(const unsigned char *s, size_t n, int partial)
{
    size_t i, m;

    for (i = 0; i < n; i += m) {
        m = utf8_len(s + i, n - i);
        if (m == 0 || (m > n - i && !partial))
            return i;
    }
    return n;
}

/* Appends n bytes to keep; -1 (nothing appended) if it would pass lim. */
static int
keep_put(struct jf_extractor *x, const void *s, size_t n)
{
    if (n > x->keep_lim - x->keep_len)
        return -1;
    memcpy(x->keep + x->keep_len, s, n);
    x->keep_len += (uint32_t)n;
    return 0;
}

/*
 * Appends s[0..n), the next bytes of the captured value (at body offset
 * off on), to keep: all but the whitespace between tokens, strings as
 * they are. The lexer has accepted these bytes, so any byte >= 0x80 is in
 * a string; they must be well-formed UTF-8, checked as they come (u8_*:
 * the sequence being read, which may go on in the next input). Returns
 * JF_AGAIN, or JF_E_TOO_LONG (for a byte past JF_MAX_VALUE) or JF_E_UTF8
 * (for a bad sequence's first byte) with *at set to that byte's offset.
 */
static enum jf_rc
capture_put(struct jf_extractor *x, const unsigned char *s, size_t n,
            uint64_t off, uint64_t *at)
{
    unsigned c, lo, hi;
    size_t i, len;

    for (i = 0; i < n; i++) {
        c = s[i];
        if (!x->cap_str && is_ws(c))
            continue;
        if (x->keep_len == x->keep_lim) {
            *at = off + i;
            return JF_E_TOO_LONG;
        }
        if (x->u8_need) {
            if (c < x->u8_lo || c > x->u8_hi) {
                *at = x->u8_off;
                return JF_E_UTF8;
            }
            x->u8_need--;
            x->u8_lo = 0x80;
            x->u8_hi = 0xbf;
        } else if (c >= 0x80) {
            len = utf8_lead(c, &lo, &hi);
            if (!len) {
                *at = off + i;
                return JF_E_UTF8;
            }
            x->u8_need = (unsigned char)(len - 1);
            x->u8_lo = (unsigned char)lo;
            x->u8_hi = (unsigned char)hi;
            x->u8_off = off + i;
        } else if (x->cap_esc) {
            x->cap_esc = 0;
        } else if (c == '"') {
            x->cap_str = !x->cap_str;
        } else if (c == '\\') {
            x->cap_esc = 1; /* only ever in a string */
        }
        x->keep[x->keep_len++] = (char)c;
    }
    return JF_AGAIN;
}

/* The top-level key being lexed cannot be the wanted one. */
static void
key_miss(struct jf_extractor *x)
{
    x->kmatch = 0;
    if (x->copy) {
        x->copy = 0;
        x->keep_len = x->member_off;
    }
}

/* The top-level key continues with n decoded bytes s. */
static void
key_cmp(struct jf_extractor *x, const unsigned char *s, size_t n)
{
    if (n > x->key_len - x->kpos || memcmp(x->key + x->kpos, s, n) != 0)
        key_miss(x);
    else
        x->kpos += (uint32_t)n;
}

/*
 * After the closing quote of a top-level key: is it the wanted key?
 * Returns -1 if it is for the second time.
 */
static int
key_end(struct jf_extractor *x)
{
    if (!x->kmatch || x->kpos != x->key_len) {
        key_miss(x);
        return 0;
    }
    if (x->found)
        return -1;
    x->found = 1;
    x->want = 1;
    x->copy = 0;
    /* Fits: see the _Static_assert on JF_KEEP_CAP. */
    x->keep[x->keep_len++] = '"';
    x->keep[x->keep_len++] = ':';
    return 0;
}

int
jf_begin(struct jf_extractor *x, const char *key, size_t key_len)
{
    if (!x || !key || key_len < 1 || key_len > JF_MAX_KEY)
        return -EINVAL;
    /* Everything before key starts at zero; keep need not be cleared. */
    memset(x, 0, offsetof(struct jf_extractor, key));
    memcpy(x->key, key, key_len);
    x->key_len = (uint32_t)key_len;
    x->state = ST_START;
    x->keep[0] = '{';
    x->keep_len = 1;
    x->keep_lim = 1;
    return 0;
}

#ifdef BLOCKS
/*
 * The block lexer. A compact body is mostly short strings (PokeAPI's: 17
 * bytes on average) between single structural bytes, and lexing it a
 * byte at a time costs a scan call and a hard-to-predict loop exit per
 * string. So, where it can, jf_feed() takes the input 64 bytes at a time:
 * one pass (blk_scan, SSE2 or eight bytes per word) marks the block's
 * quotes and tells whether it holds a backslash or a control byte.
 * Without a backslash every quote opens or closes a string, so the state
 * machine below looks only at the bytes outside strings and goes from a
 * string's opening quote (always the lowest quote left in the mask) to
 * just past the next quote, its closing one, with one ctz. Control bytes
 * inside strings are errors, checked per block: blk_odd_ok marks the
 * bytes inside strings by the prefix XOR of the quote mask (bit i: an odd
 * number of quotes at or before i) and ANDs them with the control bytes;
 * outside strings, control bytes meet the state machine like any byte.
 * Bytes >= 0x80 are plain string bytes here as in the byte lexer (only
 * the kept value's UTF-8 is checked, and the kept value is the byte
 * lexer's), and invalid outside strings.
 *
 * It is an accelerator, not a second lexer: it makes no verdict. It runs
 * only in the states of a plain nested body (BLK_STATES) with nothing
 * being kept, and hands over to the byte lexer (jf_feed's switch), in the
 * state that lexer would be in, at the first byte it does not handle
 * itself: a top-level key that may be the wanted one (equal to it, or
 * not whole in the block), the end of the top-level object, anything
 * that is not valid or not simple (a negative number, a fraction, a
 * number or literal cut by the end of the input, nesting past BLK_DEPTH),
 * and the whole of a block with a backslash or a control byte inside a
 * string. The byte lexer then runs to the end of that block and the block
 * lexer resumes. Both lex the same grammar, so the verdict,
 * the value and error_offset are the same for any split (which only moves
 * the blocks) and as with the byte lexer alone; the unit tests and the
 * fuzz harness compare them, the byte lexer alone being what runs when
 * bytes come one at a time.
 */
#define BLK 64

/*
 * The first 64 levels of the bit stack are kept in a register: deeper
 * than BLK_DEPTH, the byte lexer does the work (and says JF_E_TOO_DEEP
 * when it is time).
 */
#define BLK_DEPTH 64
_Static_assert(JF_MAX_DEPTH >= BLK_DEPTH, "the bit stack holds 64 bits");

/*
 * How far the byte lexer goes in a state the block lexer cannot start in
 * (inside a literal, a number, an escape, a top-level key, the kept
 * value) before the block lexer is tried again: not far, those are short.
 */
#define BYTE_RUN 16

#define BLK_STATES                                                            \
    (1u << ST_OBJ_FIRST | 1u << ST_OBJ_KEY | 1u << ST_KSTR | 1u << ST_COLON | \
     1u << ST_VALUE | 1u << ST_ARR_FIRST | 1u << ST_VSTR | 1u << ST_AFTER)

#ifdef SCAN_SSE2
/*
 * Bit i of *quotes: s[i] is '"'. Returns nonzero if s[0..BLK) holds a
 * '\\' or a byte <= 0x1f (unchanged by max(v, 0x1f)).
 */
static inline int
blk_scan(const unsigned char *s, uint64_t *quotes)
{
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1f);
    __m128i v0, v1, v2, v3, odd;

    v0 = _mm_loadu_si128((const __m128i *)(const void *)s);
    v1 = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
    v2 = _mm_loadu_si128((const __m128i *)(const void *)(s + 32));
    v3 = _mm_loadu_si128((const __m128i *)(const void *)(s + 48));
    *quotes = (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v0, quote)) |
              (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v1, quote))
                  << 16 |
              (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v2, quote))
                  << 32 |
              (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v3, quote))
                  << 48;
    odd = _mm_or_si128(
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v0, bslash),
                                  _mm_cmpeq_epi8(v1, bslash)),
                     _mm_or_si128(_mm_cmpeq_epi8(v2, bslash),
                                  _mm_cmpeq_epi8(v3, bslash))),
        _mm_cmpeq_epi8(_mm_max_epu8(_mm_min_epu8(_mm_min_epu8(v0, v1),
                                                 _mm_min_epu8(v2, v3)),
                                    ctl),
                       ctl));
    return _mm_movemask_epi8(odd);
}

/* Bit i of *bs: s[i] is '\\'; of *ctl: s[i] <= 0x1f. */
static void
blk_odd(const unsigned char *s, uint64_t *bs, uint64_t *ctl)
{
    const __m128i bslash = _mm_set1_epi8('\\');
    const __m128i c1f = _mm_set1_epi8(0x1f);
    __m128i v;
    int k;

    *bs = 0;
    *ctl = 0;
    for (k = 0; k < BLK; k += 16) {
        v = _mm_loadu_si128((const __m128i *)(const void *)(s + k));
        *bs |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, bslash))
               << k;
        *ctl |= (uint64_t)(unsigned)_mm_movemask_epi8(
                    _mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f))
                << k;
    }
}
#else
/*
 * The same eight bytes at a time. Exact per byte, unlike str_scan's test
 * (no borrow crosses bytes): the high bit of ((x & 0x7f) + 0x7f) | x is
 * set unless x is zero, and that of ((w & 0x7f) + 0x60) | w unless w is
 * below 0x20. Then a multiply gathers the eight high bits into one byte.
 */
#define LOW7 0x7f7f7f7f7f7f7f7fu
#define HIGH8 0x8080808080808080u
#define ONES 0x0101010101010101u

static inline uint64_t
swar_eq(uint64_t w, unsigned c)
{
    uint64_t x = w ^ ONES * c;

    return ~(((x & LOW7) + LOW7) | x) & HIGH8;
}

static inline uint64_t
swar_ctl(uint64_t w)
{
    return ~(((w & LOW7) + ONES * 0x60) | w) & HIGH8;
}

static inline uint64_t
swar_bits(uint64_t m)
{
    return (m >> 7) * 0x0102040810204080u >> 56;
}

static inline int
blk_scan(const unsigned char *s, uint64_t *quotes)
{
    uint64_t w, q = 0, odd = 0;
    int k;

    for (k = 0; k < BLK; k += 8) {
        memcpy(&w, s + k, 8);
        q |= swar_bits(swar_eq(w, '"')) << k;
        odd |= swar_eq(w, '\\') | swar_ctl(w);
    }
    *quotes = q;
    return odd != 0;
}

static void
blk_odd(const unsigned char *s, uint64_t *bs, uint64_t *ctl)
{
    uint64_t w;
    int k;

    *bs = 0;
    *ctl = 0;
    for (k = 0; k < BLK; k += 8) {
        memcpy(&w, s + k, 8);
        *bs |= swar_bits(swar_eq(w, '\\')) << k;
        *ctl |= swar_bits(swar_ctl(w)) << k;
    }
}
#endif

/* Bit i: the XOR of bits 0..i of m. */
static inline uint64_t
prefix_xor(uint64_t m)
{
    m ^= m << 1;
    m ^= m << 2;
    m ^= m << 4;
    m ^= m << 8;
    m ^= m << 16;
    m ^= m << 32;
    return m;
}

/*
 * A block with a '\\' or a control byte (blk_scan said so), with quote
 * mask q, that starts inside a string if in: may the block lexer take it?
 * Not with a '\\' (an escape changes what the quotes mean), nor with a
 * control byte inside a string (an error: the byte lexer is to say where).
 * Outside strings, a control byte is either whitespace or not valid
 * there, and the block lexer deals with both.
 */
static int
blk_odd_ok(const unsigned char *s, uint64_t q, int in)
{
    uint64_t bs, ctl;

    blk_odd(s, &bs, &ctl);
    return !bs && !(ctl & (prefix_xor(q) ^ (in ? ~(uint64_t)0 : 0)));
}

/*
 * In blk_run, r is the next byte to lex, in the block [b, be), whose
 * quotes not yet passed are the bits of q (bit i for b[i]).
 *
 * BNEXT(s): the next byte of the block into c; at the block's end, the
 * next block starts in state s. BAIL(s, at): the byte lexer takes over in
 * state s at byte at, up to the block's end. STR_END(s): from an opening
 * quote (the lowest bit of q) to past its closing one (the next bit),
 * scanning the blocks the string goes on into right here: the end of a
 * block most often falls inside a string. s is the string's state, to
 * hand over in. STR_CLOSE(s) is its second half, once the opening quote
 * is dropped from q.
 */
#define BNEXT(s)                                                              \
    do {                                                                      \
        if (r >= be) {                                                        \
            st = (s);                                                         \
            goto next;                                                        \
        }                                                                     \
        c = *r++;                                                             \
    } while (0)
#define BAIL(s, at)                                                           \
    do {                                                                      \
        st = (s);                                                             \
        r = (at);                                                             \
        goto bail;                                                            \
    } while (0)
#define STR_END(s)                                                            \
    do {                                                                      \
        q &= q - 1;                                                           \
        STR_CLOSE(s);                                                         \
    } while (0)
#define STR_CLOSE(s)                                                          \
    do {                                                                      \
        while (!q) {                                                          \
            b = be;                                                           \
            if (end - b < BLK) {                                              \
                st = (s);                                                     \
                goto stop;                                                    \
            }                                                                 \
            be = b + BLK;                                                     \
            if (blk_scan(b, &q) && !blk_odd_ok(b, q, 1))                      \
                BAIL(s, b);                                                   \
        }                                                                     \
        r = b + (unsigned)__builtin_ctzll(q) + 1;                             \
        q &= q - 1;                                                           \
    } while (0)

/*
 * Whitespace, where compact bodies have none: tested only once a byte is
 * not what the state expects.
 */
static inline int
blk_ws(unsigned c)
{
    return __builtin_expect(c <= ' ', 0) && is_ws(c);
}

/* Where blk_run() stopped: the byte lexer's p, lim, st, depth and obj. */
struct blk_stop {
    const unsigned char *p, *lim;
    unsigned st, obj;
    uint32_t depth;
};

/*
 * Lexes whole blocks from p on, in state st (one of BLK_STATES, with
 * x->copy and x->want clear, 1 <= depth <= BLK_DEPTH), for as long as it
 * can, updating x->stack. Returns where it stopped, and how far the byte
 * lexer is to go from there: the end of the block it stopped in, or end
 * if fewer than BLK bytes are left.
 */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static struct blk_stop
blk_run(struct jf_extractor *x, const unsigned char *p,
        const unsigned char *end, unsigned st, uint32_t depth)
{
    const unsigned char *b, *be, *r, *t;
    unsigned c;
    uint64_t q, stack, lvl;
    size_t n;
    struct blk_stop stop;

    /*
     * The innermost level is bit lvl of stack (little-endian, as BLOCKS
     * requires): depth is ctz(lvl) + 1 and obj is stack & lvl. The bits
     * above lvl are stale, as in x->stack.
     */
    memcpy(&stack, x->stack, sizeof stack);
    lvl = (uint64_t)1 << (depth - 1);
    r = p;
    for (b = p; end - b >= BLK; b += BLK) {
        /*
         * r is b, or past it after a literal or number that went on into
         * this block: those hold no quote, and are outside strings.
         */
        be = b + BLK;
        if (blk_scan(b, &q) &&
            !blk_odd_ok(b, q, st == ST_KSTR || st == ST_VSTR))
            BAIL(st, r);
        switch (st) {
        case ST_KSTR:
        case ST_VSTR:
            /* In a string: the lowest quote closes it. */
            if (!q)
                goto next;
            r = b + (unsigned)__builtin_ctzll(q) + 1;
            q &= q - 1;
            if (st == ST_KSTR)
                goto colon;
            goto after;
        case ST_OBJ_FIRST:
            goto obj_first;
        case ST_OBJ_KEY:
            goto obj_key;
        case ST_COLON:
            goto colon;
        case ST_VALUE:
            goto value;
        case ST_ARR_FIRST:
            goto arr_first;
        default:
            goto after;
        }

    obj_first:
        BNEXT(ST_OBJ_FIRST);
        if (c == '"')
            goto key;
        if (c == '}')
            goto close_obj;
        if (blk_ws(c))
            goto obj_first;
        BAIL(ST_OBJ_FIRST, r - 1);

    obj_key:
        BNEXT(ST_OBJ_KEY);
        if (c != '"') {
            if (blk_ws(c))
                goto obj_key;
            BAIL(ST_OBJ_KEY, r - 1);
        }
    key:
        q &= q - 1; /* the opening quote */
        if (lvl == 1)
            goto top_key;
    key_str:
        STR_CLOSE(ST_KSTR);
        /* Compact bodies: ':' and the value's first byte next. */
        if (be - r >= 2 && r[0] == ':') {
            c = r[1];
            r += 2;
            goto value_c;
        }
        /* fall through */
    colon:
        BNEXT(ST_COLON);
        if (c != ':') {
            if (blk_ws(c))
                goto colon;
            BAIL(ST_COLON, r - 1);
        }
        /* fall through */
    value:
        BNEXT(ST_VALUE);
    value_c:
        if (c == '"') {
        vstr:
            STR_END(ST_VSTR);
            /* Compact bodies: ',' and the next string next. */
            if (be - r >= 2 && r[0] == ',' && r[1] == '"') {
                r += 2;
                if (stack & lvl)
                    goto key;
                goto vstr;
            }
            goto after;
        }
        if (c == '{') {
            if (lvl >> (BLK_DEPTH - 1))
                BAIL(ST_VALUE, r - 1);
            lvl <<= 1;
            stack |= lvl;
            goto obj_first;
        }
        if (c == '[') {
            if (lvl >> (BLK_DEPTH - 1))
                BAIL(ST_VALUE, r - 1);
            lvl <<= 1;
            stack &= ~lvl;
            goto arr_first;
        }
        /*
         * An integer or a literal, whole in the input, with the byte
         * after an integer there too. Either may end in the next block:
         * BNEXT goes on there, past it.
         */
        if (c - '1' < 9u) {
            for (t = r; t < end && is_digit(*t); t++)
                ;
            if (t == end || *t == '.' || (*t | 0x20) == 'e')
                BAIL(ST_VALUE, r - 1);
            r = t;
            goto after;
        }
        if (c == '0') {
            if (r == end || is_digit(*r) || *r == '.' || (*r | 0x20) == 'e')
                BAIL(ST_VALUE, r - 1);
            goto after;
        }
        if (c == 't' || c == 'n') {
            if (end - r < 3 || memcmp(r, c == 't' ? "rue" : "ull", 3) != 0)
                BAIL(ST_VALUE, r - 1);
            r += 3;
            goto after;
        }
        if (c == 'f') {
            if (end - r < 4 || memcmp(r, "alse", 4) != 0)
                BAIL(ST_VALUE, r - 1);
            r += 4;
            goto after;
        }
        if (blk_ws(c))
            goto value;
        BAIL(ST_VALUE, r - 1);

    arr_first:
        BNEXT(ST_ARR_FIRST);
        if (c == ']') {
            lvl >>= 1; /* never the top level, an object */
            goto after;
        }
        if (blk_ws(c))
            goto arr_first;
        goto value_c; /* ST_VALUE's now: ']' and spaces are gone */

    after:
        BNEXT(ST_AFTER);
        if (c == ',') {
            if (stack & lvl)
                goto obj_key;
            goto value;
        }
        if (c == '}') {
            if (!(stack & lvl))
                BAIL(ST_AFTER, r - 1);
        close_obj:
            /* The top-level object's end is the byte lexer's. */
            if (lvl == 1)
                BAIL(ST_AFTER, r - 1);
            lvl >>= 1;
            goto after;
        }
        if (c == ']') {
            if (stack & lvl)
                BAIL(ST_AFTER, r - 1);
            lvl >>= 1;
            goto after;
        }
        if (blk_ws(c))
            goto after;
        BAIL(ST_AFTER, r - 1);

    top_key:
        /*
         * A top-level key. Without a backslash its raw bytes are its
         * decoded bytes: one whole in this block that is not the wanted
         * key needs nothing more (the byte lexer would copy it to keep
         * and take it back). Else it is the byte lexer's.
         */
        if (!q)
            BAIL(ST_OBJ_KEY, r - 1);
        n = (size_t)__builtin_ctzll(q) - (size_t)(r - b);
        if (n == x->key_len && memcmp(r, x->key, n) == 0)
            BAIL(ST_OBJ_KEY, r - 1);
        goto key_str;

    next:;
    }
stop:
    /* Fewer than BLK bytes left: the byte lexer ends the input. */
    if (r < b)
        r = b;
    be = end;
bail:
    memcpy(x->stack, &stack, sizeof stack);
    stop.p = r;
    stop.lim = be;
    stop.st = st;
    stop.depth = (uint32_t)__builtin_ctzll(lvl) + 1;
    stop.obj = (stack & lvl) != 0;
    return stop;
}
#endif

/*
 * NEXT(s): the next byte into c; at lim (the end of the input, or of the
 * stretch the byte lexer is to do, see top:), lexing is to resume in
 * state s, and at the end of the input jf_feed() returns JF_AGAIN (from
 * out:, the one place it does).
 */
#define NEXT(s)                                                               \
    do {                                                                      \
        if (p == lim) {                                                       \
            st = (s);                                                         \
            goto top;                                                         \
        }                                                                     \
        c = *p++;                                                             \
    } while (0)

/*
 * One switch over the state. The states a compact body spends its time
 * in are also labels, and each goes straight to the next one with goto
 * instead of back through the switch, which is only there to resume
 * where the previous input ended (and for the rare states: escapes,
 * literals cut by the input's end, the top level). Invariant: on every
 * way out, st is the state to resume in.
 */
enum jf_rc
jf_feed(struct jf_extractor *x, const char *data, size_t len)
{
    const unsigned char *base, *end, *p, *q;
    const unsigned char *lim; /* the byte lexer stops here, see top: */
    const unsigned char *cap; /* start of this input's part of a capture */
    enum jf_rc rc = JF_E_SYNTAX;
    unsigned st, c, obj;
    uint32_t depth, cp;
    uint64_t off;
    size_t n, i;
    unsigned char u8[4];
    int h;
#ifdef BLOCKS
    struct blk_stop stop;
#endif

    if (x->err) {
        x->consumed += len;
        return (enum jf_rc)x->err;
    }
    if (len == 0)
        return JF_AGAIN; /* data may be NULL: no arithmetic on it */
    base = (const unsigned char *)data;
    end = base + len;
    p = base;
    lim = base;
    cap = base;
    st = x->state;
    depth = x->depth;
    obj = x->obj;

    for (;;) {
    top:
        /*
         * The byte lexer runs to lim, then the block lexer gets a chance
         * (see blk_run): it returns where the byte lexer is to take over
         * and up to where, the end of a block. In other states the byte
         * lexer goes on for BYTE_RUN bytes: so a body goes back to blocks
         * soon after whatever needed bytes.
         */
        if (p == end)
            goto out;
        if (p >= lim) {
#ifdef BLOCKS
            if (end - p >= BLK && (BLK_STATES >> st & 1) && !x->copy &&
                !x->want && !x->capture && depth - 1 < BLK_DEPTH) {
                stop = blk_run(x, p, end, st, depth);
                p = stop.p;
                lim = stop.lim;
                st = stop.st;
                depth = stop.depth;
                obj = stop.obj;
                if (p == end)
                    goto out;
            } else {
                lim = end - p > BYTE_RUN ? p + BYTE_RUN : end;
            }
#else
            lim = end;
#endif
        }
        switch (st) {
        case ST_START:
            c = *p++;
            if (c == '{') {
                x->stack[0] |= 1;
                depth = 1;
                obj = 1;
                goto obj_first;
            }
            if (is_ws(c))
                break;
            if (c == '[' || c == '"' || c == '-' || is_digit(c) ||
                c == 't' || c == 'f' || c == 'n')
                rc = JF_E_NOT_OBJECT;
            goto fail_c;

        case ST_OBJ_FIRST:
        obj_first:
            NEXT(ST_OBJ_FIRST);
            if (c == '"')
                goto key;
            if (c == '}')
                goto close;
            if (is_ws(c))
                goto obj_first;
            goto fail_c;

        case ST_OBJ_KEY:
        obj_key:
            NEXT(ST_OBJ_KEY);
            if (c == '"')
                goto key;
            if (is_ws(c))
                goto obj_key;
            goto fail_c;

        key:
            if (depth == 1) {
                /* A top-level key: compared, and kept while it matches. */
                x->kmatch = 1;
                x->kpos = 0;
                if (!x->found) {
                    x->copy = 1;
                    x->member_off = x->keep_len;
                    x->keep_lim = x->keep_len + KEY_RAW_MAX;
                    x->keep[x->keep_len++] = '"';
                }
                st = ST_TKEY;
                break;
            }
            /* fall through */
        case ST_KSTR:
            p = str_scan(p, lim);
            NEXT(ST_KSTR);
            if (c != '"') {
                if (c != '\\')
                    goto control;
                x->ret = ST_KSTR;
                st = ST_ESC;
                break;
            }
            /* fall through */
        case ST_COLON:
        colon:
            NEXT(ST_COLON);
            if (c != ':') {
                if (is_ws(c))
                    goto colon;
                goto fail_c;
            }
            /* fall through */
        case ST_VALUE:
        value:
            NEXT(ST_VALUE);
        value_c:
            if (depth == 1 && x->want && !is_ws(c)) {
                /* The wanted key's value starts: keep it (see top). */
                x->want = 0;
                x->val_keep = x->keep_len;
                x->val_off = x->consumed + (uint64_t)(p - 1 - base);
                if (c == '"') {
                    x->keep[x->keep_len++] = '"';
                    x->keep_lim = x->keep_len + JF_MAX_VALUE;
                    x->copy = 1;
                    st = ST_CSTR;
                    break;
                }
                /* Anything else is captured from here (capture_put). */
                x->keep_lim = x->keep_len + JF_MAX_VALUE;
                x->capture = 1;
                x->cap_str = 0;
                x->cap_esc = 0;
                x->u8_need = 0;
                cap = p - 1;
            }
            if (c == '"')
                goto vstr;
            if (c == '{' || c == '[') {
                if (depth == JF_MAX_DEPTH) {
                    rc = JF_E_TOO_DEEP;
                    goto fail_c;
                }
                obj = c == '{';
                x->stack[depth >> 3] = (unsigned char)(
                    (x->stack[depth >> 3] & ~(1u << (depth & 7))) |
                    obj << (depth & 7));
                depth++;
                if (obj)
                    goto obj_first;
                goto arr_first;
            }
            if (is_digit(c)) {
                if (c == '0')
                    goto num_zero;
                goto num_int;
            }
            if (c == '-')
                goto num_minus;
            if (c == 't' || c == 'f' || c == 'n') {
                x->lit = c == 't' ? "rue" : c == 'f' ? "alse" : "ull";
                n = c == 'f' ? 4 : 3;
                if ((size_t)(lim - p) >= n && memcmp(p, x->lit, n) == 0) {
                    p += n;
                    goto after;
                }
                st = ST_LIT; /* byte by byte */
                break;
            }
            if (is_ws(c))
                goto value;
            goto fail_c;

        case ST_ARR_FIRST:
        arr_first:
            NEXT(ST_ARR_FIRST);
            if (c == ']')
                goto close;
            if (is_ws(c))
                goto arr_first;
            goto value_c;

        case ST_VSTR:
        vstr:
            p = str_scan(p, lim);
            NEXT(ST_VSTR);
            if (c != '"') {
                if (c != '\\')
                    goto control;
                x->ret = ST_VSTR;
                st = ST_ESC;
                break;
            }
            /* fall through */
        case ST_AFTER:
        after:
            if (x->capture && depth == 1) {
                /* The captured value ends just before p. */
                rc = capture_put(x, cap, (size_t)(p - cap),
                                 x->consumed + (uint64_t)(cap - base), &off);
                if (rc != JF_AGAIN)
                    goto fail_off;
                x->capture = 0;
                rc = JF_E_SYNTAX;
            }
            NEXT(ST_AFTER);
            if (c == ',') {
                if (obj)
                    goto obj_key;
                goto value;
            }
            if (c == '}' || c == ']')
                goto close;
            if (is_ws(c))
                goto after;
            goto fail_c;

        close:
            if ((c == '}') != obj)
                goto fail_c;
            if (--depth == 0) {
                st = ST_END;
                break;
            }
            obj = x->stack[(depth - 1) >> 3] >> ((depth - 1) & 7) & 1;
            goto after;

        case ST_TKEY:
            q = p;
            p = str_scan(p, lim);
            if (x->kmatch && p > q) {
                key_cmp(x, q, (size_t)(p - q));
                if (x->copy && keep_put(x, q, (size_t)(p - q))) {
                    p = q;
                    goto too_long;
                }
            }
            if (p == lim)
                break;
            c = *p++;
            if (c == '"') {
                if (key_end(x) < 0) {
                    rc = JF_E_DUP_KEY;
                    goto fail_c;
                }
                goto colon;
            }
            if (c != '\\')
                goto control;
            if (x->copy && keep_put(x, "\\", 1)) {
                p--;
                goto too_long;
            }
            x->ret = ST_TKEY;
            st = ST_ESC;
            break;

        case ST_CSTR:
            q = p;
            p = str_scan(p, lim);
            if (p > q && keep_put(x, q, (size_t)(p - q))) {
                /* Keep what fits, for the UTF-8 check at too_long. */
                n = x->keep_lim - x->keep_len;
                memcpy(x->keep + x->keep_len, q, n);
                x->keep_len += (uint32_t)n;
                p = q + n;
                goto too_long;
            }
            if (p == lim)
                break;
            c = *p++;
            if (c == '"') {
                /* The kept value is whole: its UTF-8 must be too. */
                n = x->keep_len - x->val_keep - 1;
                i = utf8_bad((unsigned char *)x->keep + x->val_keep + 1, n,
                             0);
                if (i < n) {
                    rc = JF_E_UTF8;
                    off = x->val_off + 1 + i;
                    goto fail_off;
                }
                /* Past keep_lim by design: lim counts content only. */
                x->keep[x->keep_len++] = '"';
                x->copy = 0;
                goto after;
            }
            if (c != '\\')
                goto control;
            if (keep_put(x, "\\", 1)) {
                p--;
                goto too_long;
            }
            x->ret = ST_CSTR;
            st = ST_ESC;
            break;

        case ST_ESC:
            c = *p;
            switch (c) {
            case '"': case '\\': case '/':
                break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u':
                x->low = 0;
                x->nhex = 0;
                x->u = 0;
                break;
            default:
                rc = JF_E_ESCAPE;
                goto fail;
            }
            if (x->copy && keep_put(x, p, 1))
                goto too_long;
            if (*p++ == 'u') {
                st = ST_HEX;
                break;
            }
            if (x->ret == ST_TKEY && x->kmatch) {
                u8[0] = (unsigned char)c;
                key_cmp(x, u8, 1);
            }
            st = x->ret;
            break;

        case ST_HEX:
            h = hex_val(*p);
            if (h < 0) {
                rc = JF_E_ESCAPE;
                goto fail;
            }
            if (x->copy && keep_put(x, p, 1))
                goto too_long;
            p++;
            x->u = x->u << 4 | (uint32_t)h;
            if (++x->nhex < 4)
                break;
            cp = x->u;
            if (x->low) {
                /* RFC 8259 sec. 7: a high surrogate needs a low one. */
                if (cp < 0xdc00 || cp > 0xdfff)
                    goto lone;
                cp = 0x10000 + ((x->hi - 0xd800) << 10) + (cp - 0xdc00);
            } else if (cp >= 0xd800 && cp <= 0xdbff) {
                x->hi = cp;
                st = ST_LOW_BS;
                break;
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                goto lone;
            }
            if (x->ret == ST_TKEY && x->kmatch)
                key_cmp(x, u8, utf8_put(u8, cp));
            st = x->ret;
            break;

        case ST_LOW_BS:
        case ST_LOW_U:
            if (*p != (st == ST_LOW_BS ? '\\' : 'u')) {
                rc = JF_E_SURROGATE;
                goto fail;
            }
            if (x->copy && keep_put(x, p, 1))
                goto too_long;
            p++;
            if (st == ST_LOW_BS) {
                st = ST_LOW_U;
                break;
            }
            x->low = 1;
            x->nhex = 0;
            x->u = 0;
            st = ST_HEX;
            break;

        case ST_MINUS:
        num_minus:
            NEXT(ST_MINUS);
            if (c == '0')
                goto num_zero;
            if (is_digit(c))
                goto num_int;
            goto fail_c;

        case ST_ZERO:
        num_zero:
            NEXT(ST_ZERO);
            if (c == '.')
                goto num_dot;
            if (c == 'e' || c == 'E')
                goto num_exp;
            if (is_digit(c))
                goto fail_c; /* no leading zeros */
            goto num_end;

        case ST_INT:
        num_int:
            while (p < lim && is_digit(*p))
                p++;
            NEXT(ST_INT);
            if (c == '.')
                goto num_dot;
            if (c == 'e' || c == 'E')
                goto num_exp;
            goto num_end;

        case ST_DOT:
        num_dot:
            NEXT(ST_DOT);
            if (!is_digit(c))
                goto fail_c;
            /* fall through */
        case ST_FRAC:
            while (p < lim && is_digit(*p))
                p++;
            NEXT(ST_FRAC);
            if (c == 'e' || c == 'E')
                goto num_exp;
            goto num_end;

        case ST_EXP:
        num_exp:
            NEXT(ST_EXP);
            if (c == '+' || c == '-') {
                NEXT(ST_ESIGN);
            }
            goto num_edig;

        case ST_ESIGN:
            NEXT(ST_ESIGN);
        num_edig:
            if (!is_digit(c))
                goto fail_c;
            /* fall through */
        case ST_EDIG:
            while (p < lim && is_digit(*p))
                p++;
            NEXT(ST_EDIG);
            goto num_end;

        num_end:
            /* c ended the number and is not part of it: ST_AFTER's. */
            p--;
            goto after;

        case ST_LIT:
            if (*p != (unsigned char)*x->lit)
                goto fail;
            p++;
            if (*++x->lit == '\0')
                goto after;
            break;

        case ST_END:
            if (!is_ws(*p))
                goto fail; /* a second value, or garbage */
            p++;
            break;
        }
    }

out:
    if (x->capture) {
        rc = capture_put(x, cap, (size_t)(end - cap),
                         x->consumed + (uint64_t)(cap - base), &off);
        if (rc != JF_AGAIN)
            goto fail_off;
    }
    x->state = (unsigned char)st;
    x->depth = depth;
    x->obj = (unsigned char)obj;
    x->consumed += len;
    return JF_AGAIN;

control:
    rc = JF_E_CONTROL; /* str_scan stops at nothing else */
    goto fail_c;
lone:
    rc = JF_E_SURROGATE;
    goto fail_c;

too_long:
    /*
     * p is the first byte past the limit (a key cannot get here: see
     * KEY_RAW_MAX). A malformed UTF-8 sequence before it in the value is
     * the earlier problem; the slot for the closing quote holds *p.
     */
    rc = JF_E_TOO_LONG;
    if (x->found) {
        x->keep[x->keep_len] = (char)*p;
        n = x->keep_len - x->val_keep;
        i = utf8_bad((unsigned char *)x->keep + x->val_keep + 1, n, 1);
        if (i < n - 1) {
            rc = JF_E_UTF8;
            off = x->val_off + 1 + i;
            goto fail_off;
        }
    }
    goto fail;
fail_c:
    p--; /* the byte just taken is the offending one */
fail:
    off = x->consumed + (uint64_t)(p - base);
    x->err_byte = *p;
    if (x->capture) {
        /* What the value held before p may be the first problem. */
        uint64_t coff;
        enum jf_rc crc = capture_put(x, cap, (size_t)(p - cap),
                                     x->consumed + (uint64_t)(cap - base),
                                     &coff);

        if (crc != JF_AGAIN) {
            rc = crc;
            off = coff;
        }
    }
fail_off:
    x->state = (unsigned char)st;
    x->depth = depth;
    x->obj = (unsigned char)obj;
    x->err = (unsigned char)rc;
    x->error_offset = off;
    x->consumed += len;
    return rc;
}

/*
 * Decodes the JSON string body s[0..n) (between the quotes) into out.
 * Returns 0, -1 if it is malformed (*bad is the offset of the problem), or
 * -2 if it needs more than cap bytes. With check_utf8, raw bytes >= 0x80
 * must be well-formed UTF-8. Runs on kept bytes only, so it re-checks
 * what the lexer already checked rather than trust jsmn, which does not.
 */
static int
decode(const unsigned char *s, size_t n, int check_utf8, char *out,
       size_t cap, size_t *out_len, size_t *bad)
{
    size_t i = 0, o = 0, k, m;
    uint32_t cp, lo;
    unsigned char u8[4];
    int h;

    while (i < n) {
        *bad = i;
        if (s[i] == '\\') {
            if (n - i < 2)
                return -1;
            switch (s[i + 1]) {
            case '"': case '\\': case '/': u8[0] = s[i + 1]; break;
            case 'b': u8[0] = '\b'; break;
            case 'f': u8[0] = '\f'; break;
            case 'n': u8[0] = '\n'; break;
            case 'r': u8[0] = '\r'; break;
            case 't': u8[0] = '\t'; break;
            case 'u': break;
            default: return -1;
            }
            if (s[i + 1] != 'u') {
                m = 1;
                i += 2;
            } else {
                /* \uXXXX, and for a high surrogate \uXXXX\uXXXX. */
                if (n - i < 6)
                    return -1;
                for (cp = 0, k = 2; k < 6; k++) {
                    if ((h = hex_val(s[i + k])) < 0)
                        return -1;
                    cp = cp << 4 | (uint32_t)h;
                }
                i += 6;
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    return -1;
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (n - i < 6 || s[i] != '\\' || s[i + 1] != 'u')
                        return -1;
                    for (lo = 0, k = 2; k < 6; k++) {
                        if ((h = hex_val(s[i + k])) < 0)
                            return -1;
                        lo = lo << 4 | (uint32_t)h;
                    }
                    if (lo < 0xdc00 || lo > 0xdfff)
                        return -1;
                    i += 6;
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                }
                m = utf8_put(u8, cp);
            }
            if (m > cap - o)
                return -2;
            memcpy(out + o, u8, m);
            o += m;
            continue;
        }
        if (s[i] < 0x20)
            return -1;
        m = 1;
        if (check_utf8 && s[i] >= 0x80) {
            m = utf8_len(s + i, n - i);
            if (m == 0 || m > n - i)
                return -1;
        }
        if (m > cap - o)
            return -2;
        memcpy(out + o, s + i, m);
        o += m;
        i += m;
    }
    *out_len = o;
    return 0;
}

/* Sets the sticky verdict rc, found at body offset off. */
static enum jf_rc
verdict(struct jf_extractor *x, enum jf_rc rc, uint64_t off)
{
    x->err = (unsigned char)rc;
    x->error_offset = off;
    return rc;
}

/*
 * A value that is not a string: the text of jsmn's token t, which must be
 * the captured text (keep from val_keep on) exactly.
 */
static enum jf_rc
json_text(struct jf_extractor *x, const jsmntok_t *t, char *out, size_t cap,
          size_t *out_len)
{
    size_t n = (size_t)(t->end - t->start);

    if ((uint32_t)t->start != x->val_keep || (uint32_t)t->end != x->keep_len)
        return verdict(x, JF_E_SYNTAX, x->val_off); /* cannot happen */
    if (n > cap)
        return JF_E_TOO_LONG; /* the caller's buffer: not sticky */
    memcpy(out, x->keep + t->start, n);
    *out_len = n;
    x->value_json = 1;
    return JF_OK;
}

/* Is jsmn string token t, decoded, the wanted key? */
static int
key_equal(const struct jf_extractor *x, const jsmntok_t *t)
{
    char k[JF_MAX_KEY];
    size_t klen, bad;

    if (decode((const unsigned char *)x->keep + t->start,
               (size_t)(t->end - t->start), 0, k, sizeof k, &klen,
               &bad) != 0)
        return 0;
    return klen == x->key_len && memcmp(k, x->key, klen) == 0;
}

enum jf_rc
jf_finish(struct jf_extractor *x, char *out, size_t cap, size_t *out_len)
{
    jsmn_parser jp;
    jsmntok_t tok[JF_NTOK];
    int n, i, v, val = -1, m;
    size_t bad;

    if (x->err)
        return (enum jf_rc)x->err;
    if (x->state != ST_END)
        return verdict(x, JF_E_TRUNCATED, x->consumed);

    /* keep_lim never passed JF_KEEP_CAP - 1: there is room for '}'. */
    x->keep[x->keep_len] = '}';
    jsmn_init(&jp);
    n = jsmn_parse(&jp, x->keep, x->keep_len + 1, tok, JF_NTOK);
    if (n < 1 || tok[0].type != JSMN_OBJECT || tok[0].start != 0 ||
        tok[0].end != (int)x->keep_len + 1)
        return verdict(x, JF_E_SYNTAX, x->consumed); /* cannot happen */

    /*
     * Member by member: key at i, value at i + 1, and every token that
     * starts before the value's end is inside the value.
     */
    for (i = 1, m = 0; m < tok[0].size; m++) {
        if (i + 1 >= n || tok[i].type != JSMN_STRING)
            return verdict(x, JF_E_SYNTAX, x->consumed);
        v = i + 1;
        if (key_equal(x, &tok[i])) {
            if (val >= 0)
                return verdict(x, JF_E_DUP_KEY, x->consumed);
            val = v;
        }
        for (i = v + 1; i < n && tok[i].start < tok[v].end; i++)
            ;
    }
    if (val < 0)
        return verdict(x, JF_E_NO_KEY, x->consumed);
    if (tok[val].type != JSMN_STRING)
        return json_text(x, &tok[val], out, cap, out_len);

    switch (decode((const unsigned char *)x->keep + tok[val].start,
                   (size_t)(tok[val].end - tok[val].start), 1, out, cap,
                   out_len, &bad)) {
    case 0:
        x->value_json = 0;
        return JF_OK;
    case -2:
        /* The caller's buffer, not the body: not sticky. */
        return JF_E_TOO_LONG;
    default:
        /* The value was copied verbatim from val_off on. */
        return verdict(x, JF_E_SYNTAX,
                       x->val_off + (uint64_t)tok[val].start - x->val_keep +
                           bad);
    }
}

const char *
jf_strerror(enum jf_rc rc)
{
    switch (rc) {
    case JF_OK: return "ok";
    case JF_AGAIN: return "more input expected";
    case JF_E_SYNTAX: return "invalid JSON";
    case JF_E_CONTROL: return "raw control byte in a string";
    case JF_E_ESCAPE: return "invalid escape in a string";
    case JF_E_SURROGATE: return "lone surrogate in a string";
    case JF_E_UTF8: return "invalid UTF-8";
    case JF_E_NOT_OBJECT: return "top-level value is not an object";
    case JF_E_TRUNCATED: return "JSON text truncated";
    case JF_E_NO_KEY: return "key not found at top level";
    case JF_E_DUP_KEY: return "key occurs more than once at top level";
    case JF_E_TOO_DEEP: return "nesting too deep";
    case JF_E_TOO_LONG: return "value too long";
    }
    return "unknown error";
}

/* Byte b for a message: 'x' if printable ASCII, else 0xNN. */
static void
byte_text(unsigned b, char *out, size_t cap)
{
    if (b > 0x20 && b < 0x7f)
        snprintf(out, cap, "'%c'", (char)b);
    else
        snprintf(out, cap, "byte 0x%02x", b);
}

/* What is wrong in the body, without where. */
static void
body_problem(const struct jf_extractor *x, enum jf_rc rc, char *out,
             size_t cap)
{
    static const char *const ctl_names[] = {
        ['\t'] = "TAB", ['\n'] = "LF", ['\r'] = "CR", [0] = "NUL"};
    unsigned b = x->err_byte;
    char bt[16];

    byte_text(b, bt, sizeof bt);
    switch (rc) {
    case JF_E_CONTROL:
        if (b < sizeof ctl_names / sizeof ctl_names[0] && ctl_names[b])
            snprintf(out, cap, "raw %s in a string", ctl_names[b]);
        else
            snprintf(out, cap, "raw control byte 0x%02x in a string", b);
        break;
    case JF_E_ESCAPE:
        if (x->state == ST_HEX)
            snprintf(out, cap, "%s where a \\u escape needs a hex digit",
                     bt);
        else
            snprintf(out, cap, "invalid escape: %s after a backslash", bt);
        break;
    case JF_E_SURROGATE:
        if (x->low || x->state == ST_LOW_BS || x->state == ST_LOW_U)
            snprintf(out, cap, "lone surrogate \\u%04x (no low half after "
                               "it) in a string",
                     (unsigned)x->hi);
        else
            snprintf(out, cap, "lone surrogate \\u%04x (a low half alone) in "
                               "a string",
                     (unsigned)x->u);
        break;
    case JF_E_UTF8:
        snprintf(out, cap, "invalid UTF-8 in the value");
        break;
    case JF_E_TOO_DEEP:
        snprintf(out, cap, "nesting deeper than %d levels", JF_MAX_DEPTH);
        break;
    case JF_E_SYNTAX:
        if (x->state == ST_END)
            snprintf(out, cap, "%s after the end of the JSON text", bt);
        else
            snprintf(out, cap, "unexpected %s", bt);
        break;
    default:
        snprintf(out, cap, "%s", jf_strerror(rc));
        break;
    }
}

void
jf_explain(const struct jf_extractor *x, enum jf_rc rc, const char *key,
           char *out, size_t cap)
{
    char what[96];

    /* Key problems name the key (shortened: it is the user's, and a long
       one would push the reason off the line); body problems say what is
       wrong. Every message but a missing key's ends with where, so that
       a transport may add which body ("... of the gzip-decoded body"). */
    if (rc == JF_E_NO_KEY) {
        snprintf(out, cap, "key \"%.64s\" not found at top level", key);
    } else if (rc == JF_E_DUP_KEY) {
        snprintf(out, cap,
                 "key \"%.64s\" occurs more than once at top level, "
                 "again at byte %llu",
                 key, (unsigned long long)x->error_offset);
    } else if (rc == JF_E_TOO_LONG) {
        snprintf(out, cap,
                 "value of \"%.64s\" longer than the %d-byte cap at byte "
                 "%llu",
                 key, JF_MAX_VALUE, (unsigned long long)x->error_offset);
    } else {
        body_problem(x, rc, what, sizeof what);
        snprintf(out, cap, "invalid JSON body: %s at byte %llu", what,
                 (unsigned long long)x->error_offset);
    }
}
