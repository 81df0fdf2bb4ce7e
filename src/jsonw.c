/*
 * jsonw - JSON values through a struct out; see include/jsonw.h.
 */
#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "esc.h"

/* Escaped in pieces of at most this many bytes, so the room a piece
   needs (ESC_JSON_MAX) stays well under OUT_CAP. */
#define PIECE 4096

static int
continuation(char c)
{
    return ((unsigned char)c & 0xc0) == 0x80;
}

void
jw_bytes(struct out *o, const char *s, size_t n)
{
    if (n > OUT_CAP) {
        out_put(o, s, n);
        return;
    }
    memcpy(out_room(o, n), s, n);
    out_commit(o, n);
}

void
jw_raw(struct out *o, const char *s)
{
    jw_bytes(o, s, strlen(s));
}

void
jw_esc(struct out *o, const char *s, size_t n)
{
    while (n > 0) {
        size_t k = n, back = 0;

        if (k > PIECE) {
            /* Cut before a lead byte, never inside a UTF-8 sequence: a
               sequence cut in two would be escaped as two bad bytes. */
            k = PIECE;
            while (back < 3 && continuation(s[k - back]))
                back++;
            if (!continuation(s[k - back]))
                k -= back;
        }
        out_commit(o, esc_json(out_room(o, ESC_JSON_MAX(k)), s, k));
        s += k;
        n -= k;
    }
}

void
jw_str(struct out *o, const char *s, size_t n)
{
    JW_LIT(o, "\"");
    jw_esc(o, s, n);
    JW_LIT(o, "\"");
}

size_t
jw_decimal(char *p, uint64_t v)
{
    char rev[20];
    size_t n = 0, i;

    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (i = 0; i < n; i++)
        p[i] = rev[n - 1 - i];
    return n;
}

void
jw_u64(struct out *o, uint64_t v)
{
    out_commit(o, jw_decimal(out_room(o, JW_DECIMAL_MAX), v));
}

void
jw_i64(struct out *o, int64_t v)
{
    char *p = out_room(o, 1 + JW_DECIMAL_MAX);

    if (v >= 0) {
        out_commit(o, jw_decimal(p, (uint64_t)v));
    } else {
        p[0] = '-';
        out_commit(o, 1 + jw_decimal(p + 1, -(uint64_t)v));
    }
}

void
jw_ms(struct out *o, int64_t us)
{
    char *p = out_room(o, JW_DECIMAL_MAX + 4);
    size_t n;

    if (us < 0) {
        JW_LIT(o, "-1");
        return;
    }
    n = jw_decimal(p, (uint64_t)us / 1000);
    p[n] = '.';
    p[n + 1] = (char)('0' + us / 100 % 10);
    p[n + 2] = (char)('0' + us / 10 % 10);
    p[n + 3] = (char)('0' + us % 10);
    out_commit(o, n + 4);
}

void
jw_real(struct out *o, double v)
{
    char *p = out_room(o, 48);

    if (!isfinite(v) || v > 1e18 || v < -1e18)
        out_commit(o, (size_t)snprintf(p, 48, "null"));
    else
        out_commit(o, (size_t)snprintf(p, 48, "%.3f", v));
}
