/*
 * jfield - stream a JSON body through and extract the value of one
 * top-level key, in a fixed amount of memory whatever the body size.
 *
 * How: a validating lexer walks every byte as it arrives (strings,
 * escapes, numbers, literals, nesting up to JF_MAX_DEPTH), so invalid JSON
 * anywhere in the body is caught. Only the top level is kept, and of it
 * only what can matter: each top-level key while it is read, and the
 * wanted key's member; other members' values, nested or not, are lexed
 * and dropped. jsmn (strict mode, parent links, a fixed token array on
 * the stack) tokenizes what is kept: each top-level key that may be the
 * wanted one, which is then compared with the wanted key after decoding
 * its escapes (so "n\u0061me" is "name"), and at jf_finish() the kept
 * member, whose value is read from its token. A key whose raw form is
 * longer than 6 bytes per byte of the wanted key cannot decode to it and
 * is not kept; nor can one shorter than the wanted key, or longer
 * without a backslash, and jsmn does not see those.
 *
 * The value: a string is decoded to UTF-8; a number, true, false or null
 * is its JSON text as written; an object or array is its JSON text made
 * compact (no whitespace between tokens; strings, escapes included, as
 * written). A non-string value's strings are checked for well-formed
 * UTF-8 like a string value, so every value handed out is UTF-8.
 *
 * Pure: no I/O, no clock, no malloc, no printing; all state is in struct
 * jf_extractor (about 3 KiB, most of it keep). Same result, the same
 * verdict and error_offset included, for any split of the body into
 * jf_feed() calls: when a body has several problems, the first in byte
 * order is the verdict.
 *
 * Verdicts (jf_finish):
 *   JF_OK           the key occurs exactly once at the top level; *out
 *                   holds its value (above), no NUL added, and value_json
 *                   says whether it is JSON text (1) or a decoded string.
 *   JF_E_SYNTAX     the body is not one valid JSON text (RFC 8259): an
 *                   unexpected byte, trailing garbage, unbalanced brackets.
 *                   The specific string faults have verdicts of their own:
 *   JF_E_CONTROL    a raw control byte (below 0x20) in a string;
 *   JF_E_ESCAPE     an invalid escape (\q, or \u without four hex digits);
 *   JF_E_SURROGATE  a \u escape of a lone surrogate (a high half without a
 *                   low half after it, or a low half alone);
 *   JF_E_UTF8       raw bytes that are not well-formed UTF-8 in the value
 *                   (other strings are not checked).
 *   JF_E_NOT_OBJECT the top-level value is not an object.
 *   JF_E_TRUNCATED  the body ended inside the JSON text.
 *   JF_E_NO_KEY     valid, but the key is not a top-level member.
 *   JF_E_DUP_KEY    the key occurs more than once at the top level.
 *   JF_E_TOO_DEEP   nesting deeper than JF_MAX_DEPTH.
 *   JF_E_TOO_LONG   the value is longer than JF_MAX_VALUE bytes: a
 *                   string's raw bytes between the quotes, or the compact
 *                   JSON text of any other value (or more than the cap
 *                   given to jf_finish).
 * The same key nested deeper is never the top-level one.
 */
#ifndef POKEFETCH_JFIELD_H
#define POKEFETCH_JFIELD_H

#include <stddef.h>
#include <stdint.h>

#define JF_MAX_KEY 256    /* the wanted key, in decoded bytes */
#define JF_MAX_VALUE 1024 /* the value, raw JSON bytes */
#define JF_MAX_DEPTH 512  /* nesting of objects and arrays */
/*
 * keep: '{', then the wanted member ("":, the key being known, and the
 * value with its quotes), then '{' and a top-level key of at most 6 raw
 * bytes per decoded byte while jsmn tokenizes it; '}' at jf_finish().
 */
#define JF_KEEP_CAP (6 * JF_MAX_KEY + 2 + JF_MAX_VALUE + 8)

enum jf_rc {
    JF_OK = 0,
    JF_AGAIN, /* jf_feed: fine so far, more bytes welcome */
    JF_E_SYNTAX,
    JF_E_CONTROL,
    JF_E_ESCAPE,
    JF_E_SURROGATE,
    JF_E_UTF8,
    JF_E_NOT_OBJECT,
    JF_E_TRUNCATED,
    JF_E_NO_KEY,
    JF_E_DUP_KEY,
    JF_E_TOO_DEEP,
    JF_E_TOO_LONG,
};

/* One backslash escape being decoded (private to jfield.c). */
struct jf_escape {
    uint32_t cp;         /* the code point, as far as read */
    uint32_t hi;         /* a high surrogate waiting for its low half */
    unsigned char phase; /* where in the escape */
    unsigned char nhex;  /* hex digits read of this \uXXXX */
};

struct jf_extractor {
    /* Results and diagnostics, read by the caller. */
    uint64_t consumed;     /* body bytes fed so far */
    uint64_t error_offset; /* on error: offset of the offending byte */
    int value_json;        /* after JF_OK: the value is JSON text */

    /*
     * Private state: fields below may change without notice. jf_begin()
     * zeroes everything before key; keep needs no clearing.
     */
    const char *lit;            /* lexer: the rest of true, false or null */
    struct jf_escape esc;       /* lexer: the escape being read */
    uint32_t depth;             /* lexer: open objects and arrays */
    uint32_t key_len;           /* wanted key, decoded bytes */
    uint32_t keep_len;          /* keep: bytes used */
    uint32_t keep_lim;          /* keep: what is kept may not pass this */
    uint32_t keep_mark;         /* keep: the '{' before the key being read */
    uint64_t u8_off;            /* keep: body offset of a UTF-8 sequence */
    unsigned char state;        /* lexer: where in the grammar */
    unsigned char num;          /* lexer: where in a number */
    unsigned char str_key;      /* lexer: the string is a key */
    unsigned char err;          /* sticky verdict, 0 while none */
    unsigned char err_byte;     /* on error: the offending byte */
    unsigned char keeping;      /* keep: what is being copied */
    unsigned char want;         /* keep: the next value is the key's */
    unsigned char found;        /* keep: holds the wanted member */
    unsigned char keep_str;     /* keep: the value is a string */
    unsigned char u8_need;      /* keep: continuation bytes still due */
    unsigned char u8_lo, u8_hi; /* keep: range of the next one */
    unsigned char stack[JF_MAX_DEPTH / 8]; /* bit d: level d+1 is object */
    char key[JF_MAX_KEY];
    char keep[JF_KEEP_CAP];
};

/*
 * Start extracting key (key_len bytes, 1..JF_MAX_KEY) from a new body.
 * Returns 0, or -EINVAL if the key length is out of range. The key is
 * copied; the caller's buffer need not outlive the call.
 */
int jf_begin(struct jf_extractor *x, const char *key, size_t key_len);

/*
 * Feed the next body bytes. Returns JF_AGAIN while the body is valid so
 * far, or an error (sticky: later calls return it again) as soon as one
 * is certain. Never reads data[len].
 */
enum jf_rc jf_feed(struct jf_extractor *x, const char *data, size_t len);

/*
 * The body is complete. Returns the verdict (see the table above). On
 * JF_OK the value (a decoded string, or JSON text: x->value_json says
 * which) is written to out (cap bytes, which must be at least
 * JF_MAX_VALUE) and its length to *out_len.
 */
enum jf_rc jf_finish(struct jf_extractor *x, char *out, size_t cap,
                     size_t *out_len);

/* A short English description, e.g. "key not found at top level". */
const char *jf_strerror(enum jf_rc rc);

/*
 * Write the reason a body gave no value, for a person: what is wrong with
 * the key (key is the wanted key, NUL-terminated), or what is wrong in the
 * body and at which byte ("raw TAB in a string at byte 12"). Both
 * transports report the same words this way. The key and the offending
 * byte are written as they are: the printing side escapes them.
 */
void jf_explain(const struct jf_extractor *x, enum jf_rc rc, const char *key,
                char *out, size_t cap);

#endif
