/*
 * jfield.c - stream a JSON body through a validating lexer and extract the
 * value of one top-level key, in fixed memory (see jfield.h).
 *
 * Three parts: the lexer, keep and the fast path.
 *
 * The lexer validates every byte, in any split: strings (escapes \" \\
 * \/ \b \f \n \r \t \uXXXX with surrogates paired, no raw control
 * bytes: lex_string, lex_escape), numbers (the RFC 8259 sec. 6 grammar as
 * a table: lex_number), true/false/null (lex_literal), whitespace, and the
 * structure (lex_structure), nesting up to JF_MAX_DEPTH in a bit stack
 * (1 = object). There must be one value, an object, then only whitespace.
 * It keeps its state in x between steps and decides every verdict but
 * the two only the end can tell (JF_E_TRUNCATED, JF_E_NO_KEY).
 *
 * keep owns the bounded top level: what is copied into x->keep, the buffer
 * jsmn tokenizes. The lexer tells it where top-level keys and the wanted
 * key's value begin, and after each step it copies the step's token bytes
 * (never the whitespace between tokens). Each top-level key is copied after
 * a '{' and, at its closing quote, unless its length rules it out
 * (key_may_match), tokenized by jsmn and its token decoded and compared
 * with the wanted key (key_end): the wanted key's member stays, any other
 * key is dropped, the wanted key a second time is JF_E_DUP_KEY. Once
 * matched, the key is known: "" stands for it in keep. The value is copied
 * whole, compact, up to JF_MAX_VALUE (a string: its raw bytes between the
 * quotes), its raw UTF-8 checked as it comes; nested containers of other
 * members are never copied at all. So keep holds '{' and at most the wanted
 * member (and, while it is read, the next top-level key), and jf_finish()
 * has jsmn tokenize '{' member '}' and reads the value from its token: a
 * string decoded by the one escape decoder (esc_step, also the lexer's),
 * anything else as the JSON text it spans. jsmn tokenizes and the key is
 * compared on its token; the lexer has already proved the text valid, so
 * nothing is checked twice.
 *
 * The fast path (lex_blocks) takes the bulk of a body, inside the nested
 * containers of members nobody wants, 64 bytes at a time; it makes no
 * verdict and hands anything unusual to the lexer's steps (see there).
 *
 * What it does not do: check the raw UTF-8 of anything but the kept
 * value's strings (other strings may hold any byte >= 0x20 except '"' and
 * '\\'); allocate; print; look at bytes it has not been given. An empty
 * body (or whitespace only) is JF_E_TRUNCATED: the JSON text never began.
 *
 * Verdict order: the first problem in byte order wins, the same for any
 * split, each at the byte that makes it certain. keep sees a step's bytes
 * before the byte the lexer refused, so a bad UTF-8 sequence or the cap
 * in the value comes before a later syntax error. JF_E_SYNTAX is what is
 * left when no more specific verdict (CONTROL, ESCAPE, SURROGATE, UTF8)
 * says what is wrong; err_byte keeps the offending byte for the message.
 *
 * error_offset: the offending byte for jf_feed() errors (for DUP_KEY the
 * second key's closing quote, for TOO_LONG the first byte past
 * JF_MAX_VALUE, for bad UTF-8 the first byte of the bad sequence, for a
 * surrogate the byte that shows the pair incomplete); the end of the
 * body for TRUNCATED and NO_KEY.
 *
 * Invariants: keep_len + what is left to copy < JF_KEEP_CAP, so there is
 * always room for the final '}' (keep_lim bounds the key and the value;
 * the _Static_assert below counts the rest). depth <= JF_MAX_DEPTH. err,
 * once set, stays until jf_begin(). keeping is KEEP_KEY only inside a
 * top-level key, KEEP_VALUE only inside the wanted value.
 *
 * GNU C (gcc, clang): __builtin_ctzll, and one attribute (lex_blocks).
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
 * Tokens for '{' "": value '}': two, and the value's. Each of a
 * compact value's tokens but the first takes two bytes at least ("0,",
 * "[]"), so JF_MAX_VALUE bytes hold at most (JF_MAX_VALUE + 1) / 2.
 */
#define JF_NTOK (2 + (JF_MAX_VALUE + 1) / 2 + 1)

/* Raw bytes of a key that decodes to n bytes: "\u0061" is 6 for 1. */
#define KEY_RAW(n) (2 + 6 * (size_t)(n))

/* '{' "": value '{' key (see JF_KEEP_CAP) and '}' fit, or the limits lie. */
_Static_assert(4 + 1 + JF_MAX_VALUE + 1 + 1 + KEY_RAW(JF_MAX_KEY) + 1 <=
                   JF_KEEP_CAP,
               "keep too small for the longest key and value");
_Static_assert(JF_MAX_DEPTH % 8 == 0, "depth bit stack is whole bytes");
_Static_assert(JF_KEEP_CAP < 65536, "keep offsets fit jsmn's int");

enum {               /* x->state: between tokens, then inside one */
       ST_START,     /* before the top-level value */
       ST_OBJ_FIRST, /* after '{': a key or '}' */
       ST_OBJ_KEY,   /* after ',' in an object: a key */
       ST_COLON,     /* after a key */
       ST_VALUE,     /* after ':', or ',' in an array */
       ST_ARR_FIRST, /* after '[': a value or ']' */
       ST_AFTER,     /* after a value: ',' or a closing bracket */
       ST_END,       /* after the top-level object: whitespace only */
       ST_STRING,    /* in a string; str_key says if it is a key */
       ST_ESCAPE,    /* in an escape (esc) */
       ST_NUMBER,    /* in a number (num) */
       ST_LITERAL,   /* in true, false or null (lit: the rest) */
};

enum { KEEP_NONE, KEEP_KEY, KEEP_VALUE }; /* x->keeping */

/*
 * esc.phase: after the backslash; in the digits of \uXXXX; after a high
 * surrogate, at its low half's '\\', 'u' and digits.
 */
enum { ESC_CHAR, ESC_HEX, ESC_LOW_BS, ESC_LOW_U, ESC_LOW_HEX };

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

/* Sets the sticky verdict rc, found at body offset off. */
static enum jf_rc
verdict(struct jf_extractor *x, enum jf_rc rc, uint64_t off)
{
    x->err = (unsigned char)rc;
    x->error_offset = off;
    return rc;
}

/* ---- The escape decoder -------------------------------------------- */

/*
 * The one decoder of backslash escapes, for the lexer (a byte at a time,
 * across inputs) and for unescape() (kept strings, whole). e->phase is
 * ESC_CHAR after the backslash; c is the next byte. Returns JF_AGAIN
 * while the escape goes on, JF_OK when it is whole (e->cp: its code
 * point, never a surrogate), or JF_E_ESCAPE / JF_E_SURROGATE for c: a
 * high surrogate needs "\u" and a low one right after it, and a low one
 * alone is an error (RFC 8259 sec. 7).
 */
static enum jf_rc
esc_step(struct jf_escape *e, unsigned c)
{
    static const char simple[] = "\"\\/bfnrt", decoded[] = "\"\\/\b\f\n\r\t";
    const char *s;
    int h;

    switch (e->phase) {
    case ESC_CHAR:
        if (c == 'u') {
            e->phase = ESC_HEX;
            e->nhex = 0;
            e->cp = 0;
            return JF_AGAIN;
        }
        s = c ? strchr(simple, (int)c) : NULL;
        if (!s)
            return JF_E_ESCAPE;
        e->cp = (unsigned char)decoded[s - simple];
        return JF_OK;
    case ESC_LOW_BS:
        e->phase = ESC_LOW_U;
        return c == '\\' ? JF_AGAIN : JF_E_SURROGATE;
    case ESC_LOW_U:
        e->phase = ESC_LOW_HEX;
        e->nhex = 0;
        e->cp = 0;
        return c == 'u' ? JF_AGAIN : JF_E_SURROGATE;
    }
    h = hex_val(c);
    if (h < 0)
        return JF_E_ESCAPE;
    e->cp = e->cp << 4 | (uint32_t)h;
    if (++e->nhex < 4)
        return JF_AGAIN;
    if (e->phase == ESC_LOW_HEX) {
        if (e->cp < 0xdc00 || e->cp > 0xdfff)
            return JF_E_SURROGATE;
        e->cp = 0x10000 + ((e->hi - 0xd800) << 10) + (e->cp - 0xdc00);
        return JF_OK;
    }
    if (e->cp >= 0xd800 && e->cp <= 0xdbff) {
        e->hi = e->cp;
        e->phase = ESC_LOW_BS;
        return JF_AGAIN;
    }
    return e->cp >= 0xdc00 && e->cp <= 0xdfff ? JF_E_SURROGATE : JF_OK;
}

/*
 * Decodes the content of a kept string, s[0..n), into out (cap bytes).
 * Returns its length, or -1 if it does not fit (the lexer has validated
 * every escape, so that is the only way to fail).
 */
static long
unescape(const char *s, size_t n, char *out, size_t cap)
{
    struct jf_escape e;
    unsigned char u8[4];
    enum jf_rc rc;
    size_t i, o = 0, m;

    for (i = 0; i < n; i++) {
        if (s[i] != '\\') {
            if (o == cap)
                return -1;
            out[o++] = s[i];
            continue;
        }
        e.phase = ESC_CHAR;
        do {
            if (++i == n)
                return -1;
            rc = esc_step(&e, (unsigned char)s[i]);
        } while (rc == JF_AGAIN);
        m = utf8_put(u8, e.cp);
        if (rc != JF_OK || m > cap - o)
            return -1;
        memcpy(out + o, u8, m);
        o += m;
    }
    return (long)o;
}

/* ---- keep: what of the body is copied ------------------------------- */

/*
 * A top-level key begins: keep copies it after a '{', so that jsmn can
 * tokenize it at its end (key_end): the document's own '{' at 0, or one
 * written after the member already kept. A key whose raw form is longer
 * than the wanted key can be is not copied (keep_step).
 */
static void
keep_key(struct jf_extractor *x)
{
    x->keep_mark = x->found ? x->keep_len : 0;
    if (x->found)
        x->keep[x->keep_len++] = '{';
    x->keep_lim = x->keep_len + (uint32_t)KEY_RAW(x->key_len);
    x->keeping = KEEP_KEY;
}

/* Forgets the key being read: it is not the wanted one. */
static void
keep_drop_key(struct jf_extractor *x)
{
    x->keep_len = x->found ? x->keep_mark : 1;
    x->keeping = KEEP_NONE;
}

/* The wanted key's value begins with byte c. */
static void
keep_value(struct jf_extractor *x, unsigned c)
{
    x->want = 0;
    x->keep_str = c == '"';
    /* A string's cap is on the bytes between its quotes. */
    x->keep_lim = x->keep_len + x->keep_str + JF_MAX_VALUE;
    x->u8_need = 0;
    x->keeping = KEEP_VALUE;
}

/* Is jsmn's string token t (in keep from base on) the wanted key? */
static int
key_equal(const struct jf_extractor *x, const char *base, const jsmntok_t *t)
{
    char k[JF_MAX_KEY];
    long n =
        unescape(base + t->start, (size_t)(t->end - t->start), k, x->key_len);

    return n == (long)x->key_len && memcmp(k, x->key, x->key_len) == 0;
}

/*
 * Can a top-level key of n raw bytes between its quotes, s, decode to the
 * wanted key? Escapes only make a key shorter ("\u0061" is "a"), so not
 * if it is shorter, nor if it is longer without a backslash. Measured
 * with callgrind over the whole client on the 1351-id job: 8.6 M
 * instructions (0.7%) less than having jsmn tokenize every top-level key.
 */
static int
key_may_match(const struct jf_extractor *x, const char *s, size_t n)
{
    return n == x->key_len || (n > x->key_len && memchr(s, '\\', n));
}

/*
 * The top-level key in keep (from keep_mark on: '{' and the key) is
 * whole; at is its closing quote's body offset. Unless it cannot be the
 * wanted key at all, jsmn tokenizes it and its decoded text is compared
 * with the wanted key. The wanted key again is JF_E_DUP_KEY there.
 */
static enum jf_rc
key_end(struct jf_extractor *x, uint64_t at)
{
    const char *base = x->keep + x->keep_mark;
    jsmn_parser jp;
    jsmntok_t tok[2];

    /* '{' '"' the raw key '"' */
    if (!key_may_match(x, base + 2, x->keep_len - x->keep_mark - 3)) {
        keep_drop_key(x);
        return JF_AGAIN;
    }
    jsmn_init(&jp);
    /* JSMN_ERROR_PART: the object is still open, the key is token 1. */
    (void)jsmn_parse(&jp, base, x->keep_len - x->keep_mark, tok, 2);
    if (jp.toknext != 2 || tok[1].type != JSMN_STRING ||
        !key_equal(x, base, &tok[1])) {
        keep_drop_key(x);
        return JF_AGAIN;
    }
    if (x->found) {
        x->err_byte = '"';
        return verdict(x, JF_E_DUP_KEY, at);
    }
    /* The key is known now: "" stands for it, which leaves it room. */
    memcpy(x->keep + 1, "\"\":", 3);
    x->keep_len = 4;
    x->found = 1;
    x->want = 1;
    x->keeping = KEEP_NONE;
    return JF_AGAIN;
}

/*
 * Appends s[0..n), at body offset off on, to the kept value: its raw
 * bytes must be well-formed UTF-8 and fit keep_lim, whichever fails
 * first in byte order (a sequence broken by the byte past the cap is the
 * earlier problem: it began before).
 */
static enum jf_rc
keep_value_bytes(struct jf_extractor *x, const unsigned char *s, size_t n,
                 uint64_t off)
{
    unsigned c, lo, hi;
    size_t i, len;

    for (i = 0; i < n; i++) {
        c = s[i];
        if (x->u8_need && (c < x->u8_lo || c > x->u8_hi))
            return verdict(x, JF_E_UTF8, x->u8_off);
        if (x->keep_len == x->keep_lim)
            return verdict(x, JF_E_TOO_LONG, off + i);
        if (x->u8_need) {
            x->u8_need--;
            x->u8_lo = 0x80;
            x->u8_hi = 0xbf;
        } else if (c >= 0x80) {
            len = utf8_lead(c, &lo, &hi);
            if (!len)
                return verdict(x, JF_E_UTF8, off + i);
            x->u8_need = (unsigned char)(len - 1);
            x->u8_lo = (unsigned char)lo;
            x->u8_hi = (unsigned char)hi;
            x->u8_off = off + i;
        }
        x->keep[x->keep_len++] = (char)c;
    }
    return JF_AGAIN;
}

/*
 * After each step of the lexer while keep is copying: s[0..n), at body
 * offset off on, is what the step got through, all of it a token's bytes
 * (whitespace between tokens is never in it). Keeps them, and follows
 * the key and the value to their ends, which the lexer's state shows.
 */
static enum jf_rc
keep_step(struct jf_extractor *x, const unsigned char *s, size_t n,
          uint64_t off)
{
    enum jf_rc rc;
    int end;

    if (x->keeping == KEEP_KEY) {
        if (n > x->keep_lim - x->keep_len) {
            keep_drop_key(x); /* too long to decode to the key */
            return JF_AGAIN;
        }
        memcpy(x->keep + x->keep_len, s, n);
        x->keep_len += (uint32_t)n;
        return x->state == ST_COLON ? key_end(x, off + n - 1) : JF_AGAIN;
    }
    end = x->depth == 1 && x->state == ST_AFTER;
    rc = keep_value_bytes(x, s, n - (size_t)(end && x->keep_str), off);
    if (rc != JF_AGAIN || !end)
        return rc;
    if (x->keep_str) {
        /* The closing quote: past the cap if need be (keep_value). */
        if (x->u8_need)
            return verdict(x, JF_E_UTF8, x->u8_off);
        x->keep[x->keep_len++] = '"';
    }
    x->keeping = KEEP_NONE;
    return JF_AGAIN;
}

/* ---- The lexer ------------------------------------------------------ */

/* The innermost open container is an object. */
static int
in_object(const struct jf_extractor *x)
{
    uint32_t d = x->depth - 1;

    return x->stack[d >> 3] >> (d & 7) & 1;
}

static enum jf_rc
open_container(struct jf_extractor *x, unsigned c)
{
    uint32_t d = x->depth;
    unsigned obj = c == '{';

    if (d == JF_MAX_DEPTH)
        return JF_E_TOO_DEEP;
    x->stack[d >> 3] = (unsigned char)((x->stack[d >> 3] & ~(1u << (d & 7))) |
                                       obj << (d & 7));
    x->depth = d + 1;
    x->state = obj ? ST_OBJ_FIRST : ST_ARR_FIRST;
    return JF_AGAIN;
}

static enum jf_rc
close_container(struct jf_extractor *x, unsigned c)
{
    if ((c == '}') != in_object(x))
        return JF_E_SYNTAX;
    x->depth--;
    x->state = x->depth ? ST_AFTER : ST_END;
    return JF_AGAIN;
}

/*
 * A number, RFC 8259 sec. 6, as a table: x->num is where in the grammar,
 * the row; the next byte's class is the column. NUM_END: the number ended
 * before the byte, which is the next token's (or a syntax error there);
 * NUM_BAD: the byte cannot come here.
 */
enum {
    NUM_MINUS,
    NUM_ZERO,
    NUM_INT,
    NUM_DOT,
    NUM_FRAC,
    NUM_EXP,
    NUM_ESIGN,
    NUM_EDIG,
    NUM_END,
    NUM_BAD
};
static const unsigned char num_next[NUM_END][6] = {
    /*            '0'       '1'-'9'   '.'      'e' 'E'  '+' '-'   other */
    [NUM_MINUS] = {NUM_ZERO, NUM_INT, NUM_BAD, NUM_BAD, NUM_BAD, NUM_BAD},
    [NUM_ZERO] = {NUM_END, NUM_END, NUM_DOT, NUM_EXP, NUM_END, NUM_END},
    [NUM_INT] = {NUM_INT, NUM_INT, NUM_DOT, NUM_EXP, NUM_END, NUM_END},
    [NUM_DOT] = {NUM_FRAC, NUM_FRAC, NUM_BAD, NUM_BAD, NUM_BAD, NUM_BAD},
    [NUM_FRAC] = {NUM_FRAC, NUM_FRAC, NUM_END, NUM_EXP, NUM_END, NUM_END},
    [NUM_EXP] = {NUM_EDIG, NUM_EDIG, NUM_BAD, NUM_BAD, NUM_ESIGN, NUM_BAD},
    [NUM_ESIGN] = {NUM_EDIG, NUM_EDIG, NUM_BAD, NUM_BAD, NUM_BAD, NUM_BAD},
    [NUM_EDIG] = {NUM_EDIG, NUM_EDIG, NUM_END, NUM_END, NUM_END, NUM_END},
};

/* Byte c starts a value. */
static enum jf_rc
lex_value(struct jf_extractor *x, unsigned c)
{
    if (x->want)
        keep_value(x, c);
    if (c == '"') {
        x->str_key = 0;
        x->state = ST_STRING;
        return JF_AGAIN;
    }
    if (c == '{' || c == '[')
        return open_container(x, c);
    if (c == '-' || is_digit(c)) {
        x->num = c == '-' ? NUM_MINUS : c == '0' ? NUM_ZERO : NUM_INT;
        x->state = ST_NUMBER;
        return JF_AGAIN;
    }
    if (c == 't' || c == 'f' || c == 'n') {
        x->lit = c == 't' ? "rue" : c == 'f' ? "alse" : "ull";
        x->state = ST_LITERAL;
        return JF_AGAIN;
    }
    return JF_E_SYNTAX;
}

/* Byte c, not whitespace, between tokens: structure, or a token starts. */
static enum jf_rc
lex_structure(struct jf_extractor *x, unsigned c)
{
    switch (x->state) {
    case ST_START:
        if (c == '{')
            return open_container(x, c);
        if (c == '[' || c == '"' || c == '-' || is_digit(c) || c == 't' ||
            c == 'f' || c == 'n')
            return JF_E_NOT_OBJECT;
        return JF_E_SYNTAX;
    case ST_OBJ_FIRST:
        if (c == '}')
            return close_container(x, c);
        /* fall through */
    case ST_OBJ_KEY:
        if (c != '"')
            return JF_E_SYNTAX;
        if (x->depth == 1)
            keep_key(x);
        x->str_key = 1;
        x->state = ST_STRING;
        return JF_AGAIN;
    case ST_COLON:
        if (c != ':')
            return JF_E_SYNTAX;
        x->state = ST_VALUE;
        return JF_AGAIN;
    case ST_ARR_FIRST:
        if (c == ']')
            return close_container(x, c);
        /* fall through */
    case ST_VALUE:
        return lex_value(x, c);
    case ST_AFTER:
        if (c == ',') {
            x->state = in_object(x) ? ST_OBJ_KEY : ST_VALUE;
            return JF_AGAIN;
        }
        if (c == '}' || c == ']')
            return close_container(x, c);
        return JF_E_SYNTAX;
    }
    return JF_E_SYNTAX; /* ST_END: a second value, or garbage */
}

/*
 * Bytes that end a run of plain string bytes: '"', '\\', and the control
 * bytes 0x00-0x1f, which RFC 8259 sec. 7 allows only escaped.
 */
#define ONES8 1, 1, 1, 1, 1, 1, 1, 1
static const unsigned char str_stop[256] = {
    ONES8, ONES8, ONES8, ONES8, ['"'] = 1, ['\\'] = 1,
};

/*
 * The first byte in [p, end) that ends a run of plain string bytes (see
 * str_stop), or end. A byte at a time: the bulk of a body's strings goes
 * through the fast path; those left here are few (16 bytes at a time with
 * SSE2 saved 0.2% of the extractor's instructions on the 1351-id job).
 */
static const unsigned char *
str_scan(const unsigned char *p, const unsigned char *end)
{
    while (p < end && !str_stop[*p])
        p++;
    return p;
}

/*
 * In a string: up to its closing quote, a backslash (an escape follows)
 * or the end of the input. A control byte is JF_E_CONTROL, at *p.
 */
static enum jf_rc
lex_string(struct jf_extractor *x, const unsigned char **p,
           const unsigned char *end)
{
    const unsigned char *s = str_scan(*p, end);

    *p = s;
    if (s == end)
        return JF_AGAIN;
    if (*s == '"') {
        x->state = x->str_key ? ST_COLON : ST_AFTER;
    } else if (*s == '\\') {
        x->esc.phase = ESC_CHAR;
        x->state = ST_ESCAPE;
    } else {
        return JF_E_CONTROL;
    }
    *p = s + 1;
    return JF_AGAIN;
}

/* The next byte of an escape (esc_step); then back to the string. */
static enum jf_rc
lex_escape(struct jf_extractor *x, const unsigned char **p)
{
    enum jf_rc rc = esc_step(&x->esc, **p);

    if (rc == JF_OK)
        x->state = ST_STRING;
    else if (rc != JF_AGAIN)
        return rc;
    (*p)++;
    return JF_AGAIN;
}

static unsigned
num_class(unsigned c)
{
    if (c == '0')
        return 0;
    if (is_digit(c))
        return 1;
    if (c == '.')
        return 2;
    if (c == 'e' || c == 'E')
        return 3;
    return c == '+' || c == '-' ? 4 : 5;
}

static enum jf_rc
lex_number(struct jf_extractor *x, const unsigned char **p,
           const unsigned char *end)
{
    const unsigned char *s = *p;
    unsigned next = x->num;

    for (; s < end; s++) {
        next = num_next[x->num][num_class(*s)];
        if (next >= NUM_END)
            break;
        x->num = (unsigned char)next;
    }
    *p = s;
    if (next == NUM_BAD)
        return JF_E_SYNTAX;
    if (next == NUM_END)
        x->state = ST_AFTER;
    return JF_AGAIN;
}

static enum jf_rc
lex_literal(struct jf_extractor *x, const unsigned char **p,
            const unsigned char *end)
{
    const unsigned char *s = *p;

    for (; s < end && *x->lit; s++, x->lit++)
        if (*s != (unsigned char)*x->lit)
            break;
    *p = s;
    if (!*x->lit) {
        x->state = ST_AFTER;
        return JF_AGAIN;
    }
    return s == end ? JF_AGAIN : JF_E_SYNTAX;
}

/* One step inside a token: its bytes up to its end, or the input's. */
static enum jf_rc
lex_token(struct jf_extractor *x, const unsigned char **p,
          const unsigned char *end)
{
    switch (x->state) {
    case ST_STRING:
        return lex_string(x, p, end);
    case ST_ESCAPE:
        return lex_escape(x, p);
    case ST_NUMBER:
        return lex_number(x, p, end);
    }
    return lex_literal(x, p, end);
}

/* ---- The fast path ------------------------------------------------- */

/*
 * Most of a body lies inside the nested objects and arrays of members
 * nobody wants, where only validity matters; compact JSON there is short
 * strings (PokeAPI's: 15 bytes on average) between single structural
 * bytes. Where it applies (nothing kept, 2 to 64 levels deep, between
 * tokens or in a string) lex_blocks() takes the body 64 bytes at a time:
 * block_marks() gives the block's quotes as bits, so a string is passed
 * from quote to quote with one ctz, and the structure is walked with the
 * state in registers. It runs only over blocks without a backslash (an
 * escape changes what a quote means) or a control byte (whitespace,
 * which compact bodies lack, or an error), and refuses any byte that is
 * not plain compact JSON (a fraction, a minus, whitespace, any error):
 * the scalar steps take it, up to the end of that block, in the state
 * lex_blocks() leaves in x. It makes no verdict of its own, so verdicts
 * and offsets are those of the scalar steps for any split (the unit
 * tests compare it with them, byte by byte being the scalar steps alone).
 * It needs SSE2 (every x86-64); elsewhere the scalar steps do it all.
 *
 * What it earns, measured with callgrind over the whole client on the
 * 1351-id job (bench/fastpath, bench/results/fastpath.md): 1.22 G
 * instructions with gzip bodies against 2.87 G without it, 58% of the
 * client's CPU saved (56% with identity bodies), for the ~330 lines from
 * here to lex_blocks' end.
 */
#define BLOCK 64

/*
 * Bit i of *quotes: s[i] is '"'. Returns nonzero if s[0..BLOCK) holds a
 * '\\' or a control byte (<= 0x1f). SSE2 (every x86-64), 16 bytes a step,
 * a control byte found as the smallest byte.
 */
#if defined(__SSE2__) && !defined(JF_NO_SIMD)
#include <emmintrin.h>

enum { FAST_PATH = 1 };

static inline int
block_marks(const unsigned char *s, uint64_t *quotes)
{
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i bslash = _mm_set1_epi8('\\');
    const __m128i c1f = _mm_set1_epi8(0x1f);
    const __m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)s);
    const __m128i v1 =
        _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
    const __m128i v2 =
        _mm_loadu_si128((const __m128i *)(const void *)(s + 32));
    const __m128i v3 =
        _mm_loadu_si128((const __m128i *)(const void *)(s + 48));
    __m128i odd;

    *quotes =
        (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v0, quote)) |
        (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v1, quote))
            << 16 |
        (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v2, quote))
            << 32 |
        (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v3, quote)) << 48;
    odd = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v0, bslash), _mm_cmpeq_epi8(v1, bslash)),
        _mm_or_si128(_mm_cmpeq_epi8(v2, bslash), _mm_cmpeq_epi8(v3, bslash)));
    odd = _mm_or_si128(
        odd, _mm_cmpeq_epi8(_mm_max_epu8(_mm_min_epu8(_mm_min_epu8(v0, v1),
                                                      _mm_min_epu8(v2, v3)),
                                         c1f),
                            c1f));
    return _mm_movemask_epi8(odd);
}
#else
/*
 * Without SSE2 there is no fast path: the scalar steps, its twin, do it
 * all (test_jfield_nosimd runs them so). A portable 64-byte scan cost
 * more than it spared: over 300 bodies 1.42 G instructions against
 * 0.98 G for the scalar steps alone, measured with -DJF_NO_SIMD.
 */
enum { FAST_PATH = 0 };

static inline int
block_marks(const unsigned char *s, uint64_t *quotes)
{
    (void)s;
    *quotes = 0;
    return 1;
}
#endif

/* The blocks being lexed: [b, be), its quotes not yet passed in q. */
struct blocks {
    const unsigned char *b, *be, *end;
    uint64_t q;
};

/*
 * Moves on to the block at be. Returns 0 if it is not for the fast path:
 * fewer than BLOCK bytes left (be is then the end of the input), or a
 * backslash or a control byte in it. The one function that loads a
 * block: lex_blocks' refill calls it, and block_quote for a string that
 * goes on into the next block.
 */
static inline int
block_next(struct blocks *k)
{
    k->b = k->be;
    if (k->end - k->b < BLOCK) {
        k->be = k->end;
        return 0;
    }
    k->be = k->b + BLOCK;
    return !block_marks(k->b, &k->q);
}

/*
 * From inside a string to just past its closing quote, the lowest quote
 * left in q (the opening one is gone), loading the blocks the string goes
 * on into right here: returns 1. 0 if one of them is not for the fast
 * path (block_next), *p then its start. Measured with callgrind over the
 * whole client on the 1351-id job, this saves 24.2 M instructions (2.0%,
 * gzip or identity bodies) against going back through lex_blocks'
 * dispatch for each block a string crosses. The loop sits under an if
 * so that gcc does not load block_marks' constants before every string
 * (a plain while cost 11 M more than that dispatch).
 */
static inline int
block_quote(struct blocks *k, const unsigned char **p)
{
    if (!k->q) {
        do {
            if (!block_next(k)) {
                *p = k->b;
                return 0;
            }
        } while (!k->q);
    }
    *p = k->b + __builtin_ctzll(k->q) + 1;
    k->q &= k->q - 1;
    return 1;
}

/*
 * c, just before *p, starts a value: if it is an integer or a literal
 * whole before end, with the byte after it, moves *p past it and returns
 * 1. Else 0 (a fraction, an exponent, a minus, anything cut by the end:
 * the scalar steps'). Neither holds a quote, so it may run on into the
 * next block.
 */
static int
block_scalar(const unsigned char **p, const unsigned char *end, unsigned c)
{
    const unsigned char *s = *p - 1, *t = *p;

    if (c - '1' < 9u) {
        while (t < end && is_digit(*t))
            t++;
    } else if (c != '0') {
        if (end - s < 5)
            return 0; /* "true" or "null", and the byte after */
        if (c == 't' && memcmp(s, "true", 4) == 0)
            t = s + 4;
        else if (c == 'n' && memcmp(s, "null", 4) == 0)
            t = s + 4;
        else if (c == 'f' && end - s > 5 && memcmp(s, "false", 5) == 0)
            t = s + 5;
        else
            return 0;
    }
    if (t == end || *t == '.' || (*t | 0x20) == 'e')
        return 0;
    *p = t;
    return 1;
}

/* The first 64 levels of x->stack as one word: bit d is level d + 1. */
static uint64_t
stack_word(const struct jf_extractor *x)
{
    uint64_t w = 0;
    int i;

    for (i = 0; i < 8; i++)
        w |= (uint64_t)x->stack[i] << 8 * i;
    return w;
}

/* Leaves lex_blocks: x takes the state it kept in registers. */
static void
blocks_leave(struct jf_extractor *x, unsigned st, unsigned key, uint64_t stack,
             uint64_t lvl)
{
    int i;

    for (i = 0; i < 8; i++)
        x->stack[i] = (unsigned char)(stack >> 8 * i);
    x->depth = (uint32_t)__builtin_ctzll(lvl) + 1;
    x->state = (unsigned char)st;
    x->str_key = (unsigned char)key;
}

/*
 * Opens an object or array ('{' or '[' in c) a level below *lvl in
 * stack; 0 if that would be past the word (the scalar steps' then).
 */
static inline int
block_open(uint64_t *stack, uint64_t *lvl, unsigned c)
{
    if (*lvl >> 63)
        return 0;
    *lvl <<= 1;
    *stack = c == '{' ? *stack | *lvl : *stack & ~*lvl;
    return 1;
}

/* Closes the innermost level if c is its closing bracket; else 0. */
static inline int
block_close(uint64_t stack, uint64_t *lvl, unsigned c)
{
    if (c != (stack & *lvl ? '}' : ']'))
        return 0;
    *lvl >>= 1;
    return 1;
}

/*
 * Lexes from p on, a block at a time (see above). Each state is a label
 * that goes straight to the next, a body's usual run of "key":"value",
 * pairs costing no dispatch; st follows, so that refill can load the
 * next block and come back to it, and wherever it stops x gets it. On
 * the path of a key, its string value and the next key, st (and key)
 * are set only where it may stop: setting them at each label cost 7.8 M
 * instructions more over the whole client on the 1351-id job (0.6%),
 * measured with callgrind. The innermost level is bit lvl of stack
 * (set: an object). Returns where it stopped; *slow: how far the scalar
 * steps are to go from there first.
 * Kept out of line: inlined into jf_feed, the extractor took 14% more
 * time (register pressure), measured; the call is once per input.
 */
__attribute__((noinline)) static const unsigned char *
lex_blocks(struct jf_extractor *x, const unsigned char *p,
           const unsigned char *end, const unsigned char **slow)
{
    struct blocks k = {p, p, end, 0};
    unsigned c, st = x->state, key = x->str_key;
    uint64_t stack = stack_word(x), lvl = (uint64_t)1 << (x->depth - 1);

refill: /* p is past this block: the next one, then back to state st */
    while (p >= k.be)
        if (!block_next(&k))
            goto out;
    if (st == ST_STRING && key)
        goto key_str;
    switch (st) { /* and ST_AFTER below */
    case ST_STRING:
        goto value_str;
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
    }
    goto after;
obj_first:
    st = ST_OBJ_FIRST; /* '}' is refused: the scalar steps take "{}" */
    goto key_next;
obj_key:
    st = ST_OBJ_KEY;
key_next:
    if (p >= k.be)
        goto refill;
    if (*p++ != '"')
        goto refuse;
key:
    k.q &= k.q - 1; /* the opening quote */
key_str:
    if (!block_quote(&k, &p)) {
        key = 1;
        goto string_out;
    }
    if (k.be - p >= 2 && p[0] == ':') {
        c = p[1]; /* compact bodies: ':' and the value after a key */
        p += 2;
        goto value_c;
    }
colon:
    st = ST_COLON;
    if (p >= k.be)
        goto refill;
    if (*p++ != ':')
        goto refuse;
value:
    st = ST_VALUE;
    if (p >= k.be)
        goto refill;
    c = *p++;
value_c: /* ST_VALUE, but st is set on the way out only */
    if (c == '"')
        goto value_quote;
    if ((c == '{' || c == '[') && !block_open(&stack, &lvl, c))
        goto refuse_value;
    if (c == '{')
        goto obj_first;
    if (c == '[')
        goto arr_first;
    if (block_scalar(&p, end, c))
        goto after;
refuse_value:
    st = ST_VALUE;
    goto refuse;
arr_first: /* ']' or whitespace: the scalar steps'; else it is ST_VALUE */
    st = ST_ARR_FIRST;
    if (p >= k.be)
        goto refill;
    if ((c = *p++) == ']' || c <= ' ')
        goto refuse;
    goto value_c;
value_quote:
    k.q &= k.q - 1;
value_str:
    if (!block_quote(&k, &p)) {
        key = 0;
        goto string_out;
    }
    if (k.be - p >= 2 && p[0] == ',' && p[1] == '"' && (stack & lvl)) {
        p += 2; /* compact bodies: a string value, ',' and the next key */
        goto key;
    }
after:
    st = ST_AFTER;
    if (p >= k.be)
        goto refill;
    if ((c = *p++) == ',' && (stack & lvl))
        goto obj_key;
    if (c == ',')
        goto value;
    if (!block_close(stack, &lvl, c))
        goto refuse;
    if (lvl != 1)
        goto after;
    goto out; /* back at the top level: the scalar steps' */
string_out:
    st = ST_STRING;
    goto out;
refuse:
    p--; /* the byte refused is the scalar steps' */
out:
    blocks_leave(x, st, key, stack, lvl);
    *slow = k.be;
    return p;
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
    return 0;
}

/*
 * One scalar step of the lexer: between tokens, whitespace and then one
 * byte (lex_structure); inside a token, as far as it goes (lex_token).
 * Then keep takes what it is copying (keep_step). A step that finds an
 * error leaves *p at the offending byte, and keep takes the bytes before
 * it first: a problem there comes first in byte order. base: the input's
 * start, for offsets.
 */
static enum jf_rc
lex_step(struct jf_extractor *x, const unsigned char **p,
         const unsigned char *end, const unsigned char *base)
{
    const unsigned char *q;
    enum jf_rc rc, krc;

    if (x->state < ST_STRING) {
        while (*p < end && is_ws(**p))
            (*p)++;
        if (*p == end)
            return JF_AGAIN;
        q = *p;
        rc = lex_structure(x, **p);
        *p += rc == JF_AGAIN;
    } else {
        q = *p;
        rc = lex_token(x, p, end);
    }
    if (x->keeping) {
        krc = keep_step(x, q, (size_t)(*p - q),
                        x->consumed + (uint64_t)(q - base));
        if (krc != JF_AGAIN)
            return krc; /* keep_step set error_offset */
    }
    if (rc != JF_AGAIN) {
        x->err_byte = **p;
        verdict(x, rc, x->consumed + (uint64_t)(*p - base));
    }
    return rc;
}

/*
 * Scalar steps, and the fast path wherever it applies: nothing being
 * kept, 2 to 64 levels deep, in a string or where a key, a value or what
 * follows a value is next (other states last a byte or two: a scalar
 * step gets past them).
 */
enum jf_rc
jf_feed(struct jf_extractor *x, const char *data, size_t len)
{
    const unsigned char *base = (const unsigned char *)data, *p, *end;
    const unsigned char *slow; /* no fast path before this */
    enum jf_rc rc = JF_AGAIN;

    if (x->err) {
        x->consumed += len;
        return (enum jf_rc)x->err;
    }
    if (len == 0)
        return JF_AGAIN; /* data may be NULL: no arithmetic on it */
    end = base + len;
    for (p = slow = base; p < end && rc == JF_AGAIN;) {
        if (FAST_PATH && p >= slow && !x->keeping && x->depth - 2 < 63 &&
            (x->state <= ST_AFTER || x->state == ST_STRING))
            p = lex_blocks(x, p, end, &slow);
        else
            rc = lex_step(x, &p, end, base);
    }
    x->consumed += len;
    return rc;
}

enum jf_rc
jf_finish(struct jf_extractor *x, char *out, size_t cap, size_t *out_len)
{
    jsmn_parser jp;
    jsmntok_t tok[JF_NTOK];
    const jsmntok_t *v = &tok[2];
    size_t n;
    long dec;

    if (x->err)
        return (enum jf_rc)x->err;
    if (x->state != ST_END)
        return verdict(x, JF_E_TRUNCATED, x->consumed);

    /* keep holds '{' and the wanted member, if any; room for '}'. */
    x->keep[x->keep_len] = '}';
    jsmn_init(&jp);
    if (jsmn_parse(&jp, x->keep, x->keep_len + 1, tok, JF_NTOK) < 1 ||
        tok[0].type != JSMN_OBJECT)
        return verdict(x, JF_E_SYNTAX, x->consumed); /* cannot happen */
    if (tok[0].size == 0)
        return verdict(x, JF_E_NO_KEY, x->consumed);
    n = (size_t)(v->end - v->start);
    if (v->type == JSMN_STRING) {
        dec = unescape(x->keep + v->start, n, out, cap);
        if (dec < 0)
            return JF_E_TOO_LONG; /* the caller's buffer: not sticky */
        x->value_json = 0;
        *out_len = (size_t)dec;
        return JF_OK;
    }
    if (n > cap)
        return JF_E_TOO_LONG;
    memcpy(out, x->keep + v->start, n);
    *out_len = n;
    x->value_json = 1;
    return JF_OK;
}

const char *
jf_strerror(enum jf_rc rc)
{
    switch (rc) {
    case JF_OK:
        return "ok";
    case JF_AGAIN:
        return "more input expected";
    case JF_E_SYNTAX:
        return "invalid JSON";
    case JF_E_CONTROL:
        return "raw control byte in a string";
    case JF_E_ESCAPE:
        return "invalid escape in a string";
    case JF_E_SURROGATE:
        return "lone surrogate in a string";
    case JF_E_UTF8:
        return "invalid UTF-8";
    case JF_E_NOT_OBJECT:
        return "top-level value is not an object";
    case JF_E_TRUNCATED:
        return "JSON text truncated";
    case JF_E_NO_KEY:
        return "key not found at top level";
    case JF_E_DUP_KEY:
        return "key occurs more than once at top level";
    case JF_E_TOO_DEEP:
        return "nesting too deep";
    case JF_E_TOO_LONG:
        return "value too long";
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
        if (x->esc.phase == ESC_HEX || x->esc.phase == ESC_LOW_HEX)
            snprintf(out, cap, "%s where a \\u escape needs a hex digit", bt);
        else
            snprintf(out, cap, "invalid escape: %s after a backslash", bt);
        break;
    case JF_E_SURROGATE:
        if (x->esc.phase != ESC_HEX)
            snprintf(out, cap,
                     "lone surrogate \\u%04x (no low half after "
                     "it) in a string",
                     (unsigned)x->esc.hi);
        else
            snprintf(out, cap,
                     "lone surrogate \\u%04x (a low half alone) in "
                     "a string",
                     (unsigned)x->esc.cp);
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
