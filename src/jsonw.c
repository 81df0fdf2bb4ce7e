/*
 * jsonw - JSON values through a struct out; see include/jsonw.h.
 */
#include "jsonw.h"

#include <inttypes.h>
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
jw_raw(struct out *o, const char *s)
{
    out_put(o, s, strlen(s));
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
    out_put(o, "\"", 1);
    jw_esc(o, s, n);
    out_put(o, "\"", 1);
}

void
jw_u64(struct out *o, uint64_t v)
{
    char *p = out_room(o, 24);

    out_commit(o, (size_t)snprintf(p, 24, "%" PRIu64, v));
}

void
jw_i64(struct out *o, int64_t v)
{
    char *p = out_room(o, 24);

    out_commit(o, (size_t)snprintf(p, 24, "%" PRId64, v));
}

void
jw_ms(struct out *o, int64_t us)
{
    char *p = out_room(o, 32);

    if (us < 0)
        out_commit(o, (size_t)snprintf(p, 32, "-1"));
    else
        out_commit(o, (size_t)snprintf(p, 32, "%" PRId64 ".%03d", us / 1000,
                                       (int)(us % 1000)));
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
