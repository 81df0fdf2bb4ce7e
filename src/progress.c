/*
 * progress - the progress line's text and pace; see include/progress.h.
 *
 * Rates are averages since the start, not over the last interval: the
 * figures a reader compares with the summary's, and steady enough to
 * read while they change ten times a second.
 */
#include "progress.h"

#include <stdio.h>
#include <string.h>

void
progress_init(struct progress *p, size_t total, int64_t start_ms)
{
    p->total = total;
    p->start = start_ms;
    p->next = start_ms + PROGRESS_INTERVAL_MS;
    p->len = 0;
    p->line[0] = '\0';
}

int
progress_due(const struct progress *p, int64_t now_ms)
{
    return now_ms >= p->next;
}

void
progress_set(struct progress *p, const struct fetch_stats *st, int64_t now_ms,
             unsigned width)
{
    p->len = progress_format(p->line, sizeof p->line, p->total, st,
                             now_ms - p->start, width);
    p->next = now_ms + PROGRESS_INTERVAL_MS;
}

/* "%.1f", or "%.0f" from 100 on (where a tenth is noise), of v. */
static int
put_amount(char *out, size_t cap, double v, const char *unit)
{
    return snprintf(out, cap, v < 99.95 ? "  %.1f %s" : "  %.0f %s", v, unit);
}

size_t
progress_format(char *out, size_t cap, size_t total,
                const struct fetch_stats *st, int64_t elapsed_ms,
                unsigned width)
{
    double secs = elapsed_ms > 0 ? (double)elapsed_ms / 1000 : 0;
    double mb = (double)st->bytes_rx / 1e6;
    unsigned long long done = (unsigned long long)st->ok + st->failed;
    size_t len = 0, room, k, i;
    char field[6][64];
    int n[6];

    n[0] = snprintf(field[0], sizeof field[0], "  %llu/%zu ids", done, total);
    n[1] = snprintf(field[1], sizeof field[1], "  %u failed", st->failed);
    n[2] = put_amount(field[2], sizeof field[2], mb, "MB");
    n[3] = snprintf(field[3], sizeof field[3], "  %.0f ids/s",
                    secs > 0 ? (double)done / secs : 0);
    n[4] = put_amount(field[4], sizeof field[4], secs > 0 ? mb / secs : 0,
                      "MB/s");
    n[5] = snprintf(field[5], sizeof field[5], "  %.2f s", secs);

    if (width == 0)
        width = PROGRESS_DEFAULT_WIDTH;
    room = width - 1;
    if (cap > 0 && room > cap - 1)
        room = cap - 1;
    for (i = 0; cap > 0 && i < 6; i++) {
        k = n[i] > 0 ? (size_t)n[i] : 0;
        /* A field cut short would be a wrong number, not a short one. */
        if (k >= sizeof field[i] || k > room - len)
            break;
        memcpy(out + len, field[i], k);
        len += k;
    }
    if (cap > 0)
        out[len] = '\0';
    return len;
}
