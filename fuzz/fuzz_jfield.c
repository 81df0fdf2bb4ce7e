/*
 * fuzz_jfield.c - libFuzzer harness for the streaming JSON field
 * extractor (include/jfield.h): the same body fed three ways must give
 * the same verdict, and that verdict must be the one a second, plain
 * implementation written here gives.
 *
 * Input: 3 control bytes, maybe a key, then the body.
 *   c0 & 15  which key to extract: keys[c0 & 15], or for 15 a key taken
 *            from the input: one length byte L (0 counts as 1), then L
 *            bytes (any bytes: keys are compared as decoded bytes)
 *   c1, c2   how the split run cuts the body (fuzz.h)
 *
 * Runs: all at once, cut as c1/c2 say, one byte at a time; each piece
 * flush against the end of a heap block, the extractor on the heap, with
 * junk before jf_begin. Across runs: same verdict, same value bytes,
 * same error_offset. Within a run: jf_feed gives JF_AGAIN or an error
 * that can be certain before the end (never OK, TRUNCATED or NO_KEY),
 * errors are sticky through jf_feed and jf_finish, the offending byte of
 * a jf_feed error was fed, consumed counts the bytes, and a value fits
 * JF_MAX_VALUE.
 *
 * The reference (ref_*) is recursive descent over the whole body, RFC
 * 8259 plus jfield.h: objects, arrays, strings (escapes, \uXXXX, a high
 * surrogate only with a low one after it, no lone low one, no raw byte
 * below 0x20), numbers, literals, whitespace, nesting up to JF_MAX_DEPTH
 * open containers. It finds the top-level members whose decoded key is
 * the wanted key and decodes the first one's string value, checking its
 * raw UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF); any other
 * value is its text with the whitespace between tokens taken out, at most
 * JF_MAX_VALUE bytes of it, its strings' raw UTF-8 checked as well
 * (ref_capture, run when the value ends or a verdict stops it half way;
 * a sequence that the byte past the cap breaks is the earlier problem).
 * Each problem has the verdict jfield.h gives it: a raw control byte in a
 * string CONTROL, a bad escape or hex digit ESCAPE, an unpaired surrogate
 * escape SURROGATE, bad UTF-8 in the value UTF8, other bad bytes SYNTAX.
 *
 * Several problems in one body: the verdict is the first problem in byte
 * order, each at the byte that makes it certain (jfield.c states this;
 * jfield.h does not say which verdict wins). The reference stops at that
 * byte and also says which byte(s) error_offset may name. Where the
 * header leaves a corner open the reference allows a second verdict:
 *   - invalid UTF-8 in the string value and then the end of the body,
 *     before the closing quote: UTF8 (it came first) or TRUNCATED;
 *   - invalid UTF-8 in the string value, then another problem in it
 *     (a control byte, a bad escape): either verdict;
 *   - the 1025th raw byte of the string value is itself malformed: that
 *     problem's verdict or TOO_LONG (both are certain at that byte);
 *   - a matching top-level key longer than JF_MAX_KEY raw bytes: the
 *     header lists it under TOO_LONG, jfield.c matches it normally;
 *     either is taken (the reference is run both ways).
 * Raw UTF-8 outside the value is not checked: jfield.c says so, and the
 * header only asks for the value to be UTF-8.
 */
#include "fuzz.h"
#include "jfield.h"

#include <errno.h>

#define CTL_LEN 3
#define KEY_FROM_INPUT 15
#define NONE (-1)

enum how { ONE_SHOT, SPLIT, BYTEWISE };

/* Keys the first byte picks; index 9 is made of JF_MAX_KEY bytes. */
static const struct {
    const char *s;
    size_t len;
} keys[KEY_FROM_INPUT] = {
    {"name", 4},
    {"a", 1},
    {"n\xc3\xa9", 3}, /* "n\u00e9" decoded */
    {"id", 2},
    {"a\"b", 3},
    {"\\", 1},
    {"\0", 1},
    {"\xf0\x9f\x98\x80", 4}, /* U+1F600, "\ud83d\ude00" in JSON */
    {"/", 1},
    {NULL, JF_MAX_KEY},
    {"\n", 1},
    {"\xff", 1}, /* not UTF-8: only a raw 0xff key equals it */
    {"sprites", 7},
    {"name\0x", 6},
    {"\xed\xa0\x80", 3}, /* an encoded surrogate: raw bytes only */
};

/* ---- The reference ------------------------------------------------ */

enum { STR_PLAIN, STR_KEY, STR_VALUE };
enum { S_NORMAL, S_ESC, S_HEX, S_LOW_BS, S_LOW_U };

struct ref {
    const unsigned char *s;
    size_t n, i;
    const char *key;
    size_t key_len;
    int long_key_rule; /* apply the header's raw-key TOO_LONG clause */
    int saw_long_key;  /* ... and it decided the verdict */

    int rc, alt;       /* the verdict, and another one allowed or NONE */
    int off_known;     /* error_offset must be in [off_lo, off_hi] */
    size_t off_lo, off_hi;

    int found, is_string;
    int capturing;      /* inside the kept value, which is not a string */
    size_t cap_start;   /* ... which starts here */
    unsigned char *val; /* the decoded value, n bytes of room */
    size_t val_len;
    unsigned char *tmp; /* a decoded top-level key, n bytes of room */
};

static int ref_capture(struct ref *r, size_t upto);

/* The verdict: the first problem in byte order (see ref_capture). */
static int
stop(struct ref *r, int rc, int alt, size_t lo, size_t hi, int known)
{
    r->rc = rc;
    r->alt = alt;
    r->off_lo = lo;
    r->off_hi = hi;
    r->off_known = known;
    if (r->capturing) {
        /* The kept value so far may hold an earlier problem. */
        r->capturing = 0;
        (void)ref_capture(r, rc == JF_E_TRUNCATED ? r->n : lo);
    }
    return -1;
}

static int
syntax_at(struct ref *r, size_t at)
{
    return stop(r, JF_E_SYNTAX, NONE, at, at, 1);
}

static int
truncated(struct ref *r)
{
    return stop(r, JF_E_TRUNCATED, NONE, r->n, r->n, 0);
}

static int
ref_ws(unsigned c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_ws(struct ref *r)
{
    while (r->i < r->n && ref_ws(r->s[r->i]))
        r->i++;
}

static int
ref_digit(unsigned c)
{
    return c >= '0' && c <= '9';
}

static int
ref_hex(unsigned c)
{
    if (ref_digit(c))
        return (int)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (int)(c - 'A' + 10);
    return -1;
}

/* Appends code point cp as UTF-8 to out[*o]. */
static void
put_utf8(unsigned char *out, size_t *o, uint32_t cp)
{
    if (!out)
        return;
    if (cp < 0x80) {
        out[(*o)++] = (unsigned char)cp;
    } else if (cp < 0x800) {
        out[(*o)++] = (unsigned char)(0xc0 | cp >> 6);
        out[(*o)++] = (unsigned char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*o)++] = (unsigned char)(0xe0 | cp >> 12);
        out[(*o)++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*o)++] = (unsigned char)(0x80 | (cp & 0x3f));
    } else {
        out[(*o)++] = (unsigned char)(0xf0 | cp >> 18);
        out[(*o)++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        out[(*o)++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*o)++] = (unsigned char)(0x80 | (cp & 0x3f));
    }
}

/*
 * A UTF-8 sequence starts with byte c (>= 0x80): how many continuation
 * bytes it needs, and the range of the first one (RFC 3629 sec. 4);
 * 0 if c starts none.
 */
static unsigned
ref_lead(unsigned c, unsigned *lo, unsigned *hi)
{
    *lo = 0x80;
    *hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        return 1;
    if (c >= 0xe0 && c <= 0xef) {
        *lo = c == 0xe0 ? 0xa0 : 0x80;
        *hi = c == 0xed ? 0x9f : 0xbf;
        return 2;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        *lo = c == 0xf0 ? 0x90 : 0x80;
        *hi = c == 0xf4 ? 0x8f : 0xbf;
        return 3;
    }
    return 0;
}

/*
 * A string at s[i] == '"'. Decodes into out (if not NULL), sets *olen
 * and *raw (content bytes between the quotes). STR_VALUE also checks
 * the raw UTF-8 and the JF_MAX_VALUE limit. Returns 0 or -1 (verdict).
 */
static int
ref_string(struct ref *r, int kind, unsigned char *out, size_t *olen,
           size_t *raw)
{
    int value = kind == STR_VALUE, syn, h, bad = 0, low = 0;
    unsigned st = S_NORMAL, nhex = 0, need = 0, c;
    unsigned lo = 0x80, hi = 0xbf;
    uint32_t cp = 0, high = 0;
    size_t j, o = 0, at, seq = 0, bad_lo = 0, bad_hi = 0;

    r->i++;
    for (j = 0;; j++, r->i++) {
        at = r->i;
        if (at == r->n) {
            if (bad)
                return stop(r, JF_E_UTF8, JF_E_TRUNCATED, bad_lo, bad_hi, 1);
            return truncated(r);
        }
        c = r->s[at];
        syn = 0;

        /* UTF-8 of the value's raw bytes, up to the first bad one. */
        if (value && st == S_NORMAL && !bad) {
            if (need) {
                if (c >= lo && c <= hi) {
                    need--;
                    lo = 0x80;
                    hi = 0xbf;
                } else {
                    bad = 1;
                    bad_lo = seq;
                    bad_hi = at;
                }
            } else if (c >= 0x80) {
                seq = at;
                need = ref_lead(c, &lo, &hi);
                if (!need) {
                    bad = 1;
                    bad_lo = bad_hi = at;
                }
            }
        }

        switch (st) {
        case S_NORMAL:
            if (c == '"') {
                if (bad)
                    return stop(r, JF_E_UTF8, NONE, bad_lo, bad_hi, 1);
                r->i++;
                *olen = o;
                *raw = j;
                return 0;
            }
            if (c < 0x20)
                syn = JF_E_CONTROL;
            else if (c == '\\')
                st = S_ESC;
            else if (out)
                out[o++] = (unsigned char)c;
            break;
        case S_ESC:
            st = S_NORMAL;
            switch (c) {
            case '"': case '\\': case '/': break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u':
                st = S_HEX;
                nhex = 0;
                cp = 0;
                low = 0;
                break;
            default:
                syn = JF_E_ESCAPE;
            }
            if (!syn && st == S_NORMAL && out)
                out[o++] = (unsigned char)c;
            break;
        case S_HEX:
            if ((h = ref_hex(c)) < 0) {
                syn = JF_E_ESCAPE;
                break;
            }
            cp = cp << 4 | (uint32_t)h;
            if (++nhex < 4)
                break;
            if (low) {
                if (cp < 0xdc00 || cp > 0xdfff) {
                    syn = JF_E_SURROGATE;
                    break;
                }
                cp = 0x10000 + ((high - 0xd800) << 10) + (cp - 0xdc00);
            } else if (cp >= 0xd800 && cp <= 0xdbff) {
                high = cp;
                st = S_LOW_BS;
                break;
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                syn = JF_E_SURROGATE;
                break;
            }
            put_utf8(out, &o, cp);
            st = S_NORMAL;
            break;
        case S_LOW_BS:
            if (c == '\\')
                st = S_LOW_U;
            else
                syn = JF_E_SURROGATE;
            break;
        case S_LOW_U:
            if (c == 'u') {
                st = S_HEX;
                nhex = 0;
                cp = 0;
                low = 1;
            } else {
                syn = JF_E_SURROGATE;
            }
            break;
        }

        /* This byte is the (JF_MAX_VALUE + 1)th between the quotes. */
        if (value && j >= JF_MAX_VALUE) {
            if (bad && syn)
                return stop(r, JF_E_UTF8, syn, bad_lo, at, 1);
            if (bad)
                return stop(r, JF_E_UTF8,
                            bad_hi == at ? JF_E_TOO_LONG : NONE, bad_lo,
                            bad_hi, 1);
            if (syn)
                return stop(r, syn, JF_E_TOO_LONG, at, at, 1);
            return stop(r, JF_E_TOO_LONG, NONE, at, at, 1);
        }
        if (syn) {
            if (bad)
                return stop(r, JF_E_UTF8, syn, bad_lo, at, 1);
            return stop(r, syn, NONE, at, at, 1);
        }
    }
}

static int
ref_literal(struct ref *r, const char *word)
{
    for (; *word; word++, r->i++) {
        if (r->i == r->n)
            return truncated(r);
        if (r->s[r->i] != (unsigned char)*word)
            return syntax_at(r, r->i);
    }
    return 0;
}

/* RFC 8259 sec. 6; what ends the number is the container's business. */
static int
ref_number(struct ref *r)
{
    if (r->s[r->i] == '-')
        r->i++;
    if (r->i == r->n)
        return truncated(r);
    if (r->s[r->i] == '0') {
        r->i++;
    } else if (ref_digit(r->s[r->i])) {
        while (r->i < r->n && ref_digit(r->s[r->i]))
            r->i++;
    } else {
        return syntax_at(r, r->i);
    }
    if (r->i < r->n && r->s[r->i] == '.') {
        r->i++;
        if (r->i == r->n)
            return truncated(r);
        if (!ref_digit(r->s[r->i]))
            return syntax_at(r, r->i);
        while (r->i < r->n && ref_digit(r->s[r->i]))
            r->i++;
    }
    if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
        r->i++;
        if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-'))
            r->i++;
        if (r->i == r->n)
            return truncated(r);
        if (!ref_digit(r->s[r->i]))
            return syntax_at(r, r->i);
        while (r->i < r->n && ref_digit(r->s[r->i]))
            r->i++;
    }
    return 0;
}

static int ref_object(struct ref *r, unsigned depth);
static int ref_array(struct ref *r, unsigned depth);

/*
 * The kept value that is not a string, s[cap_start..upto): its text
 * without the whitespace between tokens goes to val, at most
 * JF_MAX_VALUE bytes of it (else TOO_LONG at the first byte past), and
 * the raw bytes in its strings must be UTF-8 (else UTF8 at the first byte
 * of the bad sequence), whichever comes first. A sequence cut by upto is
 * not (yet) a problem. Returns 0 or -1 (verdict).
 */
static int
ref_capture(struct ref *r, size_t upto)
{
    int in_str = 0, esc = 0;
    unsigned need = 0, lo = 0x80, hi = 0xbf, c;
    size_t i, o = 0, seq = 0;

    for (i = r->cap_start; i < upto; i++) {
        c = r->s[i];
        if (!in_str && ref_ws(c))
            continue;
        /* A sequence this byte breaks began before it: first, cap or not. */
        if (need && (c < lo || c > hi))
            return stop(r, JF_E_UTF8, NONE, seq, seq, 1);
        if (o == JF_MAX_VALUE)
            return stop(r, JF_E_TOO_LONG, NONE, i, i, 1);
        if (need) {
            need--;
            lo = 0x80;
            hi = 0xbf;
        } else if (c >= 0x80) {
            seq = i;
            need = ref_lead(c, &lo, &hi);
            if (!need)
                return stop(r, JF_E_UTF8, NONE, i, i, 1);
        } else if (esc) {
            esc = 0;
        } else if (c == '"') {
            in_str = !in_str;
        } else if (c == '\\') {
            esc = 1;
        }
        r->val[o++] = (unsigned char)c;
    }
    r->val_len = o;
    return 0;
}

static int ref_value_at(struct ref *r, unsigned depth, int kept);

/*
 * A value inside depth open containers; kept: the wanted key's value,
 * captured (ref_capture) when it is not a string.
 */
static int
ref_value(struct ref *r, unsigned depth, int kept)
{
    if (!kept || r->i == r->n || r->s[r->i] == '"')
        return ref_value_at(r, depth, kept);
    r->capturing = 1;
    r->cap_start = r->i;
    if (ref_value_at(r, depth, kept))
        return -1; /* stop() ran ref_capture */
    r->capturing = 0;
    return ref_capture(r, r->i);
}

static int
ref_value_at(struct ref *r, unsigned depth, int kept)
{
    size_t olen, raw;
    unsigned c;

    if (r->i == r->n)
        return truncated(r);
    c = r->s[r->i];
    if (kept)
        r->is_string = c == '"';
    switch (c) {
    case '{':
    case '[':
        if (depth == JF_MAX_DEPTH)
            return stop(r, JF_E_TOO_DEEP, NONE, r->i, r->i, 1);
        return c == '{' ? ref_object(r, depth + 1) : ref_array(r, depth + 1);
    case '"':
        if (ref_string(r, kept ? STR_VALUE : STR_PLAIN,
                       kept ? r->val : NULL, &olen, &raw))
            return -1;
        if (kept)
            r->val_len = olen;
        return 0;
    case 't':
        return ref_literal(r, "true");
    case 'f':
        return ref_literal(r, "false");
    case 'n':
        return ref_literal(r, "null");
    default:
        if (c == '-' || ref_digit(c))
            return ref_number(r);
        return syntax_at(r, r->i);
    }
}

/* An object at s[i] == '{', which makes depth open containers. */
static int
ref_object(struct ref *r, unsigned depth)
{
    size_t q, klen, raw;
    int kept;
    unsigned c;

    r->i++;
    skip_ws(r);
    if (r->i == r->n)
        return truncated(r);
    if (r->s[r->i] == '}') {
        r->i++;
        return 0;
    }
    for (;;) {
        if (r->i == r->n)
            return truncated(r);
        if (r->s[r->i] != '"')
            return syntax_at(r, r->i);
        kept = 0;
        q = r->i;
        if (depth == 1) {
            if (ref_string(r, STR_KEY, r->tmp, &klen, &raw))
                return -1;
            if (klen == r->key_len && memcmp(r->tmp, r->key, klen) == 0) {
                /* The closing quote makes either verdict certain. */
                if (r->long_key_rule && raw > JF_MAX_KEY) {
                    r->saw_long_key = 1;
                    return stop(r, JF_E_TOO_LONG, NONE, q, r->i - 1, 1);
                }
                if (r->found)
                    return stop(r, JF_E_DUP_KEY, NONE, q, r->i - 1, 1);
                r->found = kept = 1;
            }
        } else if (ref_string(r, STR_PLAIN, NULL, &klen, &raw)) {
            return -1;
        }
        skip_ws(r);
        if (r->i == r->n)
            return truncated(r);
        if (r->s[r->i] != ':')
            return syntax_at(r, r->i);
        r->i++;
        skip_ws(r);
        if (ref_value(r, depth, kept))
            return -1;
        skip_ws(r);
        if (r->i == r->n)
            return truncated(r);
        c = r->s[r->i++];
        if (c == '}')
            return 0;
        if (c != ',')
            return syntax_at(r, r->i - 1);
        skip_ws(r);
    }
}

static int
ref_array(struct ref *r, unsigned depth)
{
    unsigned c;

    r->i++;
    skip_ws(r);
    if (r->i == r->n)
        return truncated(r);
    if (r->s[r->i] == ']') {
        r->i++;
        return 0;
    }
    for (;;) {
        if (ref_value(r, depth, 0))
            return -1;
        skip_ws(r);
        if (r->i == r->n)
            return truncated(r);
        c = r->s[r->i++];
        if (c == ']')
            return 0;
        if (c != ',')
            return syntax_at(r, r->i - 1);
        skip_ws(r);
    }
}

/* The whole body: sets r->rc (and the rest) to the verdict. */
static void
ref_run(struct ref *r)
{
    unsigned c;

    skip_ws(r);
    if (r->i == r->n) {
        truncated(r); /* the JSON text never started */
        return;
    }
    c = r->s[r->i];
    if (c != '{') {
        if (c == '[' || c == '"' || c == '-' || ref_digit(c) || c == 't' ||
            c == 'f' || c == 'n')
            stop(r, JF_E_NOT_OBJECT, NONE, r->i, r->i, 1);
        else
            syntax_at(r, r->i);
        return;
    }
    if (ref_object(r, 1))
        return;
    skip_ws(r);
    if (r->i < r->n)
        syntax_at(r, r->i); /* a second value, or garbage */
    else if (!r->found)
        stop(r, JF_E_NO_KEY, NONE, 0, 0, 0);
    else
        stop(r, JF_OK, NONE, 0, 0, 0);
}

static void
ref_init(struct ref *r, const char *key, size_t key_len,
         const unsigned char *s, size_t n, int long_key_rule)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    r->n = n;
    r->key = key;
    r->key_len = key_len;
    r->long_key_rule = long_key_rule;
    r->val = fuzz_alloc(n);
    r->tmp = fuzz_alloc(n);
    ref_run(r);
}

static void
ref_free(struct ref *r)
{
    free(r->val);
    free(r->tmp);
}

/* ---- The module under test ---------------------------------------- */

struct result {
    int rc;
    int json;
    uint64_t err_off;
    char value[JF_MAX_VALUE];
    size_t value_len;
};

static void
check_strerror(enum jf_rc rc)
{
    const char *m = jf_strerror(rc);

    FUZZ_CHECK(m != NULL && m[0] != '\0', "jf_strerror(%d)", (int)rc);
}

/* Verdicts jf_feed may give: those certain before the end. */
static int
feed_rc_ok(enum jf_rc rc)
{
    return rc == JF_AGAIN || rc == JF_E_SYNTAX || rc == JF_E_CONTROL ||
           rc == JF_E_ESCAPE || rc == JF_E_SURROGATE || rc == JF_E_UTF8 ||
           rc == JF_E_NOT_OBJECT || rc == JF_E_TOO_DEEP ||
           rc == JF_E_DUP_KEY || rc == JF_E_TOO_LONG;
}

static const char *
how_name(enum how how)
{
    return how == SPLIT ? "split" : how == BYTEWISE ? "bytewise" : "one-shot";
}

static void
run_jf(struct result *res, const char *key, size_t key_len,
       const char *body, size_t len, enum how how, const uint8_t *ctl)
{
    struct jf_extractor *x = fuzz_alloc(sizeof *x);
    struct fuzz_split sp;
    enum jf_rc rc = JF_AGAIN, again;
    size_t off = 0, n, out_len = (size_t)-1;
    char *block = fuzz_alloc(len), *piece, *out;

    memset(x, 0xa5, sizeof *x);
    FUZZ_CHECK(jf_begin(x, key, key_len) == 0, "jf_begin refused key");
    fuzz_split_init(&sp, ctl[1], ctl[2], len);
    while (off < len) {
        if (how == ONE_SHOT)
            n = len;
        else if (how == BYTEWISE)
            n = 1;
        else
            n = fuzz_split_next(&sp, off, len);
        piece = fuzz_place(block, len, body + off, n);
        rc = jf_feed(x, piece, n);
        off += n;
        FUZZ_CHECK(feed_rc_ok(rc), "%s: jf_feed returned %d", how_name(how),
                   (int)rc);
        if (rc != JF_AGAIN)
            break;
    }
    if (rc != JF_AGAIN) {
        check_strerror(rc);
        FUZZ_CHECK(x->error_offset < off,
                   "%s: error_offset %llu not among the %zu bytes fed",
                   how_name(how), (unsigned long long)x->error_offset, off);
        /* Sticky, with the rest of the body and with nothing. */
        piece = fuzz_dup(body + off, len - off);
        again = jf_feed(x, piece, len - off);
        free(piece);
        FUZZ_CHECK(again == rc, "sticky: %d then %d", (int)rc, (int)again);
        FUZZ_CHECK(jf_feed(x, body, 0) == rc, "sticky with len 0");
    } else {
        FUZZ_CHECK(x->consumed == len, "%s: consumed %llu of %zu",
                   how_name(how), (unsigned long long)x->consumed, len);
    }
    out = fuzz_alloc(JF_MAX_VALUE);
    again = jf_finish(x, out, JF_MAX_VALUE, &out_len);
    check_strerror(again);
    if (rc != JF_AGAIN)
        FUZZ_CHECK(again == rc, "%s: jf_feed said %d, jf_finish %d",
                   how_name(how), (int)rc, (int)again);
    FUZZ_CHECK(again != JF_AGAIN, "jf_finish returned JF_AGAIN");
    res->rc = (int)again;
    res->json = 0;
    res->err_off = 0;
    res->value_len = 0;
    if (again == JF_OK) {
        res->json = x->value_json;
        FUZZ_CHECK(out_len <= JF_MAX_VALUE, "value of %zu bytes", out_len);
        memcpy(res->value, out, out_len);
        res->value_len = out_len;
    } else {
        res->err_off = x->error_offset;
        FUZZ_CHECK(res->err_off <= len, "error_offset %llu past the body",
                   (unsigned long long)res->err_off);
    }
    free(out);
    free(block);
    free(x);
}

static void
same_result(const struct result *a, const struct result *b, enum how how)
{
    FUZZ_CHECK(a->rc == b->rc, "%s run: verdict %d, one-shot %d",
               how_name(how), b->rc, a->rc);
    FUZZ_CHECK(a->json == b->json, "%s run: value_json %d, one-shot %d",
               how_name(how), b->json, a->json);
    FUZZ_CHECK(a->err_off == b->err_off,
               "%s run: error_offset %llu, one-shot %llu", how_name(how),
               (unsigned long long)b->err_off,
               (unsigned long long)a->err_off);
    FUZZ_CHECK(a->value_len == b->value_len &&
                   memcmp(a->value, b->value, a->value_len) == 0,
               "%s run: value differs", how_name(how));
}

/* Does the module's result agree with reference r? */
static int
agrees(const struct result *res, const struct ref *r)
{
    if (res->rc == r->alt)
        return 1;
    if (res->rc != r->rc)
        return 0;
    if (res->rc == JF_OK)
        return res->json == !r->is_string && res->value_len == r->val_len &&
               memcmp(res->value, r->val, r->val_len) == 0;
    return !r->off_known ||
           (res->err_off >= r->off_lo && res->err_off <= r->off_hi);
}

static void
check_keys_api(void)
{
    struct jf_extractor *x = fuzz_alloc(sizeof *x);
    char *k = fuzz_alloc(JF_MAX_KEY + 1);

    memset(k, 'k', JF_MAX_KEY + 1);
    FUZZ_CHECK(jf_begin(x, k, 0) == -EINVAL, "empty key accepted");
    FUZZ_CHECK(jf_begin(x, k, JF_MAX_KEY + 1) == -EINVAL,
               "key over JF_MAX_KEY accepted");
    free(k);
    free(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t ctl[CTL_LEN] = {0};
    size_t nctl = size < CTL_LEN ? size : CTL_LEN, key_len, len;
    const uint8_t *rest = data + nctl;
    char *key, *body;
    unsigned which;
    struct result *res = fuzz_alloc(3 * sizeof *res);
    struct ref r, r2;

    memcpy(ctl, data, nctl);
    len = size - nctl;
    which = ctl[0] & 15;
    if (which == KEY_FROM_INPUT) {
        key_len = len > 0 && rest[0] ? rest[0] : 1;
        if (len > 0) {
            rest++;
            len--;
        }
        if (key_len > len)
            key_len = len;
        if (key_len == 0) {
            key = fuzz_dup("k", 1);
            key_len = 1;
        } else {
            key = fuzz_dup(rest, key_len);
            rest += key_len;
            len -= key_len;
        }
    } else if (keys[which].s == NULL) {
        key_len = keys[which].len;
        key = fuzz_alloc(key_len);
        memset(key, 'k', key_len);
    } else {
        key_len = keys[which].len;
        key = fuzz_dup(keys[which].s, key_len);
    }
    body = fuzz_dup(rest, len);

    check_keys_api();
    run_jf(&res[0], key, key_len, body, len, ONE_SHOT, ctl);
    run_jf(&res[1], key, key_len, body, len, SPLIT, ctl);
    same_result(&res[0], &res[1], SPLIT);
    run_jf(&res[2], key, key_len, body, len, BYTEWISE, ctl);
    same_result(&res[0], &res[2], BYTEWISE);

    ref_init(&r, key, key_len, (const unsigned char *)body, len, 1);
    if (r.saw_long_key) {
        ref_init(&r2, key, key_len, (const unsigned char *)body, len, 0);
        FUZZ_CHECK(agrees(&res[0], &r) || agrees(&res[0], &r2),
                   "verdict %d (offset %llu), reference %d or %d",
                   res[0].rc, (unsigned long long)res[0].err_off, r.rc,
                   r2.rc);
        ref_free(&r2);
    } else {
        FUZZ_CHECK(agrees(&res[0], &r),
                   "verdict %d (offset %llu), reference %d (alt %d, "
                   "offset %zu..%zu)",
                   res[0].rc, (unsigned long long)res[0].err_off, r.rc,
                   r.alt, r.off_lo, r.off_hi);
    }
    ref_free(&r);
    free(body);
    free(key);
    free(res);
    return 0;
}
