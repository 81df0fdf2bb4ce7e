/*
 * waterfall - the SVG picture of a run; see include/waterfall.h.
 *
 * Three steps: place (the axis' end, a lane for each connection, a row
 * of its lane for each request), size (the height each lane and row
 * gets), draw (title, legend, axis, lanes, bars). Every rectangle of the
 * plot goes through a painter, which writes it at once in detail, inside
 * its record's group with the tooltip, and past WF_DETAIL_MAX
 * rasterizes the plot into pixels first (see struct painter).
 *
 * Numbers are written with printf's %.1f: pokefetch never calls
 * setlocale, so the decimal point is '.', as SVG wants.
 */
#include "waterfall.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h" /* enum conn_end: why a connection closed */
#include "esc.h"

#define PLOT_X ((double)WF_PLOT_LEFT)
#define PLOT_R ((double)WF_PLOT_RIGHT)
#define FOOT_H 30    /* below the lanes: the axis' labels again */
#define CMD_COLS 150 /* characters of the command line per line */
#define CMD_LINES 3
#define CMD_MAX 1024        /* bytes of the command line shown */
#define MAX_ROWS 256        /* rows a lane is cut into, at most */
#define ROWS_MEM (4u << 20) /* bytes for placing requests in rows */
#define ROW_H 6.0           /* px: a row of a lane cut into rows, at most */
#define SOLO_H 16.0         /* px: a lane of one row, at most */
#define MERGED_LANES 200    /* lanes past the detail limit, at most */
#define TEXT_PIECE 256
/* The header's height over the lanes: title 30, command lines 15 each,
   summary, legend (2 rows), notes (3 lines, 4 when lanes are reused),
   axis labels (draw_header). */
#define HEAD_H(cmd_lines, note_lines)                                         \
    (30 + 15 * (cmd_lines) + 20 + 48 + 15 * (note_lines) + 2 + 26)
_Static_assert(WF_MAX_HEIGHT - HEAD_H(CMD_LINES, 4) - FOOT_H >= WF_MAX_LANES,
               "WF_MAX_LANES lanes of a pixel fit under the tallest header");

/* The colours, one CSS class each; K_LIFE first, drawn under all. */
enum kind {
    K_LIFE,
    K_TCP,
    K_TLS,
    K_TLSR,
    K_END,
    K_ENDBAD,
    K_BLK,
    K_SND,
    K_WAIT,
    K_RCV,
    K_BAD,
    N_KINDS
};
static const char *const kind_class[N_KINDS] = {
    "life", "tcp", "tls",  "tlsr", "end", "endbad",
    "blk",  "snd", "wait", "rcv",  "bad",
};

struct layout {
    int64_t t_run; /* µs: the run's end (what was open, was until then) */
    int64_t t_end; /* µs at the axis' right end */
    uint32_t n_conns, n_reqs, n_lanes;
    int packed;     /* lanes reused: more connections than WF_MAX_LANES */
    int shared;     /* more open at once than lanes: neighbours share */
    int detail;     /* each record drawn with its tooltip */
    uint32_t *lane; /* per connection */
    uint16_t *row;  /* per request, in its lane (in detail only) */
    unsigned rows;  /* rows a lane is cut into, as drawn */
    unsigned cmd_lines;
    double top;   /* y of the first lane */
    double pitch; /* lane to lane */
    double lane_h, row_h;
    double bar_h; /* a bar in its row: a pixel less when rows are tall */
    int height;
};

static double
xof(const struct layout *L, int64_t t)
{
    return PLOT_X + (PLOT_R - PLOT_X) * (double)t / (double)L->t_end;
}

static double
lane_y(const struct layout *L, uint32_t lane)
{
    return L->top + lane * L->pitch;
}

/* Output helpers. */

static void
put(struct out *o, const char *s)
{
    out_put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
putf(struct out *o, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        out_put(o, line,
                (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* s[0..n), already escaped (valid UTF-8, no controls), made XML text:
   the five markup characters as entities, and U+FFFE and U+FFFF, which
   esc_line keeps but XML 1.0 does not allow anywhere, as \xHH text. */
static void
put_xml(struct out *o, const char *s, size_t n)
{
    size_t i, run = 0;

    for (i = 0; i < n; i++) {
        const char *rep = NULL;
        unsigned char c = (unsigned char)s[i];

        if (c == '&')
            rep = "&amp;";
        else if (c == '<')
            rep = "&lt;";
        else if (c == '>')
            rep = "&gt;";
        else if (c == '"')
            rep = "&quot;";
        else if (c == '\'')
            rep = "&#39;";
        else if (c == 0xef && i + 2 < n && (unsigned char)s[i + 1] == 0xbf &&
                 ((unsigned char)s[i + 2] & 0xfe) == 0xbe)
            rep = (unsigned char)s[i + 2] == 0xbe ? "\\xef\\xbf\\xbe"
                                                  : "\\xef\\xbf\\xbf";
        if (!rep)
            continue;
        out_put(o, s + run, i - run);
        put(o, rep);
        if (c == 0xef)
            i += 2;
        run = i + 1;
    }
    out_put(o, s + run, n - run);
}

/* Text from outside, any bytes: escaped as a line on stderr is, then for
   XML. In pieces, each cut before a character's first byte so that a
   UTF-8 sequence is judged whole. */
static void
put_text(struct out *o, const char *s, size_t n)
{
    char esc[ESC_LINE_MAX(TEXT_PIECE)];

    while (n > 0) {
        size_t k = n < TEXT_PIECE ? n : TEXT_PIECE, back = 0;

        while (k < n && back < 3 && ((unsigned char)s[k] & 0xc0) == 0x80) {
            k--;
            back++;
        }
        put_xml(o, esc, esc_line(esc, s, k));
        s += k;
        n -= k;
    }
}

static void
put_textz(struct out *o, const char *s)
{
    put_text(o, s, strlen(s));
}

/* Milliseconds for a µs count, with d decimals (0..3), integers only. */
static void
put_ms(struct out *o, int64_t us, int d)
{
    static const int64_t scale[] = {1000, 100, 10, 1};
    int64_t v = (us < 0 ? 0 : us) / scale[d];

    if (d == 0)
        putf(o, "%lld", (long long)v);
    else
        putf(o, "%lld.%0*lld", (long long)(v / (1000 / scale[d])), d,
             (long long)(v % (1000 / scale[d])));
}

/* A byte count as people read it. */
static void
put_bytes(struct out *o, uint64_t b)
{
    if (b >= 1000000)
        putf(o, "%.1f MB", (double)b / 1e6);
    else if (b >= 1000)
        putf(o, "%.1f kB", (double)b / 1e3);
    else
        putf(o, "%llu B", (unsigned long long)b);
}

/*
 * The painter: every rectangle of the plot, by band (a lane or a row)
 * and kind. In detail it writes each at once. Past the detail limit it
 * rasterizes: it adds up how much of each pixel column of each band
 * each kind covers (in 1/COVER_ONE of a pixel), and at the end each
 * pixel goes to the topmost kind (the last in enum kind: bars over
 * handshakes over the life band) covering at least a quarter of it;
 * a run of pixels of one kind is one rectangle, in one path per band
 * and kind. So the file holds at most one rectangle per pixel of the
 * plot, whatever the run, and usually a few per lane.
 */
#define COLS (WF_PLOT_RIGHT - WF_PLOT_LEFT + 1)
#define COVER_ONE 64

struct painter {
    struct out *o;
    const struct layout *L;
    uint32_t n_bands;
    double (*band_y)(const struct layout *, uint32_t);
    double band_h;
    uint8_t *cover; /* n_bands * COLS * N_KINDS; NULL: in detail */
};

static void
emit_rect(struct painter *p, uint32_t band, enum kind k, double x0, double x1)
{
    putf(p->o,
         "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
         "height=\"%.1f\"/>",
         kind_class[k], x0, p->band_y(p->L, band), x1 - x0, p->band_h);
}

static void
paint(struct painter *p, uint32_t band, enum kind k, double x0, double x1)
{
    uint8_t *col;
    int c, last;

    if (!(x1 > x0))
        return;
    if (!p->cover) {
        emit_rect(p, band, k, x0, x1);
        return;
    }
    x0 = x0 < PLOT_X ? 0 : x0 - PLOT_X;
    x1 = x1 - PLOT_X > COLS ? COLS : x1 - PLOT_X;
    last = (int)x1 < COLS ? (int)x1 : COLS - 1;
    col = p->cover + (size_t)band * COLS * N_KINDS;
    for (c = (int)x0; c <= last; c++) {
        double from = x0 > c ? x0 : c, to = x1 < c + 1 ? x1 : c + 1;
        unsigned add =
                     to > from ? (unsigned)((to - from) * COVER_ONE + 0.5) : 0,
                 sum = col[(size_t)c * N_KINDS + k] + add;

        col[(size_t)c * N_KINDS + k] =
            (uint8_t)(sum > COVER_ONE ? COVER_ONE : sum);
    }
}

/* The kind a rasterized pixel shows, or N_KINDS for none. */
static int
top_kind(const uint8_t *cell)
{
    int k;

    for (k = N_KINDS - 1; k >= 0; k--)
        if (cell[k] >= COVER_ONE / 4)
            return k;
    return N_KINDS;
}

/* Past the detail limit: each band's pixels, kind by kind, as one path
   of runs (a run: "M x y h w v h h -w z", about 20 bytes). */
static void
paint_flush(struct painter *p)
{
    uint8_t top[COLS];
    uint32_t b;
    int c, run, k;

    if (!p->cover)
        return;
    for (b = 0; b < p->n_bands; b++) {
        const uint8_t *col = p->cover + (size_t)b * COLS * N_KINDS;
        double y = p->band_y(p->L, b);

        for (c = 0; c < COLS; c++)
            top[c] = (uint8_t)top_kind(col + (size_t)c * N_KINDS);
        for (k = 0; k < N_KINDS; k++) {
            int any = 0;

            for (run = 0; run < COLS; run = c) {
                for (c = run; c < COLS && top[c] == k; c++)
                    ;
                if (c == run) {
                    c++;
                    continue;
                }
                if (!any)
                    putf(p->o, "<path class=\"%s\" d=\"", kind_class[k]);
                any = 1;
                putf(p->o, "M%d %.1fh%dv%.1fh-%dz", WF_PLOT_LEFT + run, y,
                     c - run, p->band_h, c - run);
            }
            if (any)
                put(p->o, "\"/>\n");
        }
    }
}

static int
paint_init(struct painter *p, struct out *o, const struct layout *L,
           uint32_t n_bands, double (*band_y)(const struct layout *, uint32_t),
           double band_h)
{
    p->o = o;
    p->L = L;
    p->n_bands = n_bands;
    p->band_y = band_y;
    p->band_h = band_h;
    p->cover = NULL;
    if (L->detail)
        return 0;
    p->cover = calloc((size_t)(n_bands ? n_bands : 1) * COLS, N_KINDS);
    return p->cover ? 0 : -1;
}

/* Placing: the axis' end, lanes, rows. */

static int64_t
conn_end(const struct layout *L, const struct tl_conn *c)
{
    return c->end_us >= 0 ? c->end_us : L->t_run;
}

static int64_t
req_end(const struct layout *L, const struct tl_request *r)
{
    return r->end_us >= 0 ? r->end_us : L->t_run;
}

/* The run's end: now, or the latest moment a record names if later.
   The axis ends there, with a margin of 2% so that the last bar does
   not touch the edge, and at least a millisecond after the start. */
static void
find_end(const struct timeline *tl, struct layout *L)
{
    int64_t t = tl_now(tl);
    uint32_t i;

    for (i = 0; i < L->n_conns; i++) {
        const struct tl_conn *c = tl_conn_at(tl, i);

        t = c->end_us > t ? c->end_us : t;
        t = c->tls_us > t ? c->tls_us : t;
        t = c->tcp_us > t ? c->tcp_us : t;
    }
    for (i = 0; i < L->n_reqs; i++) {
        const struct tl_request *r = tl_request_at(tl, i);

        t = r->end_us > t ? r->end_us : t;
        t = r->first_byte_us > t ? r->first_byte_us : t;
    }
    L->t_run = t;
    t = t < 1000 ? 1000 : t;
    L->t_end = t + t / 50;
}

/* A binary min-heap of (key, val), for reusing lanes. */
struct hent {
    int64_t key;
    uint32_t val;
};

static void
heap_push(struct hent *h, uint32_t *n, int64_t key, uint32_t val)
{
    uint32_t i = (*n)++;

    while (i > 0 && h[(i - 1) / 2].key > key) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i].key = key;
    h[i].val = val;
}

static struct hent
heap_pop(struct hent *h, uint32_t *n)
{
    struct hent top = h[0], last = h[--*n];
    uint32_t i = 0, c;

    while ((c = 2 * i + 1) < *n) {
        if (c + 1 < *n && h[c + 1].key < h[c].key)
            c++;
        if (last.key <= h[c].key)
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = last;
    return top;
}

/* Lanes reused: connections in the order they opened (the records'),
   each on the lowest-numbered lane whose connection had closed by then.
   Returns the lanes used, or 0 out of memory. */
static uint32_t
pack_lanes(const struct timeline *tl, struct layout *L)
{
    struct hent *busy = malloc((size_t)L->n_conns * sizeof *busy);
    struct hent *idle = malloc((size_t)L->n_conns * sizeof *idle);
    uint32_t i, n_busy = 0, n_idle = 0, n_lanes = 0;

    if (!busy || !idle) {
        free(busy);
        free(idle);
        return 0;
    }
    for (i = 0; i < L->n_conns; i++) {
        const struct tl_conn *c = tl_conn_at(tl, i);
        uint32_t lane;

        while (n_busy > 0 && busy[0].key <= c->start_us) {
            struct hent done = heap_pop(busy, &n_busy);

            heap_push(idle, &n_idle, done.val, done.val);
        }
        lane = n_idle > 0 ? heap_pop(idle, &n_idle).val : n_lanes++;
        L->lane[i] = lane;
        heap_push(busy, &n_busy, conn_end(L, c), lane);
    }
    free(busy);
    free(idle);
    return n_lanes;
}

/* More lanes than max (WF_MAX_LANES, or past the detail limit
   MERGED_LANES): neighbours share a lane, each lane at least a pixel
   (MERGED_LANES: several) high. */
static void
share_lanes(struct layout *L, uint32_t max)
{
    uint32_t i;

    if (L->n_lanes <= max)
        return;
    for (i = 0; i < L->n_conns; i++)
        L->lane[i] = (uint32_t)((uint64_t)L->lane[i] * max / L->n_lanes);
    L->n_lanes = max;
    L->shared = 1;
}

/* Each request on the first row of its lane that is free when it is
   queued; when none is (more in flight than rows), the one freed
   first. Returns the most rows a lane needed, or 0 out of memory. */
static unsigned
place_rows(const struct timeline *tl, struct layout *L)
{
    size_t cap = ROWS_MEM / ((size_t)L->n_lanes * sizeof(int64_t));
    unsigned used = 1;
    int64_t *free_at;
    uint32_t i;

    cap = cap < 1 ? 1 : cap > MAX_ROWS ? MAX_ROWS : cap;
    free_at = calloc((size_t)L->n_lanes * cap, sizeof *free_at);
    if (!free_at)
        return 0;
    for (i = 0; i < L->n_reqs; i++) {
        const struct tl_request *r = tl_request_at(tl, i);
        int64_t *rows = free_at + (size_t)L->lane[r->conn] * cap;
        size_t k, pick = 0;

        for (k = 0; k < cap; k++) {
            if (rows[k] <= r->queued_us) {
                pick = k;
                break;
            }
            if (rows[k] < rows[pick])
                pick = k;
        }
        rows[pick] = req_end(L, r) + 1;
        L->row[i] = (uint16_t)pick;
        used = pick + 1 > used ? (unsigned)pick + 1 : used;
    }
    free(free_at);
    return used;
}

/* The lanes' and rows' heights in the room left under the header. */
static void
size_lanes(struct layout *L, unsigned rows)
{
    double room = WF_MAX_HEIGHT - L->top - FOOT_H;
    double want = rows > 1 ? rows * ROW_H : SOLO_H;
    double gap;
    unsigned drawn;

    L->pitch = want + (want >= 8 ? 3 : 1);
    if (L->pitch * L->n_lanes > room)
        L->pitch = room / L->n_lanes;
    if (L->pitch >= 1)
        L->pitch = (double)(long)L->pitch; /* whole pixels: crisp lanes */
    gap = L->pitch >= 10 ? 3 : L->pitch >= 4 ? 1 : 0;
    L->lane_h = L->pitch - gap;
    /* A row is at least a pixel: more rows than that share them. */
    drawn = L->lane_h < rows ? (unsigned)L->lane_h : rows;
    L->rows = drawn < 1 ? 1 : drawn;
    L->row_h = L->lane_h / L->rows;
    L->bar_h = L->row_h >= 3 && L->rows > 1 ? L->row_h - 1 : L->row_h;
    L->height = (int)(L->top + L->n_lanes * L->pitch + FOOT_H + 0.999);
}

/* Lines of the command line shown: as many as its escaped text needs. */
static unsigned cmd_text(const struct waterfall_info *info, char *buf);

static int
place(const struct timeline *tl, const struct waterfall_info *info,
      struct layout *L)
{
    char cmd[CMD_MAX + 8];
    unsigned rows;
    uint32_t i;

    memset(L, 0, sizeof *L);
    L->n_conns = tl_conn_count(tl);
    L->n_reqs = tl_request_count(tl);
    L->detail = L->n_reqs <= WF_DETAIL_MAX && L->n_conns <= WF_DETAIL_MAX;
    L->cmd_lines = cmd_text(info, cmd);
    find_end(tl, L);
    L->lane = malloc((L->n_conns ? L->n_conns : 1) * sizeof *L->lane);
    if (!L->lane)
        return -1;
    L->packed = L->n_conns > WF_MAX_LANES;
    if (L->packed) {
        L->n_lanes = pack_lanes(tl, L);
        if (!L->n_lanes)
            return -1;
    } else {
        for (i = 0; i < L->n_conns; i++)
            L->lane[i] = i;
        L->n_lanes = L->n_conns;
    }
    share_lanes(L, L->detail ? WF_MAX_LANES : MERGED_LANES);
    L->top = HEAD_H(L->cmd_lines, L->packed || L->shared ? 4 : 3);
    /* Past the detail limit, requests are drawn on their lane's whole
       height (no row array). */
    rows = 1;
    if (L->detail && L->n_lanes && L->n_reqs) {
        L->row = malloc(L->n_reqs * sizeof *L->row);
        rows = L->row ? place_rows(tl, L) : 0;
        if (!rows)
            return -1;
    }
    size_lanes(L, rows);
    return 0;
}

/* Drawing: the header. */

/* Text being put together in a fixed buffer; cut marks what did not
   fit. */
struct text {
    char *p;
    size_t n, cap;
    int cut;
};

static void
add(struct text *t, const char *s, size_t n)
{
    if (n > t->cap - t->n) {
        /* Cut before a character's first byte, never inside it. */
        n = t->cap - t->n;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
        t->cut = 1;
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
}

/* s[0..n) with each quote written as q. */
static void
add_quoted(struct text *t, const char *s, size_t n, const char *q)
{
    const char *quote;

    while (n > 0 && (quote = memchr(s, '\'', n))) {
        add(t, s, (size_t)(quote - s));
        add(t, q, strlen(q));
        n -= (size_t)(quote - s) + 1;
        s = quote + 1;
    }
    add(t, s, n);
}

/*
 * An argument as a shell would take it back: bare when it holds only
 * characters no shell treats specially; in single quotes when all of it
 * prints; else in bash's $'...', whose \xHH, \\, \t, \n and \r are
 * exactly esc_line's escapes. So the line shown can be pasted, and no
 * byte of it reaches the picture raw. U+FFFE and U+FFFF, which esc_line
 * keeps and XML forbids, also take $'...' (put_xml writes them \xHH).
 */
static void
add_arg(struct text *t, const char *a)
{
    static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
                               "QRSTUVWXYZ0123456789_@%+=:,./-";
    char esc[ESC_LINE_MAX(CMD_MAX)];
    size_t len = strnlen(a, CMD_MAX), n = esc_line(esc, a, len);

    if (len > 0 && strspn(a, safe) >= len) {
        add(t, a, len);
    } else if (n == len && memcmp(esc, a, len) == 0 &&
               !strstr(a, "\xef\xbf\xbe") && !strstr(a, "\xef\xbf\xbf")) {
        add(t, "'", 1);
        add_quoted(t, a, len, "'\\''");
        add(t, "'", 1);
    } else {
        add(t, "$'", 2);
        add_quoted(t, esc, n, "\\'");
        add(t, "'", 1);
    }
}

/* The command line, each argument as add_arg writes it, at most CMD_MAX
   bytes (then " ..."), NUL-terminated in buf (CMD_MAX + 8 bytes);
   returns the lines of CMD_COLS characters it takes (1..CMD_LINES). */
static unsigned
cmd_text(const struct waterfall_info *info, char *buf)
{
    struct text t = {buf, 0, CMD_MAX, 0};
    size_t chars = 0, i;
    int a;

    for (a = 0; a < info->argc && !t.cut; a++) {
        if (a > 0)
            add(&t, " ", 1);
        add_arg(&t, info->argv[a]);
    }
    if (t.cut) {
        memcpy(buf + t.n, " ...", 4);
        t.n += 4;
    }
    buf[t.n] = '\0';
    for (i = 0; buf[i]; i++)
        chars += ((unsigned char)buf[i] & 0xc0) != 0x80;
    chars = (chars + CMD_COLS - 1) / CMD_COLS;
    return chars < 1 ? 1 : chars > CMD_LINES ? CMD_LINES : (unsigned)chars;
}

/* The command line, cut into lines of CMD_COLS characters. */
static void
draw_command(struct out *o, const struct layout *L,
             const struct waterfall_info *info, double y)
{
    char cmd[CMD_MAX + 8];
    const char *p;
    unsigned line;

    cmd_text(info, cmd);
    p = cmd;
    for (line = 0; line < L->cmd_lines && *p; line++) {
        const char *q = p;
        unsigned chars = 0;

        while (*q && (chars < CMD_COLS || ((unsigned char)*q & 0xc0) == 0x80))
            chars += ((unsigned char)*q++ & 0xc0) != 0x80;
        putf(o, "<text class=\"mono\" x=\"16\" y=\"%.1f\">%s", y + 15.0 * line,
             line == 0 ? "$ " : "  ");
        put_xml(o, p, (size_t)(q - p));
        if (line + 1 == L->cmd_lines && *q)
            put(o, " ...");
        put(o, "</text>\n");
        p = q;
    }
}

/* What the records count: handshakes, requests sent again. */
struct counts {
    unsigned full, resumed, again, plain;
};

static void
count(const struct timeline *tl, const struct layout *L, struct counts *n)
{
    uint32_t i;

    memset(n, 0, sizeof *n);
    for (i = 0; i < L->n_conns; i++) {
        const struct tl_conn *c = tl_conn_at(tl, i);

        if (!c->tls)
            n->plain++;
        else if (c->tls_us >= 0)
            *(c->resumed ? &n->resumed : &n->full) += 1;
    }
    for (i = 0; i < L->n_reqs; i++)
        n->again += tl_request_at(tl, i)->attempt > 1;
}

static void
draw_summary(struct out *o, const struct timeline *tl, const struct layout *L,
             const struct waterfall_info *info, double y)
{
    struct counts n;

    count(tl, L, &n);
    putf(o,
         "<text x=\"16\" y=\"%.1f\">%u ids: %u ok, %u failed \xc2\xb7 %.3f s "
         "\xc2\xb7 %u connection%s",
         y, info->ok + info->failed, info->ok, info->failed,
         (double)info->elapsed_ms / 1000, info->connections,
         info->connections == 1 ? "" : "s");
    if (n.full + n.resumed)
        putf(o, ", TLS handshakes: %u full, %u resumed", n.full, n.resumed);
    putf(o, " \xc2\xb7 %u requests sent, %u sent again \xc2\xb7 ", L->n_reqs,
         n.again);
    put_bytes(o, info->bytes_rx);
    put(o, " received</text>\n");
}

/* One legend entry at x: a swatch (or mark) and its words; returns the
   x of the next. */
static double
legend_item(struct out *o, double x, double y, const char *swatch,
            const char *words)
{
    putf(o, "<g transform=\"translate(%.1f,%.1f)\">%s", x, y - 9, swatch);
    putf(o, "<text x=\"20\" y=\"9\">%s</text></g>\n", words);
    return x + 20 + 6.2 * (double)strlen(words) + 18;
}

static void
draw_legend(struct out *o, const struct layout *L, double y)
{
    static const struct {
        const char *swatch, *words;
    } row1[] =
        {
            {"<rect class=\"tcp\" width=\"14\" height=\"10\"/>",
             "TCP connect"},
            {"<rect class=\"tls\" width=\"14\" height=\"10\"/>",
             "TLS handshake"},
            {"<rect class=\"tlsr\" width=\"14\" height=\"10\"/>",
             "TLS resumed"},
            {"<rect class=\"blk\" width=\"14\" height=\"10\"/>",
             "queued on an open connection"},
            {"<rect class=\"snd\" width=\"14\" height=\"10\"/>", "send"},
            {"<rect class=\"wait\" width=\"14\" height=\"10\"/>",
             "wait (to the first byte)"},
            {"<rect class=\"rcv\" width=\"14\" height=\"10\"/>", "receive"},
        },
      row2[] = {
          {"<rect class=\"life\" width=\"14\" height=\"10\"/>",
           "connection open"},
          {"<rect class=\"end\" x=\"6\" width=\"2\" height=\"10\"/>",
           "closed"},
          {"<rect class=\"endbad\" x=\"6\" width=\"2\" height=\"10\"/>",
           "closed by an error, a timeout or a failed connect"},
          {"<rect class=\"rcv\" width=\"14\" height=\"10\"/>"
           "<rect class=\"fail\" x=\"0.5\" y=\"0.5\" width=\"13\" "
           "height=\"9\"/>",
           "error answer"},
          {"<rect class=\"wait\" width=\"14\" height=\"10\"/>"
           "<path class=\"lost\" d=\"M10 1L16 9M10 9L16 1\"/>",
           "no answer"},
          {"<rect class=\"rcv\" width=\"14\" height=\"10\"/>"
           "<rect class=\"again\" x=\"0.5\" y=\"0.5\" width=\"13\" "
           "height=\"9\"/>",
           "sent again"},
      };
    size_t i;
    double x = 16;

    for (i = 0; i < sizeof row1 / sizeof row1[0]; i++)
        x = legend_item(o, x, y, row1[i].swatch, row1[i].words);
    x = 16;
    for (i = 0; i < sizeof row2 / sizeof row2[0]; i++) {
        if (!L->detail && i >= 3) {
            x = legend_item(o, x, y + 20,
                            "<rect class=\"bad\" width=\"14\" height=\"10\"/>",
                            "error answer or none");
            break;
        }
        x = legend_item(o, x, y + 20, row2[i].swatch, row2[i].words);
    }
}

static void
draw_notes(struct out *o, const struct layout *L, double y)
{
    putf(o,
         "<text class=\"note\" x=\"16\" y=\"%.1f\">One lane per connection, "
         "in the order they opened. A lane is cut into thin rows, one per "
         "request in flight at once, the first sent on top:</text>\n",
         y);
    putf(o,
         "<text class=\"note\" x=\"16\" y=\"%.1f\">pipelined requests that "
         "left together start in one column, and their answers, which come "
         "back one after another, end in a staircase.</text>\n",
         y + 15);
    putf(o, "<text class=\"note\" x=\"16\" y=\"%.1f\">", y + 30);
    if (L->detail)
        put(o, "Hover a bar or a lane for its details.");
    else
        putf(o,
             "Over %u requests or connections: one row per lane, each "
             "pixel in the colour on top there, no tooltips.",
             (unsigned)WF_DETAIL_MAX);
    put(o, "</text>\n");
    if (L->packed || L->shared)
        putf(o,
             "<text class=\"note\" x=\"16\" y=\"%.1f\">Lanes are reused: "
             "%s%s (%u connections on %u lanes).</text>\n",
             y + 45,
             L->packed ? "a lane takes the next connection once its own has "
                         "closed"
                       : "",
             !L->shared  ? ""
             : L->packed ? ", and neighbours share one, as more were open at "
                           "once than lanes fit"
                         : "neighbouring connections share one, as more were "
                           "open at once than lanes fit",
             L->n_conns, L->n_lanes);
}

/* The axis: a 1-2-5 step giving at most 10 ticks. */
static int64_t
tick_step(int64_t span)
{
    static const int64_t mult[] = {1, 2, 5};
    int64_t step = 1;
    int i;

    for (;;) {
        for (i = 0; i < 3; i++)
            if (span / (step * mult[i]) <= 10)
                return step * mult[i];
        step *= 10;
    }
}

static void
draw_axis(struct out *o, const struct layout *L)
{
    int64_t step = tick_step(L->t_end), t;
    int d = step >= 1000 ? 0 : step >= 100 ? 1 : step >= 10 ? 2 : 3;
    double bottom = L->top + L->n_lanes * L->pitch;
    int both = bottom - L->top > 300; /* labels under the lanes too */

    putf(o,
         "<text class=\"lab\" x=\"%.1f\" y=\"%.1f\">ms since start</text>\n",
         PLOT_X - 10, L->top - 8);
    for (t = 0; t <= L->t_end; t += step) {
        double x = xof(L, t);

        putf(o,
             "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
             "y2=\"%.1f\"/><text class=\"tick\" x=\"%.1f\" y=\"%.1f\">",
             x, L->top - 4, x, bottom + (both ? 4 : 0), x, L->top - 8);
        put_ms(o, t, d);
        put(o, "</text>");
        if (both) {
            putf(o, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">", x,
                 bottom + 16);
            put_ms(o, t, d);
            put(o, "</text>");
        }
        put(o, "\n");
    }
}

/* Lane labels: each lane when they are tall enough, else every k-th. */
static void
draw_lane_labels(struct out *o, const struct timeline *tl,
                 const struct layout *L)
{
    uint32_t every = L->pitch >= 12 ? 1 : (uint32_t)(12 / L->pitch) + 1;
    uint32_t i;

    if (every > 1) /* a round step: 1, 2, 5, 10, 20... */
        every = (uint32_t)tick_step((int64_t)every * 10);
    for (i = 0; i < L->n_lanes; i += every) {
        double y = lane_y(L, i) + L->lane_h / 2 + 4;

        if (L->packed || L->shared) {
            putf(o,
                 "<text class=\"lab\" x=\"%.1f\" y=\"%.1f\">lane %u</text>\n",
                 PLOT_X - 6, y, i);
        } else if (L->pitch >= 14) {
            const struct tl_conn *c = tl_conn_at(tl, i);

            putf(o,
                 "<text class=\"lab\" x=\"%.1f\" y=\"%.1f\">c%u \xc2\xb7 %u "
                 "req</text>\n",
                 PLOT_X - 6, y, i, c->requests);
        } else {
            putf(o, "<text class=\"lab\" x=\"%.1f\" y=\"%.1f\">c%u</text>\n",
                 PLOT_X - 6, y, i);
        }
    }
}

/* Drawing: connections. */

static const char *
end_words(int why)
{
    switch (why) {
    case CONN_END_LOCAL:
        return "closed by pokefetch";
    case CONN_END_ANNOUNCED:
        return "closed as the server announced";
    case CONN_END_EOF:
        return "closed by the server";
    case CONN_END_ERROR:
        return "ended by an error";
    case CONN_END_TIMEOUT:
        return "timed out";
    case CONN_END_CONNECT:
        return "could not connect";
    case CONN_END_VERIFY:
        return "certificate not trusted";
    default:
        return "still open at the end";
    }
}

static int
end_is_bad(int why)
{
    return why >= CONN_END_ERROR;
}

static void
conn_tooltip(struct out *o, const struct timeline *tl, uint32_t no,
             const struct tl_conn *c)
{
    putf(o, "<title>connection c%u to ", no);
    put_textz(o, c->peer);
    put(o, " (");
    put_textz(o, tl_origin_name(tl, c->origin));
    put(o, "): opened at ");
    put_ms(o, c->start_us, 1);
    put(o, " ms");
    if (c->tcp_us >= 0) {
        put(o, ", TCP connect ");
        put_ms(o, c->tcp_us - c->start_us, 1);
        put(o, " ms");
    }
    if (c->tls && c->tls_us >= 0 && c->tcp_us >= 0) {
        put(o, ", TLS handshake ");
        put_ms(o, c->tls_us - c->tcp_us, 1);
        put(o, c->resumed ? " ms (resumed)" : " ms (full)");
    }
    putf(o, "; requests %u, answers %u; ", c->requests, c->responses);
    put(o, end_words(c->end_why));
    if (c->end_us >= 0) {
        put(o, " at ");
        put_ms(o, c->end_us, 1);
        put(o, " ms");
    }
    put(o, "</title>");
}

static void
draw_conn(struct painter *p, const struct timeline *tl, uint32_t no)
{
    const struct layout *L = p->L;
    const struct tl_conn *c = tl_conn_at(tl, no);
    uint32_t lane = L->lane[no];
    int64_t end = conn_end(L, c);
    int64_t tcp = c->tcp_us >= 0 ? c->tcp_us : end;
    int64_t tls = c->tls_us >= 0 ? c->tls_us : end;
    double xe = xof(L, end);

    if (L->detail) {
        putf(p->o, "<g class=\"conn\" id=\"c%u\">", no);
        conn_tooltip(p->o, tl, no, c);
    }
    paint(p, lane, K_LIFE, xof(L, c->start_us), xe);
    paint(p, lane, K_TCP, xof(L, c->start_us), xof(L, tcp));
    if (c->tls && c->tcp_us >= 0)
        paint(p, lane, c->resumed ? K_TLSR : K_TLS, xof(L, tcp), xof(L, tls));
    /* A tick where it closed: always for a bad end; for a good one only
       on a connection wide enough that the tick does not hide it. */
    if (c->end_us >= 0 && end_is_bad(c->end_why))
        paint(p, lane, K_ENDBAD, xe - 1.5, xe);
    else if (c->end_us >= 0 && xe - xof(L, c->start_us) >= 6)
        paint(p, lane, K_END, xe - 1, xe);
    if (L->detail)
        put(p->o, "</g>\n");
}

/* Drawing: requests. */

static void
req_tooltip(struct out *o, const struct timeline *tl, uint32_t no,
            const struct tl_request *r, const struct tl_phases *ph)
{
    static const char *const outcome[] = {"no answer before the end",
                                          "answered", "an error answer",
                                          "no answer: its connection ended"};

    putf(o, "<title>request %u: id %u, GET ", no, r->id);
    put_text(o, tl_target(tl, r), r->target_len);
    putf(o, "\nconnection c%u, %u ahead of it, attempt %u: ", r->conn,
         r->pipeline_pos, r->attempt);
    put(o, outcome[r->outcome < 4 ? r->outcome : 0]);
    if (r->status)
        putf(o, ", status %d", r->status);
    if (r->wire_bytes) {
        put(o, ", ");
        put_bytes(o, r->wire_bytes);
    }
    put(o, "\nqueued ");
    put_ms(o, r->queued_us, 1);
    put(o, " ms; blocked ");
    put_ms(o, ph->blocked, 1);
    if (ph->connect >= 0) {
        put(o, ", connect ");
        put_ms(o, ph->connect, 1);
    }
    put(o, ", send ");
    put_ms(o, ph->send, 1);
    put(o, ", wait ");
    put_ms(o, ph->wait, 1);
    put(o, ", receive ");
    put_ms(o, ph->receive, 1);
    put(o, ", total ");
    put_ms(o, ph->total, 1);
    put(o, " ms</title>");
}

/* The band of request row: its lane's row (rows wrap when a lane has
   more in flight than rows drawn). */
static double
row_y(const struct layout *L, uint32_t band)
{
    return lane_y(L, band / L->rows) + (band % L->rows) * L->row_h;
}

/* The phases as drawn: from the moment the connection was up (the wait
   for its handshake is the handshake on the lane), contiguous, at least
   a pixel in all. xs[0..5): the edges of queued, send, wait, receive. */
static int
bar_edges(const struct timeline *tl, const struct layout *L,
          const struct tl_request *r, const struct tl_phases *ph, double *xs)
{
    const struct tl_conn *c = tl_conn_at(tl, r->conn);
    int64_t up = c->tls ? c->tls_us : c->tcp_us;
    int64_t ready =
        r->queued_us + ph->blocked + (ph->connect > 0 ? ph->connect : 0);
    int64_t from = up < 0 ? ready : up > r->queued_us ? up : r->queued_us;
    int i;

    if (up < 0 && r->sent_us < 0)
        return 0; /* it only ever waited for a connect that failed */
    if (from > ready)
        from = ready;
    xs[0] = xof(L, from);
    xs[1] = xof(L, ready);
    xs[2] = xof(L, ready + ph->send);
    xs[3] = xof(L, ready + ph->send + ph->wait);
    xs[4] = xof(L, ready + ph->send + ph->wait + ph->receive);
    if (xs[4] - xs[0] < 1) {
        /* The last phase that has any length takes the pixel. */
        for (i = 4; i > 1 && xs[i] <= xs[i - 1]; i--)
            xs[i] = xs[0] + 1;
        xs[i] = xs[0] + 1;
    }
    return 1;
}

static void
draw_marks(struct out *o, const struct layout *L, const struct tl_request *r,
           double x0, double x1, double y)
{
    double h = L->bar_h, s;

    if (r->outcome == TL_FAILED)
        putf(o,
             "<rect class=\"fail\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
             "height=\"%.1f\"/>",
             x0, y, x1 - x0, h);
    else if (r->attempt > 1)
        putf(o,
             "<rect class=\"again\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
             "height=\"%.1f\"/>",
             x0, y, x1 - x0, h);
    if (r->outcome == TL_UNANSWERED || r->outcome == TL_PENDING) {
        s = h < 3 ? 1.5 : h / 2 > 5 ? 5 : h / 2;
        putf(o,
             "<path class=\"lost\" d=\"M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f "
             "%.1f\"/>",
             x1 - s, y + h / 2 - s, x1 + s, y + h / 2 + s, x1 - s,
             y + h / 2 + s, x1 + s, y + h / 2 - s);
    }
}

static void
draw_request(struct painter *p, const struct timeline *tl, uint32_t no)
{
    static const enum kind phase_kind[4] = {K_BLK, K_SND, K_WAIT, K_RCV};
    const struct layout *L = p->L;
    const struct tl_request *r = tl_request_at(tl, no);
    uint32_t band =
        L->lane[r->conn] * L->rows + (L->row ? L->row[no] % L->rows : 0);
    struct tl_phases ph;
    double xs[5];
    int i, bar;

    tl_phases(tl, r, L->t_run, &ph);
    bar = bar_edges(tl, L, r, &ph, xs);
    if (!L->detail) {
        if (!bar)
            return;
        if (r->outcome == TL_OK)
            for (i = 0; i < 4; i++)
                paint(p, band, phase_kind[i], xs[i], xs[i + 1]);
        else
            paint(p, band, K_BAD, xs[0], xs[4]);
        return;
    }
    putf(p->o, "<g class=\"req\" id=\"r%u\">", no);
    req_tooltip(p->o, tl, no, r, &ph);
    if (!bar) /* the mark where it gave up, on its lane */
        xs[0] = xs[4] = xof(L, req_end(L, r));
    for (i = 0; bar && i < 4; i++)
        paint(p, band, phase_kind[i], xs[i], xs[i + 1]);
    draw_marks(p->o, L, r, xs[0], xs[4], row_y(L, band));
    put(p->o, "</g>\n");
}

static const char style[] =
    "<defs><pattern id=\"resumed\" width=\"6\" height=\"6\" "
    "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
    "<rect width=\"6\" height=\"6\" fill=\"#e1bee7\"/>"
    "<rect width=\"3\" height=\"6\" fill=\"#8e24aa\"/></pattern></defs>\n"
    "<style>\n"
    "text{font-family:'DejaVu Sans',Verdana,sans-serif;font-size:11px;"
    "fill:#263238}\n"
    ".h{font-size:16px;font-weight:bold}\n"
    ".mono{font-family:'DejaVu Sans Mono',monospace;font-size:12px}\n"
    ".note,.lab{fill:#546e7a}.lab{text-anchor:end}"
    ".tick{text-anchor:middle;fill:#455a64}\n"
    ".grid{stroke:#dfe4e7;stroke-width:1}\n"
    ".life{fill:#e9eef1}.tcp{fill:#fb8c00}.tls{fill:#8e24aa}"
    ".tlsr{fill:url(#resumed)}.end{fill:#455a64}.endbad{fill:#d50000}\n"
    ".blk{fill:#b0bec5}.snd{fill:#00acc1}.wait{fill:#43a047}"
    ".rcv{fill:#1e88e5}.bad{fill:#e53935}\n"
    ".fail{fill:none;stroke:#d50000;stroke-width:1}"
    ".again{fill:none;stroke:#212121;stroke-width:1;stroke-dasharray:3 2}"
    ".lost{fill:none;stroke:#d50000;stroke-width:1.5}\n"
    "</style>\n";

static void
draw_header(struct out *o, const struct timeline *tl, const struct layout *L,
            const struct waterfall_info *info)
{
    double y;

    putf(o,
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
         "height=\"%d\" viewBox=\"0 0 %d %d\">\n",
         WF_WIDTH, L->height, WF_WIDTH, L->height);
    put(o, style);
    putf(o, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", WF_WIDTH,
         L->height);
    put(o, "<text class=\"h\" x=\"16\" y=\"24\">pokefetch: every connection "
           "and request of one run</text>\n");
    draw_command(o, L, info, 44);
    y = 44 + 15.0 * L->cmd_lines + 2;
    draw_summary(o, tl, L, info, y);
    draw_legend(o, L, y + 26);
    draw_notes(o, L, y + 70);
    draw_axis(o, L);
    draw_lane_labels(o, tl, L);
}

/* The lanes, then the bars over them. */
static void
draw_plot(const struct timeline *tl, const struct layout *L,
          struct painter *lanes, struct painter *rows)
{
    uint32_t i;

    if (L->n_conns == 0)
        putf(lanes->o,
             "<text class=\"note\" x=\"%.1f\" y=\"%.1f\">No connection was "
             "opened.</text>\n",
             PLOT_X + 8, L->top + 14);
    for (i = 0; i < L->n_conns; i++)
        draw_conn(lanes, tl, i);
    if (lanes != rows)
        paint_flush(lanes);
    for (i = 0; i < L->n_reqs; i++)
        draw_request(rows, tl, i);
    paint_flush(rows);
}

int
waterfall_write(struct out *o, const struct timeline *tl,
                const struct waterfall_info *info)
{
    struct layout L;
    struct painter lanes, rows;
    int rc = -ENOMEM;

    lanes.cover = rows.cover = NULL;
    /* Past the detail limit a lane is one row: one raster for both. */
    if (place(tl, info, &L) < 0 ||
        paint_init(&lanes, o, &L, L.n_lanes, lane_y, L.lane_h) < 0 ||
        (L.detail &&
         paint_init(&rows, o, &L, L.n_lanes * L.rows, row_y, L.bar_h) < 0))
        goto out;
    draw_header(o, tl, &L, info);
    draw_plot(tl, &L, &lanes, L.detail ? &rows : &lanes);
    put(o, "</svg>\n");
    rc = out_flush(o);
out:
    free(lanes.cover);
    free(rows.cover);
    free(L.lane);
    free(L.row);
    return rc;
}
