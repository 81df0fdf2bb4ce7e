/*
 * esc - escaping for the terminal and for JSON; see include/esc.h for
 * the conventions. Each function is one pass: a run of printable ASCII
 * (nearly all of a name or a message) is copied with one memcpy, and
 * everything else is decoded as UTF-8 one character at a time and either
 * copied or escaped.
 */
#include "esc.h"

#include <stdint.h>
#include <string.h>

static const char hex[] = "0123456789abcdef";

/*
 * The well-formed UTF-8 sequence at s (n bytes left): its length, with
 * its code point in *cp; 0 if the bytes there are not one (RFC 3629
 * sec. 4: the second byte's range depends on the first).
 */
static size_t
utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0], lo = 0x80, hi = 0xbf;
    size_t len, i;
    uint32_t v;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        v = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        v = c & 0x0f;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        v = c & 0x07;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if (s[i] < lo || s[i] > hi)
            return 0;
        lo = 0x80;
        hi = 0xbf;
        v = v << 6 | (s[i] & 0x3fu);
    }
    *cp = v;
    return len;
}

/* The characters esc.h calls unsafe. */
static int
unsafe(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Copies the run of printable ASCII at s other than the two bytes a
 * format escapes (the bulk of every name and message) to out; returns
 * its length. Eight bytes at a
 * time while no byte of the word may end the run (a byte >= 0x80, below
 * 0x20, 0x7f, a or b: the usual "has a zero byte" test, whose false
 * alarms only ever come after a true one in the word), then byte by
 * byte. The failure lines of a million ids at --max-time pass here.
 */
static size_t
plain_run(char *out, const unsigned char *s, size_t n, unsigned a, unsigned b)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t w, va, vb;
    size_t i = 0;

    while (n - i >= 8) {
        memcpy(&w, s + i, 8);
        va = w ^ ones * a;
        vb = w ^ ones * b;
        if ((w | ((w - ones * 0x20) & ~w) | (w + ones) | ((va - ones) & ~va) |
             ((vb - ones) & ~vb)) &
            high)
            break;
        i += 8;
    }
    while (i < n && s[i] >= 0x20 && s[i] < 0x7f && s[i] != a && s[i] != b)
        i++;
    memcpy(out, s, i);
    return i;
}

size_t
esc_line(char *out, const char *in, size_t n)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0, m, k;
    uint32_t cp;
    unsigned c;

    while (i < n) {
        m = plain_run(out + o, s + i, n - i, '\\', '\\');
        o += m;
        if ((i += m) == n)
            break;
        c = s[i];
        if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
            out[o++] = '\\';
            out[o++] = c == '\\'   ? '\\'
                       : c == '\t' ? 't'
                       : c == '\n' ? 'n'
                                   : 'r';
            i++;
            continue;
        }
        m = utf8_next(s + i, n - i, &cp);
        if (m && !unsafe(cp)) {
            memcpy(out + o, s + i, m);
            o += m;
            i += m;
            continue;
        }
        if (!m)
            m = 1; /* one byte that starts nothing well-formed */
        for (k = 0; k < m; k++, i++) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[s[i] >> 4];
            out[o++] = hex[s[i] & 15];
        }
    }
    return o;
}

/* \uXXXX for cp (at most U+FFFF). */
static size_t
put_u(char *out, uint32_t cp)
{
    out[0] = '\\';
    out[1] = 'u';
    out[2] = hex[cp >> 12 & 15];
    out[3] = hex[cp >> 8 & 15];
    out[4] = hex[cp >> 4 & 15];
    out[5] = hex[cp & 15];
    return 6;
}

/* esc_json, or with text esc_json_text (quotes and backslashes kept). */
static size_t
json_escape(char *out, const char *in, size_t n, int text)
{
    static const char short_esc[0x20] = {
        ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r',
    };
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0, m;
    uint32_t cp;
    unsigned c;

    while (i < n) {
        m = text ? plain_run(out + o, s + i, n - i, 0x7f, 0x7f)
                 : plain_run(out + o, s + i, n - i, '"', '\\');
        o += m;
        if ((i += m) == n)
            break;
        c = s[i];
        if (!text && (c == '"' || c == '\\' || (c < 0x20 && short_esc[c]))) {
            out[o++] = '\\';
            out[o++] = c < 0x20 ? short_esc[c] : (char)c;
            i++;
            continue;
        }
        m = utf8_next(s + i, n - i, &cp);
        if (!m) {
            o += put_u(out + o, 0xfffd);
            i++;
        } else if (unsafe(cp)) {
            o += put_u(out + o, cp);
            i += m;
        } else {
            memcpy(out + o, s + i, m);
            o += m;
            i += m;
        }
    }
    return o;
}

size_t
esc_json(char *out, const char *s, size_t n)
{
    return json_escape(out, s, n, 0);
}

size_t
esc_json_text(char *out, const char *s, size_t n)
{
    return json_escape(out, s, n, 1);
}
