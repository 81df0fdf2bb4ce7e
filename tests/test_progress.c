/*
 * test_progress.c - unit tests for progress.c: the exact text for given
 * counters, each field's rounding at its boundary, the width rule (whole
 * fields only, just under and just over each field's end, not even the
 * first field, a width not known), the largest numbers a run can reach,
 * a clock at the start (no division by zero), and the pace: the first
 * line PROGRESS_INTERVAL_MS after the start, then at most one change per
 * interval.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "progress.h"

/* One line: the counters, the clock, the terminal's width, the text. */
struct tcase {
    const char *label;
    size_t total;
    unsigned ok, failed;
    uint64_t bytes;
    int64_t elapsed_ms;
    unsigned width;
    const char *want;
};

#define MID "  812/1351 ids  3 failed  41.2 MB  2320 ids/s  118 MB/s"

static const struct tcase table[] = {
    /* 812 / 0.35 s = 2320 ids/s; 41.2 MB / 0.35 s = 117.7 MB/s. */
    {"mid-run", 1351, 809, 3, 41200000, 350, 80, MID "  0.35 s"},
    {"nothing yet", 150, 0, 0, 0, 100, 80,
     "  0/150 ids  0 failed  0.0 MB  0 ids/s  0.0 MB/s  0.10 s"},
    {"all done", 150, 150, 0, 1155874, 208, 80,
     "  150/150 ids  0 failed  1.2 MB  721 ids/s  5.6 MB/s  0.21 s"},
    {"at the start: no rate from nothing", 10, 1, 0, 5000, 0, 80,
     "  1/10 ids  0 failed  0.0 MB  0 ids/s  0.0 MB/s  0.00 s"},
    {"a clock behind the start counts as the start", 10, 1, 0, 5000, -5, 80,
     "  1/10 ids  0 failed  0.0 MB  0 ids/s  0.0 MB/s  0.00 s"},

    /* Tenths below 100, whole numbers from where a tenth would read
       100.0. */
    {"99.94 MB", 1, 0, 0, 99940000, 1000, 200,
     "  0/1 ids  0 failed  99.9 MB  0 ids/s  99.9 MB/s  1.00 s"},
    {"99.95 MB", 1, 0, 0, 99950000, 1000, 200,
     "  0/1 ids  0 failed  100 MB  0 ids/s  100 MB/s  1.00 s"},
    {"elapsed 1 ms", 1, 1, 0, 0, 1, 200,
     "  1/1 ids  0 failed  0.0 MB  1000 ids/s  0.0 MB/s  0.00 s"},
    {"elapsed 2 h", 1000, 999, 1, 0, 7200000, 200,
     "  1000/1000 ids  1 failed  0.0 MB  0 ids/s  0.0 MB/s  7200.00 s"},

    /* The whole mid-run line is 63 bytes: it needs 64 columns, the last
       one left free. */
    {"width 64: all", 1351, 809, 3, 41200000, 350, 64, MID "  0.35 s"},
    {"width 63: the last field goes", 1351, 809, 3, 41200000, 350, 63, MID},
    {"two fields just fit", 1351, 809, 3, 41200000, 350, 25,
     "  812/1351 ids  3 failed"},
    {"two fields, one column short", 1351, 809, 3, 41200000, 350, 24,
     "  812/1351 ids"},
    {"first field just fits", 1351, 809, 3, 41200000, 350, 15,
     "  812/1351 ids"},
    {"first field one column short", 1351, 809, 3, 41200000, 350, 14, ""},
    {"width 1", 1351, 809, 3, 41200000, 350, 1, ""},
    {"width not known: 80", 1351, 809, 3, 41200000, 350, 0, MID "  0.35 s"},
};

static struct fetch_stats
stats(unsigned ok, unsigned failed, uint64_t bytes)
{
    struct fetch_stats st;

    memset(&st, 0, sizeof st);
    st.ok = ok;
    st.failed = failed;
    st.bytes_rx = bytes;
    return st;
}

static void
test_table(void)
{
    char out[PROGRESS_LINE_MAX];
    size_t i, n;

    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        const struct tcase *t = &table[i];
        struct fetch_stats st = stats(t->ok, t->failed, t->bytes);

        n = progress_format(out, sizeof out, t->total, &st, t->elapsed_ms,
                            t->width);
        CHECKF(n == strlen(t->want) && strcmp(out, t->want) == 0,
               "%s: got \"%s\" (%zu), want \"%s\"", t->label, out, n, t->want);
    }
}

static void
test_cap(void)
{
    struct fetch_stats st = stats(809, 3, 41200000);
    char out[16];
    size_t n;

    /* The buffer, not the terminal, is the limit: whole fields still. */
    memset(out, 'x', sizeof out);
    n = progress_format(out, sizeof out, 1351, &st, 350, 200);
    CHECKF(n == 14 && strcmp(out, "  812/1351 ids") == 0, "got %zu \"%s\"", n,
           out);
    memset(out, 'x', sizeof out);
    n = progress_format(out, 14, 1351, &st, 350, 200);
    CHECKF(n == 0 && out[0] == '\0' && out[1] == 'x', "got %zu", n);
    n = progress_format(out, 0, 1351, &st, 350, 200);
    CHECK(n == 0 && out[1] == 'x');
}

static void
test_largest(void)
{
    struct fetch_stats st = stats(UINT32_MAX, UINT32_MAX, UINT64_MAX);
    char out[PROGRESS_LINE_MAX];
    size_t n;

    /* Every number at its largest, the rates over 1 ms: every field is
       there, within the line's buffer. */
    n = progress_format(out, sizeof out, 10000000, &st, 1, 1000);
    CHECKF(n < PROGRESS_LINE_MAX && strstr(out, " s") == out + n - 2,
           "got %zu \"%s\"", n, out);
    CHECK(strstr(out, "  8589934590/10000000 ids  4294967295 failed  "
                      "18446744073710 MB  ") == out);
}

static void
test_pace(void)
{
    struct fetch_stats st = stats(1, 0, 100);
    struct progress p;

    progress_init(&p, 10, 1000);
    CHECK(p.len == 0);
    CHECK(!progress_due(&p, 1000));
    CHECK(!progress_due(&p, 1000 + PROGRESS_INTERVAL_MS - 1));
    CHECK(progress_due(&p, 1000 + PROGRESS_INTERVAL_MS));
    progress_set(&p, &st, 1150, 80);
    CHECKF(strcmp(p.line, "  1/10 ids  0 failed  0.0 MB  7 ids/s  0.0 MB/s"
                          "  0.15 s") == 0 &&
               p.len == strlen(p.line),
           "got \"%s\"", p.line);
    /* The next change one interval after this one, not after the last
       due time: never two within an interval. */
    CHECK(!progress_due(&p, 1150 + PROGRESS_INTERVAL_MS - 1));
    CHECK(progress_due(&p, 1150 + PROGRESS_INTERVAL_MS));
    /* A narrow terminal: nothing to show. */
    progress_set(&p, &st, 1250, 10);
    CHECK(p.len == 0 && p.line[0] == '\0');
}

int
main(void)
{
    RUN(test_table);
    RUN(test_cap);
    RUN(test_largest);
    RUN(test_pace);
    return CHECK_REPORT();
}
