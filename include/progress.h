/*
 * progress - the one line that says how far a run has got, for a
 * terminal:
 *
 *     "  812/1351 ids  3 failed  41.2 MB  2320 ids/s  118 MB/s  0.35 s"
 *
 * ids with a result (fetched or failed) of all the run's ids, the failed
 * ones, bytes received (after TLS, as the summary's "received:"), the
 * average rates since the start, and the time since the start.
 *
 * Pure: it makes the text from the run's counters (include/fetch.h) and a
 * clock reading it is given, and says when the numbers may change; it
 * never writes and never reads a clock. cli puts the line on the
 * terminal, takes it off before any other line, and decides when it is
 * shown at all (stderr a terminal, stdout not a pipe, no -q).
 *
 * The numbers change at most once per PROGRESS_INTERVAL_MS (10 times a
 * second), the first time PROGRESS_INTERVAL_MS after the start: a run
 * over sooner never shows a line.
 */
#ifndef POKEFETCH_PROGRESS_H
#define POKEFETCH_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "fetch.h"

#define PROGRESS_INTERVAL_MS 100
/* Longer than the line with every number at its largest (10 000 000
   ids, 2^64 bytes). */
#define PROGRESS_LINE_MAX 192
/* Columns assumed when the terminal does not say. */
#define PROGRESS_DEFAULT_WIDTH 80

struct progress {
    size_t total;  /* ids in the run */
    int64_t start; /* the run's start, ms */
    int64_t next;  /* the numbers may change from then on, ms */
    size_t len;    /* bytes in line; 0: nothing to show (yet) */
    char line[PROGRESS_LINE_MAX];
};

/* A run of total ids that starts at start_ms: no line yet. */
void progress_init(struct progress *p, size_t total, int64_t start_ms);

/* May the numbers change at now_ms? */
int progress_due(const struct progress *p, int64_t now_ms);

/*
 * The line from st at now_ms, for a terminal of width columns (0: not
 * known, PROGRESS_DEFAULT_WIDTH), into p->line and p->len; the next
 * change is due PROGRESS_INTERVAL_MS later.
 */
void progress_set(struct progress *p, const struct fetch_stats *st,
                  int64_t now_ms, unsigned width);

/*
 * The text alone: the fields in the order above, each one whole or not
 * at all, in at most width - 1 bytes (so the cursor never reaches the
 * last column, where a terminal may wrap) and at most cap - 1; a field
 * that does not fit ends the line there. Returns its length (0 when not
 * even the first field fits); out is NUL-terminated when cap > 0.
 */
size_t progress_format(char *out, size_t cap, size_t total,
                       const struct fetch_stats *st, int64_t elapsed_ms,
                       unsigned width);

#endif
