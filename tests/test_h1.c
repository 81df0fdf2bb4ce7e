/*
 * test_h1.c - unit tests of the HTTP/1.1 writer and response parser.
 *
 * Every parser case is a label, an input, the request flags and the
 * expected trace: the events other than H1_BODY, with the body bytes in
 * between, written as text so a table row reads like the wire:
 *
 *   H200/KL:5   H1_HEADERS: status, flags (C close, E body to EOF,
 *               K chunked, L has length, N no body),
 *               ":n" the Content-Length when L, "{gzip, br}" the kept
 *               Content-Encoding list when it is not empty
 *   "hello"     the body bytes of H1_BODY events since the last event,
 *               concatenated (longer or unprintable bodies: #len:fnv64)
 *   D43         H1_DONE after 43 bytes of this message; the runner then
 *               calls h1_begin and feeds the rest to the next message
 *   !NAME@n     an error, with error_offset (from the message start)
 *   F / F!NAME@n  h1_finish at the end of the input, if the message has
 *               started; "." if nothing of a next message arrived
 *
 * Each case runs through three runners that must all give that trace:
 * the whole input at once, one byte at a time, and every split into three
 * pieces at two cuts (a few hundred seeded random cuts for big inputs).
 * Every piece is placed flush against a PROT_NONE page (guard.h), so
 * reading data[len] crashes. The runners also check the invariants that
 * hold for any input: used <= len, H1_AGAIN only when all was used, body
 * spans inside the consumed bytes, consumed == bytes used for the
 * message, and sticky errors (a later feed returns the error, used 0).
 */
#include "h1.h"

#include "check.h"
#include "guard.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRACE_MAX 4096
#define BODY_SHOW 40      /* longer bodies are shown as #len:hash */
#define SPLIT_ALL_MAX 400 /* inputs up to this get every two-cut split */
#define SPLIT_RANDOM 300  /* two-cut splits tried for longer inputs */

static const char *const rc_names[] = {
    [H1_AGAIN] = "AGAIN",
    [H1_HEADERS] = "HEADERS",
    [H1_BODY] = "BODY",
    [H1_DONE] = "DONE",
    [H1_E_STATUS_LINE] = "STATUS_LINE",
    [H1_E_HEADER_SYNTAX] = "HEADER_SYNTAX",
    [H1_E_BARE_CR] = "BARE_CR",
    [H1_E_TOO_LARGE] = "TOO_LARGE",
    [H1_E_TOO_MANY_HEADERS] = "TOO_MANY_HEADERS",
    [H1_E_CONTENT_LENGTH] = "CONTENT_LENGTH",
    [H1_E_TE_AND_CL] = "TE_AND_CL",
    [H1_E_TRANSFER_CODING] = "TRANSFER_CODING",
    [H1_E_CHUNK_SIZE] = "CHUNK_SIZE",
    [H1_E_CHUNK_SYNTAX] = "CHUNK_SYNTAX",
    [H1_E_TRAILER] = "TRAILER",
    [H1_E_TOO_MANY_INTERIM] = "TOO_MANY_INTERIM",
    [H1_E_SWITCHING] = "SWITCHING",
    [H1_E_TRUNCATED] = "TRUNCATED",
};

#define N_RC (sizeof rc_names / sizeof rc_names[0])

static const char *
rc_name(enum h1_rc rc)
{
    return (unsigned)rc < N_RC ? rc_names[rc] : "?";
}

/* ---- the trace a run produces ---------------------------------------- */

struct run {
    struct h1_parser p;
    unsigned req;
    char trace[TRACE_MAX];
    size_t tlen;
    uint64_t msg_used; /* bytes used by the current message */
    uint64_t body_len; /* body bytes since the last event */
    uint64_t body_hash;
    char body_head[BODY_SHOW];
    int body_printable;
    int stopped; /* an error ended the run */
};

static void
emit(struct run *r, const char *s)
{
    size_t n = strlen(s);

    if (r->tlen + n + 1 >= sizeof r->trace)
        n = sizeof r->trace - r->tlen - 1;
    memcpy(r->trace + r->tlen, s, n);
    r->tlen += n;
    r->trace[r->tlen] = '\0';
}

static void
emit_u64(struct run *r, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp - 1;

    tmp[i] = '\0';
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    emit(r, tmp + i);
}

static void
emit_hex(struct run *r, uint64_t v)
{
    char tmp[17];
    int i;

    for (i = 15; i >= 0; i--) {
        tmp[i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    }
    tmp[16] = '\0';
    emit(r, tmp);
}

static void
sep(struct run *r)
{
    if (r->tlen)
        emit(r, " ");
}

static uint64_t
fnv_step(uint64_t h, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211u;
    }
    return h;
}

#define FNV_INIT 14695981039346656037u

static void
body_reset(struct run *r)
{
    r->body_len = 0;
    r->body_hash = FNV_INIT;
    r->body_printable = 1;
}

static void
body_add(struct run *r, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e || c == '"')
            r->body_printable = 0;
        if (r->body_len + i < BODY_SHOW)
            r->body_head[r->body_len + i] = (char)c;
    }
    r->body_hash = fnv_step(r->body_hash, s, n);
    r->body_len += n;
}

/* The body bytes since the last event become one trace token. */
static void
body_flush(struct run *r)
{
    char show[BODY_SHOW + 3];

    if (r->body_len == 0)
        return;
    sep(r);
    if (r->body_printable && r->body_len <= BODY_SHOW) {
        show[0] = '"';
        memcpy(show + 1, r->body_head, (size_t)r->body_len);
        show[r->body_len + 1] = '"';
        show[r->body_len + 2] = '\0';
        emit(r, show);
    } else {
        emit(r, "#");
        emit_u64(r, r->body_len);
        emit(r, ":");
        emit_hex(r, r->body_hash);
    }
    body_reset(r);
}

static void
emit_headers(struct run *r)
{
    static const char letters[] = "CEKLN";
    char f[8];
    size_t i, n = 0;

    sep(r);
    emit(r, "H");
    emit_u64(r, (uint64_t)r->p.status);
    for (i = 0; i < sizeof letters - 1; i++) {
        if (r->p.flags & (1u << i))
            f[n++] = letters[i];
    }
    f[n] = '\0';
    emit(r, "/");
    emit(r, f);
    if (r->p.flags & H1_F_HAS_LENGTH) {
        emit(r, ":");
        emit_u64(r, r->p.content_length);
    }
    if (r->p.content_encoding_len > 0) {
        char v[H1_MAX_CODING + 3];

        v[0] = '{';
        memcpy(v + 1, r->p.content_encoding, r->p.content_encoding_len);
        v[r->p.content_encoding_len + 1] = '}';
        v[r->p.content_encoding_len + 2] = '\0';
        emit(r, v);
    }
}

static void
emit_error(struct run *r, const char *prefix, enum h1_rc rc)
{
    sep(r);
    emit(r, prefix);
    emit(r, rc_name(rc));
    emit(r, "@");
    emit_u64(r, r->p.error_offset);
}

/* An invariant broke: say so in the trace, which then cannot match. */
static void
broken(struct run *r, const char *what)
{
    sep(r);
    emit(r, "BROKEN(");
    emit(r, what);
    emit(r, ")");
    r->stopped = 1;
}

static void
run_start(struct run *r, unsigned req)
{
    h1_begin(&r->p, req);
    r->req = req;
    r->tlen = 0;
    r->trace[0] = '\0';
    r->msg_used = 0;
    r->stopped = 0;
    body_reset(r);
}

static void
run_piece(struct run *r, const char *piece, size_t n)
{
    const char *d;
    const char *why = NULL;
    size_t used, again_used;
    enum h1_rc rc;
    int idle = 0;

    if (r->stopped)
        return;
    d = guard_place(piece, n);
    for (;;) {
        rc = h1_feed(&r->p, d, n, &used);
        if (used > n) {
            why = "used > len";
            break;
        }
        if (rc == H1_BODY) {
            if (r->p.body_len == 0 || r->p.body_off > used ||
                r->p.body_len > used - r->p.body_off) {
                why = "body span";
                break;
            }
            body_add(r, d + r->p.body_off, r->p.body_len);
        }
        d += used;
        n -= used;
        r->msg_used += used;
        if (r->p.consumed != r->msg_used) {
            why = "consumed";
            break;
        }
        /* DONE right after HEADERS may use nothing; twice is a hang. */
        idle = used ? 0 : idle + 1;
        if (idle > 2) {
            why = "no progress";
            break;
        }
        if (rc == H1_AGAIN) {
            if (n != 0)
                why = "AGAIN with bytes left";
            break;
        }
        if (rc == H1_BODY)
            continue;
        body_flush(r);
        if (rc == H1_HEADERS) {
            if (r->p.status < 200 || r->p.status > 599) {
                why = "status at HEADERS";
                break;
            }
            emit_headers(r);
        } else if (rc == H1_DONE) {
            sep(r);
            emit(r, "D");
            emit_u64(r, r->msg_used);
            h1_begin(&r->p, r->req);
            r->msg_used = 0;
        } else {
            emit_error(r, "!", rc);
            r->stopped = 1;
            /* Sticky: the rest, or nothing, gets the same answer. */
            if (h1_feed(&r->p, d, n, &again_used) != rc || again_used != 0)
                why = "error not sticky";
            else if (h1_finish(&r->p) != rc)
                why = "finish after error";
            break;
        }
    }
    if (why)
        broken(r, why);
}

static void
run_end(struct run *r)
{
    enum h1_rc rc;
    size_t used;

    if (r->stopped)
        return;
    body_flush(r);
    if (!h1_started(&r->p)) {
        sep(r);
        emit(r, ".");
        if (h1_finish(&r->p) != H1_E_TRUNCATED)
            broken(r, "finish on nothing");
        return;
    }
    rc = h1_finish(&r->p);
    if (rc == H1_DONE) {
        sep(r);
        emit(r, "F");
        if (h1_feed(&r->p, NULL, 0, &used) != H1_DONE || used != 0)
            broken(r, "feed after finish");
    } else {
        emit_error(r, "F!", rc);
        if (h1_finish(&r->p) != rc)
            broken(r, "finish not sticky");
    }
}

/* ---- runners ---------------------------------------------------------- */

static struct run the_run;

static const char *
run_cuts(const char *in, size_t len, unsigned req, size_t a, size_t b)
{
    struct run *r = &the_run;

    run_start(r, req);
    run_piece(r, in, a);
    run_piece(r, in + a, b - a);
    run_piece(r, in + b, len - b);
    run_end(r);
    return r->trace;
}

static const char *
run_bytewise(const char *in, size_t len, unsigned req)
{
    struct run *r = &the_run;
    size_t i;

    run_start(r, req);
    for (i = 0; i < len && !r->stopped; i++)
        run_piece(r, in + i, 1);
    run_end(r);
    return r->trace;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t
rng(void)
{
    /* xorshift64: a fixed seed gives the same cuts on every run. */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void
check_case(const char *label, const char *in, size_t len, unsigned req,
           const char *want)
{
    const char *got;
    size_t a, b, k;

    got = run_cuts(in, len, req, len, len);
    CHECKF(strcmp(got, want) == 0, "%s: whole:\n  got  %s\n  want %s", label,
           got, want);
    got = run_bytewise(in, len, req);
    CHECKF(strcmp(got, want) == 0, "%s: bytewise:\n  got  %s\n  want %s",
           label, got, want);
    if (len <= SPLIT_ALL_MAX) {
        for (a = 0; a <= len; a++) {
            for (b = a; b <= len; b++) {
                got = run_cuts(in, len, req, a, b);
                if (strcmp(got, want) != 0) {
                    CHECKF(0, "%s: cuts %zu,%zu:\n  got  %s\n  want %s", label,
                           a, b, got, want);
                    return;
                }
            }
        }
        return;
    }
    for (k = 0; k < SPLIT_RANDOM; k++) {
        a = (size_t)(rng() % (len + 1));
        b = (size_t)(rng() % (len + 1));
        if (a > b) {
            size_t t = a;
            a = b;
            b = t;
        }
        got = run_cuts(in, len, req, a, b);
        if (strcmp(got, want) != 0) {
            CHECKF(0, "%s: cuts %zu,%zu:\n  got  %s\n  want %s", label, a, b,
                   got, want);
            return;
        }
    }
}

/* ---- the table -------------------------------------------------------- */

struct tcase {
    const char *label;
    const char *in;
    size_t len;
    unsigned req;
    const char *want;
};

#define T(label, in, want)                                                    \
    {                                                                         \
        label, in, sizeof(in) - 1, 0, want                                    \
    }
#define T_HEAD(label, in, want)                                               \
    {                                                                         \
        label, in, sizeof(in) - 1, H1_REQ_HEAD, want                          \
    }

#define S200 "HTTP/1.1 200 OK\r\n"             /* 17 bytes */
#define CL5 "Content-Length: 5\r\n"            /* 19 */
#define TE_CH "Transfer-Encoding: chunked\r\n" /* 28 */
#define S200_CH S200 TE_CH "\r\n"              /* 47 */
#define CONT "HTTP/1.1 100 Continue\r\n\r\n"   /* 25 */
#define EARLY "HTTP/1.1 103 Early Hints\r\nLink: <x>\r\n\r\n"

static const struct tcase cases[] = {
    /* Content-Length */
    T("cl: body", S200 CL5 "\r\nhello", "H200/L:5 \"hello\" D43 ."),
    T("cl: zero", S200 "Content-Length: 0\r\n\r\n", "H200/L:0 D38 ."),
    T("cl: name in any case, OWS around value",
      S200 "cOnTeNt-LeNgTh: \t 5 \t\r\n\r\nhello", "H200/L:5 \"hello\" D47 ."),
    T("cl: list of identical values", S200 "Content-Length: 5, 5\r\n\r\nhello",
      "H200/L:5 \"hello\" D46 ."),
    T("cl: repeated identical lines", S200 CL5 CL5 "\r\nhello",
      "H200/L:5 \"hello\" D62 ."),
    T("cl: leading zeros compare by value",
      S200 "Content-Length: 005\r\nContent-Length: 5,05\r\n\r\nhello",
      "H200/L:5 \"hello\" D67 ."),
    T("cl: UINT64_MAX accepted",
      S200 "Content-Length: 18446744073709551615\r\n\r\nab",
      "H200/L:18446744073709551615 \"ab\" F!TRUNCATED@59"),
    T("cl: overflow", S200 "Content-Length: 18446744073709551616\r\n\r\n",
      "!CONTENT_LENGTH@52"),
    T("cl: list of differing values", S200 "Content-Length: 5, 6\r\n\r\n",
      "!CONTENT_LENGTH@38"),
    T("cl: differing lines", S200 CL5 "Content-Length: 6\r\n\r\n",
      "!CONTENT_LENGTH@54"),
    T("cl: not a number", S200 "Content-Length: 5a\r\n\r\n",
      "!CONTENT_LENGTH@34"),
    T("cl: negative", S200 "Content-Length: -1\r\n\r\n", "!CONTENT_LENGTH@33"),
    T("cl: plus sign", S200 "Content-Length: +5\r\n\r\n",
      "!CONTENT_LENGTH@33"),
    T("cl: empty", S200 "Content-Length: \r\n\r\n", "!CONTENT_LENGTH@34"),
    T("cl: space inside", S200 "Content-Length: 5 5\r\n\r\n",
      "!CONTENT_LENGTH@35"),
    T("cl: empty last element", S200 "Content-Length: 5,\r\n\r\n",
      "!CONTENT_LENGTH@36"),
    T("cl: empty first element", S200 "Content-Length: ,5\r\n\r\n",
      "!CONTENT_LENGTH@33"),
    T("cl: truncated body", S200 CL5 "\r\nhel",
      "H200/L:5 \"hel\" F!TRUNCATED@41"),
    T("cl: Connection: close", S200 "Connection: close\r\n" CL5 "\r\nhello",
      "H200/CL:5 \"hello\" D62 ."),

    /* chunked */
    T("chunked: one chunk", S200_CH "5\r\nhello\r\n0\r\n\r\n",
      "H200/K \"hello\" D62 ."),
    T("chunked: several, hex in both cases",
      S200_CH "a\r\n0123456789\r\nA\r\nabcdefghij\r\n1\r\n!\r\n0\r\n\r\n",
      "H200/K \"0123456789abcdefghij!\" D88 ."),
    T("chunked: extensions",
      S200_CH "5;name=value\r\nhello\r\n6 ; a=\"q;\\\"x\" ; b\r\n world\r\n"
              "0;last\r\n\r\n",
      "H200/K \"hello world\" D105 ."),
    T("chunked: BWS before an extension",
      S200_CH "5 \t;x\r\nhello\r\n0 ;y\r\n\r\n", "H200/K \"hello\" D69 ."),
    T("chunked: BWS around extension parts",
      S200_CH "5 ; a = b ;c\r\nhello\r\n0\r\n\r\n", "H200/K \"hello\" D73 ."),
    T("chunked: BWS after the size, no extension",
      S200_CH "5 \t\r\nhello\r\n0\r\n\r\n", "H200/K !CHUNK_SIZE@50"),
    T("chunked: two spaces after the size", S200_CH "25  \r\n",
      "H200/K !CHUNK_SIZE@51"),
    T("chunked: BWS after the last-chunk size",
      S200_CH "5\r\nhello\r\n0 \r\n\r\n", "H200/K \"hello\" !CHUNK_SIZE@59"),
    T("chunked: BWS then bare LF", S200_CH "5 \nhello\r\n",
      "H200/K !CHUNK_SYNTAX@49"),
    T("chunked: BWS then bare CR", S200_CH "5 \rx", "H200/K !CHUNK_SIZE@49"),
    T("chunked: 16 hex digits",
      S200_CH "0000000000000005\r\nhello\r\n0\r\n\r\n",
      "H200/K \"hello\" D77 ."),
    T("chunked: trailers dropped, CL in them ignored",
      S200_CH "2\r\nok\r\n0\r\nX-Sum: abc\r\nContent-Length: 99\r\n\r\n",
      "H200/K \"ok\" D91 ."),
    T("chunked: bare LF in trailer lines", S200_CH "2\r\nok\r\n0\r\nX: y\n\n",
      "H200/K \"ok\" D63 ."),
    T("chunked: TE name and value in any case, OWS",
      S200 "transfer-ENCODING:  Chunked \r\n\r\n2\r\nok\r\n0\r\n\r\n",
      "H200/K \"ok\" D61 ."),
    T("chunked: empty list elements ignored",
      S200 "Transfer-Encoding: , chunked,\r\n\r\n2\r\nok\r\n0\r\n\r\n",
      "H200/K \"ok\" D62 ."),
    T("chunked: Connection: close",
      S200 "Connection: close\r\n" TE_CH "\r\n2\r\nok\r\n0\r\n\r\n",
      "H200/CK \"ok\" D78 ."),
    T("chunked: 16 hex digits of F", S200_CH "FFFFFFFFFFFFFFFF\r\nab",
      "H200/K \"ab\" F!TRUNCATED@67"),
    T("chunked: 17 hex digits", S200_CH "00000000000000005\r\nhello",
      "H200/K !CHUNK_SIZE@63"),
    T("chunked: size overflow", S200_CH "10000000000000000\r\n",
      "H200/K !CHUNK_SIZE@63"),
    T("chunked: not hex", S200_CH "x\r\n", "H200/K !CHUNK_SIZE@47"),
    T("chunked: empty size", S200_CH "\r\n", "H200/K !CHUNK_SIZE@47"),
    T("chunked: negative size", S200_CH "-1\r\n", "H200/K !CHUNK_SIZE@47"),
    T("chunked: 0x prefix", S200_CH "0x5\r\n", "H200/K !CHUNK_SIZE@48"),
    T("chunked: junk after BWS", S200_CH "5 x\r\n", "H200/K !CHUNK_SIZE@49"),
    T("chunked: data not followed by CRLF", S200_CH "5\r\nhelloX",
      "H200/K \"hello\" !CHUNK_SYNTAX@55"),
    T("chunked: bare LF after data", S200_CH "5\r\nhello\n0\r\n\r\n",
      "H200/K \"hello\" !CHUNK_SYNTAX@55"),
    T("chunked: bare CR after data", S200_CH "5\r\nhello\rX",
      "H200/K \"hello\" !BARE_CR@56"),
    T("chunked: bare LF ends size line", S200_CH "5\nhello\r\n",
      "H200/K !CHUNK_SYNTAX@48"),
    T("chunked: bare CR in size line", S200_CH "5\rhello",
      "H200/K !BARE_CR@49"),
    T("chunked: bare CR in extension", S200_CH "5;a\rx", "H200/K !BARE_CR@51"),
    T("chunked: bare LF in extension", S200_CH "5;a\n",
      "H200/K !CHUNK_SYNTAX@50"),
    T("chunked: control byte in extension", S200_CH "5;a\x01\r\n",
      "H200/K !CHUNK_SYNTAX@50"),
    T("chunked: malformed trailer", S200_CH "0\r\nbad line\r\n\r\n",
      "H200/K !TRAILER@53"),
    T("chunked: obs-fold in trailer", S200_CH "0\r\nA: b\r\n c\r\n\r\n",
      "H200/K !TRAILER@56"),
    T("chunked: control byte in trailer", S200_CH "0\r\nA: \x01\r\n\r\n",
      "H200/K !TRAILER@53"),
    T("chunked: bare CR in trailer", S200_CH "0\r\nA: b\rX",
      "H200/K !BARE_CR@55"),
    T("chunked: truncated in data", S200_CH "5\r\nhel",
      "H200/K \"hel\" F!TRUNCATED@53"),
    T("chunked: truncated before a size", S200_CH "5\r\nhello\r\n",
      "H200/K \"hello\" F!TRUNCATED@57"),
    T("chunked: truncated in trailers", S200_CH "5\r\nhello\r\n0\r\nX: y\r\n",
      "H200/K \"hello\" F!TRUNCATED@66"),
    T("chunked: truncated before the last CRLF", S200_CH "5\r\nhello\r\n0\r\n",
      "H200/K \"hello\" F!TRUNCATED@60"),

    /* Transfer-Encoding errors */
    T("te: gzip", S200 "Transfer-Encoding: gzip\r\n\r\n",
      "!TRANSFER_CODING@41"),
    T("te: gzip, chunked", S200 "Transfer-Encoding: gzip, chunked\r\n\r\n",
      "!TRANSFER_CODING@40"),
    T("te: chunked, gzip", S200 "Transfer-Encoding: chunked, gzip\r\n\r\n",
      "!TRANSFER_CODING@50"),
    T("te: chunked twice in a list",
      S200 "Transfer-Encoding: chunked, chunked\r\n\r\n",
      "!TRANSFER_CODING@53"),
    T("te: chunked on two lines", S200 TE_CH TE_CH "\r\n",
      "!TRANSFER_CODING@72"),
    T("te: chunked with a parameter",
      S200 "Transfer-Encoding: chunked;q=1\r\n\r\n", "!TRANSFER_CODING@48"),
    T("te: empty value", S200 "Transfer-Encoding:\r\n\r\n",
      "!TRANSFER_CODING@38"),
    T("te: in an HTTP/1.0 response", "HTTP/1.0 200 OK\r\n" TE_CH "\r\n",
      "!TRANSFER_CODING@46"),
    T("te: with Content-Length", S200 TE_CH CL5 "\r\nhello", "!TE_AND_CL@65"),
    T("te: after Content-Length", S200 CL5 TE_CH "\r\nhello", "!TE_AND_CL@65"),

    /* pipelined responses back to back */
    T("pipeline: length, chunked, 204, length",
      S200 CL5 "\r\nhello" S200_CH "3\r\nabc\r\n0\r\n\r\n"
               "HTTP/1.1 204 No Content\r\n\r\n" S200
               "Content-Length: 2\r\n\r\nok",
      "H200/L:5 \"hello\" D43 H200/K \"abc\" D60 H204/N D27 "
      "H200/L:2 \"ok\" D40 ."),
    T("pipeline: chunked with trailers twice",
      S200_CH "1;x\r\na\r\n0\r\nT: 1\r\n\r\n" S200_CH "1\r\nb\r\n0\r\n\r\n",
      "H200/K \"a\" D66 H200/K \"b\" D58 ."),
    T("pipeline: interim between responses",
      S200 CL5 "\r\nhello" CONT S200 "Content-Length: 2\r\n\r\nok",
      "H200/L:5 \"hello\" D43 H200/L:2 \"ok\" D65 ."),
    T("pipeline: last one delimited by close",
      S200 CL5 "\r\nhello" S200 "\r\nrest",
      "H200/L:5 \"hello\" D43 "
      "H200/CE \"rest\" F"),
    T("pipeline: error in the second",
      S200 CL5 "\r\nhello" S200 "Content-Length: x\r\n\r\n",
      "H200/L:5 \"hello\" D43 !CONTENT_LENGTH@33"),
    T("pipeline: second truncated in headers",
      S200 CL5 "\r\nhello" S200 "Content-Le",
      "H200/L:5 \"hello\" D43 F!TRUNCATED@27"),

    /* bodies delimited by the close, HTTP/1.0, Connection */
    T("eof: body", S200 "\r\nabc", "H200/CE \"abc\" F"),
    T("eof: empty body", S200 "\r\n", "H200/CE F"),
    T("eof: other headers",
      S200 "Content-Type: application/json\r\nX-A: b\r\n\r\n{}",
      "H200/CE \"{}\" F"),
    T("http/1.0: length, closes", "HTTP/1.0 200 OK\r\n" CL5 "\r\nhello",
      "H200/CL:5 \"hello\" D43 ."),
    T("http/1.0: keep-alive",
      "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n" CL5 "\r\nhello",
      "H200/L:5 \"hello\" D67 ."),
    T("http/1.0: body to EOF", "HTTP/1.0 200 OK\r\n\r\nabc",
      "H200/CE \"abc\" F"),
    T("http/1.0: keep-alive but no length",
      "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nabc",
      "H200/CE \"abc\" F"),
    T("connection: close in a list",
      S200 "Connection: foo, CLOSE\r\nContent-Length: 0\r\n\r\n",
      "H200/CL:0 D62 ."),
    T("connection: keep-alive, close",
      S200 "Connection: keep-alive,close\r\nContent-Length: 0\r\n\r\n",
      "H200/CL:0 D68 ."),
    T("connection: near misses are not close",
      S200 "Connection: closed, xclose, clo se\r\nContent-Length: 0\r\n\r\n",
      "H200/L:0 D74 ."),

    /* no body */
    T("no body: 204", "HTTP/1.1 204 No Content\r\n\r\n", "H204/N D27 ."),
    T("no body: 304 with Content-Length",
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n",
      "H304/LN:100 D50 ."),
    T("no body: 204 then another response",
      "HTTP/1.1 204 No Content\r\n\r\n" S200 CL5 "\r\nhello",
      "H204/N D27 H200/L:5 \"hello\" D43 ."),
    T_HEAD("no body: HEAD with Content-Length", S200 CL5 "\r\n",
           "H200/LN:5 D38 ."),
    T_HEAD("no body: HEAD with chunked", S200_CH, "H200/N D47 ."),
    T_HEAD("no body: HEAD without length", S200 "\r\n", "H200/N D19 ."),
    T_HEAD("no body: HEAD responses pipelined",
           S200 CL5 "\r\n" S200 "Content-Length: 7\r\n\r\n",
           "H200/LN:5 D38 H200/LN:7 D38 ."),

    /* interim responses */
    T("1xx: 100 before 200", CONT S200 CL5 "\r\nhello",
      "H200/L:5 \"hello\" D68 ."),
    T("1xx: 103 with fields before 200",
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" S200
          CL5 "\r\nhello",
      "H200/L:5 \"hello\" D100 ."),
    T("1xx: 100 and 103 before a chunked 200",
      CONT "HTTP/1.1 103 Early Hints\r\n\r\n" S200_CH "2\r\nok\r\n0\r\n\r\n",
      "H200/K \"ok\" D112 ."),
    T("1xx: its fields are forgotten",
      "HTTP/1.1 100 Continue\r\nContent-Length: 7\r\nConnection: close\r\n"
      "\r\n" S200 "Content-Length: 2\r\n\r\nok",
      "H200/L:2 \"ok\" D103 ."),
    T("1xx: 199 is interim too", "HTTP/1.1 199 Odd\r\n\r\n" S200 "\r\nx",
      "H200/CE \"x\" F"),
    T("1xx: bare LF", "HTTP/1.1 100 Continue\n\n" S200 CL5 "\r\nhello",
      "H200/L:5 \"hello\" D66 ."),
    T("1xx: truncated", CONT "HTTP/1.1 103 Early", "F!TRUNCATED@43"),
    T("1xx: 101", "HTTP/1.1 101 Switching Protocols\r\n\r\n", "!SWITCHING@11"),
    T("1xx: 101 after 100", CONT "HTTP/1.1 101 Switching Protocols\r\n\r\n",
      "!SWITCHING@36"),

    /* status line */
    T("status: HTTP/1.2", "HTTP/1.2 200 OK\r\n\r\n", "!STATUS_LINE@7"),
    T("status: HTTP/2", "HTTP/2 200 OK\r\n\r\n", "!STATUS_LINE@5"),
    T("status: lower-case version", "http/1.1 200 OK\r\n\r\n",
      "!STATUS_LINE@0"),
    T("status: not HTTP", "ICY 200 OK\r\n\r\n", "!STATUS_LINE@0"),
    T("status: leading empty line", "\r\nHTTP/1.1 200 OK\r\n\r\n",
      "!STATUS_LINE@0"),
    T("status: tab after version", "HTTP/1.1\t200 OK\r\n\r\n",
      "!STATUS_LINE@8"),
    T("status: two spaces", "HTTP/1.1  200 OK\r\n\r\n", "!STATUS_LINE@9"),
    T("status: two digits", "HTTP/1.1 20 OK\r\n\r\n", "!STATUS_LINE@11"),
    T("status: four digits", "HTTP/1.1 2000 OK\r\n\r\n", "!STATUS_LINE@12"),
    T("status: 099", "HTTP/1.1 099 X\r\n\r\n", "!STATUS_LINE@9"),
    T("status: 600", "HTTP/1.1 600 X\r\n\r\n", "!STATUS_LINE@9"),
    T("status: no SP, no reason",
      "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", "H200/L:2 \"ok\" D37 ."),
    T("status: no SP, no reason, bare LF",
      "HTTP/1.1 404\nContent-Length: 0\n\n", "H404/L:0 D32 ."),
    T("status: no SP, no reason, body to EOF", "HTTP/1.0 200\r\n\r\nabc",
      "H200/CE \"abc\" F"),
    T("status: no SP, interim and final pipelined",
      "HTTP/1.1 100\r\n\r\nHTTP/1.1 204\r\n\r\nHTTP/1.1 200\r\n"
      "Content-Length: 1\r\n\r\nx",
      "H204/N D32 H200/L:1 \"x\" D36 ."),
    T("status: no SP, bare CR", "HTTP/1.1 200\rX\r\n\r\n", "!BARE_CR@13"),
    T("status: no SP, truncated", "HTTP/1.1 200", "F!TRUNCATED@12"),
    T("status: no SP, truncated at CR", "HTTP/1.1 200\r", "F!TRUNCATED@13"),
    T("status: tab instead of SP after code", "HTTP/1.1 200\tOK\r\n\r\n",
      "!STATUS_LINE@12"),
    T("status: letter in code", "HTTP/1.1 20x OK\r\n\r\n", "!STATUS_LINE@11"),
    T("status: four digits, no reason", "HTTP/1.1 2000\r\n\r\n",
      "!STATUS_LINE@12"),
    T("status: one digit, no reason", "HTTP/1.1 2\r\n\r\n", "!STATUS_LINE@10"),
    T("status: no code", "HTTP/1.1 \r\n\r\n", "!STATUS_LINE@9"),
    T("status: no SP after version", "HTTP/1.1\r\n\r\n", "!STATUS_LINE@8"),
    T("status: ICY, no reason", "ICY 200\r\n\r\n", "!STATUS_LINE@0"),
    T("status: lower-case, no reason", "http/1.1 200\r\n\r\n",
      "!STATUS_LINE@0"),
    T("status: control byte in reason", "HTTP/1.1 200 O\x01K\r\n\r\n",
      "!STATUS_LINE@14"),
    T("status: DEL in reason", "HTTP/1.1 200 O\x7fK\r\n\r\n",
      "!STATUS_LINE@14"),
    T("status: NUL in reason", "HTTP/1.1 200 O\0K\r\n\r\n", "!STATUS_LINE@14"),
    T("status: bare CR", "HTTP/1.1 200 OK\rX\n\r\n", "!BARE_CR@16"),
    T("status: CR CR LF", "HTTP/1.1 200 OK\r\r\n\r\n", "!BARE_CR@16"),
    T("status: bare LF everywhere", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
      "H200/L:2 \"ok\" D37 ."),
    T("status: obs-text and HTAB in reason",
      "HTTP/1.1 200 \xc3\x9c\tber\r\nContent-Length: 0\r\n\r\n",
      "H200/L:0 D42 ."),
    T("status: empty reason", "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
      "H404/L:0 D36 ."),
    T("status: 599", "HTTP/1.1 599 X\r\nContent-Length: 0\r\n\r\n",
      "H599/L:0 D37 ."),

    /* header lines */
    T("header: obs-fold", S200 "X-A: b\r\n c\r\n\r\n", "!HEADER_SYNTAX@25"),
    T("header: obs-fold with HTAB", S200 "X-A: b\r\n\tc\r\n\r\n",
      "!HEADER_SYNTAX@25"),
    T("header: whitespace before the first field", S200 " X: y\r\n\r\n",
      "!HEADER_SYNTAX@17"),
    T("header: space before colon", S200 "X-A : b\r\n\r\n",
      "!HEADER_SYNTAX@20"),
    T("header: space before colon, Content-Length",
      S200 "Content-Length : 5\r\n\r\nhello", "!HEADER_SYNTAX@31"),
    T("header: tab before colon", S200 "X-A\t: b\r\n\r\n",
      "!HEADER_SYNTAX@20"),
    T("header: no colon", S200 "X-A\r\n\r\n", "!HEADER_SYNTAX@20"),
    T("header: empty name", S200 ": x\r\n\r\n", "!HEADER_SYNTAX@17"),
    T("header: bad name byte", S200 "X(A: b\r\n\r\n", "!HEADER_SYNTAX@18"),
    T("header: non-ASCII name", S200 "X\xc3\xa9: b\r\n\r\n",
      "!HEADER_SYNTAX@18"),
    T("header: control byte in value",
      S200 "X-A: b\x01"
           "c\r\n\r\n",
      "!HEADER_SYNTAX@23"),
    T("header: NUL in value", S200 "X-A: b\0c\r\n\r\n", "!HEADER_SYNTAX@23"),
    T("header: DEL in value",
      S200 "X-A: b\x7f"
           "c\r\n\r\n",
      "!HEADER_SYNTAX@23"),
    T("header: bare CR in value", S200 "X-A: b\rc\r\n\r\n", "!BARE_CR@24"),
    T("header: bare CR ending the block", S200 "X-A: b\r\n\rX", "!BARE_CR@26"),
    T("header: bare LF lines", S200 "X-A: b\nContent-Length: 2\n\nok",
      "H200/L:2 \"ok\" D45 ."),
    T("header: obs-text and HTAB in values",
      S200 "X-A: caf\xc3\xa9\t\xff\r\nX-B:\r\nX-C:\t \t\r\n\r\nok",
      "H200/CE \"ok\" F"),
    T("header: every tchar in a name",
      S200 "!#$%&'*+-.^_`|~09AZaz: v\r\nContent-Length: 0\r\n\r\n",
      "H200/L:0 D64 ."),
    T("header: near-miss names are not framing",
      S200 "Content-Lengthx: no\r\nContent-Lengt: no\r\n"
           "XContent-Length: no\r\nTransfer-Encodings: gzip\r\n"
           "Connectio: close\r\n\r\nok",
      "H200/CE \"ok\" F"),
    T("header: Content-Encoding gzip",
      S200 "Content-Encoding: gzip\r\nContent-Length: 0\r\n\r\n",
      "H200/L:0{gzip} D62 ."),
    T("header: Content-Encoding identity",
      S200 "Content-Encoding: Identity\r\nContent-Length: 0\r\n\r\n",
      "H200/L:0{Identity} D66 ."),
    T("header: Content-Encoding list with a coding",
      S200 "Content-Encoding: identity, br\r\nContent-Length: 0\r\n\r\n",
      "H200/L:0{identity, br} D70 ."),
    T("header: Content-Encoding on two lines, OWS trimmed",
      S200 "Content-Encoding:  gzip \t\r\nX: y\r\n"
           "content-encoding:\t br ,x \r\nContent-Length: 0\r\n\r\n",
      "H200/L:0{gzip, br ,x} D98 ."),
    T("header: Content-Encoding empty second line adds nothing",
      S200 "Content-Encoding: gzip\r\nContent-Encoding: \r\n"
           "Content-Encoding:\r\nContent-Length: 0\r\n\r\n",
      "H200/L:0{gzip} D101 ."),
    T("header: Content-Encoding empty first line, then a coding",
      S200 "Content-Encoding:\r\nContent-Encoding: br\r\n"
           "Content-Length: 0\r\n\r\n",
      "H200/L:0{br} D79 ."),
    T("header: Content-Encoding empty",
      S200 "Content-Encoding:\r\nContent-Length: 0\r\n\r\n", "H200/L:0 D57 ."),
    T("header: truncated in the block", S200 "X-A: b\r\n", "F!TRUNCATED@25"),
    T("header: truncated in the status line", "HTTP/1.1 2", "F!TRUNCATED@10"),
    T("empty input", "", "."),
};

static const struct tcase *cur_case;

static void
table_case(void)
{
    check_case(cur_case->label, cur_case->in, cur_case->len, cur_case->req,
               cur_case->want);
}

/* ---- generated inputs: limits and big bodies -------------------------- */

static char *gen;
static size_t gen_len;
#define GEN_CAP (2u << 20)

static void
gen_reset(void)
{
    if (!gen) {
        gen = malloc(GEN_CAP);
        if (!gen) {
            fprintf(stderr, "test_h1: out of memory\n");
            exit(1);
        }
    }
    gen_len = 0;
}

static void
gen_str(const char *s)
{
    size_t n = strlen(s);

    if (gen_len + n > GEN_CAP)
        abort();
    memcpy(gen + gen_len, s, n);
    gen_len += n;
}

static void
gen_fill(char c, size_t n)
{
    if (gen_len + n > GEN_CAP)
        abort();
    memset(gen + gen_len, c, n);
    gen_len += n;
}

/* One field line "X-Fill: aaa...\r\n" of exactly n bytes (n >= 10). */
static void
gen_field(size_t n)
{
    gen_str("X-Fill: ");
    gen_fill('a', n - 10);
    gen_str("\r\n");
}

/* Field lines of left bytes in all (0 or at least 10). */
static void
gen_fields(size_t left)
{
    while (left > 0) {
        size_t n = left > 16000 ? 16000 : left;
        if (left - n < 10 && left - n > 0)
            n = left - 10;
        gen_field(n);
        left -= n;
    }
}

static void
test_limit_status_line(void)
{
    size_t extra;

    for (extra = 0; extra < 2; extra++) {
        gen_reset();
        gen_str("HTTP/1.1 200 ");
        gen_fill('r', H1_MAX_LINE - 15 + extra);
        gen_str("\r\nContent-Length: 0\r\n\r\n");
        check_case(extra ? "limit: status line over"
                         : "limit: status line at the limit",
                   gen, gen_len, 0,
                   extra ? "!TOO_LARGE@16384" : "H200/L:0 D16405 .");
    }
}

static void
test_limit_header_line(void)
{
    gen_reset();
    gen_str(S200);
    gen_field(H1_MAX_LINE);
    gen_str("Content-Length: 0\r\n\r\n");
    check_case("limit: header line at the limit", gen, gen_len, 0,
               "H200/L:0 D16422 .");

    gen_reset();
    gen_str(S200);
    gen_field(H1_MAX_LINE + 1);
    gen_str("\r\n");
    check_case("limit: header line over", gen, gen_len, 0, "!TOO_LARGE@16401");

    /* With a bare LF the line is one byte shorter on the wire. */
    gen_reset();
    gen_str(S200 "X-Fill: ");
    gen_fill('a', H1_MAX_LINE - 9);
    gen_str("\n\r\n");
    check_case("limit: bare-LF header line at the limit", gen, gen_len, 0,
               "H200/CE F");
}

static void
test_limit_header_block(void)
{
    size_t extra, left;

    for (extra = 0; extra < 2; extra++) {
        gen_reset();
        gen_str(S200 "Content-Length: 0\r\n");
        left = H1_MAX_HEADER_BYTES - gen_len - 2 + extra;
        gen_fields(left);
        gen_str("\r\n");
        check_case(extra ? "limit: header block over"
                         : "limit: header block at the limit",
                   gen, gen_len, 0,
                   extra ? "!TOO_LARGE@65536" : "H200/L:0 D65536 .");
    }
}

static void
test_limit_header_count(void)
{
    unsigned extra, k;

    for (extra = 0; extra < 2; extra++) {
        gen_reset();
        gen_str(S200);
        for (k = 0; k < H1_MAX_HEADERS - 1 + extra; k++)
            gen_str("X: y\r\n");
        gen_str("Content-Length: 0\r\n\r\n");
        /* 17 + 127 * 6 = 779 bytes before the last field line. */
        check_case(extra ? "limit: header count over"
                         : "limit: header count at the limit",
                   gen, gen_len, 0,
                   extra ? "!TOO_MANY_HEADERS@785" : "H200/L:0 D800 .");
    }
}

static void
test_limit_chunk_ext(void)
{
    size_t extra;

    for (extra = 0; extra < 2; extra++) {
        gen_reset();
        gen_str(S200_CH "1;");
        gen_fill('e', H1_MAX_CHUNK_EXT - 1 + extra);
        gen_str("\r\nx\r\n0\r\n\r\n");
        check_case(extra ? "limit: chunk extension over"
                         : "limit: chunk extension at the limit",
                   gen, gen_len, 0,
                   extra ? "H200/K !TOO_LARGE@4144" : "H200/K \"x\" D4154 .");
    }
    /* BWS counts too: a line of blanks cannot run forever, and BWS
       before a ";" shares the extension's limit. */
    gen_reset();
    gen_str(S200_CH "1");
    gen_fill(' ', H1_MAX_CHUNK_EXT + 1);
    check_case("limit: chunk BWS over", gen, gen_len, 0,
               "H200/K !TOO_LARGE@4144");
    for (extra = 0; extra < 2; extra++) {
        gen_reset();
        gen_str(S200_CH "1");
        gen_fill(' ', H1_MAX_CHUNK_EXT - 1 + extra);
        gen_str(";\r\nx\r\n0\r\n\r\n");
        check_case(extra ? "limit: chunk BWS and \";\" over"
                         : "limit: chunk BWS and \";\" at the limit",
                   gen, gen_len, 0,
                   extra ? "H200/K !TOO_LARGE@4144" : "H200/K \"x\" D4154 .");
    }
}

/*
 * Content-Encoding lines are joined with ", " into H1_MAX_CODING bytes:
 * a list of exactly that many bytes is kept, one byte more is
 * H1_E_TOO_LARGE at the end of the line that no longer fits, never a list
 * cut or overwritten by the next line. The first line's value is first
 * bytes of "c" then tail, whose trailing whitespace is not kept; the
 * second line (if second > 0) is that many bytes of "d".
 */
static void
coding_case(size_t first, size_t second, const char *tail)
{
    char label[96], want[256], list[H1_MAX_CODING + 16];
    size_t kept_tail = strlen(tail), total, k, lf;

    while (kept_tail > 0 &&
           (tail[kept_tail - 1] == ' ' || tail[kept_tail - 1] == '\t'))
        kept_tail--;
    total = first + kept_tail + (second ? 2 + second : 0);

    gen_reset();
    gen_str(S200 "Content-Encoding: ");
    gen_fill('c', first);
    gen_str(tail);
    gen_str("\r\n");
    if (second) {
        gen_str("Content-Encoding: ");
        gen_fill('d', second);
        gen_str("\r\n");
    }
    lf = gen_len - 1; /* the LF of the line that overflows, if one does */
    gen_str("Content-Length: 0\r\n\r\n");
    snprintf(label, sizeof label, "limit: Content-Encoding %zu+%zu%s = %zu",
             first, second, tail, total);
    if (total > H1_MAX_CODING) {
        snprintf(want, sizeof want, "!TOO_LARGE@%zu", lf);
    } else {
        memset(list, 'c', first);
        memcpy(list + first, tail, kept_tail);
        k = first + kept_tail;
        if (second) {
            memcpy(list + k, ", ", 2);
            memset(list + k + 2, 'd', second);
            k += 2 + second;
        }
        snprintf(want, sizeof want, "H200/L:0{%.*s} D%zu .", (int)k, list,
                 gen_len);
    }
    check_case(label, gen, gen_len, 0, want);
}

static void
test_limit_coding(void)
{
    size_t first;

    coding_case(H1_MAX_CODING, 0, "");
    coding_case(H1_MAX_CODING + 1, 0, "");
    /* Trailing OWS past the buffer is not part of the value. */
    coding_case(H1_MAX_CODING, 0, " \t ");
    /* Inner whitespace is: "ccc... d" one byte over. */
    coding_case(H1_MAX_CODING - 2, 0, " d");
    coding_case(H1_MAX_CODING - 1, 0, " d");
    for (first = 1; first <= H1_MAX_CODING - 3; first += 20) {
        coding_case(first, H1_MAX_CODING - 2 - first, "");
        coding_case(first, H1_MAX_CODING - 1 - first, "");
    }
    coding_case(H1_MAX_CODING - 3, 1, "");
    /* The join itself no longer fits: the second line's first byte, or
       its separator, is past the buffer. These once overwrote the first
       line's codings with the second's. */
    coding_case(H1_MAX_CODING - 2, 1, "");
    coding_case(H1_MAX_CODING - 1, 1, "");
    coding_case(H1_MAX_CODING, 1, "");
    coding_case(H1_MAX_CODING, 4, "");
}

static void
test_limit_trailer(void)
{
    size_t extra;

    for (extra = 0; extra < 2; extra++) {
        gen_reset();
        gen_str(S200_CH "1\r\nx\r\n0\r\n");
        gen_field(8000);
        gen_field(H1_MAX_TRAILER_BYTES - 8000 - 2 + extra);
        gen_str("\r\n");
        check_case(
            extra ? "limit: trailer over" : "limit: trailer at the limit", gen,
            gen_len, 0,
            extra ? "H200/K \"x\" !TRAILER@16440" : "H200/K \"x\" D16440 .");
    }
    /* The trailer has a budget of its own, whatever the header block
       spent of its: both at their limits, then one byte over. */
    for (extra = 0; extra < 2; extra++) {
        char want[64];
        size_t end;

        gen_reset();
        gen_str(S200 TE_CH);
        gen_fields(H1_MAX_HEADER_BYTES - gen_len - 2);
        gen_str("\r\n1\r\nx\r\n0\r\n");
        end = gen_len + H1_MAX_TRAILER_BYTES;
        gen_fields(H1_MAX_TRAILER_BYTES - 2 + extra);
        gen_str("\r\n");
        snprintf(want, sizeof want, "H200/K \"x\" %s%zu%s",
                 extra ? "!TRAILER@" : "D", end, extra ? "" : " .");
        check_case(extra ? "limit: full header block, trailer over"
                         : "limit: full header block and trailer",
                   gen, gen_len, 0, want);
    }
}

static void
test_limit_interim(void)
{
    unsigned extra, k;

    for (extra = 0; extra < 2; extra++) {
        gen_reset();
        for (k = 0; k < H1_MAX_INTERIM + extra; k++)
            gen_str(k % 2 ? CONT : EARLY); /* 25 and 39 bytes */
        gen_str(S200 CL5 "\r\nhello");
        check_case(
            extra ? "limit: interim over" : "limit: interim at the limit", gen,
            gen_len, 0,
            extra ? "!TOO_MANY_INTERIM@267" : "H200/L:5 \"hello\" D299 .");
    }
}

/* Large bodies: the expected trace is computed from the body itself. */
static void
want_big(char *want, size_t cap, const char *head, const char *body,
         size_t body_len, const char *tail)
{
    uint64_t h = fnv_step(FNV_INIT, body, body_len);

    snprintf(want, cap, "%s #%zu:%016llx %s", head, body_len,
             (unsigned long long)h, tail);
}

static char big_body[700000];

static void
fill_big_body(void)
{
    size_t i;

    for (i = 0; i < sizeof big_body; i++)
        big_body[i] = (char)(rng() & 0xff);
}

static void
test_big_length(void)
{
    char want[256], tail[32];

    gen_reset();
    gen_str(S200 "Content-Length: 700000\r\n\r\n");
    snprintf(tail, sizeof tail, "D%zu .", gen_len + sizeof big_body);
    memcpy(gen + gen_len, big_body, sizeof big_body);
    gen_len += sizeof big_body;
    want_big(want, sizeof want, "H200/L:700000", big_body, sizeof big_body,
             tail);
    check_case("big: Content-Length body", gen, gen_len, 0, want);
}

static void
test_big_chunked(void)
{
    char want[256], tail[32], line[64];
    size_t off = 0, n, k = 0;

    gen_reset();
    gen_str(S200_CH);
    while (off < sizeof big_body) {
        n = (size_t)(rng() % 9000) + 1;
        if (n > sizeof big_body - off)
            n = sizeof big_body - off;
        if (k++ % 3)
            snprintf(line, sizeof line, "%zx\r\n", n);
        else
            snprintf(line, sizeof line, "%zX;k=%zu\r\n", n, k);
        gen_str(line);
        memcpy(gen + gen_len, big_body + off, n);
        gen_len += n;
        gen_str("\r\n");
        off += n;
    }
    gen_str("0\r\nX-T: done\r\n\r\n");
    snprintf(tail, sizeof tail, "D%zu .", gen_len);
    want_big(want, sizeof want, "H200/K", big_body, sizeof big_body, tail);
    check_case("big: chunked body", gen, gen_len, 0, want);
}

static void
test_big_eof(void)
{
    char want[256];

    gen_reset();
    gen_str("HTTP/1.0 200 OK\r\n\r\n");
    memcpy(gen + gen_len, big_body, sizeof big_body);
    gen_len += sizeof big_body;
    want_big(want, sizeof want, "H200/CE", big_body, sizeof big_body, "F");
    check_case("big: body to EOF", gen, gen_len, 0, want);
}

/* ---- the API around h1_feed ------------------------------------------- */

static enum h1_rc
feed_str(struct h1_parser *p, const char *s, size_t *used)
{
    size_t n = strlen(s);

    return h1_feed(p, guard_place(s, n), n, used);
}

static void
test_started(void)
{
    struct h1_parser p;
    size_t used;

    h1_begin(&p, 0);
    CHECK(!h1_started(&p));
    CHECK(h1_feed(&p, guard_place("", 0), 0, &used) == H1_AGAIN);
    CHECK(used == 0 && !h1_started(&p));
    CHECK(feed_str(&p, "H", &used) == H1_AGAIN && used == 1);
    CHECK(h1_started(&p));
    h1_begin(&p, 0);
    CHECK(!h1_started(&p));
    CHECK(h1_finish(&p) == H1_E_TRUNCATED);
}

static void
test_zeroed_start(void)
{
    struct h1_parser p;
    size_t used;

    /* memset 0 without h1_begin is a valid start (h1.h). */
    memset(&p, 0, sizeof p);
    CHECK(feed_str(&p, S200 CL5 "\r\nhello", &used) == H1_HEADERS);
    CHECK(used == 38 && p.status == 200 && p.content_length == 5);
}

static void
test_sticky(void)
{
    struct h1_parser p;
    size_t used;

    h1_begin(&p, 0);
    CHECK(feed_str(&p, "HTTP/1.1 200 OK\r\nX : y\r\n", &used) ==
          H1_E_HEADER_SYNTAX);
    CHECK(used == 18 && p.error_offset == 18 && p.consumed == 18);
    CHECK(feed_str(&p, "\r\n", &used) == H1_E_HEADER_SYNTAX && used == 0);
    CHECK(h1_finish(&p) == H1_E_HEADER_SYNTAX);
    CHECK(p.consumed == 18);
    h1_begin(&p, 0);
    CHECK(feed_str(&p, "HTTP/1.1 204 X\r\n\r\n", &used) == H1_HEADERS);
    CHECK(h1_feed(&p, NULL, 0, &used) == H1_DONE && used == 0);
}

static void
test_done_is_stable(void)
{
    struct h1_parser p;
    const char *in = S200 CL5 "\r\nhelloNEXT";
    const char *d = guard_place(in, strlen(in));
    size_t used, len = strlen(in);

    h1_begin(&p, 0);
    CHECK(h1_feed(&p, d, len, &used) == H1_HEADERS && used == 38);
    d += used;
    len -= used;
    CHECK(h1_feed(&p, d, len, &used) == H1_BODY && used == 5);
    CHECK(p.body_off == 0 && p.body_len == 5 && memcmp(d, "hello", 5) == 0);
    d += used;
    len -= used;
    /* The rest belongs to the next response: DONE consumes none of it. */
    CHECK(h1_feed(&p, d, len, &used) == H1_DONE && used == 0);
    CHECK(h1_feed(&p, d, len, &used) == H1_DONE && used == 0);
    CHECK(h1_finish(&p) == H1_DONE);
    CHECK(p.consumed == 43);
}

static void
test_body_offsets(void)
{
    struct h1_parser p;
    const char *in = S200_CH "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    const char *d = guard_place(in, strlen(in));
    size_t used;

    /* Offsets are relative to the data of the call that returns BODY. */
    h1_begin(&p, 0);
    CHECK(h1_feed(&p, d, strlen(in), &used) == H1_HEADERS && used == 47);
    CHECK(h1_feed(&p, d + 47, strlen(in) - 47, &used) == H1_BODY);
    CHECK(p.body_off == 3 && p.body_len == 3 && used == 6);
    CHECK(h1_feed(&p, d + 53, strlen(in) - 53, &used) == H1_BODY);
    CHECK(p.body_off == 5 && p.body_len == 2 && used == 7);
    CHECK(h1_feed(&p, d + 60, strlen(in) - 60, &used) == H1_DONE);
    CHECK(used == 7 && p.consumed == 67 && d[60 + used - 1] == '\n');
}

static void
test_finish(void)
{
    struct h1_parser p;
    size_t used;

    h1_begin(&p, 0);
    CHECK(h1_finish(&p) == H1_E_TRUNCATED && !h1_started(&p));
    CHECK(feed_str(&p, "HTTP", &used) == H1_E_TRUNCATED && used == 0);

    h1_begin(&p, 0);
    CHECK(feed_str(&p, S200 "\r\nab", &used) == H1_HEADERS);
    CHECK(p.flags == (H1_F_CONN_CLOSE | H1_F_BODY_TO_EOF));
    /* Finish before the body bytes were fed: the body is empty then. */
    CHECK(h1_finish(&p) == H1_DONE);
    CHECK(h1_finish(&p) == H1_DONE);

    h1_begin(&p, H1_REQ_HEAD);
    CHECK(feed_str(&p, S200 CL5 "\r\n", &used) == H1_HEADERS);
    CHECK(h1_finish(&p) == H1_DONE);

    h1_begin(&p, 0);
    CHECK(feed_str(&p, S200 CL5 "\r\n", &used) == H1_HEADERS);
    CHECK(h1_finish(&p) == H1_E_TRUNCATED && p.error_offset == 38);
}

static void
test_strerror(void)
{
    unsigned i, j;

    for (i = 0; i < N_RC; i++) {
        const char *s = h1_strerror((enum h1_rc)i);
        CHECKF(s && s[0], "rc %u has no text", i);
        for (j = 0; j < i; j++)
            CHECKF(strcmp(s, h1_strerror((enum h1_rc)j)) != 0,
                   "rc %u and %u share text", i, j);
    }
    CHECK(h1_strerror((enum h1_rc)999) != NULL);
}

/* A request as a compound literal: the old positional form, readable. */
#define REQ(t, tl, a, al, ua, ka)                                             \
    (&(struct h1_request){(t), (tl), (a), (al), (ua), NULL, (ka)})

static void
test_write_get(void)
{
    static const char want_ka[] = "GET /api/v2/pokemon/1/ HTTP/1.1\r\n"
                                  "Host: pokeapi.co\r\n"
                                  "User-Agent: pokefetch/0.1\r\n"
                                  "Accept: application/json\r\n"
                                  "\r\n";
    static const char want_close[] = "GET /x?id=7 HTTP/1.1\r\n"
                                     "Host: localhost:8443\r\n"
                                     "User-Agent: t\r\n"
                                     "Accept: application/json\r\n"
                                     "Connection: close\r\n"
                                     "\r\n";
    char out[256];
    size_t n, k = sizeof want_ka - 1;

    memset(out, 'Z', sizeof out);
    n = h1_write_get(
        out, sizeof out,
        REQ("/api/v2/pokemon/1/", 18, "pokeapi.co", 10, "pokefetch/0.1", 1));
    CHECK(n == k && memcmp(out, want_ka, k) == 0);

    memset(out, 'Z', sizeof out);
    n = h1_write_get(
        out, k,
        REQ("/api/v2/pokemon/1/", 18, "pokeapi.co", 10, "pokefetch/0.1", 1));
    CHECK(n == k && memcmp(out, want_ka, k) == 0 && out[k] == 'Z');

    memset(out, 'Z', sizeof out);
    n = h1_write_get(
        out, k - 1,
        REQ("/api/v2/pokemon/1/", 18, "pokeapi.co", 10, "pokefetch/0.1", 1));
    CHECK(n == 0 && out[k - 1] == 'Z');

    CHECK(h1_write_get(out, 0, REQ("/", 1, "h", 1, "u", 1)) == 0);

    /* Lengths are honoured: the target and authority need no NUL. */
    k = sizeof want_close - 1;
    n = h1_write_get(out, k,
                     REQ("/x?id=7XXXX", 7, "localhost:8443YYY", 14, "t", 0));
    CHECK(n == k && memcmp(out, want_close, k) == 0);
    CHECK(h1_write_get(out, k - 1,
                       REQ("/x?id=7", 7, "localhost:8443", 14, "t", 0)) == 0);

    {
        static const char want_gz[] =
            "GET /a HTTP/1.1\r\nHost: h\r\nUser-Agent: u\r\n"
            "Accept: application/json\r\nAccept-Encoding: gzip, deflate\r\n"
            "\r\n";
        struct h1_request r = {"/a", 2, "h", 1, "u", "gzip, deflate", 1};

        k = sizeof want_gz - 1;
        n = h1_write_get(out, sizeof out, &r);
        CHECK(n == k && memcmp(out, want_gz, k) == 0);
        CHECK(h1_write_get(out, k - 1, &r) == 0);
    }
}

/*
 * Throughput on a chunked body in 16 KB reads: a sanity number, not a
 * benchmark. It fails only if the parser stops making progress.
 */
static void
test_throughput(void)
{
    static char buf[4 * 4007]; /* four whole chunks "fa0" CRLF 4000 CRLF */
    struct h1_parser p;
    struct timespec t0, t1;
    const char *g, *d;
    size_t used, off, len, total = 0, body = 0, k;
    enum h1_rc rc = H1_AGAIN;
    double secs;

    for (off = 0; off < sizeof buf; off += 4007) {
        memcpy(buf + off, "fa0\r\n", 5);
        memset(buf + off + 5, 'j', 4000);
        memcpy(buf + off + 4005, "\r\n", 2);
    }
    h1_begin(&p, 0);
    CHECK(feed_str(&p, S200_CH, &used) == H1_HEADERS);
    g = guard_place(buf, sizeof buf);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (k = 0; k < 4096; k++) {
        d = g;
        len = sizeof buf;
        while (len > 0) {
            rc = h1_feed(&p, d, len, &used);
            if (rc == H1_BODY)
                body += p.body_len;
            else if (rc != H1_AGAIN)
                break;
            d += used;
            len -= used;
        }
        total += sizeof buf;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) +
           (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(rc == H1_AGAIN || rc == H1_BODY);
    CHECK(body == (size_t)4000 * 4 * 4096);
    CHECK(feed_str(&p, "0\r\n\r\n", &used) == H1_DONE && used == 5);
    /* The parser only frames the body, it never reads it: hence the
       large figure. */
    printf("h1: framed %zu MB of chunked body at %.0f MB/s\n", total >> 20,
           secs > 0 ? (double)total / secs / 1e6 : 0.0);
}

/* Parse head (a response head) in pieces of `step` bytes up to
   H1_HEADERS; returns the rc that ended it. */
static enum h1_rc
head_in_steps(struct h1_parser *p, const char *head, size_t step)
{
    size_t len = strlen(head), off = 0, used;
    enum h1_rc rc = H1_AGAIN;

    h1_begin(p, 0);
    while (off < len) {
        size_t n = len - off < step ? len - off : step;
        const char *piece = guard_place(head + off, n);
        size_t at = 0;

        do {
            rc = h1_feed(p, piece + at, n - at, &used);
            at += used;
        } while (rc == H1_AGAIN && at < n);
        off += at;
        if (rc != H1_AGAIN)
            break;
    }
    return rc;
}

static int
kept_is(const char *buf, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(buf, want, len) == 0;
}

/* Location and Retry-After are kept whole, trimmed, for any split. */
static void
test_kept_values(void)
{
    static const char head[] =
        "HTTP/1.1 301 Moved\r\n"
        "LOCATION:   https://h:1/r/a,b?x=1 \t \r\n"
        "Retry-After:  Wed, 21 Oct 2015 07:28:00 GMT\r\n"
        "Content-Encoding: identity\r\n"
        "content-encoding:  X-Gzip \r\n"
        "Content-Length: 0\r\n\r\n";
    struct h1_parser p;
    size_t step;

    for (step = 1; step <= sizeof head; step++) {
        CHECK(head_in_steps(&p, head, step) == H1_HEADERS);
        CHECK(p.flags & H1_F_LOCATION);
        CHECK(!(p.flags & H1_F_LOCATION_BAD));
        CHECKF(kept_is(p.location, p.location_len, "https://h:1/r/a,b?x=1"),
               "step %zu: '%.*s'", step, (int)p.location_len, p.location);
        CHECK(p.flags & H1_F_RETRY_AFTER);
        CHECK(kept_is(p.retry_after, p.retry_after_len,
                      "Wed, 21 Oct 2015 07:28:00 GMT"));
        CHECKF(kept_is(p.content_encoding, p.content_encoding_len,
                       "identity, X-Gzip"),
               "'%.*s'", (int)p.content_encoding_len, p.content_encoding);
    }
    /* Kept as sent: which codings it names is the decoder's business. */
    CHECK(head_in_steps(&p,
                        "HTTP/1.1 200 OK\r\nContent-Encoding: "
                        "IDENTITY\r\nContent-Length: 0\r\n\r\n",
                        2) == H1_HEADERS);
    CHECK(kept_is(p.content_encoding, p.content_encoding_len, "IDENTITY"));
}

static void
test_location_limits(void)
{
    static char head[H1_MAX_LOCATION + 200];
    struct h1_parser p;
    size_t n;

    /* Exactly H1_MAX_LOCATION bytes: kept. One more: unusable. */
    for (n = H1_MAX_LOCATION; n <= H1_MAX_LOCATION + 1; n++) {
        size_t k = (size_t)snprintf(head, sizeof head,
                                    "HTTP/1.1 302 Found\r\nLocation: /");
        memset(head + k, 'a', n - 1);
        strcpy(head + k + n - 1, "\r\nContent-Length: 0\r\n\r\n");
        CHECK(head_in_steps(&p, head, 7) == H1_HEADERS);
        if (n == H1_MAX_LOCATION)
            CHECK((p.flags & H1_F_LOCATION) && p.location_len == n);
        else
            CHECK(!(p.flags & H1_F_LOCATION) && (p.flags & H1_F_LOCATION_BAD));
    }
    /* Trailing OWS past the array is not part of the value: kept. */
    {
        size_t k = (size_t)snprintf(head, sizeof head,
                                    "HTTP/1.1 302 Found\r\nLocation: /");
        memset(head + k, 'a', H1_MAX_LOCATION - 1);
        strcpy(head + k + H1_MAX_LOCATION - 1,
               " \t \r\nContent-Length: 0\r\n\r\n");
        CHECK(head_in_steps(&p, head, 5) == H1_HEADERS);
        CHECK((p.flags & H1_F_LOCATION) && p.location_len == H1_MAX_LOCATION);
    }
    CHECK(head_in_steps(&p,
                        "HTTP/1.1 302 Found\r\nLocation: /a\r\n"
                        "Location: /b\r\nContent-Length: 0\r\n\r\n",
                        3) == H1_HEADERS);
    CHECK(!(p.flags & H1_F_LOCATION) && (p.flags & H1_F_LOCATION_BAD));
    CHECK(head_in_steps(&p,
                        "HTTP/1.1 302 Found\r\nLocation:  \r\n"
                        "Content-Length: 0\r\n\r\n",
                        1) == H1_HEADERS);
    CHECK(!(p.flags & H1_F_LOCATION) && (p.flags & H1_F_LOCATION_BAD));
    /* Retry-After twice, or once too long, is ignored; the second value
       (written over the first's bytes) must not leave a mix of both. */
    {
        static char ra[512];
        size_t k = (size_t)snprintf(ra, sizeof ra,
                                    "HTTP/1.1 429 Too Many\r\nRetry-After: 7"
                                    "\r\nRetry-After: ");
        memset(ra + k, '9', H1_MAX_RETRY_AFTER + 1);
        strcpy(ra + k + H1_MAX_RETRY_AFTER + 1,
               "\r\nContent-Length: 0\r\n\r\n");
        for (n = 1; n < 40; n += 7) {
            CHECK(head_in_steps(&p, ra, n) == H1_HEADERS);
            CHECK(!(p.flags & H1_F_RETRY_AFTER) && p.retry_after_len == 0);
        }
        CHECK(head_in_steps(&p,
                            "HTTP/1.1 503 Busy\r\nRetry-After: 1\r\n"
                            "Retry-After: 2\r\nContent-Length: 0\r\n\r\n",
                            4) == H1_HEADERS);
        CHECK(!(p.flags & H1_F_RETRY_AFTER));
        /* A Content-Encoding list too long to keep is refused whole. */
        k = (size_t)snprintf(ra, sizeof ra,
                             "HTTP/1.1 200 OK\r\nContent-Encoding: gzip,");
        memset(ra + k, ' ', H1_MAX_CODING);
        strcpy(ra + k + H1_MAX_CODING, "br\r\nContent-Length: 0\r\n\r\n");
        CHECK(head_in_steps(&p, ra, 3) == H1_E_TOO_LARGE);
    }
    /* An interim response's fields are forgotten with it. */
    CHECK(head_in_steps(&p,
                        "HTTP/1.1 103 Early Hints\r\nLocation: /x\r\n"
                        "\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                        "\r\n",
                        5) == H1_HEADERS);
    CHECK(!(p.flags & (H1_F_LOCATION | H1_F_LOCATION_BAD)));
}

static void
test_retry_after(void)
{
    static const struct {
        const char *v;
        int64_t now;
        int rc;
        int64_t delay;
    } ra_cases[] = {
        {"0", 0, 0, 0},
        {"120", 5, 0, 120},
        {"99999999999999999999", 0, 0, 1000000000},
        {"Wed, 21 Oct 2015 07:28:00 GMT", 1445412470, 0, 10},
        {"Wed, 21 Oct 2015 07:28:00 GMT", 1445412490, 0, 0},
        {"Sun, 06 Nov 1994 08:49:37 GMT", 784111770, 0, 7},
        {"Thu, 29 Feb 2024 23:59:60 GMT", 1709251199, 0, 1},
        {"", 0, -1, 0},
        {"12a", 0, -1, 0},
        {"-5", 0, -1, 0},
        {"Sunday, 06-Nov-94 08:49:37 GMT", 0, -1, 0},
        {"Sun Nov  6 08:49:37 1994", 0, -1, 0},
        {"Wed, 21 Foo 2015 07:28:00 GMT", 0, -1, 0},
        {"Wed, 21 Oct 2015 24:28:00 GMT", 0, -1, 0},
        {"Wed, 21 Oct 2015 07:28:00 UTC", 0, -1, 0},
    };
    size_t i;

    for (i = 0; i < sizeof ra_cases / sizeof ra_cases[0]; i++) {
        size_t n = strlen(ra_cases[i].v);
        int64_t d = -1;
        int rc = h1_retry_after(guard_place(ra_cases[i].v, n), n,
                                ra_cases[i].now, &d);

        CHECKF(rc == ra_cases[i].rc, "'%s': rc %d", ra_cases[i].v, rc);
        if (rc == 0)
            CHECKF(d == ra_cases[i].delay, "'%s': delay %lld", ra_cases[i].v,
                   (long long)d);
    }
}

int
main(void)
{
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cur_case = &cases[i];
        RUN(table_case);
    }
    RUN(test_limit_status_line);
    RUN(test_limit_header_line);
    RUN(test_limit_header_block);
    RUN(test_limit_header_count);
    RUN(test_limit_chunk_ext);
    RUN(test_limit_trailer);
    RUN(test_limit_coding);
    RUN(test_limit_interim);
    fill_big_body();
    RUN(test_big_length);
    RUN(test_big_chunked);
    RUN(test_big_eof);
    RUN(test_started);
    RUN(test_zeroed_start);
    RUN(test_sticky);
    RUN(test_done_is_stable);
    RUN(test_body_offsets);
    RUN(test_finish);
    RUN(test_strerror);
    RUN(test_write_get);
    RUN(test_kept_values);
    RUN(test_location_limits);
    RUN(test_retry_after);
    RUN(test_throughput);
    free(gen);
    return CHECK_REPORT();
}
