/*
 * test_esc.c - unit tests for esc.c: a labelled table of inputs and the
 * exact output of each function (every unsafe range at both ends and one
 * past, every kind of ill-formed UTF-8, the short escapes), then random
 * inputs checked for the contract rather than against a table: output
 * within ESC_*_MAX, nothing unsafe left in it, and decoding it gives the
 * input back (for esc_json, with U+FFFD for each ill-formed byte).
 * Inputs are placed flush against a PROT_NONE page (guard.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "esc.h"
#include "guard.h"

#define RNG_SEED 0x5eed0e5c5eed0e5cu
#include "rng.h"

struct tcase {
    const char *label, *in, *line, *json, *text;
    size_t len; /* of in, which may hold NUL */
};

#define T(l, in, line, json, text)                                            \
    {                                                                         \
        l, in, line, json, text, sizeof(in) - 1                               \
    }

static const struct tcase table[] = {
    T("empty", "", "", "", ""),
    T("ASCII", "pikachu", "pikachu", "pikachu", "pikachu"),
    T("space and punctuation", "mr. mime ~!", "mr. mime ~!", "mr. mime ~!",
      "mr. mime ~!"),
    T("backslash", "a\\b", "a\\\\b", "a\\\\b", "a\\b"),
    T("quote", "a\"b", "a\"b", "a\\\"b", "a\"b"),
    T("short escapes", "\t\n\r", "\\t\\n\\r", "\\t\\n\\r",
      "\\u0009\\u000a\\u000d"),
    T("b and f", "\b\f", "\\x08\\x0c", "\\b\\f", "\\u0008\\u000c"),
    T("NUL", "a\0b", "a\\x00b", "a\\u0000b", "a\\u0000b"),
    T("ESC sequence", "\x1b[2J\x1b]0;pwned\x07", "\\x1b[2J\\x1b]0;pwned\\x07",
      "\\u001b[2J\\u001b]0;pwned\\u0007", "\\u001b[2J\\u001b]0;pwned\\u0007"),
    T("0x1f and space", "\x1f ", "\\x1f ", "\\u001f ", "\\u001f "),
    T("DEL", "a\x7f", "a\\x7f", "a\\u007f", "a\\u007f"),
    T("last before C1", "~", "~", "~", "~"),
    T("C1 first U+0080", "\xc2\x80", "\\xc2\\x80", "\\u0080", "\\u0080"),
    T("C1 CSI U+009B",
      "\xc2\x9b"
      "31m",
      "\\xc2\\x9b"
      "31m",
      "\\u009b"
      "31m",
      "\\u009b"
      "31m"),
    T("C1 last U+009F", "\xc2\x9f", "\\xc2\\x9f", "\\u009f", "\\u009f"),
    T("after C1 U+00A0", "\xc2\xa0", "\xc2\xa0", "\xc2\xa0", "\xc2\xa0"),
    T("e acute",
      "Flab\xc3\xa9"
      "b\xc3\xa9",
      "Flab\xc3\xa9"
      "b\xc3\xa9",
      "Flab\xc3\xa9"
      "b\xc3\xa9",
      "Flab\xc3\xa9"
      "b\xc3\xa9"),
    T("U+2027 before LS", "\xe2\x80\xa7", "\xe2\x80\xa7", "\xe2\x80\xa7",
      "\xe2\x80\xa7"),
    T("U+2028 LS", "a\xe2\x80\xa8z", "a\\xe2\\x80\\xa8z", "a\\u2028z",
      "a\\u2028z"),
    T("U+2029 PS", "\xe2\x80\xa9", "\\xe2\\x80\\xa9", "\\u2029", "\\u2029"),
    T("U+202A LRE", "\xe2\x80\xaa", "\\xe2\\x80\\xaa", "\\u202a", "\\u202a"),
    T("U+202E RLO", "abc\xe2\x80\xaegpj.exe", "abc\\xe2\\x80\\xaegpj.exe",
      "abc\\u202egpj.exe", "abc\\u202egpj.exe"),
    T("U+202F after", "\xe2\x80\xaf", "\xe2\x80\xaf", "\xe2\x80\xaf",
      "\xe2\x80\xaf"),
    T("U+2065 before isolates", "\xe2\x81\xa5", "\xe2\x81\xa5", "\xe2\x81\xa5",
      "\xe2\x81\xa5"),
    T("U+2066 LRI", "\xe2\x81\xa6", "\\xe2\\x81\\xa6", "\\u2066", "\\u2066"),
    T("U+2069 PDI", "\xe2\x81\xa9", "\\xe2\\x81\\xa9", "\\u2069", "\\u2069"),
    T("U+206A after", "\xe2\x81\xaa", "\xe2\x81\xaa", "\xe2\x81\xaa",
      "\xe2\x81\xaa"),
    T("4-byte emoji", "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80",
      "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"),
    T("U+10FFFF", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf",
      "\xf4\x8f\xbf\xbf"),
    T("lone 0xff",
      "a\xff"
      "b",
      "a\\xff"
      "b",
      "a\\ufffd"
      "b",
      "a\\ufffd"
      "b"),
    T("lone continuation", "\x80", "\\x80", "\\ufffd", "\\ufffd"),
    T("overlong 2", "\xc0\xaf", "\\xc0\\xaf", "\\ufffd\\ufffd",
      "\\ufffd\\ufffd"),
    T("overlong 3", "\xe0\x9f\xbf", "\\xe0\\x9f\\xbf", "\\ufffd\\ufffd\\ufffd",
      "\\ufffd\\ufffd\\ufffd"),
    T("encoded surrogate", "\xed\xa0\x80", "\\xed\\xa0\\x80",
      "\\ufffd\\ufffd\\ufffd", "\\ufffd\\ufffd\\ufffd"),
    T("past U+10FFFF", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80",
      "\\ufffd\\ufffd\\ufffd\\ufffd", "\\ufffd\\ufffd\\ufffd\\ufffd"),
    T("cut at the end", "ab\xe2\x80", "ab\\xe2\\x80", "ab\\ufffd\\ufffd",
      "ab\\ufffd\\ufffd"),
    T("cut by ASCII",
      "\xc3"
      "A",
      "\\xc3"
      "A",
      "\\ufffd"
      "A",
      "\\ufffd"
      "A"),
    T("C1 lead then good", "\xc2\xc3\xa9", "\\xc2\xc3\xa9", "\\ufffd\xc3\xa9",
      "\\ufffd\xc3\xa9"),
    T("JSON text", "{\"a\":[1,\"x\\\"\"]}", "{\"a\":[1,\"x\\\\\"\"]}",
      "{\\\"a\\\":[1,\\\"x\\\\\\\"\\\"]}", "{\"a\":[1,\"x\\\"\"]}"),
};

/* f on a guarded copy of in; checks the bound; returns the length. */
static size_t
run(size_t (*f)(char *, const char *, size_t), size_t room, const char *in,
    size_t len, char *out)
{
    size_t n = f(out, guard_place(in, len), len);

    CHECKF(n <= room, "%zu bytes out for %zu in, room %zu", n, len, room);
    return n;
}

static void
test_table(void)
{
    static char out[6 * 64];
    size_t i, n;

    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        const struct tcase *c = &table[i];

        n = run(esc_line, ESC_LINE_MAX(c->len), c->in, c->len, out);
        CHECKF(n == strlen(c->line) && memcmp(out, c->line, n) == 0,
               "%s: esc_line gave \"%.*s\"", c->label, (int)n, out);
        n = run(esc_json, ESC_JSON_MAX(c->len), c->in, c->len, out);
        CHECKF(n == strlen(c->json) && memcmp(out, c->json, n) == 0,
               "%s: esc_json gave \"%.*s\"", c->label, (int)n, out);
        n = run(esc_json_text, ESC_JSON_MAX(c->len), c->in, c->len, out);
        CHECKF(n == strlen(c->text) && memcmp(out, c->text, n) == 0,
               "%s: esc_json_text gave \"%.*s\"", c->label, (int)n, out);
    }
}

/* The worst cases reach the bounds exactly. */
static void
test_bounds(void)
{
    static char out[6 * 300];
    char in[300];
    size_t n;

    memset(in, 0x01, sizeof in);
    n = run(esc_line, ESC_LINE_MAX(sizeof in), in, sizeof in, out);
    CHECK(n == ESC_LINE_MAX(sizeof in));
    n = run(esc_json, ESC_JSON_MAX(sizeof in), in, sizeof in, out);
    CHECK(n == ESC_JSON_MAX(sizeof in));
    memset(in, 0xff, sizeof in);
    n = run(esc_json_text, ESC_JSON_MAX(sizeof in), in, sizeof in, out);
    CHECK(n == ESC_JSON_MAX(sizeof in));
}

static int
hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

/*
 * Undo esc_line: \\ \t \n \r \xHH. Returns the length, or -1 if the
 * escaped text is not of that form or holds a byte it must not.
 */
static long
unline(const char *s, size_t n, char *out)
{
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f)
            return -1;
        if (c != '\\') {
            out[o++] = (char)c;
            continue;
        }
        if (++i == n)
            return -1;
        switch (s[i]) {
        case '\\':
            out[o++] = '\\';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 'x':
            if (n - i < 3 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
                return -1;
            out[o++] = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
            i += 2;
            break;
        default:
            return -1;
        }
    }
    return (long)o;
}

/*
 * An independent UTF-8 decoder: the length of the well-formed sequence at
 * s (n bytes left), its code point rebuilt bit by bit and its range
 * checked afterwards; 0 if there is none.
 */
static size_t
wf_len(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t k, len;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    len = (s[0] & 0xe0) == 0xc0   ? 2
          : (s[0] & 0xf0) == 0xe0 ? 3
          : (s[0] & 0xf8) == 0xf0 ? 4
                                  : 0;
    if (!len || n < len)
        return 0;
    *cp = s[0] & (0x7fu >> len);
    for (k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        *cp = *cp << 6 | (s[k] & 0x3fu);
    }
    if ((len == 2 && *cp < 0x80) || (len == 3 && *cp < 0x800) ||
        (len == 4 && *cp < 0x10000) || *cp > 0x10ffff ||
        (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return len;
}

/* Whether s[0..n) is well-formed UTF-8 with no unsafe character. */
static int
safe_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0, len;
    uint32_t cp;

    while (i < n) {
        len = wf_len(s + i, n - i, &cp);
        if (!len || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
            cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069))
            return 0;
        i += len;
    }
    return 1;
}

/* Random inputs, biased to the interesting bytes and sequences. */
static size_t
random_input(char *in, size_t cap)
{
    static const char *const pieces[] = {
        "a",
        "\\",
        "\"",
        "\t",
        "\n",
        "\r",
        "\x1b",
        "\x7f",
        "\xc2\x85",
        "\xc2\xa0",
        "\xe2\x80\xa8",
        "\xe2\x80\xae",
        "\xe2\x81\xa6",
        "\xc3\xa9",
        "\xf0\x9f\x98\x80",
        "\xed\xa0\x80",
        "\xc0\xaf",
    };
    size_t n = 0, want = (size_t)(rnd() % cap), k;

    while (n < want) {
        if (rnd() % 3 == 0) {
            in[n++] = (char)(rnd() & 0xff);
            continue;
        }
        k = (size_t)(rnd() % (sizeof pieces / sizeof pieces[0]));
        if (strlen(pieces[k]) > cap - n)
            break;
        memcpy(in + n, pieces[k], strlen(pieces[k]));
        n += strlen(pieces[k]);
    }
    return n;
}

static void
test_line_random(void)
{
    static char in[200], out[ESC_LINE_MAX(200)], back[200];
    size_t i, n, m;
    long b;

    for (i = 0; i < 20000; i++) {
        n = random_input(in, sizeof in);
        m = run(esc_line, ESC_LINE_MAX(n), in, n, out);
        CHECKF(safe_utf8((unsigned char *)out, m), "unsafe output, round %zu",
               i);
        b = unline(out, m, back);
        CHECKF(b == (long)n && memcmp(back, in, n) == 0,
               "round %zu: not the input back", i);
        if (check_failures_in_case)
            return;
    }
}

/* Appends code point cp (at most U+FFFF) as UTF-8. */
static size_t
put_utf8(unsigned char *o, uint32_t cp)
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
    o[0] = (unsigned char)(0xe0 | cp >> 12);
    o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
    o[2] = (unsigned char)(0x80 | (cp & 0x3f));
    return 3;
}

/*
 * Undo a JSON string's escapes (the inside of one, so no raw quote may
 * be there). Returns the length, or -1.
 */
static long
unjson(const char *s, size_t n, unsigned char *out)
{
    size_t i, o = 0, k;
    uint32_t cp;

    for (i = 0; i < n; i++) {
        if (s[i] == '"')
            return -1;
        if (s[i] != '\\') {
            out[o++] = (unsigned char)s[i];
            continue;
        }
        if (++i == n)
            return -1;
        if (s[i] == 'u') {
            if (n - i < 5)
                return -1;
            for (cp = 0, k = 1; k <= 4; k++) {
                if (hexval(s[i + k]) < 0)
                    return -1;
                cp = cp << 4 | (uint32_t)hexval(s[i + k]);
            }
            if (cp >= 0xd800 && cp <= 0xdfff)
                return -1; /* never needed here */
            o += put_utf8(out + o, cp);
            i += 4;
            continue;
        }
        switch (s[i]) {
        case '"':
        case '\\':
        case '/':
            out[o++] = (unsigned char)s[i];
            break;
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        default:
            return -1;
        }
    }
    return (long)o;
}

/*
 * esc_json and esc_json_text on random input: decoded, the output is the
 * input with U+FFFD for each byte that starts no well-formed sequence;
 * nothing unsafe is left raw. (For esc_json_text the input's own quotes
 * and backslashes pass as they are, so only inputs without them are
 * decoded.)
 */
static void
test_json_random(void)
{
    static char in[200], out[ESC_JSON_MAX(200)];
    static unsigned char dec[3 * 200], want[3 * 200];
    size_t i, n, m, a, w, len;
    uint32_t cp;
    long d;
    int text;

    for (i = 0; i < 40000; i++) {
        text = i & 1;
        n = random_input(in, sizeof in);
        m = run(text ? esc_json_text : esc_json, ESC_JSON_MAX(n), in, n, out);
        CHECKF(safe_utf8((unsigned char *)out, m), "unsafe output, round %zu",
               i);
        for (a = 0, w = 0; a < n; a += len ? len : 1) {
            len = wf_len((unsigned char *)in + a, n - a, &cp);
            if (len)
                memcpy(want + w, in + a, len), w += len;
            else
                w += put_utf8(want + w, 0xfffd);
        }
        if (text && (memchr(in, '"', n) || memchr(in, '\\', n)))
            continue;
        d = unjson(out, m, dec);
        CHECKF(d == (long)w && memcmp(dec, want, w) == 0,
               "round %zu (%s): not the input back", i,
               text ? "text" : "string");
        if (check_failures_in_case)
            return;
    }
}

int
main(void)
{
    RUN(test_table);
    RUN(test_bounds);
    RUN(test_line_random);
    RUN(test_json_random);
    return CHECK_REPORT();
}
