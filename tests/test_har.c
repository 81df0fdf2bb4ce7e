/*
 * test_har - the HAR writer (include/har.h) and --stats json
 * (include/statsjson.h) over synthetic timelines on a fake clock: every
 * field of an entry, hostile bytes in heads escaped, request heads kept
 * right while thousands of requests end in any order, heads at the
 * TL_MAX_HEAD limit, requests that got no answer, timings that add up to
 * the time exactly whatever the events, write errors reported; the
 * summary's figures, percentiles and the depth histogram.
 *
 * The output is read back with jsmn (strict) into tokens and looked up by
 * path, so each check names a field where HAR puts it, not a substring.
 * With HAR_SAMPLES=DIR every archive written here is also copied into
 * DIR, for tests/har to run the HAR 1.2 checker over them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "esc.h"
#include "har.h"
#include "jsonw.h"
#include "rng.h"
#include "statsjson.h"
#include "timeline.h"

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

/* 2024-05-01T12:00:00.123456Z */
#define WALL 1714564800123456

static int64_t fake_us;

static int64_t
fake_clock(void)
{
    return fake_us;
}

static struct timeline *
start(size_t n_jobs)
{
    struct timeline *tl;

    fake_us = 5000000; /* the timeline's clock starts from 0 here */
    tl = tl_new(n_jobs, fake_clock);
    CHECK(tl != NULL);
    tl_origin(tl, 0, "https://127.0.0.1:8443");
    return tl;
}

/* ---- reading the output back ---- */

struct doc {
    char *text;
    size_t len;
    jsmntok_t *tok;
    int n;
};

/* The whole of fd (rewound), NUL-terminated. */
static char *
slurp(int fd, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap + 1);
    ssize_t k;

    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    while ((k = read(fd, s + n, cap - n)) > 0) {
        n += (size_t)k;
        if (n == cap)
            s = realloc(s, (cap *= 2) + 1);
    }
    s[n] = '\0';
    *len = n;
    return s;
}

/* Tokens for d->text; 0, or -1 if jsmn refuses it. */
static int
tokenize(struct doc *d)
{
    jsmn_parser p;
    int n;

    jsmn_init(&p);
    n = jsmn_parse(&p, d->text, d->len, NULL, 0);
    if (n < 1)
        return -1;
    d->tok = malloc((size_t)n * sizeof *d->tok);
    jsmn_init(&p);
    d->n = jsmn_parse(&p, d->text, d->len, d->tok, (unsigned)n);
    return d->n == n ? 0 : -1;
}

static void
doc_free(struct doc *d)
{
    free(d->text);
    free(d->tok);
    memset(d, 0, sizeof *d);
}

/* The token after token i and everything inside it. */
static int
skip(const struct doc *d, int i)
{
    int j = i + 1;

    while (j < d->n && d->tok[j].start < d->tok[i].end)
        j++;
    return j;
}

/* The token at path ("log.entries.0.time") from token cur, or -1. */
static int
find_in(const struct doc *d, int cur, const char *path)
{
    while (*path && cur >= 0) {
        size_t len = strcspn(path, ".");
        const jsmntok_t *t = &d->tok[cur];
        int j = cur + 1, k, found = -1;

        if (t->type == JSMN_OBJECT) {
            for (k = 0; k < t->size && found < 0; k++) {
                const jsmntok_t *key = &d->tok[j];

                if ((size_t)(key->end - key->start) == len &&
                    memcmp(d->text + key->start, path, len) == 0)
                    found = j + 1;
                j = skip(d, j + 1);
            }
        } else if (t->type == JSMN_ARRAY) {
            int want = atoi(path);

            for (k = 0; k < t->size && found < 0; k++) {
                if (k == want)
                    found = j;
                j = skip(d, j);
            }
        }
        cur = found;
        path += len + (path[len] == '.');
    }
    return cur;
}

static int
find(const struct doc *d, const char *path)
{
    return find_in(d, 0, path);
}

/* The value at path from token cur as JSON text (a string with its
   quotes), or "(none)"; in a buffer of its own until the next call. */
static const char *
val_in(const struct doc *d, int cur, const char *path)
{
    static char buf[8192];
    int i = find_in(d, cur, path);
    const jsmntok_t *t;
    int s, e;

    if (i < 0)
        return "(none)";
    t = &d->tok[i];
    s = t->start - (t->type == JSMN_STRING);
    e = t->end + (t->type == JSMN_STRING);
    snprintf(buf, sizeof buf, "%.*s", e - s, d->text + s);
    return buf;
}

static const char *
val(const struct doc *d, const char *path)
{
    return val_in(d, 0, path);
}

/* Members of the object or elements of the array at path; -1 none. */
static int
size_at(const struct doc *d, const char *path)
{
    int i = find(d, path);

    return i < 0 ? -1 : d->tok[i].size;
}

/* The token of the first entry (the next ones: skip()). */
static int
first_entry(const struct doc *d)
{
    int i = find(d, "log.entries");

    return i < 0 ? d->n : i + 1;
}

#define CHECK_VAL(d, path, want)                                              \
    do {                                                                      \
        const char *seen_ = val(d, path);                                     \
        CHECKF(strcmp(seen_, want) == 0, "%s is %s, not %s", path, seen_,     \
               want);                                                         \
    } while (0)

/* A number written with 3 decimals ("1.550") in thousandths, or the
   -1 of a phase that does not apply; *ok 0 if it is neither. */
static int64_t
thousandths(const char *s, int *ok)
{
    char *end;
    long long whole = strtoll(s, &end, 10);

    if (strcmp(s, "-1") == 0)
        return -1;
    if (*end != '.' || strlen(end) != 4 || s[0] == '-') {
        *ok = 0;
        return 0;
    }
    return whole * 1000 + strtol(end + 1, NULL, 10);
}

/* ---- writing an archive ---- */

/* The archive open on a temporary file, its sink added to tl. */
static struct har *
open_har(struct timeline *tl, FILE **f)
{
    struct har *h;
    struct tl_sink sink;

    *f = tmpfile();
    CHECK(*f != NULL);
    h = har_open(fileno(*f), tl, WALL, "9.9.9");
    CHECK(h != NULL);
    sink = har_sink(h);
    CHECK(tl_add_sink(tl, &sink) == 0);
    return h;
}

/* har_finish, then the file parsed into d (and copied to $HAR_SAMPLES
   as name.har). */
static void
finish_har(struct har *h, FILE *f, struct doc *d, const char *name)
{
    const char *dir = getenv("HAR_SAMPLES");

    CHECK(har_finish(h) == 0);
    memset(d, 0, sizeof *d);
    d->text = slurp(fileno(f), &d->len);
    fclose(f);
    CHECKF(tokenize(d) == 0, "%s: not JSON", name);
    if (dir) {
        char path[4096];
        FILE *copy;

        snprintf(path, sizeof path, "%s/%s.har", dir, name);
        copy = fopen(path, "w");
        CHECK(copy != NULL);
        if (copy) {
            fwrite(d->text, 1, d->len, copy);
            fclose(copy);
        }
    }
}

static const char req_head[] = "GET /p/25?x=1&flag HTTP/1.1\r\n"
                               "Host: 127.0.0.1:8443\r\n"
                               "User-Agent: pokefetch/0.1.0\r\n"
                               "Accept: application/json\r\n"
                               "Accept-Encoding: gzip, deflate\r\n"
                               "\r\n";

static const char rsp_head[] = "HTTP/1.1 200 OK\r\n"
                               "Server: nginx\r\n"
                               "Content-Type: application/json\r\n"
                               "Content-Length: 100\r\n"
                               "Content-Encoding:  gzip \r\n"
                               "Location: /elsewhere\r\n"
                               "\r\n";

/* One request on a new TLS connection: every field of its entry. */
static void
test_every_field_of_an_entry(void)
{
    struct timeline *tl = start(4);
    struct tl_tls_info info = {"TLSv1.3", "", "", "", "", "", 0};
    uint64_t wire = sizeof rsp_head - 1 + 100;
    struct doc d;
    struct har *h;
    FILE *f;
    uint32_t cn, rn;
    char want[64];

    h = open_har(tl, &f);
    fake_us += 100;
    cn = tl_connect(tl, 0, 1, "127.0.0.1:8443");
    fake_us += 50;
    rn = tl_queued(tl, cn, 2, 25, 0, "/p/25?x=1&flag", 14, req_head,
                   sizeof req_head - 1);
    fake_us += 200;
    tl_tcp_up(tl, cn);
    fake_us += 1000;
    tl_tls_up(tl, cn, &info);
    fake_us += 10;
    tl_sent(tl, rn);
    fake_us += 300;
    tl_first_byte(tl, rn);
    tl_head(tl, rn, 200, "", rsp_head, sizeof rsp_head - 1);
    fake_us += 40;
    tl_done(tl, rn, TL_OK, 200, wire, 350, rsp_head, sizeof rsp_head - 1);
    finish_har(h, f, &d, "every-field");

    CHECK_VAL(&d, "log.version", "\"1.2\"");
    CHECK_VAL(&d, "log.creator.name", "\"pokefetch\"");
    CHECK_VAL(&d, "log.creator.version", "\"9.9.9\"");
    CHECK(size_at(&d, "log.entries") == 1);
    /* WALL + 150 us */
    CHECK_VAL(&d, "log.entries.0.startedDateTime",
              "\"2024-05-01T12:00:00.123Z\"");
    CHECK_VAL(&d, "log.entries.0.time", "1.550");
    CHECK_VAL(&d, "log.entries.0.timings.blocked", "0.000");
    CHECK_VAL(&d, "log.entries.0.timings.dns", "-1");
    CHECK_VAL(&d, "log.entries.0.timings.connect", "1.200");
    CHECK_VAL(&d, "log.entries.0.timings.ssl", "1.000");
    CHECK_VAL(&d, "log.entries.0.timings.send", "0.010");
    CHECK_VAL(&d, "log.entries.0.timings.wait", "0.300");
    CHECK_VAL(&d, "log.entries.0.timings.receive", "0.040");

    CHECK_VAL(&d, "log.entries.0.request.method", "\"GET\"");
    CHECK_VAL(&d, "log.entries.0.request.url",
              "\"https://127.0.0.1:8443/p/25?x=1&flag\"");
    CHECK_VAL(&d, "log.entries.0.request.httpVersion", "\"HTTP/1.1\"");
    CHECK(size_at(&d, "log.entries.0.request.cookies") == 0);
    CHECK(size_at(&d, "log.entries.0.request.headers") == 4);
    CHECK_VAL(&d, "log.entries.0.request.headers.0.name", "\"Host\"");
    CHECK_VAL(&d, "log.entries.0.request.headers.0.value",
              "\"127.0.0.1:8443\"");
    CHECK_VAL(&d, "log.entries.0.request.headers.3.name",
              "\"Accept-Encoding\"");
    CHECK_VAL(&d, "log.entries.0.request.headers.3.value",
              "\"gzip, deflate\"");
    CHECK(size_at(&d, "log.entries.0.request.queryString") == 2);
    CHECK_VAL(&d, "log.entries.0.request.queryString.0.name", "\"x\"");
    CHECK_VAL(&d, "log.entries.0.request.queryString.0.value", "\"1\"");
    CHECK_VAL(&d, "log.entries.0.request.queryString.1.name", "\"flag\"");
    CHECK_VAL(&d, "log.entries.0.request.queryString.1.value", "\"\"");
    snprintf(want, sizeof want, "%zu", sizeof req_head - 1);
    CHECK_VAL(&d, "log.entries.0.request.headersSize", want);
    CHECK_VAL(&d, "log.entries.0.request.bodySize", "0");

    CHECK_VAL(&d, "log.entries.0.response.status", "200");
    CHECK_VAL(&d, "log.entries.0.response.statusText", "\"OK\"");
    CHECK_VAL(&d, "log.entries.0.response.httpVersion", "\"HTTP/1.1\"");
    CHECK(size_at(&d, "log.entries.0.response.cookies") == 0);
    CHECK(size_at(&d, "log.entries.0.response.headers") == 5);
    CHECK_VAL(&d, "log.entries.0.response.headers.3.name",
              "\"Content-Encoding\"");
    CHECK_VAL(&d, "log.entries.0.response.headers.3.value", "\"gzip\"");
    CHECK_VAL(&d, "log.entries.0.response.content.size", "350");
    CHECK_VAL(&d, "log.entries.0.response.content.compression", "250");
    CHECK_VAL(&d, "log.entries.0.response.content.mimeType",
              "\"application/json\"");
    CHECK_VAL(&d, "log.entries.0.response.redirectURL", "\"/elsewhere\"");
    snprintf(want, sizeof want, "%zu", sizeof rsp_head - 1);
    CHECK_VAL(&d, "log.entries.0.response.headersSize", want);
    CHECK_VAL(&d, "log.entries.0.response.bodySize", "100");

    CHECK(size_at(&d, "log.entries.0.cache") == 0);
    CHECK_VAL(&d, "log.entries.0.serverIPAddress", "\"127.0.0.1\"");
    CHECK_VAL(&d, "log.entries.0.connection", "\"0\"");
    CHECK_VAL(&d, "log.entries.0._id", "25");
    CHECK_VAL(&d, "log.entries.0._attempt", "1");
    CHECK_VAL(&d, "log.entries.0._pipelinePosition", "0");
    CHECK_VAL(&d, "log.entries.0._error", "(none)");
    doc_free(&d);
    tl_free(tl);
}

/* A pipelined pair on plain http, over IPv6, the second one lost, then
   sent again on a second connection that the run ends before it is
   answered. */
static void
test_lost_pending_and_plain(void)
{
    struct timeline *tl = start(2);
    static const char head404[] = "HTTP/1.0 404 Not Found\r\n"
                                  "Content-Type: text/html\r\n\r\n";
    struct doc d;
    struct har *h;
    FILE *f;
    uint32_t c1, c2, a, b, b2;

    tl_origin(tl, 0, "http://[::1]:8080");
    h = open_har(tl, &f);
    c1 = tl_connect(tl, 0, 0, "[::1]:8080");
    a = tl_queued(tl, c1, 0, 7, 0, "/7", 2, "GET /7 HTTP/1.1\r\n\r\n", 19);
    b = tl_queued(tl, c1, 1, 8, 1, "/8", 2, NULL, 0);
    fake_us += 300;
    tl_tcp_up(tl, c1);
    tl_sent(tl, a);
    tl_sent(tl, b);
    fake_us += 200;
    tl_first_byte(tl, a);
    fake_us += 100;
    tl_done(tl, a, TL_FAILED, 404, sizeof head404 - 1 + 9, 9, head404,
            sizeof head404 - 1);
    fake_us += 400;
    tl_lost(tl, b, "closed: \x1b[2J reset");
    c2 = tl_connect(tl, 0, 0, "[::1]:8080");
    b2 = tl_queued(tl, c2, 1, 8, 0, "/8", 2, NULL, 0);
    fake_us += 1234;
    finish_har(h, f, &d, "lost-pending-plain");
    (void)b2;

    CHECK(size_at(&d, "log.entries") == 3);
    /* The 404 answered over plain http: connect without ssl. */
    CHECK_VAL(&d, "log.entries.0._id", "7");
    CHECK_VAL(&d, "log.entries.0.time", "0.600");
    CHECK_VAL(&d, "log.entries.0.timings.connect", "0.300");
    CHECK_VAL(&d, "log.entries.0.timings.ssl", "-1");
    CHECK_VAL(&d, "log.entries.0.timings.wait", "0.200");
    CHECK_VAL(&d, "log.entries.0.timings.receive", "0.100");
    CHECK_VAL(&d, "log.entries.0.request.url", "\"http://[::1]:8080/7\"");
    CHECK_VAL(&d, "log.entries.0.response.status", "404");
    CHECK_VAL(&d, "log.entries.0.response.statusText", "\"Not Found\"");
    CHECK_VAL(&d, "log.entries.0.response.httpVersion", "\"HTTP/1.0\"");
    CHECK_VAL(&d, "log.entries.0.response.content.mimeType", "\"text/html\"");
    CHECK_VAL(&d, "log.entries.0.response.content.compression", "(none)");
    CHECK_VAL(&d, "log.entries.0.response.bodySize", "9");
    CHECK_VAL(&d, "log.entries.0.serverIPAddress", "\"::1\"");
    CHECK_VAL(&d, "log.entries.0._error", "(none)");
    /* Lost: no response, no head given for its request either. */
    CHECK_VAL(&d, "log.entries.1._id", "8");
    CHECK_VAL(&d, "log.entries.1._pipelinePosition", "1");
    CHECK_VAL(&d, "log.entries.1._attempt", "1");
    CHECK_VAL(&d, "log.entries.1.response.status", "0");
    CHECK_VAL(&d, "log.entries.1.response.statusText", "\"\"");
    CHECK_VAL(&d, "log.entries.1.response.httpVersion", "\"\"");
    CHECK(size_at(&d, "log.entries.1.response.headers") == 0);
    CHECK_VAL(&d, "log.entries.1.response.headersSize", "-1");
    CHECK_VAL(&d, "log.entries.1.response.bodySize", "-1");
    CHECK_VAL(&d, "log.entries.1.response.content.size", "0");
    CHECK(size_at(&d, "log.entries.1.request.headers") == 0);
    CHECK_VAL(&d, "log.entries.1.request.headersSize", "-1");
    CHECK_VAL(&d, "log.entries.1.request.httpVersion", "\"HTTP/1.1\"");
    CHECK_VAL(&d, "log.entries.1._error", "\"closed: \\u001b[2J reset\"");
    CHECK_VAL(&d, "log.entries.1.time", "1.000");
    CHECK_VAL(&d, "log.entries.1.timings.blocked", "0.300");
    CHECK_VAL(&d, "log.entries.1.timings.connect", "-1");
    CHECK_VAL(&d, "log.entries.1.timings.wait", "0.700");
    /* Still in flight at the end: its time runs to the end. */
    CHECK_VAL(&d, "log.entries.2._attempt", "2");
    CHECK_VAL(&d, "log.entries.2.connection", "\"1\"");
    CHECK_VAL(&d, "log.entries.2._error", "\"the run ended first\"");
    CHECK_VAL(&d, "log.entries.2.time", "1.234");
    CHECK_VAL(&d, "log.entries.2.timings.connect", "1.234");
    CHECK_VAL(&d, "log.entries.2.response.status", "0");
    doc_free(&d);
    tl_free(tl);
}

/* A server's bytes in a head cannot break the file or drive a terminal:
   quotes, backslashes, ESC, C1, U+2028, bidi overrides, bad UTF-8. */
static void
test_hostile_header_bytes(void)
{
    struct timeline *tl = start(1);
    static const char head[] =
        "HTTP/1.1 200 \xe2\x80\xae Not\x7f Fine\r\n"
        "X-Evil: a\"b\\c\x1b[31m\xc2\x85\xe2\x80\xa8\xff\xfe end\r\n"
        "X-\xc3\xa9\x01: \xc3\xa9t\xc3\xa9\t \r\n"
        "no colon here\r\n"
        "Location: \"/></a>\xe2\x81\xa6\r\n"
        "\r\n";
    struct doc d;
    struct har *h;
    FILE *f;
    uint32_t cn, rn;
    size_t i;
    int raw_controls = 0;

    h = open_har(tl, &f);
    cn = tl_connect(tl, 0, 1, "127.0.0.1:8443");
    rn = tl_queued(tl, cn, 0, 1, 0, "/1", 2, NULL, 0);
    tl_done(tl, rn, TL_OK, 200, 10, 10, head, sizeof head - 1);
    finish_har(h, f, &d, "hostile");

    CHECK_VAL(&d, "log.entries.0.response.statusText",
              "\"\\u202e Not\\u007f Fine\"");
    CHECK(size_at(&d, "log.entries.0.response.headers") == 3);
    CHECK_VAL(&d, "log.entries.0.response.headers.0.value",
              "\"a\\\"b\\\\c\\u001b[31m\\u0085\\u2028\\ufffd\\ufffd end\"");
    CHECK_VAL(&d, "log.entries.0.response.headers.1.name",
              "\"X-\xc3\xa9\\u0001\"");
    CHECK_VAL(&d, "log.entries.0.response.headers.1.value",
              "\"\xc3\xa9t\xc3\xa9\"");
    CHECK_VAL(&d, "log.entries.0.response.redirectURL",
              "\"\\\"/></a>\\u2066\"");
    /* The head did not fit in the bytes received: sizes unknown. */
    CHECK_VAL(&d, "log.entries.0.response.bodySize", "-1");
    for (i = 0; i < d.len; i++)
        if ((unsigned char)d.text[i] < 0x20 && d.text[i] != '\n')
            raw_controls++;
    CHECK(raw_controls == 0);
    doc_free(&d);
    tl_free(tl);
}

/* A response head at TL_MAX_HEAD bytes exactly is whole; one byte over,
   the sink sees it cut: the fields it holds whole, sizes unknown. */
static void
test_head_at_the_limit(void)
{
    struct timeline *tl = start(2);
    static char head[TL_MAX_HEAD + 1];
    static const char top[] = "HTTP/1.1 200 OK\r\nA: 1\r\nB: ";
    struct doc d;
    struct har *h;
    FILE *f;
    uint32_t cn, r1, r2;
    char want[64];

    memcpy(head, top, sizeof top - 1);
    memset(head + sizeof top - 1, 'x', sizeof head - (sizeof top - 1));
    h = open_har(tl, &f);
    cn = tl_connect(tl, 0, 1, "127.0.0.1:8443");
    r1 = tl_queued(tl, cn, 0, 1, 0, "/1", 2, NULL, 0);
    r2 = tl_queued(tl, cn, 1, 2, 1, "/2", 2, NULL, 0);
    memcpy(head + TL_MAX_HEAD - 4, "\r\n\r\n", 4);
    tl_done(tl, r1, TL_OK, 200, TL_MAX_HEAD + 5, 5, head, TL_MAX_HEAD);
    head[TL_MAX_HEAD - 4] = 'x';
    memcpy(head + TL_MAX_HEAD - 3, "\r\n\r\n", 4);
    tl_done(tl, r2, TL_OK, 200, TL_MAX_HEAD + 6, 5, head, TL_MAX_HEAD + 1);
    finish_har(h, f, &d, "head-limit");

    snprintf(want, sizeof want, "%d", TL_MAX_HEAD);
    CHECK(size_at(&d, "log.entries.0.response.headers") == 2);
    CHECK_VAL(&d, "log.entries.0.response.headersSize", want);
    CHECK_VAL(&d, "log.entries.0.response.bodySize", "5");
    CHECK(strlen(val(&d, "log.entries.0.response.headers.1.value")) ==
          TL_MAX_HEAD - 4 - (sizeof top - 1) + 2);
    /* Cut at TL_MAX_HEAD, inside its empty line: B is whole, the head
       is not. */
    CHECK(size_at(&d, "log.entries.1.response.headers") == 2);
    CHECK_VAL(&d, "log.entries.1.response.headersSize", "-1");
    CHECK_VAL(&d, "log.entries.1.response.bodySize", "-1");
    doc_free(&d);
    tl_free(tl);
}

/* 100 and 103 before the answer: the head holds them all, the entry
   describes the final response and counts every byte. */
static void
test_interim_responses(void)
{
    struct timeline *tl = start(1);
    static const char head[] = "HTTP/1.1 100 Continue\r\n\r\n"
                               "HTTP/1.1 103 Early Hints\r\n"
                               "Link: </a>\r\n\r\n"
                               "HTTP/1.1 201 Created\r\n"
                               "Content-Type: a/b\r\n\r\n";
    struct doc d;
    struct har *h;
    FILE *f;
    uint32_t cn, rn;
    char want[32];

    h = open_har(tl, &f);
    cn = tl_connect(tl, 0, 1, "127.0.0.1:8443");
    rn = tl_queued(tl, cn, 0, 1, 0, "/1", 2, NULL, 0);
    tl_done(tl, rn, TL_OK, 201, sizeof head - 1 + 4, 4, head, sizeof head - 1);
    finish_har(h, f, &d, "interim");
    CHECK_VAL(&d, "log.entries.0.response.statusText", "\"Created\"");
    CHECK(size_at(&d, "log.entries.0.response.headers") == 1);
    CHECK_VAL(&d, "log.entries.0.response.content.mimeType", "\"a/b\"");
    snprintf(want, sizeof want, "%zu", sizeof head - 1);
    CHECK_VAL(&d, "log.entries.0.response.headersSize", want);
    CHECK_VAL(&d, "log.entries.0.response.bodySize", "4");
    doc_free(&d);
    tl_free(tl);
}

/* startedDateTime: milliseconds cut, not rounded, and a carry across
   seconds, days and years. */
static void
test_dates(void)
{
    struct timeline *tl = start(1);
    struct doc d;
    FILE *f;
    struct har *h;
    struct tl_sink sink;
    uint32_t cn, rn;

    f = tmpfile();
    /* 2023-12-31T23:59:59.999600Z */
    h = har_open(fileno(f), tl, 1704067199999600, "1");
    sink = har_sink(h);
    CHECK(tl_add_sink(tl, &sink) == 0);
    cn = tl_connect(tl, 0, 1, "127.0.0.1:8443");
    rn = tl_queued(tl, cn, 0, 1, 0, "/1", 2, NULL, 0);
    tl_lost(tl, rn, NULL);
    fake_us += 399;
    rn = tl_queued(tl, cn, 0, 1, 0, "/1", 2, NULL, 0);
    tl_lost(tl, rn, NULL);
    fake_us += 1;
    rn = tl_queued(tl, cn, 0, 1, 0, "/1", 2, NULL, 0);
    tl_lost(tl, rn, NULL);
    finish_har(h, f, &d, "dates");
    CHECK_VAL(&d, "log.entries.0.startedDateTime",
              "\"2023-12-31T23:59:59.999Z\"");
    CHECK_VAL(&d, "log.entries.1.startedDateTime",
              "\"2023-12-31T23:59:59.999Z\"");
    CHECK_VAL(&d, "log.entries.2.startedDateTime",
              "\"2024-01-01T00:00:00.000Z\"");
    CHECK_VAL(&d, "log.entries.2._attempt", "3");
    CHECK_VAL(&d, "log.entries.2._error", "\"connection ended first\"");
    doc_free(&d);
    tl_free(tl);
}

/* Thousands of requests on many connections, in flight up to a few
   hundred at once and ending in random order: each entry has its own
   request head (the table of heads in flight grows, deletes and
   reuses its slots without mixing them up). */
static void
test_request_heads_in_random_order(void)
{
    enum { N = 5000, MAX_IN_FLIGHT = 300 };
    static uint32_t in_flight[MAX_IN_FLIGHT];
    struct timeline *tl = start(N);
    struct doc d;
    struct har *h;
    FILE *f;
    uint32_t conns[8];
    size_t n = 0, queued = 0, i;
    int wrong = 0, e;

    h = open_har(tl, &f);
    for (i = 0; i < 8; i++)
        conns[i] = tl_connect(tl, 0, 1, "127.0.0.1:8443");
    while (queued < N || n > 0) {
        int add = queued < N && (n == 0 || (n < MAX_IN_FLIGHT && rnd() % 2));

        fake_us += (int64_t)(rnd() % 50);
        if (add) {
            char head[128], target[32];
            int hl, tl_len;

            tl_len = snprintf(target, sizeof target, "/p/%zu", queued);
            /* Heads of different lengths: a reused slot's buffer grows. */
            hl = snprintf(head, sizeof head,
                          "GET %s HTTP/1.1\r\nX-Seq: %zu%.*s\r\n\r\n", target,
                          queued, (int)(rnd() % 40),
                          "........................................");
            in_flight[n++] = tl_queued(tl, conns[rnd() % 8], (uint32_t)queued,
                                       (uint32_t)queued, 0, target,
                                       (size_t)tl_len, head, (size_t)hl);
            queued++;
        } else {
            size_t k = (size_t)(rnd() % n);

            tl_done(tl, in_flight[k], TL_OK, 200, 10, 10,
                    "HTTP/1.1 200 OK\r\n\r\n", 19);
            in_flight[k] = in_flight[--n];
        }
    }
    finish_har(h, f, &d, "heads-random-order");
    CHECK(size_at(&d, "log.entries") == N);
    e = first_entry(&d);
    for (i = 0; i < N && e < d.n; i++, e = skip(&d, e)) {
        char want[48];
        const char *v;
        size_t len;

        snprintf(want, sizeof want, "\"%s", val_in(&d, e, "_id"));
        len = strlen(want);
        v = val_in(&d, e, "request.headers.0.value");
        if (strncmp(v, want, len) != 0 || (v[len] != '.' && v[len] != '"'))
            wrong++;
    }
    CHECKF(wrong == 0, "%d of %d entries with another request's head", wrong,
           N);
    doc_free(&d);
    tl_free(tl);
}

/* Events in any order, with any gaps, on connections opened by their
   first request or not: every entry's printed time is exactly the sum
   of its printed timings that are not -1 (ssl excluded), -1 only where
   HAR allows it. */
static void
test_timings_add_up(void)
{
    struct tl_tls_info info = {"", "", "", "", "", "", 0};
    struct timeline *tl = start(1);
    uint32_t reqs[600];
    size_t n = 0, i;
    struct doc d;
    struct har *h;
    FILE *f;
    int bad = 0, entries, e;
    static const char *const phases[] = {"blocked", "dns",  "connect",
                                         "send",    "wait", "receive"};

    h = open_har(tl, &f);
    while (n < 600) {
        int tls = (int)(rnd() & 1);
        uint32_t cn = tl_connect(tl, 0, tls, "127.0.0.1:1");
        unsigned steps = (unsigned)rnd(), k, per = 1 + (unsigned)(rnd() % 4);
        size_t first = n, j;

        for (k = 0; k < per && n < 600; k++) {
            fake_us += (int64_t)(rnd() % 3000);
            reqs[n] = tl_queued(tl, cn, 0, (uint32_t)n, k, "/1", 2, NULL, 0);
            n++;
        }
        if (steps & 1) {
            fake_us += (int64_t)(rnd() % 3000);
            tl_tcp_up(tl, cn);
        }
        if (tls && steps & 2) {
            fake_us += (int64_t)(rnd() % 3000);
            tl_tls_up(tl, cn, &info);
        }
        for (j = first; j < n; j++) {
            unsigned s = (unsigned)rnd();

            if (s & 1) {
                fake_us += (int64_t)(rnd() % 3000);
                tl_sent(tl, reqs[j]);
            }
            if (s & 2) {
                fake_us += (int64_t)(rnd() % 3000);
                tl_first_byte(tl, reqs[j]);
            }
            fake_us += (int64_t)(rnd() % 3000);
            if (s & 4)
                tl_done(tl, reqs[j], TL_OK, 200, 1, 1, NULL, 0);
            else if (s & 8)
                tl_lost(tl, reqs[j], "x");
        }
    }
    fake_us += 777;
    finish_har(h, f, &d, "timings-add-up");
    entries = size_at(&d, "log.entries");
    CHECK(entries == 600);
    e = first_entry(&d);
    for (i = 0; i < (size_t)entries && e < d.n; i++, e = skip(&d, e)) {
        int64_t sum = 0, x, ssl, connect = -1;
        int ok = 1;
        size_t k;

        for (k = 0; k < 6; k++) {
            char path[32];

            snprintf(path, sizeof path, "timings.%s", phases[k]);
            x = thousandths(val_in(&d, e, path), &ok);
            if (x == -1 && k >= 3)
                ok = 0; /* send, wait, receive always apply */
            if (k == 2)
                connect = x;
            sum += x == -1 ? 0 : x;
        }
        ssl = thousandths(val_in(&d, e, "timings.ssl"), &ok);
        if (ssl > connect)
            ok = 0;
        if (!ok || thousandths(val_in(&d, e, "time"), &ok) != sum || !ok)
            bad++;
    }
    CHECKF(bad == 0, "%d of %d entries", bad, entries);
    doc_free(&d);
    tl_free(tl);
}

/* A file that cannot be written: har_finish says so. */
static void
test_write_error_reported(void)
{
    struct timeline *tl = start(1);
    int fd = open("/dev/full", O_WRONLY);
    struct har *h;

    CHECK(fd >= 0);
    h = har_open(fd, tl, WALL, "1");
    CHECK(h != NULL);
    CHECK(har_finish(h) == -ENOSPC);
    close(fd);
    tl_free(tl);
}

/* ---- the JSON values both are made of ---- */

/* What the jw_* calls since the last jo_end wrote into jo (never
   flushed: each case writes less than OUT_CAP), NUL-terminated. */
static struct out jo;
static char jo_text[OUT_CAP + 1];

static const char *
jo_end(void)
{
    memcpy(jo_text, jo.buf, jo.len);
    jo_text[jo.len] = '\0';
    out_init(&jo, -1);
    return jo_text;
}

static void
test_json_values(void)
{
    static char text[3 * 4096 + 10], want[6 * sizeof text];
    size_t i, n;
    double zero = 0.0;

    out_init(&jo, -1);
    jw_u64(&jo, 0);
    CHECK(strcmp(jo_end(), "0") == 0);
    jw_u64(&jo, UINT64_MAX);
    CHECK(strcmp(jo_end(), "18446744073709551615") == 0);
    jw_i64(&jo, INT64_MIN);
    CHECK(strcmp(jo_end(), "-9223372036854775808") == 0);
    jw_i64(&jo, -7);
    CHECK(strcmp(jo_end(), "-7") == 0);
    jw_ms(&jo, 0);
    CHECK(strcmp(jo_end(), "0.000") == 0);
    jw_ms(&jo, 999);
    CHECK(strcmp(jo_end(), "0.999") == 0);
    jw_ms(&jo, 1000);
    CHECK(strcmp(jo_end(), "1.000") == 0);
    jw_ms(&jo, 123456789);
    CHECK(strcmp(jo_end(), "123456.789") == 0);
    jw_ms(&jo, -1);
    CHECK(strcmp(jo_end(), "-1") == 0);
    jw_ms(&jo, -5000);
    CHECK(strcmp(jo_end(), "-1") == 0);
    jw_real(&jo, 2.5);
    CHECK(strcmp(jo_end(), "2.500") == 0);
    jw_real(&jo, zero / zero);
    CHECK(strcmp(jo_end(), "null") == 0);
    jw_real(&jo, 1e300);
    CHECK(strcmp(jo_end(), "null") == 0);
    /* Escaped in pieces: a 2-, 3- and 4-byte character across each
       piece boundary comes out as the whole string escaped at once. */
    for (i = 0; i < sizeof text; i += 10)
        memcpy(text + i, "a\xc3\xa9\xe2\x80\xa8\xf0\x9f\x98\x80",
               sizeof text - i < 10 ? sizeof text - i : 10);
    for (i = 0; i < 4; i++) {
        n = esc_json(want, text + i, sizeof text - i);
        want[n] = '\0';
        jw_esc(&jo, text + i, sizeof text - i);
        CHECKF(strcmp(jo_end(), want) == 0, "shifted by %zu", i);
    }
}

/* ---- --stats json ---- */

static void
stats_doc(const struct fetch_config *cfg, const struct fetch_stats *st,
          const struct timeline *tl, struct doc *d)
{
    static struct out o;
    FILE *f = tmpfile();

    out_init(&o, fileno(f));
    CHECK(statsjson_write(&o, cfg, st, tl) == 0);
    CHECK(out_flush(&o) == 0);
    memset(d, 0, sizeof *d);
    d->text = slurp(fileno(f), &d->len);
    fclose(f);
    CHECK(tokenize(d) == 0);
    CHECK(d->len > 0 && d->text[d->len - 1] == '\n' &&
          strchr(d->text, '\n') == d->text + d->len - 1);
}

static void
test_stats_summary_figures(void)
{
    struct fetch_config cfg;
    struct fetch_stats st = {.ok = 150,
                             .failed = 2,
                             .retries = 3,
                             .redirects = 4,
                             .pauses = 5,
                             .elapsed_ms = 208,
                             .bytes_rx = 1155874,
                             .bytes_decoded = 40400000,
                             .conns_opened = 6,
                             .handshakes_full = 5,
                             .handshakes_resumed = 1,
                             .deepest_pipeline = 25,
                             .learned_max_requests = 100};
    struct doc d;

    memset(&cfg, 0, sizeof cfg);
    cfg.tmpl.tls = 1;
    stats_doc(&cfg, &st, NULL, &d);
    CHECK_VAL(&d, "elapsed_ms", "208");
    CHECK_VAL(&d, "ok", "150");
    CHECK_VAL(&d, "failed", "2");
    CHECK_VAL(&d, "retries", "3");
    CHECK_VAL(&d, "redirects", "4");
    CHECK_VAL(&d, "pauses", "5");
    CHECK_VAL(&d, "bytes_received", "1155874");
    CHECK_VAL(&d, "bytes_decoded", "40400000");
    CHECK_VAL(&d, "connections", "6");
    CHECK_VAL(&d, "tls", "true");
    CHECK_VAL(&d, "handshakes_full", "5");
    CHECK_VAL(&d, "handshakes_resumed", "1");
    CHECK_VAL(&d, "deepest_pipeline", "25");
    CHECK_VAL(&d, "server_limit", "100");
    CHECK_VAL(&d, "timeline", "(none)");
    CHECK(size_at(&d, "") == 14);
    doc_free(&d);
    cfg.tmpl.tls = 0;
    stats_doc(&cfg, &st, NULL, &d);
    CHECK_VAL(&d, "tls", "false");
    doc_free(&d);
}

/* 100 answered requests whose wait (and total) is 1..100 ms, one lost:
   nearest-rank percentiles, the depth histogram, the rates, the
   handshakes of the connection records. */
static void
test_stats_percentiles_and_depths(void)
{
    struct tl_tls_info full = {"", "", "", "", "", "", 0};
    struct tl_tls_info resumed = {"", "", "", "", "", "", 1};
    struct timeline *tl = start(101);
    struct fetch_config cfg;
    struct fetch_stats st;
    struct doc d;
    uint32_t cn, c2, rn;
    unsigned i, order[100];

    memset(&cfg, 0, sizeof cfg);
    memset(&st, 0, sizeof st);
    cfg.tmpl.tls = 1;
    st.ok = 99;
    st.failed = 1;
    st.elapsed_ms = 2000;
    st.bytes_rx = 3000;
    cn = tl_connect(tl, 0, 1, "x");
    tl_tcp_up(tl, cn);
    tl_tls_up(tl, cn, &full);
    c2 = tl_connect(tl, 0, 1, "x");
    tl_tls_up(tl, c2, &resumed);
    (void)tl_connect(tl, 0, 1, "x"); /* its handshake never ended */
    (void)tl_connect(tl, 0, 0, "x"); /* plain */
    /* The waits in a shuffled order: the sort, not the order, counts. */
    for (i = 0; i < 100; i++)
        order[i] = i + 1;
    for (i = 99; i > 0; i--) {
        unsigned j = (unsigned)(rnd() % (i + 1)), t = order[i];

        order[i] = order[j];
        order[j] = t;
    }
    for (i = 0; i < 100; i++) {
        rn = tl_queued(tl, cn, i, i, i % 3, "/1", 2, NULL, 0);
        tl_sent(tl, rn);
        fake_us += 1000 * (int64_t)order[i];
        tl_done(tl, rn, TL_OK, 200, 30, 30, NULL, 0);
    }
    rn = tl_queued(tl, c2, 100, 100, 5, "/1", 2, NULL, 0);
    fake_us += 999999;
    tl_lost(tl, rn, "x");
    stats_doc(&cfg, &st, tl, &d);

    CHECK_VAL(&d, "timeline.requests", "101");
    CHECK_VAL(&d, "timeline.answered", "100");
    CHECK_VAL(&d, "timeline.connections", "4");
    CHECK_VAL(&d, "timeline.handshakes_full", "1");
    CHECK_VAL(&d, "timeline.handshakes_resumed", "1");
    CHECK_VAL(&d, "timeline.requests_per_s", "50.500");
    CHECK_VAL(&d, "timeline.ids_per_s", "50.000");
    CHECK_VAL(&d, "timeline.bytes_per_s", "1500.000");
    CHECK_VAL(&d, "timeline.latency_ms.total.n", "100");
    CHECK_VAL(&d, "timeline.latency_ms.total.p50", "50.000");
    CHECK_VAL(&d, "timeline.latency_ms.total.p90", "90.000");
    CHECK_VAL(&d, "timeline.latency_ms.total.p99", "99.000");
    CHECK_VAL(&d, "timeline.latency_ms.total.max", "100.000");
    CHECK_VAL(&d, "timeline.latency_ms.wait.p50", "50.000");
    CHECK_VAL(&d, "timeline.latency_ms.wait.max", "100.000");
    CHECK_VAL(&d, "timeline.latency_ms.send.max", "0.000");
    CHECK_VAL(&d, "timeline.latency_ms.blocked.n", "100");
    /* No request opened its connection: no connect, no ssl. */
    CHECK_VAL(&d, "timeline.latency_ms.connect.n", "0");
    CHECK_VAL(&d, "timeline.latency_ms.connect.p50", "null");
    CHECK_VAL(&d, "timeline.latency_ms.ssl.max", "null");
    CHECK_VAL(&d, "timeline.latency_ms.dns.n", "0");
    CHECK(size_at(&d, "timeline.latency_ms") == 8);
    /* Positions 0, 1, 2 in turn (34, 33, 33), and the lost one at 5. */
    CHECK(size_at(&d, "timeline.pipeline_depth") == 6);
    CHECK_VAL(&d, "timeline.pipeline_depth.0", "34");
    CHECK_VAL(&d, "timeline.pipeline_depth.1", "33");
    CHECK_VAL(&d, "timeline.pipeline_depth.2", "33");
    CHECK_VAL(&d, "timeline.pipeline_depth.3", "0");
    CHECK_VAL(&d, "timeline.pipeline_depth.5", "1");
    doc_free(&d);
    tl_free(tl);
}

/* Nearest rank at the small end; no requests, no time: nulls, []. */
static void
test_stats_small_and_empty(void)
{
    struct timeline *tl = start(2);
    struct fetch_config cfg;
    struct fetch_stats st;
    struct doc d;
    uint32_t cn, rn;
    int i;

    memset(&cfg, 0, sizeof cfg);
    memset(&st, 0, sizeof st);
    stats_doc(&cfg, &st, tl, &d);
    CHECK_VAL(&d, "timeline.requests", "0");
    CHECK_VAL(&d, "timeline.requests_per_s", "null");
    CHECK_VAL(&d, "timeline.latency_ms.total.n", "0");
    CHECK_VAL(&d, "timeline.latency_ms.total.p99", "null");
    CHECK(size_at(&d, "timeline.pipeline_depth") == 0);
    doc_free(&d);

    cn = tl_connect(tl, 0, 0, "x");
    for (i = 1; i <= 2; i++) {
        rn = tl_queued(tl, cn, 0, 1, 0, "/1", 2, NULL, 0);
        fake_us += 1000 * i;
        tl_done(tl, rn, TL_OK, 200, 1, 1, NULL, 0);
    }
    stats_doc(&cfg, &st, tl, &d);
    /* Values 1 and 2 ms: rank ceil(0.5 * 2) = 1, ceil(0.9 * 2) = 2. */
    CHECK_VAL(&d, "timeline.latency_ms.total.p50", "1.000");
    CHECK_VAL(&d, "timeline.latency_ms.total.p90", "2.000");
    /* The first opened the connection (plain: connect, no ssl). */
    CHECK_VAL(&d, "timeline.latency_ms.connect.n", "1");
    CHECK_VAL(&d, "timeline.latency_ms.ssl.n", "0");
    doc_free(&d);
    tl_free(tl);
}

int
main(void)
{
    RUN(test_every_field_of_an_entry);
    RUN(test_lost_pending_and_plain);
    RUN(test_hostile_header_bytes);
    RUN(test_head_at_the_limit);
    RUN(test_interim_responses);
    RUN(test_dates);
    RUN(test_request_heads_in_random_order);
    RUN(test_timings_add_up);
    RUN(test_write_error_reported);
    RUN(test_json_values);
    RUN(test_stats_summary_figures);
    RUN(test_stats_percentiles_and_depths);
    RUN(test_stats_small_and_empty);
    return CHECK_REPORT();
}
