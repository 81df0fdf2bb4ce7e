/*
 * test_waterfall - the SVG picture of a run (include/waterfall.h), drawn
 * from made-up runs (tests/tl_synth.h) and hand-made timelines on a fake
 * clock: the file is well-formed XML (a small checker below), holds one
 * lane per connection and one bar per request, a time axis in a 1-2-5
 * series, the legend and the title with every outside byte escaped; a
 * pipeline shows as a column of requests with a staircase of answers;
 * error answers, lost and resent requests are marked; and the file stays
 * within WF_MAX_HEIGHT and a bounded size for 1351 requests on 6
 * connections, 1351 connections, and runs past each limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "out.h"
#include "timeline.h"
#include "tl_synth.h"
#include "waterfall.h"

/* The made-up runs' defaults: 45 ms RTT, TLS, resumed after the first. */
static struct synth
shape(unsigned ids, unsigned conns, unsigned depth, int keepalive)
{
    struct synth s = {ids, conns, depth, keepalive, 1, 1, 45000, 300, 0, 0};

    return s;
}

static struct out o; /* 64 KiB: not on the stack */

/* tl drawn with the command argv: the file's bytes (free them), its
   length in *len; NULL if waterfall_write failed (its code in *rc). */
static char *
render_argv(const struct timeline *tl, int argc, char *const *argv,
            size_t *len, int *rc)
{
    struct waterfall_info info = {argc, argv, 0, 0, 0, 0, 0};
    FILE *f = tmpfile();
    char *buf;
    long n;
    uint32_t i;

    for (i = 0; i < tl_request_count(tl); i++) {
        info.ok += tl_request_at(tl, i)->outcome == TL_OK;
        info.failed += tl_request_at(tl, i)->outcome == TL_FAILED;
    }
    info.connections = tl_conn_count(tl);
    info.elapsed_ms = tl_now(tl) / 1000;
    if (!f)
        return NULL;
    out_init(&o, fileno(f));
    *rc = waterfall_write(&o, tl, &info);
    n = lseek(fileno(f), 0, SEEK_END);
    buf = *rc == 0 && n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && pread(fileno(f), buf, (size_t)n, 0) != n) {
        free(buf);
        buf = NULL;
    }
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

static char *
render(const struct timeline *tl, size_t *len)
{
    static char *argv[] = {"pokefetch", "-c", "6", "-p", "32", "1-150"};
    int rc;

    return render_argv(tl, 6, argv, len, &rc);
}

/* The XML checker. */

/* Characters XML 1.0 allows, in well-formed UTF-8 (no overlongs, no
   surrogates, nothing past U+10FFFF; no controls but TAB, LF and CR;
   not U+FFFE or U+FFFF). */
static int
xml_chars_ok(const unsigned char *s, size_t n)
{
    size_t i = 0, k, len;
    uint32_t cp;

    while (i < n) {
        if (s[i] < 0x80) {
            if (s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
                return 0;
            i++;
            continue;
        }
        len = s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : s[i] >= 0xc2 ? 2 : 0;
        if (len == 0 || s[i] > 0xf4 || i + len > n)
            return 0;
        cp = s[i] & (0x7fu >> len);
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
            cp == 0xffff)
            return 0;
        i += len;
    }
    return 1;
}

/* At s: a reference (&amp; &lt; &gt; &quot; &apos; &#N; &#xH;)? Its
   length, or 0. */
static size_t
reference(const char *s)
{
    static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;",
                                        "&apos;"};
    size_t i, n;

    for (i = 0; i < 5; i++)
        if (strncmp(s, named[i], strlen(named[i])) == 0)
            return strlen(named[i]);
    if (s[1] != '#')
        return 0;
    n = s[2] == 'x' ? strspn(s + 3, "0123456789abcdefABCDEF") + 3
                    : strspn(s + 2, "0123456789") + 2;
    return n > 3 && s[n] == ';' ? n + 1 : 0;
}

/* Text up to the next '<' (or `end` in an attribute value): every '&'
   a reference. Returns the position after it, or NULL. */
static const char *
xml_text(const char *p, char end)
{
    while (*p && *p != '<' && *p != end) {
        if (*p == '&') {
            size_t n = reference(p);

            if (!n)
                return NULL;
            p += n;
        } else {
            p++;
        }
    }
    return p;
}

static size_t
xml_name(const char *p)
{
    size_t n = 0;

    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:",
                *p) ||
        !*p)
        return 0;
    while (p[n] && strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
                          "YZ_:.-0123456789",
                          p[n]))
        n++;
    return n;
}

/* A start tag's attributes, from after its name: quoted values, no name
   twice. Returns the position of its '>' or "/>", or NULL. */
static const char *
xml_attrs(const char *p)
{
    const char *seen[16];
    size_t seen_len[16], n_seen = 0, n, i;

    for (;;) {
        size_t ws = strspn(p, " \t\r\n");

        p += ws;
        if (*p == '>' || (p[0] == '/' && p[1] == '>'))
            return p;
        n = xml_name(p);
        if (!ws || !n || p[n] != '=' || p[n + 1] != '"' || n_seen == 16)
            return NULL;
        for (i = 0; i < n_seen; i++)
            if (seen_len[i] == n && memcmp(seen[i], p, n) == 0)
                return NULL;
        seen[n_seen] = p;
        seen_len[n_seen++] = n;
        p = xml_text(p + n + 2, '"');
        if (!p || *p != '"')
            return NULL;
        p++;
    }
}

/*
 * The document at s: a prolog, then one root element whose tags nest
 * (names matched), attributes as xml_attrs wants, text as xml_text
 * wants, and only white space outside the root. No comments, CDATA or
 * DOCTYPE: waterfall writes none.
 */
static int
xml_well_formed(const char *s, size_t len)
{
    const char *stack[64];
    size_t stack_len[64], depth = 0, n;
    const char *p = s;
    int roots = 0;

    if (!xml_chars_ok((const unsigned char *)s, len) ||
        strncmp(p, "<?xml ", 6) != 0 || !(p = strstr(p, "?>")))
        return 0;
    p += 2;
    for (;;) {
        const char *t = xml_text(p, '\0');

        if (!t || (depth == 0 && strspn(p, " \t\r\n") != (size_t)(t - p)))
            return 0;
        p = t;
        if (!*p)
            break;
        if (p[1] == '/') {
            n = xml_name(p + 2);
            if (!n || depth == 0 || stack_len[depth - 1] != n ||
                memcmp(stack[depth - 1], p + 2, n) != 0 || p[2 + n] != '>')
                return 0;
            depth--;
            p += n + 3;
            continue;
        }
        n = xml_name(p + 1);
        if (!n || depth == 64 || !(t = xml_attrs(p + 1 + n)))
            return 0;
        roots += depth == 0;
        if (*t == '>') {
            stack[depth] = p + 1;
            stack_len[depth++] = n;
            p = t + 1;
        } else {
            p = t + 2;
        }
    }
    return depth == 0 && roots == 1 && (size_t)(p - s) == len;
}

/* tl drawn and well-formed: the file's bytes (free them), or NULL after
   a failed check. */
static char *
render_checked(const struct timeline *tl, size_t *len)
{
    char *svg = render(tl, len);

    CHECK(svg != NULL);
    if (svg && !xml_well_formed(svg, *len)) {
        CHECK(!"well-formed");
        free(svg);
        return NULL;
    }
    return svg;
}

/* Reading what was drawn. */

static unsigned
count(const char *s, const char *needle)
{
    unsigned n = 0;

    while ((s = strstr(s, needle))) {
        n++;
        s += strlen(needle);
    }
    return n;
}

/* The numeric attribute name of the tag at tag (before its end). */
static double
attr(const char *tag, const char *name)
{
    char key[32];
    const char *end = strchr(tag, '>'), *p;

    snprintf(key, sizeof key, " %s=\"", name);
    p = strstr(tag, key);
    return p && p < end ? strtod(p + strlen(key), NULL) : -1;
}

/* The group with id (e.g. "r12") and its end: [*from, *to). */
static int
group(const char *svg, const char *id, const char **from, const char **to)
{
    char key[32];

    snprintf(key, sizeof key, " id=\"%s\">", id);
    *from = strstr(svg, key);
    if (!*from)
        return 0;
    *to = strstr(*from, "</g>");
    return *to != NULL;
}

/* The first rect of class cls in [from, to), or NULL. */
static const char *
rect_in(const char *from, const char *to, const char *cls)
{
    char key[32];
    const char *p;

    snprintf(key, sizeof key, "<rect class=\"%s\"", cls);
    p = strstr(from, key);
    return p && p < to ? p : NULL;
}

/* Marks of kind (e.g. "class=\"lost\"") inside request groups. */
static unsigned
marks_in_requests(const char *svg, uint32_t n_reqs, const char *kind)
{
    char id[16];
    const char *from, *to, *p;
    unsigned n = 0;
    uint32_t i;

    for (i = 0; i < n_reqs; i++) {
        snprintf(id, sizeof id, "r%u", i);
        if (!group(svg, id, &from, &to))
            continue;
        for (p = from; (p = strstr(p, kind)) && p < to; p++)
            n++;
    }
    return n;
}

static int
svg_height(const char *svg)
{
    const char *p = strstr(svg, "<svg ");

    return p ? (int)attr(p, "height") : -1;
}

/* The tests. */

static void
test_pipelined_run(void)
{
    struct synth s = shape(150, 6, 32, 1);
    struct timeline *tl;
    char *svg;
    size_t len = 0;
    uint32_t i, failed = 0, lost = 0, again = 0, bars = 0;
    double prev_y = -1;
    int lanes_in_order = 1;

    s.fail_every = 20;
    s.reset_after = 10;
    tl = synth_timeline(&s);
    CHECK(tl != NULL);
    svg = render_checked(tl, &len);
    if (!svg) {
        tl_free(tl);
        return;
    }
    /* 6 connections and the one the reset requests went again on. */
    CHECK(tl_conn_count(tl) == 7);
    CHECK(count(svg, "<g class=\"conn\"") == 7);
    CHECK(count(svg, "<g class=\"req\"") == tl_request_count(tl));
    for (i = 0; i < tl_conn_count(tl); i++) {
        const char *from, *to, *life;
        char id[16];

        snprintf(id, sizeof id, "c%u", i);
        CHECK(group(svg, id, &from, &to));
        life = rect_in(from, to, "life");
        CHECK(life != NULL);
        if (life && attr(life, "y") <= prev_y)
            lanes_in_order = 0;
        prev_y = life ? attr(life, "y") : prev_y;
    }
    CHECK(lanes_in_order);
    for (i = 0; i < tl_request_count(tl); i++) {
        const struct tl_request *r = tl_request_at(tl, i);
        const char *from, *to;
        char id[16];

        snprintf(id, sizeof id, "r%u", i);
        if (group(svg, id, &from, &to) &&
            (rect_in(from, to, "wait") || rect_in(from, to, "rcv")))
            bars++;
        failed += r->outcome == TL_FAILED;
        lost += r->outcome == TL_UNANSWERED;
        again += r->attempt > 1 && r->outcome != TL_FAILED;
    }
    CHECKF(bars == tl_request_count(tl), "%u bars", bars);
    CHECK(failed == 7 && lost > 0 && again == lost);
    CHECK(marks_in_requests(svg, tl_request_count(tl), "class=\"fail\"") ==
          failed);
    CHECK(marks_in_requests(svg, tl_request_count(tl), "class=\"lost\"") ==
          lost);
    CHECK(marks_in_requests(svg, tl_request_count(tl), "class=\"again\"") ==
          again);
    CHECK(strstr(svg, ">$ pokefetch -c 6 -p 32 1-150</text>") != NULL);
    CHECK(strstr(svg, "150 ids: 143 ok, 7 failed") != NULL);
    CHECK(strstr(svg, "7 connections, TLS handshakes: 1 full, 6 resumed") !=
          NULL);
    CHECK(strstr(svg, "Lanes are reused") == NULL);
    CHECK(svg_height(svg) > 0 && svg_height(svg) <= WF_MAX_HEIGHT);
    free(svg);
    tl_free(tl);
}

/* The first round of a connection: requests queued before its handshake,
   written together once it is done. Each on a row of its own, their
   send in one column, their answers ending one after another. */
static void
test_pipeline_is_visible(void)
{
    struct synth s = shape(150, 6, 32, 1);
    struct timeline *tl = synth_timeline(&s);
    const struct tl_conn *c;
    char *svg;
    size_t len = 0;
    uint32_t i, n = 0;
    double col = -1, prev_end = -1, prev_y = -1;
    int column = 1, staircase = 1, rows = 1;

    CHECK(tl != NULL);
    svg = render(tl, &len);
    CHECK(svg != NULL);
    if (!svg || !tl) {
        free(svg);
        tl_free(tl);
        return;
    }
    c = tl_conn_at(tl, 1);
    for (i = 0; i < tl_request_count(tl); i++) {
        const struct tl_request *r = tl_request_at(tl, i);
        const char *from, *to, *snd, *rcv;
        char id[16];

        if (r->conn != 1 || r->queued_us > c->tls_us)
            continue;
        snprintf(id, sizeof id, "r%u", i);
        if (!group(svg, id, &from, &to))
            continue;
        snd = rect_in(from, to, "snd");
        rcv = rect_in(from, to, "rcv");
        if (!snd || !rcv)
            continue;
        n++;
        if (col < 0)
            col = attr(snd, "x");
        column &= attr(snd, "x") > col - 0.2 && attr(snd, "x") < col + 0.2;
        staircase &= attr(rcv, "x") + attr(rcv, "width") > prev_end;
        rows &= attr(rcv, "y") > prev_y;
        prev_end = attr(rcv, "x") + attr(rcv, "width");
        prev_y = attr(rcv, "y");
    }
    CHECKF(n == 25, "%u requests in the first round", n);
    CHECK(column && staircase && rows);
    free(svg);
    tl_free(tl);
}

static void
test_title_escaped(void)
{
    char *argv[] = {"pokefetch",
                    "--url",
                    "http://x/?a=1&b=<2>\"",
                    "\x1b[31mred",
                    "bad\xff\xfe",
                    "bidi\xe2\x80\xae",
                    "nonchar\xef\xbf\xbe",
                    "tab\there",
                    "it's",
                    "",
                    "a\\b'c\n"};
    struct timeline *tl;
    uint32_t cn;
    char *svg;
    size_t len = 0;
    int rc;

    tl = tl_new(1, synth_clock);
    CHECK(tl != NULL);
    /* Text from a server or the user in the tooltips too. */
    tl_origin(tl, 0, "https://a&b<c>");
    cn = tl_connect(tl, 0, 1, "\x1b]0;owned\x07<x>");
    tl_queued(tl, cn, 0, 1, 0, "/<script>&\x01\xc0", 13, NULL, 0);
    svg = render_argv(tl, 11, argv, &len, &rc);
    CHECK(svg != NULL);
    if (!svg) {
        tl_free(tl);
        return;
    }
    CHECK(xml_well_formed(svg, len));
    /* As a shell takes it back: bytes that do not print in $'...'. */
    CHECK(strstr(svg, "$ pokefetch --url &#39;http://x/?a=1&amp;b=&lt;2&gt;"
                      "&quot;&#39; $&#39;\\x1b[31mred&#39; $&#39;bad\\xff"
                      "\\xfe&#39; $&#39;bidi\\xe2\\x80\\xae&#39; "
                      "$&#39;nonchar\\xef\\xbf\\xbe&#39; $&#39;tab\\there"
                      "&#39; &#39;it&#39;\\&#39;&#39;s&#39; &#39;&#39; "
                      "$&#39;a\\\\b\\&#39;c\\n&#39;</text>") != NULL);
    CHECK(strstr(svg, "\\x1b]0;owned\\x07&lt;x&gt;") != NULL);
    CHECK(strstr(svg, "https://a&amp;b&lt;c&gt;") != NULL);
    CHECK(strstr(svg, "GET /&lt;script&gt;&amp;\\x01\\xc0") != NULL);
    CHECK(strstr(svg, "<script") == NULL && strstr(svg, "<x>") == NULL);
    free(svg);
    tl_free(tl);
}

/* A command line too long for CMD_LINES lines ends in "...". */
static void
test_long_command(void)
{
    static char arg[5000];
    char *argv[] = {"pokefetch", arg};
    struct timeline *tl = tl_new(1, synth_clock);
    char *svg;
    size_t len = 0;
    int rc;

    memset(arg, 'a', sizeof arg - 1);
    svg = render_argv(tl, 2, argv, &len, &rc);
    CHECK(svg != NULL);
    if (svg) {
        CHECK(xml_well_formed(svg, len));
        CHECK(count(svg, "<text class=\"mono\"") == 3);
        CHECK(strstr(svg, "aaa ...</text>") != NULL);
    }
    free(svg);
    /* Under one line: one line, no "...". */
    arg[100] = '\0';
    svg = render_argv(tl, 2, argv, &len, &rc);
    CHECK(svg && count(svg, "<text class=\"mono\"") == 1);
    CHECK(svg && strstr(svg, "...") == NULL);
    free(svg);
    tl_free(tl);
}

/* The tick labels of the top axis: 0, then a 1-2-5 step, 4 to 11 of
   them. */
static int
axis_ok(const char *svg)
{
    const char *p = svg, *first = strstr(svg, "<text class=\"tick\"");
    double y = first ? attr(first, "y") : -1, v, step = -1, prev = -1, m;
    int n = 0;

    while ((p = strstr(p, "<text class=\"tick\""))) {
        if (attr(p, "y") != y) { /* the labels under the lanes */
            p++;
            continue;
        }
        v = strtod(strchr(p, '>') + 1, NULL);
        if (n == 0 && v != 0)
            return 0;
        if (n == 1)
            step = v;
        if (n > 1 && (v - prev < step * 0.999 || v - prev > step * 1.001))
            return 0;
        prev = v;
        n++;
        p++;
    }
    if (n < 4 || n > 11 || step <= 0)
        return 0;
    for (m = step; m >= 10; m /= 10) /* the mantissa: 1, 2 or 5 */
        ;
    for (; m < 1 - 1e-9; m *= 10)
        ;
    return (m > 0.999 && m < 1.001) || (m > 1.999 && m < 2.001) ||
           (m > 4.999 && m < 5.001);
}

static void
test_axis(void)
{
    static const int64_t ends[] = {10,    999,    1000,     7000,
                                   45000, 135000, 20250000, 100000000};
    size_t k;
    int all = 1;

    for (k = 0; k < sizeof ends / sizeof ends[0]; k++) {
        struct synth s = shape(1, 1, 1, 1);
        struct timeline *tl;
        char *svg;
        size_t len = 0;

        /* TCP, TLS, the wait and the answer: four quarters. */
        s.rtt_us = s.xfer_us = ends[k] / 4 > 0 ? ends[k] / 4 : 1;
        tl = synth_timeline(&s);
        svg = tl ? render(tl, &len) : NULL;
        if (!svg || !axis_ok(svg) || !xml_well_formed(svg, len)) {
            fprintf(stderr, "axis for a run of %lld us\n", (long long)ends[k]);
            all = 0;
        }
        free(svg);
        tl_free(tl);
    }
    CHECK(all);
}

/* Runs of the sizes people make, and past every limit: the height
   within WF_MAX_HEIGHT, the bytes bounded. Past the detail limit the
   picture, not the run, bounds the file. */
static void
test_sizes(void)
{
    static const struct {
        unsigned ids, conns, depth;
        int keepalive;
        uint32_t n_conns; /* the run opens */
        size_t max_bytes;
        const char *what;
    } runs[] = {
        {1351, 6, 32, 1, 6, 800000, "1351 ids on 6 connections"},
        {1351, 1351, 1, 1, 1351, 1500000, "1351 connections at once"},
        {1351, 1, 1, 0, 1351, 1500000, "1351 connections, one by one"},
        {100000, 6, 32, 1, 6, 1000000, "100000 ids on 6 connections"},
        {300000, 6, 32, 1, 6, 1000000, "300000 ids on 6 connections"},
        {20000, 6, 1, 0, 20000, 1000000, "20000 connections, 6 at once"},
        /* The worst shape: a new colour every pixel or two. */
        {200000, 1024, 1, 0, 200000, 3000000,
         "200000 connections, 1024 at once"},
        {3000, 3000, 1, 1, 3000, 1000000, "3000 connections at once"},
    };
    size_t i;

    for (i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        struct synth s = shape(runs[i].ids, runs[i].conns, runs[i].depth,
                               runs[i].keepalive);
        struct timeline *tl = synth_timeline(&s);
        const char *what = runs[i].what;
        size_t len = 0;
        char *svg = tl ? render(tl, &len) : NULL;

        CHECKF(svg != NULL, "%s", what);
        if (svg) {
            CHECKF(xml_well_formed(svg, len), "%s", what);
            CHECKF(tl_conn_count(tl) == runs[i].n_conns &&
                       tl_request_count(tl) == runs[i].ids,
                   "%s: %u connections, %u requests", what, tl_conn_count(tl),
                   tl_request_count(tl));
            CHECKF(svg_height(svg) > 0 && svg_height(svg) <= WF_MAX_HEIGHT,
                   "%s: height %d", what, svg_height(svg));
            CHECKF(len <= runs[i].max_bytes, "%s: %zu bytes", what, len);
        }
        free(svg);
        tl_free(tl);
    }
}

/* WF_MAX_LANES connections get a lane each; one more, and lanes are
   reused: connections made one after another in 6 slots fit on 6. */
static void
test_lanes_reused_past_the_limit(void)
{
    struct synth s = shape(WF_MAX_LANES, 6, 1, 0);
    struct timeline *tl = synth_timeline(&s);
    const char *from, *to, *first, *last;
    char *svg, note[96];
    size_t len = 0;

    CHECK(tl && tl_conn_count(tl) == WF_MAX_LANES);
    svg = tl ? render(tl, &len) : NULL;
    CHECK(svg && strstr(svg, "Lanes are reused") == NULL);
    CHECK(svg && count(svg, "<g class=\"conn\"") == WF_MAX_LANES);
    /* The last connection's lane is WF_MAX_LANES - 1 lanes down. */
    if (svg && group(svg, "c0", &from, &to) &&
        (first = rect_in(from, to, "life")) &&
        group(svg, "c1599", &from, &to) && (last = rect_in(from, to, "life")))
        CHECK(attr(last, "y") - attr(first, "y") >= WF_MAX_LANES - 1);
    else
        CHECK(!"no lanes");
    CHECK(svg && svg_height(svg) <= WF_MAX_HEIGHT);
    free(svg);
    tl_free(tl);

    s.ids = WF_MAX_LANES + 1;
    tl = synth_timeline(&s);
    svg = tl ? render(tl, &len) : NULL;
    snprintf(note, sizeof note, "(%u connections on 6 lanes)",
             WF_MAX_LANES + 1);
    CHECK(svg && strstr(svg, note) != NULL);
    CHECK(svg && strstr(svg, ">lane 5</text>") != NULL);
    CHECK(svg && strstr(svg, ">lane 6</text>") == NULL);
    CHECK(svg && xml_well_formed(svg, len));
    CHECK(svg && svg_height(svg) < 400);
    free(svg);
    tl_free(tl);

    /* Past the detail limit, at most 200 lanes: 1024 connections open
       at once share them. */
    s = shape(WF_DETAIL_MAX + 1, 1024, 32, 1);
    tl = synth_timeline(&s);
    svg = tl ? render(tl, &len) : NULL;
    CHECK(svg && strstr(svg, "neighbouring connections share one") != NULL);
    CHECK(svg && strstr(svg, "(1024 connections on 200 lanes)") != NULL);
    CHECK(svg && strstr(svg, ">lane 199</text>") == NULL &&
          strstr(svg, ">lane 190</text>") != NULL);
    CHECK(svg && xml_well_formed(svg, len));
    free(svg);
    tl_free(tl);
}

/* WF_DETAIL_MAX requests are drawn one by one; one more, and bars merge. */
static void
test_detail_limit(void)
{
    struct synth s = shape(WF_DETAIL_MAX, 6, 32, 1);
    struct timeline *tl = synth_timeline(&s);
    char *svg;
    size_t len = 0;

    svg = tl ? render(tl, &len) : NULL;
    CHECK(svg && count(svg, "<g class=\"req\"") == WF_DETAIL_MAX);
    CHECK(svg && strstr(svg, "merged") == NULL);
    free(svg);
    tl_free(tl);

    s.ids = WF_DETAIL_MAX + 1;
    tl = synth_timeline(&s);
    svg = tl ? render(tl, &len) : NULL;
    CHECK(svg && count(svg, "<g class=\"req\"") == 0);
    CHECK(svg && strstr(svg, "each pixel in the colour on top") != NULL);
    /* Each lane still shows its answers. */
    CHECK(svg && count(svg, "<path class=\"rcv\"") >= 6);
    CHECK(svg && count(svg, "<rect ") < WF_DETAIL_MAX);
    CHECK(svg && xml_well_formed(svg, len));
    free(svg);
    tl_free(tl);
}

/* Whether needle is in [from, to). */
static int
within(const char *from, const char *to, const char *needle)
{
    const char *p = strstr(from, needle);

    return p && p < to;
}

/* A connect that failed, a request given up with it, and a run that
   ended at 10 ms with a connection open and a request in flight: those
   end where the run did, not at the axis' margin. */
static void
test_failed_connect_and_open_at_the_end(void)
{
    struct timeline *tl;
    uint32_t bad, good, a, b;
    const char *from, *to, *life;
    char *svg;
    size_t len = 0;
    double run_end =
        WF_PLOT_LEFT + (WF_PLOT_RIGHT - WF_PLOT_LEFT) * 10000.0 / 10200;

    synth_set_clock(0);
    tl = tl_new(2, synth_clock);
    bad = tl_connect(tl, 0, 1, "127.0.0.1:1");
    a = tl_queued(tl, bad, 0, 1, 0, "/1", 2, NULL, 0);
    synth_set_clock(500);
    tl_close(tl, bad, 5 /* CONN_END_CONNECT */, "refused");
    tl_lost(tl, a, "connect refused");
    synth_set_clock(1000);
    good = tl_connect(tl, 0, 0, "127.0.0.1:2");
    synth_set_clock(2000);
    tl_tcp_up(tl, good);
    b = tl_queued(tl, good, 1, 2, 0, "/2", 2, NULL, 0);
    synth_set_clock(2100);
    tl_sent(tl, b);
    synth_set_clock(10000);
    svg = render_checked(tl, &len);
    if (!svg) {
        tl_free(tl);
        return;
    }
    CHECK(group(svg, "c0", &from, &to) && rect_in(from, to, "endbad"));
    CHECK(within(from, to, "could not connect at 0.5 ms"));
    CHECK(group(svg, "c1", &from, &to) && !rect_in(from, to, "end"));
    CHECK(within(from, to, "still open at the end"));
    life = rect_in(from, to, "life");
    CHECK(life && attr(life, "x") + attr(life, "width") > run_end - 0.2 &&
          attr(life, "x") + attr(life, "width") < run_end + 0.2);
    /* Neither got an answer: a cross each, the second where the run
       ended, after its wait. */
    CHECK(marks_in_requests(svg, 2, "class=\"lost\"") == 2);
    CHECK(group(svg, "r1", &from, &to) && rect_in(from, to, "wait"));
    CHECK(within(from, to, "no answer before the end"));
    /* The one that only waited for a connect has no bar. */
    CHECK(group(svg, "r0", &from, &to) && !rect_in(from, to, "wait") &&
          !rect_in(from, to, "blk"));
    CHECK(within(from, to, "no answer: its connection ended"));
    free(svg);
    tl_free(tl);
}

static void
test_empty_run(void)
{
    struct timeline *tl = tl_new(0, synth_clock);
    char *svg;
    size_t len = 0;

    svg = render(tl, &len);
    CHECK(svg && xml_well_formed(svg, len));
    CHECK(svg && strstr(svg, "No connection was opened.") != NULL);
    CHECK(svg && axis_ok(svg));
    free(svg);
    tl_free(tl);
}

static void
test_write_error(void)
{
    struct timeline *tl = tl_new(0, synth_clock);
    struct waterfall_info info = {0, NULL, 0, 0, 0, 0, 0};
    int fd = open("/dev/full", O_WRONLY);

    CHECK(fd >= 0);
    if (fd >= 0) {
        out_init(&o, fd);
        CHECK(waterfall_write(&o, tl, &info) == -ENOSPC);
        close(fd);
    }
    tl_free(tl);
}

/* The checker itself rejects what it must. */
static void
test_checker(void)
{
    static const char *const bad[] = {
        "<?xml version=\"1.0\"?><a>",
        "<?xml version=\"1.0\"?><a></b>",
        "<?xml version=\"1.0\"?><a x=\"1\" x=\"2\"/>",
        "<?xml version=\"1.0\"?><a x=1/>",
        "<?xml version=\"1.0\"?><a>&</a>",
        "<?xml version=\"1.0\"?><a>&foo;</a>",
        "<?xml version=\"1.0\"?><a>\x1b</a>",
        "<?xml version=\"1.0\"?><a>\xff</a>",
        "<?xml version=\"1.0\"?><a>\xef\xbf\xbe</a>",
        "<?xml version=\"1.0\"?><a/><b/>",
        "<?xml version=\"1.0\"?><a/>x",
        "<a/>",
    };
    const char *good = "<?xml version=\"1.0\"?>\n<a x=\"&lt;&#39;\">t&amp;"
                       "&#x41;<b/>\xc3\xa9</a>\n";
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECKF(!xml_well_formed(bad[i], strlen(bad[i])), "%zu", i);
    CHECK(xml_well_formed(good, strlen(good)));
}

int
main(void)
{
    RUN(test_checker);
    RUN(test_pipelined_run);
    RUN(test_pipeline_is_visible);
    RUN(test_title_escaped);
    RUN(test_long_command);
    RUN(test_axis);
    RUN(test_sizes);
    RUN(test_lanes_reused_past_the_limit);
    RUN(test_detail_limit);
    RUN(test_failed_connect_and_open_at_the_end);
    RUN(test_empty_run);
    RUN(test_write_error);
    return CHECK_REPORT();
}
