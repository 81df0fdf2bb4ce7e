/*
 * jfield - stream a JSON body through and extract the value of one
 * top-level key, in a fixed amount of memory whatever the body size.
 *
 * How: a small validating lexer walks every byte as it arrives (strings,
 * escapes, numbers, literals, nesting up to JF_MAX_DEPTH), so invalid JSON
 * anywhere in the body is caught. Of the document it keeps only what can
 * matter for the answer: the top-level members whose key equals the wanted
 * key (compared after decoding escapes); every other member's nested
 * objects and arrays are lexed and dropped. The wanted member, wrapped as
 * an object, goes to jsmn (strict mode, parent links, a fixed token array
 * on the stack) at jf_finish(), and the value is read from its tokens.
 *
 * The value: a string is decoded to UTF-8; a number, true, false or null
 * is its JSON text as written; an object or array is its JSON text made
 * compact (no whitespace between tokens; strings, escapes included, as
 * written). A non-string value's strings are checked for well-formed
 * UTF-8 like a string value, so every value handed out is UTF-8.
 *
 * Pure: no I/O, no clock, no malloc, no printing. Same result for any
 * split of the body into jf_feed() calls.
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

#define JF_MAX_KEY 256     /* the wanted key, in decoded bytes */
#define JF_MAX_VALUE 1024  /* the value, raw JSON bytes */
#define JF_MAX_DEPTH 512   /* nesting of objects and arrays */
#define JF_KEEP_CAP (JF_MAX_KEY * 6 + JF_MAX_VALUE + 64)

enum jf_rc {
    JF_OK = 0,
    JF_AGAIN,        /* jf_feed: fine so far, more bytes welcome */
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

struct jf_extractor {
    /* Results and diagnostics, read by the caller. */
    uint64_t consumed;     /* body bytes fed so far */
    uint64_t error_offset; /* on error: offset of the offending byte */
    int value_json;        /* after JF_OK: the value is JSON text */

    /*
     * Private state: fields below may change without notice. jf_begin()
     * zeroes everything before key; keep needs no clearing.
     */
    uint64_t val_off;     /* body offset of the kept value's first byte */
    uint64_t u8_off;      /* capture: body offset of a UTF-8 sequence */
    const char *lit;      /* rest of the literal being matched */
    uint32_t key_len;     /* wanted key, decoded bytes */
    uint32_t depth;       /* open objects and arrays */
    uint32_t keep_len;    /* bytes used in keep */
    uint32_t keep_lim;    /* keep_len may not pass this while copying */
    uint32_t member_off;  /* keep offset where the current top key began */
    uint32_t val_keep;    /* keep offset of the kept value */
    uint32_t kpos;        /* decoded bytes of the top key matched so far */
    uint32_t u;           /* \u hex digits read so far */
    uint32_t hi;          /* high surrogate waiting for its low half */
    unsigned char state;  /* lexer state (enum in jfield.c) */
    unsigned char ret;    /* string state to resume after an escape */
    unsigned char nhex;   /* hex digits read in this \u escape */
    unsigned char err;    /* sticky verdict, 0 while none */
    unsigned char obj;    /* innermost open container is an object */
    unsigned char kmatch; /* top key still equal to a prefix of key */
    unsigned char copy;   /* bytes being lexed are copied to keep */
    unsigned char want;   /* the next top-level value is the key's */
    unsigned char found;  /* the key has been seen at the top level */
    unsigned char low;    /* reading the low half of a surrogate pair */
    unsigned char capture; /* a non-string value is being kept */
    unsigned char cap_str; /* capture: inside a string */
    unsigned char cap_esc; /* capture: after a backslash in a string */
    unsigned char u8_need; /* capture: continuation bytes still due */
    unsigned char u8_lo, u8_hi; /* capture: range of the next one */
    unsigned char err_byte; /* on error: the offending byte */
    unsigned char stack[JF_MAX_DEPTH / 8]; /* bit d: level d+1 is object */
    char key[JF_MAX_KEY];
    char keep[JF_KEEP_CAP]; /* "{" + the key's member, "}" at finish */
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
