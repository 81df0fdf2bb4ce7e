/*
 * faultsrv - a loopback HTTP/1.1 server (plain or TLS) that serves the
 * PokeAPI archive and misbehaves on purpose, one scripted way per process.
 *
 *   faultsrv --port-file FILE --www DIR [--tls CERT KEY]
 *            [--scenario NAME[:ARG]] [--log FILE] [--seed S]
 *            [--other-port P] [--other-host H] [--max-seconds S]
 *
 * It listens on 127.0.0.1 on an ephemeral port and writes the port to FILE
 * (via a temporary file and rename, so a reader never sees half a number).
 * Requests are read as HTTP/1.1, pipelined or not; the id is the last path
 * segment made only of digits, and the real answer is
 * DIR/api/v2/pokemon/{id}/index.json. The scenario (the scenarios[] table
 * below, printed by `faultsrv --help`) decides what goes on the wire
 * instead. Redirect scenarios redirect every request not under /r/ (or
 * /hop/N/ for redirect-chain); the "once per id" ones remember ids for the
 * whole process, across connections.
 *
 * Compressed bodies (Content-Encoding, RFC 9110 section 8.4): gzip sends
 * the pre-compressed DIR/.../index.json.gz beside the file (tests/lab/data
 * makes it), deflate and deflate-raw compress the file per response with
 * zlib. These three and gzip-chunked honour Accept-Encoding (section
 * 12.5.3: a listed coding with q > 0, or "*"): a request that did not ask
 * gets the identity body, and every answer says Vary: Accept-Encoding. The
 * fault scenarios (gzip-corrupt, gzip-truncated, gzip-trailing, the
 * gzip-bombs, encoding-unknown) send their coding whatever was asked,
 * since the point is what the client does with it. A bomb's body is made
 * once at start-up, in memory (about 1 KiB per MiB it inflates to; see
 * make_bomb), before the port file appears.
 *
 * What it deliberately does not do: HTTP/2, request bodies beyond skipping
 * them, any header other than Connection, Content-Length and
 * Accept-Encoding in requests, percent-decoding, or being fast. It is a
 * test tool: a malloc failure is fatal and every connection gets its own
 * growable output buffer.
 *
 * Structure: one thread, level-triggered epoll, non-blocking sockets. Each
 * connection goes through
 *
 *   HANDSHAKE (TLS only) -> OPEN -> SHUTDOWN -> LINGER -> closed
 *                                \-> RST_WAIT -> reset
 *
 * In OPEN, conn_run() reads what it can, turns complete requests into
 * responses appended to the output buffer, and writes what it can, until
 * none of the three moves. The epoll mask is derived from state afterwards
 * (update_interest), never toggled by hand. A response that must end the
 * connection sets `after`; the action runs once the output has drained.
 *
 * Two details make the faults land where the scenario says:
 * - A reset (SO_LINGER {1,0} + close) throws away whatever the kernel has
 *   not yet sent, so RST_WAIT polls SIOCOUTQ until the bytes before the
 *   reset have been acknowledged (bounded by RST_WAIT_MS).
 * - A graceful close with unread request bytes in the receive buffer makes
 *   Linux send RST instead of FIN (RFC 9112 section 9.6), so closing is
 *   close_notify, shutdown(SHUT_WR), then draining reads (LINGER), as nginx
 *   does. Unannounced closes therefore look like a polite server's.
 *
 * Log lines (--log, line-buffered, for tests to count):
 *   listen PORT scenario NAME:ARG tls 0|1 seed S
 *   bomb BYTES bytes inflate to ARG MiB             (gzip-bomb*)
 *   conn N open
 *   conn N tls VERSION resumed 0|1
 *   conn N plan reset in response R at P%        (random-reset only)
 *   conn N req M id X status S [partial]         (X is - without an id)
 *   conn N close eof|closed|rst|reset|hup|error: ...|shutdown
 * "partial" marks a response cut short by a reset; a response is logged
 * when it is queued, so a line does not prove the client received it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <zlib.h>

/* Connections served at once; more are accepted and closed at once. */
#define MAX_CONNS 1024
/* Request input buffer per connection; a request head must fit in
   REQ_HEAD_MAX or it is answered 431. */
#define IN_CAP 65536
#define REQ_HEAD_MAX 16384
#define REQ_BODY_MAX (1L << 20)
/* Stop turning requests into responses while this much output is queued:
   a client that pipelines without reading gets TCP back-pressure, not an
   ever-growing buffer. */
#define OUT_HIGH ((size_t)1 << 20)
/* Largest single write when not pacing. */
#define WRITE_MAX ((size_t)1 << 16)
/* tiny-writes: a response is spread over this many 1 ms ticks. */
#define TINY_TICKS 80
#define TINY_TICK_MS 1
#define TINY_PIECE_MAX 7
#define DRIP_TICK_MS 1000
#define RST_WAIT_MS 2000
#define RST_POLL_MS 2
#define LINGER_MS 2000
#define HANDSHAKE_MS 10000
/* Ids are at most 9 digits, so they fit any unsigned long and a path. */
#define ID_DIGITS_MAX 9
/* Ids remembered by the "once per id" scenarios (power of two). */
#define SEEN_CAP 65536
/* random-reset cuts one of the first RR_RESPONSES responses. */
#define RR_RESPONSES 3
/* endless-*: the promised length, and the piece queued at a time. */
#define ENDLESS_LEN 1000000000000LL
#define ENDLESS_PIECE 16384

#define JSON_TYPE "application/json; charset=utf-8"
#define TEXT_TYPE "text/plain; charset=utf-8"
#define NOT_JSON "<html><body><h1>Not JSON</h1></body></html>\n"
/* hostile-name: ESC and BEL as JSON escapes (raw ones are not JSON),
   C1, U+2028/9 and the bidi controls as raw UTF-8 and as escapes, and a
   TAB, a backslash and a DEL: every kind of byte cli must escape. */
#define HOSTILE_NAME_JSON                                                     \
    "{\"name\":\"evil\\u001b]0;owned\\u0007\\u001b[2J\xc2\x9b"              \
    "31m\xc2\x85x\xe2\x80\xa8y\\u2029z\xe2\x80\xaegpj.exe\xe2\x81\xa6w"       \
    "\\u2069\\t\\\\\x7f\"}"
/* gzip-corrupt flips this many bytes at the middle of the .gz. */
#define CORRUPT_RUN 16
/* gzip-trailing appends this after the .gz. */
#define TRAILING_JUNK "GARBAGE!"
/* Answers of the scenarios that honour Accept-Encoding. */
#define VARY_AE "Vary: Accept-Encoding\r\n"
#define CE_GZIP "Content-Encoding: gzip\r\n"

enum sc {
    SC_OK,
    SC_CHUNKED,
    SC_TINY,
    SC_CLOSE_AFTER,
    SC_CLOSE_AFTER_ANN,
    SC_RST_MID_RESPONSE,
    SC_RST_MID_PIPELINE,
    SC_STALL,
    SC_STALL_AFTER,
    SC_DRIP,
    SC_INTERIM,
    SC_REDIRECT,
    SC_REDIRECT_ABS,
    SC_REDIRECT_OTHER,
    SC_REDIRECT_LOOP,
    SC_REDIRECT_CHAIN,
    SC_STATUS,
    SC_RETRY_AFTER,
    SC_RETRY_AFTER_DATE,
    SC_503_THEN_OK,
    SC_BAD_STATUS_LINE,
    SC_NO_REASON,
    SC_CHUNK_BWS,
    SC_DOT_LOCATION,
    SC_OVERSIZED_HEADERS,
    SC_MANY_HEADERS,
    SC_CONFLICTING_CL,
    SC_TE_AND_CL,
    SC_BAD_CHUNK_SIZE,
    SC_CHUNK_OVERFLOW,
    SC_SHORT_BODY,
    SC_BARE_CR,
    SC_OBS_FOLD,
    SC_NOT_JSON,
    SC_NO_KEY,
    SC_NON_STRING,
    SC_DUP_KEY,
    SC_NESTED_DECOY,
    SC_HOSTILE_NAME,
    SC_HOSTILE_ENCODING,
    SC_HOSTILE_LOCATION,
    SC_TRUNCATED_JSON,
    SC_CLOSE_DELIMITED,
    SC_RANDOM_RESET,
    SC_GZIP,
    SC_GZIP_CHUNKED,
    SC_GZIP_CORRUPT,
    SC_GZIP_TRUNCATED,
    SC_GZIP_TRAILING,
    SC_GZIP_BOMB,
    SC_GZIP_BOMB_SPACES,
    SC_ENCODING_UNKNOWN,
    SC_DEFLATE,
    SC_DEFLATE_RAW,
    SC_CLOSE_FIRST,
    SC_IGNORE_CLOSE,
    SC_REDIRECT_DOWNGRADE,
    SC_ENDLESS_404,
    SC_ENDLESS_GZIP
};

struct scenario_def {
    const char *name;
    enum sc sc;
    long def, min, max;
    const char *help;
};

/* ARG ranges: a scenario without an argument accepts only 0. Redirect
   codes are checked again in parse_scenario. */
static const struct scenario_def scenarios[] = {
    {"ok", SC_OK, 0, 0, 0, "200 with Content-Length, keep-alive"},
    {"chunked", SC_CHUNKED, 1000, 1, 1L << 20,
     "chunked, N-byte chunks, ;ext=1 on some, trailer X-Trailer: 1"},
    {"tiny-writes", SC_TINY, 0, 0, 0,
     "1..7-byte writes, TCP_NODELAY, about 80 ms per response"},
    {"close-after", SC_CLOSE_AFTER, 1, 1, 1000000,
     "close after N responses, no Connection: close"},
    {"close-after-announced", SC_CLOSE_AFTER_ANN, 1, 1, 1000000,
     "close after N responses, the Nth says Connection: close"},
    {"rst-mid-response", SC_RST_MID_RESPONSE, 1, 1, 1000000,
     "Nth response per connection: head + half the body, then RST"},
    {"rst-mid-pipeline", SC_RST_MID_PIPELINE, 1, 0, 1000000,
     "after N responses, RST once another request is pending"},
    {"stall", SC_STALL, 0, 0, 0, "read requests, never answer"},
    {"stall-after", SC_STALL_AFTER, 1, 0, 1000000,
     "answer N per connection, then never again"},
    {"drip", SC_DRIP, 0, 0, 0, "one byte per second"},
    {"interim", SC_INTERIM, 0, 0, 0, "100 Continue and 103 Early Hints first"},
    {"redirect", SC_REDIRECT, 302, 301, 308,
     "CODE with Location /r/api/v2/pokemon/{id}; /r/... served"},
    {"redirect-abs", SC_REDIRECT_ABS, 302, 301, 308,
     "CODE with Location scheme://127.0.0.1:PORT/r/..."},
    {"redirect-other", SC_REDIRECT_OTHER, 302, 301, 308,
     "CODE with Location scheme://OTHER-HOST:OTHER-PORT/r/..."},
    {"redirect-loop", SC_REDIRECT_LOOP, 302, 301, 308,
     "every request redirects to itself"},
    {"redirect-chain", SC_REDIRECT_CHAIN, 3, 0, 1000,
     "N hops /hop/K/... (302, 301, 307, 308 in turn) before the answer"},
    {"status", SC_STATUS, 500, 200, 599, "CODE with a small text body"},
    {"retry-after", SC_RETRY_AFTER, 1, 0, 86400,
     "first request per id: 429 Retry-After: SECS; then ok"},
    {"retry-after-date", SC_RETRY_AFTER_DATE, 2, 0, 86400,
     "as retry-after with an HTTP-date SECS ahead"},
    {"503-then-ok", SC_503_THEN_OK, 0, 0, 0,
     "first request per id: 503 without Retry-After; then ok"},
    {"bad-status-line", SC_BAD_STATUS_LINE, 0, 0, 4,
     "status line 0 '20x' 1 '2000' 2 no SP after the version 3 ICY"
     " 4 lower-case http"},
    {"no-reason", SC_NO_REASON, 0, 0, 0,
     "ok, every status line 'HTTP/1.1 CODE' CRLF: no SP, no reason"},
    {"chunk-bws", SC_CHUNK_BWS, 0, 0, 0,
     "chunked, the first size line 'HEX  ' CRLF (spaces, no extension)"},
    {"dot-location", SC_DOT_LOCATION, 0, 0, 0,
     "302 to ../../r/./api/v2/x/../pokemon/{id}/ (as many ../ as the"
     " path is deep); /r/... served; 404 for a target with dot segments"},
    {"oversized-headers", SC_OVERSIZED_HEADERS, 100, 1, 100000,
     "one header X-Big of ARG KiB"},
    {"many-headers", SC_MANY_HEADERS, 500, 1, 1000000,
     "ARG extra headers X-H-i: v"},
    {"conflicting-cl", SC_CONFLICTING_CL, 0, 0, 1,
     "0: two Content-Length lines, L and L+1; 1: one line 'L, L+1'"},
    {"te-and-cl", SC_TE_AND_CL, 0, 0, 0,
     "chunked body with a Content-Length too"},
    {"bad-chunk-size", SC_BAD_CHUNK_SIZE, 0, 0, 0,
     "one good chunk, then size 'zz'"},
    {"chunk-overflow", SC_CHUNK_OVERFLOW, 0, 0, 1,
     "0: size fffffffffffffffff; 1: 10000000000000012 (wraps to 18)"},
    {"short-body", SC_SHORT_BODY, 0, 0, 0,
     "Content-Length 1000 more than the body, then close"},
    {"bare-cr", SC_BARE_CR, 0, 0, 1,
     "0: bare CR inside a header value; 1: a header line ended by CR"},
    {"obs-fold", SC_OBS_FOLD, 0, 0, 1,
     "0: folded X-Folded header; 1: folded Content-Length"},
    {"not-json", SC_NOT_JSON, 0, 0, 0, "200 with an HTML body"},
    {"no-key", SC_NO_KEY, 0, 0, 0, "JSON with \"name\" only in nested objects"},
    {"non-string", SC_NON_STRING, 0, 0, 0, "{\"name\":42}"},
    {"dup-key", SC_DUP_KEY, 0, 0, 0, "{\"name\":\"a\",\"name\":\"b\"}"},
    {"nested-decoy", SC_NESTED_DECOY, 0, 0, 0,
     "{\"a\":{\"name\":\"x\"},\"name\":\"real\"} (valid; name is real)"},
    {"hostile-name", SC_HOSTILE_NAME, 0, 0, 0,
     "a name of ESC sequences, C1 controls, U+2028/9, bidi overrides"},
    {"hostile-encoding", SC_HOSTILE_ENCODING, 0, 0, 0,
     "Content-Encoding: x + C1 CSI, ESC-free colour codes, bidi override"},
    {"hostile-location", SC_HOSTILE_LOCATION, 0, 0, 0,
     "302 with a Location holding C1 controls and a bidi override"},
    {"truncated-json", SC_TRUNCATED_JSON, 0, 0, 0,
     "Content-Length and body = first half of the file"},
    {"close-delimited", SC_CLOSE_DELIMITED, 0, 0, 0,
     "no Content-Length or chunked; body ends at close"},
    {"random-reset", SC_RANDOM_RESET, 10, 0, 100,
     "ok, but PCT% of connections reset at a random byte of one of"
     " their first 3 responses (--seed)"},
    {"gzip", SC_GZIP, 0, 0, 0,
     "Content-Encoding: gzip, body = index.json.gz (identity if not asked)"},
    {"gzip-chunked", SC_GZIP_CHUNKED, 7, 1, 1L << 20,
     "as gzip, chunked as chunked:N, sent as tiny-writes"},
    {"gzip-corrupt", SC_GZIP_CORRUPT, 0, 0, 1,
     "gzip (always), XOR 0xff on 0: 16 bytes at the middle; 1: the CRC-32"},
    {"gzip-truncated", SC_GZIP_TRUNCATED, 0, 0, 0,
     "gzip (always), Content-Length and body = first half of the .gz"},
    {"gzip-trailing", SC_GZIP_TRAILING, 0, 0, 0,
     "gzip (always), the .gz then GARBAGE!, Content-Length covers both"},
    {"gzip-bomb", SC_GZIP_BOMB, 1024, 1, 16384,
     "gzip (always), about ARG KiB that inflate to ARG MiB of zeros"},
    {"gzip-bomb-spaces", SC_GZIP_BOMB_SPACES, 1024, 1, 16384,
     "as gzip-bomb, spaces: valid JSON so far, only a size limit stops it"},
    {"encoding-unknown", SC_ENCODING_UNKNOWN, 0, 0, 0,
     "Content-Encoding: br (always) on the identity JSON body"},
    {"deflate", SC_DEFLATE, 0, 0, 0,
     "Content-Encoding: deflate, zlib stream (identity if not asked)"},
    {"deflate-raw", SC_DEFLATE_RAW, 0, 0, 0,
     "as deflate, but raw deflate without the zlib wrapper"},
    {"close-first", SC_CLOSE_FIRST, 1, 1, 1000000,
     "connection N's first response says Connection: close, then it "
     "closes; every other connection keeps alive"},
    {"ignore-close", SC_IGNORE_CLOSE, 0, 0, 0,
     "ok, but a request's Connection: close is ignored: no close"},
    {"redirect-downgrade", SC_REDIRECT_DOWNGRADE, 302, 301, 308,
     "CODE with Location http://OTHER-HOST:OTHER-PORT/r/... (plain)"},
    {"endless-404", SC_ENDLESS_404, 3, 0, 999999999,
     "id ARG: 404, Content-Length 10^12, body bytes for as long as read"},
    {"endless-gzip", SC_ENDLESS_GZIP, 3, 0, 999999999,
     "id ARG: 200 gzip, Content-Length 10^12, empty stored blocks for "
     "ever"},
};

enum cstate { C_HANDSHAKE, C_OPEN, C_SHUTDOWN, C_LINGER, C_RST_WAIT };
enum after { ACT_NONE, ACT_CLOSE, ACT_RST };
enum io { IO_OK, IO_AGAIN, IO_EOF, IO_ERR };

/* Growable byte queue: bytes in [rd, wr) are waiting to be sent. */
struct obuf {
    char *base;
    size_t cap, rd, wr;
};

struct conn {
    int used, dead;
    int fd;
    unsigned long no; /* 1-based, for the log */
    SSL *ssl;
    enum cstate st;
    unsigned mask; /* events registered with epoll */
    char *in;      /* IN_CAP bytes; unread request bytes in [in_rd, in_wr) */
    size_t in_rd, in_wr;
    struct obuf out;
    /* OpenSSL wants a WANT_WRITE'd SSL_write repeated with the same
       length; 0 when nothing is owed. */
    size_t retry_len;
    int rd_wants_write, wr_wants_read;
    unsigned ssl_want; /* handshake or shutdown: EPOLLIN or EPOLLOUT */
    int peer_eof, stalled;
    enum after after;
    unsigned long n_req, n_resp;
    size_t body_skip;
    /* Pacing (tiny-writes, drip): each tick allows `rate` bytes. tick_at
       is also the polling time in RST_WAIT. */
    size_t rate, tick_left;
    long long tick_at, last_tick;
    long long deadline; /* HANDSHAKE, SHUTDOWN, LINGER, RST_WAIT limit */
    int rr_armed;
    unsigned long rr_resp;
    double rr_frac;
    /* endless-404 / endless-gzip: the body never ends; this many bytes
       of it are queued whenever the output runs low. */
    const unsigned char *endless;
    size_t endless_len;
};

struct req {
    int head;    /* HEAD: no body */
    int close;   /* the client asked to close, or HTTP/1.0 */
    const char *target, *path; /* in the input buffer, until consumed */
    size_t target_len, path_len;
    int has_id;
    unsigned long id;
    char id_str[ID_DIGITS_MAX + 2];
    long body_len;
    int acc_gzip, acc_deflate; /* Accept-Encoding allows them */
};

struct reply {
    int status;      /* for the log */
    size_t body_len; /* body bytes in the queued response */
};

static struct {
    const char *port_file, *www, *cert, *key, *log_path, *other_host;
    const struct scenario_def *def;
    long arg, other_port, max_seconds;
    unsigned long long seed;
} cfg;

static SSL_CTX *ssl_ctx;
static int listen_port;
static int epfd = -1;
static FILE *log_fp;
static struct conn conns[MAX_CONNS];
static unsigned long n_conns_seen;
static struct obuf filebuf;
static struct obuf zbuf; /* deflate: the body compressed per response */
static struct obuf bomb; /* gzip-bomb: made once at start-up */
static unsigned long *seen_ids; /* open addressing; 0 is empty, keys id+1 */
static unsigned long long rng_state;
static volatile sig_atomic_t stop_flag;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out_printf(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
die(const char *fmt, ...)
{
    va_list ap;

    fputs("faultsrv: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void
logmsg(const char *fmt, ...)
{
    va_list ap;

    if (!log_fp)
        return;
    va_start(ap, fmt);
    vfprintf(log_fp, fmt, ap);
    va_end(ap);
}

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: small, and the same sequence for the same --seed. */
static unsigned long long
rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned long
rng_below(unsigned long n)
{
    return (unsigned long)(rng_next() % n);
}

/* tiny-writes pacing: gzip-chunked uses it too, so that the gzip stream
   reaches the client split at arbitrary bytes, not only at chunk edges. */
static int
is_tiny(void)
{
    return cfg.def->sc == SC_TINY || cfg.def->sc == SC_GZIP_CHUNKED;
}

static int
is_paced(void)
{
    return is_tiny() || cfg.def->sc == SC_DRIP;
}

/* ---- once-per-id memory ---- */

/* Returns 1 if id was seen before, and remembers it. A full table answers
   "seen", so the scenario degrades to plain ok instead of failing. */
static int
seen_before(unsigned long id)
{
    unsigned long key = id + 1, h;
    size_t i, n;

    h = key * 2654435761UL;
    for (n = 0; n < SEEN_CAP; n++) {
        i = (size_t)((h + n) & (SEEN_CAP - 1));
        if (seen_ids[i] == key)
            return 1;
        if (seen_ids[i] == 0) {
            seen_ids[i] = key;
            return 0;
        }
    }
    return 1;
}

/* ---- output buffer ---- */

static void
ob_reserve(struct obuf *b, size_t more)
{
    size_t cap;
    char *p;

    if (b->cap - b->wr >= more)
        return;
    if (b->rd > 0) {
        /* Offsets into the queue are never kept across appends, so the
           pending bytes may move (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER). */
        memmove(b->base, b->base + b->rd, b->wr - b->rd);
        b->wr -= b->rd;
        b->rd = 0;
        if (b->cap - b->wr >= more)
            return;
    }
    cap = b->cap ? b->cap : 4096;
    while (cap - b->wr < more)
        cap *= 2;
    p = realloc(b->base, cap);
    if (!p)
        die("out of memory (%zu bytes)", cap);
    b->base = p;
    b->cap = cap;
}

static void
ob_put(struct obuf *b, const void *p, size_t len)
{
    ob_reserve(b, len);
    memcpy(b->base + b->wr, p, len);
    b->wr += len;
}

static size_t
pending(const struct conn *c)
{
    return c->out.wr - c->out.rd;
}

static void
out_put(struct conn *c, const void *p, size_t len)
{
    ob_put(&c->out, p, len);
}

static void
out_str(struct conn *c, const char *s)
{
    ob_put(&c->out, s, strlen(s));
}

static void
out_printf(struct conn *c, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("vsnprintf failed");
    ob_reserve(&c->out, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(c->out.base + c->out.wr, (size_t)n + 1, fmt, ap);
    va_end(ap);
    c->out.wr += (size_t)n;
}

/* ---- request parsing (pure: bytes in, struct req out) ---- */

static int
ieq(const char *a, size_t alen, const char *lit)
{
    return alen == strlen(lit) && strncasecmp(a, lit, alen) == 0;
}

/* memmem() is a GNU extension; this is all the search we need. */
static const char *
find_bytes(const char *p, size_t len, const char *needle, size_t nlen)
{
    size_t i;

    for (i = 0; i + nlen <= len; i++) {
        if (p[i] == needle[0] && memcmp(p + i, needle, nlen) == 0)
            return p + i;
    }
    return NULL;
}

/* Does the comma-separated header value contain the token? */
static int
has_token(const char *v, size_t len, const char *tok)
{
    size_t i = 0, s, e;

    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        s = i;
        while (i < len && v[i] != ',')
            i++;
        e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (ieq(v + s, e - s, tok))
            return 1;
    }
    return 0;
}

/* Does an Accept-Encoding value (RFC 9110 section 12.5.3) allow the
   coding, or its alias (x-gzip for gzip, section 8.4.1.3; may be NULL)?
   A listed coding wins over "*"; q=0 (0, 0.0, 0.000) refuses, any other
   q or none accepts; other parameters are ignored. */
static int
accepts(const char *v, size_t len, const char *coding, const char *alias)
{
    size_t i = 0, s, e, k;
    int star = 0, q;

    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        s = i;
        while (i < len && v[i] != ',' && v[i] != ';' && v[i] != ' ' &&
               v[i] != '\t')
            i++;
        e = i;
        q = 1;
        while (i < len && v[i] != ',') {
            if ((v[i] == 'q' || v[i] == 'Q') && i + 1 < len &&
                v[i + 1] == '=' && (v[i - 1] == ';' || v[i - 1] == ' ' ||
                                    v[i - 1] == '\t')) {
                q = 0;
                for (k = i + 2; k < len && v[k] != ',' && v[k] != ';' &&
                                v[k] != ' ' && v[k] != '\t';
                     k++) {
                    if (v[k] >= '1' && v[k] <= '9')
                        q = 1;
                }
                i = k;
                continue;
            }
            i++;
        }
        if (e > s && (ieq(v + s, e - s, coding) ||
                      (alias && ieq(v + s, e - s, alias))))
            return q;
        if (e - s == 1 && v[s] == '*')
            star = q;
    }
    return star;
}

/* The id is the last path segment made only of 1..ID_DIGITS_MAX digits,
   whatever comes before it: /api/v2/pokemon/25/, /r/.../25, /x/25?q=1. */
static void
find_id(struct req *r)
{
    const char *p = r->path;
    size_t end = r->path_len, s, e, i;

    for (i = 0; i < end; i++) {
        if (p[i] == '?' || p[i] == '#') {
            end = i;
            break;
        }
    }
    e = end;
    for (;;) {
        s = e;
        while (s > 0 && p[s - 1] != '/')
            s--;
        if (s > 0 && e > s && e - s <= ID_DIGITS_MAX) {
            for (i = s; i < e && p[i] >= '0' && p[i] <= '9'; i++)
                ;
            if (i == e) {
                r->id = strtoul(p + s, NULL, 10);
                snprintf(r->id_str, sizeof r->id_str, "%lu", r->id);
                r->has_id = 1;
                return;
            }
        }
        if (s == 0)
            return;
        e = s - 1;
    }
}

/* Returns 1 with *used set when a whole request head is in [p, p+len),
   0 when more bytes are needed, -1 for a malformed request. */
static int
parse_request(const char *p, size_t len, struct req *r, size_t *used)
{
    const char *end, *line, *eol, *sp1, *sp2, *colon, *v;
    size_t scan = len < REQ_HEAD_MAX ? len : REQ_HEAD_MAX, vlen, i;
    int http10, keepalive = 0;

    memset(r, 0, sizeof *r);
    strcpy(r->id_str, "-");
    end = find_bytes(p, scan, "\r\n\r\n", 4);
    if (!end)
        return 0;
    *used = (size_t)(end - p) + 4;

    /* request-line = method SP request-target SP HTTP-version */
    eol = find_bytes(p, (size_t)(end - p) + 2, "\r\n", 2);
    sp1 = memchr(p, ' ', (size_t)(eol - p));
    if (!sp1 || sp1 == p)
        return -1;
    sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
    if (!sp2 || sp2 == sp1 + 1)
        return -1;
    if (ieq(sp2 + 1, (size_t)(eol - sp2 - 1), "HTTP/1.1"))
        http10 = 0;
    else if (ieq(sp2 + 1, (size_t)(eol - sp2 - 1), "HTTP/1.0"))
        http10 = 1;
    else
        return -1;
    r->head = ieq(p, (size_t)(sp1 - p), "HEAD");
    r->target = sp1 + 1;
    r->target_len = (size_t)(sp2 - sp1 - 1);
    /* The target is echoed into Location headers, so it must not carry
       control bytes, spaces or anything that could end a header. */
    for (i = 0; i < r->target_len; i++) {
        unsigned char ch = (unsigned char)r->target[i];

        if (ch <= 0x20 || ch >= 0x7f)
            return -1;
    }
    r->path = r->target;
    r->path_len = r->target_len;
    if (r->target_len > 0 && r->target[0] != '/') {
        /* absolute-form (RFC 9112 section 3.2.2): skip scheme://authority */
        const char *ss = find_bytes(r->target, r->target_len, "://", 3);
        const char *slash;

        if (!ss)
            return -1;
        ss += 3;
        slash = memchr(ss, '/', r->target_len - (size_t)(ss - r->target));
        if (!slash)
            return -1;
        r->path = slash;
        r->path_len = r->target_len - (size_t)(slash - r->target);
    }
    find_id(r);

    for (line = eol + 2; line < end + 2; line = eol + 2) {
        eol = find_bytes(line, (size_t)(end + 2 - line), "\r\n", 2);
        colon = memchr(line, ':', (size_t)(eol - line));
        if (!colon || colon == line)
            return -1;
        v = colon + 1;
        while (v < eol && (*v == ' ' || *v == '\t'))
            v++;
        vlen = (size_t)(eol - v);
        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        if (ieq(line, (size_t)(colon - line), "connection")) {
            if (has_token(v, vlen, "close"))
                r->close = 1;
            if (has_token(v, vlen, "keep-alive"))
                keepalive = 1;
        } else if (ieq(line, (size_t)(colon - line), "content-length")) {
            long n = 0;

            if (vlen == 0)
                return -1;
            for (i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return -1;
                n = n * 10 + (v[i] - '0');
                if (n > REQ_BODY_MAX)
                    return -1;
            }
            r->body_len = n;
        } else if (ieq(line, (size_t)(colon - line), "accept-encoding")) {
            /* Repeated lines are one comma-joined list (section 5.3). */
            r->acc_gzip |= accepts(v, vlen, "gzip", "x-gzip");
            r->acc_deflate |= accepts(v, vlen, "deflate", NULL);
        }
    }
    if (http10 && !keepalive)
        r->close = 1;
    return 1;
}

/* ---- response building ---- */

static const char *
reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Whatever";
    }
}

/* IMF-fixdate (RFC 9110 section 5.6.7), secs from now. */
static void
http_date(char *buf, size_t cap, long secs)
{
    time_t t = time(NULL) + secs;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Response head without its final CRLF, so callers can add headers.
   clen < 0 leaves Content-Length out. */
static void
put_head(struct conn *c, int status, const char *ctype, long long clen,
         int close)
{
    char date[64];

    http_date(date, sizeof date, 0);
    if (cfg.def->sc == SC_NO_REASON)
        out_printf(c, "HTTP/1.1 %d\r\n", status);
    else
        out_printf(c, "HTTP/1.1 %d %s\r\n", status, reason(status));
    out_printf(c, "Server: faultsrv\r\nDate: %s\r\n", date);
    if (ctype)
        out_printf(c, "Content-Type: %s\r\n", ctype);
    if (clen >= 0)
        out_printf(c, "Content-Length: %lld\r\n", clen);
    if (close)
        out_str(c, "Connection: close\r\n");
}

/* A complete, well-framed response. extra is zero or more CRLF-ended
   header lines. */
static void
put_response(struct conn *c, const struct req *r, int status,
             const char *extra, const char *ctype, const char *body,
             size_t len, struct reply *rep)
{
    int no_body = status == 204 || status == 304;

    put_head(c, status, no_body ? NULL : ctype, no_body ? -1 : (long long)len,
             r->close);
    if (extra)
        out_str(c, extra);
    out_str(c, "\r\n");
    rep->status = status;
    rep->body_len = 0;
    if (!r->head && !no_body) {
        out_put(c, body, len);
        rep->body_len = len;
    }
}

static void
put_text(struct conn *c, const struct req *r, int status, const char *extra,
         struct reply *rep)
{
    char body[128];
    int n;

    n = snprintf(body, sizeof body, "%d %s\n", status, reason(status));
    put_response(c, r, status, extra, TEXT_TYPE, body, (size_t)n, rep);
}

/* Reads the id's index.json (suffix "") or index.json.gz (".gz") into
   filebuf, which the caller may change until the next load. 0 on success,
   -1 if there is none. */
static int
load_file(const struct req *r, const char *suffix, char **body, size_t *len)
{
    char path[4096];
    ssize_t n;
    int fd;

    if (!r->has_id)
        return -1;
    snprintf(path, sizeof path, "%s/api/v2/pokemon/%lu/index.json%s",
             cfg.www, r->id, suffix);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    filebuf.rd = filebuf.wr = 0;
    for (;;) {
        ob_reserve(&filebuf, 65536);
        n = read(fd, filebuf.base + filebuf.wr, filebuf.cap - filebuf.wr);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        filebuf.wr += (size_t)n;
    }
    close(fd);
    if (n < 0)
        return -1;
    *body = filebuf.base;
    *len = filebuf.wr;
    return 0;
}

static int
load_body(const struct req *r, const char **body, size_t *len)
{
    char *p;

    if (load_file(r, "", &p, len) < 0)
        return -1;
    *body = p;
    return 0;
}

/* The normal answer: 200 with the file, or 404. */
static void
serve_file(struct conn *c, const struct req *r, const char *extra,
           struct reply *rep)
{
    const char *body;
    size_t len;

    if (load_body(r, &body, &len) < 0)
        put_text(c, r, 404, NULL, rep);
    else
        put_response(c, r, 200, extra, JSON_TYPE, body, len, rep);
}

/* Chunked body of body/len in n-byte chunks. Some size lines carry an
   extension or leading zeros, both valid (RFC 9112 section 7.1), so a
   client that only handles the plain form is caught. */
static void
put_chunks(struct conn *c, const char *body, size_t len, size_t n)
{
    size_t off, k, i;

    for (off = 0, i = 0; off < len; off += k, i++) {
        k = len - off < n ? len - off : n;
        if (i % 5 == 4)
            out_printf(c, "00%zx", k);
        else
            out_printf(c, "%zx", k);
        out_str(c, i % 3 == 1 ? ";ext=1\r\n" : "\r\n");
        out_put(c, body + off, k);
        out_str(c, "\r\n");
    }
}

/* 200, chunked in n-byte chunks with a trailer; extra as put_response. */
static void
put_chunked_response(struct conn *c, const struct req *r, const char *extra,
                     const char *body, size_t len, size_t n,
                     struct reply *rep)
{
    put_head(c, 200, JSON_TYPE, -1, r->close);
    if (extra)
        out_str(c, extra);
    out_str(c, "Transfer-Encoding: chunked\r\nTrailer: X-Trailer\r\n\r\n");
    rep->status = 200;
    rep->body_len = len;
    if (r->head)
        return;
    put_chunks(c, body, len, n);
    out_str(c, "0;ext=1\r\nX-Trailer: 1\r\n\r\n");
}

static void
serve_chunked(struct conn *c, const struct req *r, struct reply *rep)
{
    const char *body;
    size_t len;

    if (load_body(r, &body, &len) < 0) {
        put_text(c, r, 404, NULL, rep);
        return;
    }
    put_chunked_response(c, r, NULL, body, len, (size_t)cfg.arg, rep);
}

static int
has_prefix(const struct req *r, const char *pre)
{
    size_t n = strlen(pre);

    return r->path_len >= n && memcmp(r->path, pre, n) == 0;
}

/* Whether the path (before "?") has a "." or ".." segment. */
static int
has_dot_segment(const struct req *r)
{
    size_t i, s = 0, n = r->path_len;
    const char *p = r->path, *q = memchr(p, '?', n);

    if (q)
        n = (size_t)(q - p);
    for (i = 0; i <= n; i++) {
        if (i < n && p[i] != '/')
            continue;
        if ((i - s == 1 && p[s] == '.') ||
            (i - s == 2 && p[s] == '.' && p[s + 1] == '.'))
            return 1;
        s = i + 1;
    }
    return 0;
}

/* dot-location: a relative Location that names /r/... only once its dot
   segments are removed (RFC 3986 section 5.2.4); a target that still has
   them is a 404, as from a server that does not normalise. */
static void
serve_dot_location(struct conn *c, const struct req *r, struct reply *rep)
{
    /* "../" for each "/" of a target of at most REQ_HEAD_MAX bytes. */
    char loc[3 * REQ_HEAD_MAX + 64] = "Location: ";
    size_t i, n = strlen(loc);

    if (has_dot_segment(r) || !r->has_id) {
        put_text(c, r, 404, NULL, rep);
        return;
    }
    if (has_prefix(r, "/r/")) {
        serve_file(c, r, NULL, rep);
        return;
    }
    /* One "../" per directory level takes the reference to the root. */
    for (i = 1; i < r->path_len && r->path[i] != '?'; i++) {
        if (r->path[i] == '/') {
            memcpy(loc + n, "../", 3);
            n += 3;
        }
    }
    snprintf(loc + n, sizeof loc - n,
             "r/./api/v2/x/../pokemon/%lu/\r\n", r->id);
    put_text(c, r, 302, loc, rep);
}

static void
serve_redirect(struct conn *c, const struct req *r, struct reply *rep)
{
    static const int chain_codes[] = {302, 301, 307, 308};
    const char *scheme = ssl_ctx ? "https" : "http";
    char loc[4200];
    unsigned long hop = 0;
    int code = (int)cfg.arg;

    if (cfg.def->sc == SC_REDIRECT_LOOP) {
        snprintf(loc, sizeof loc, "Location: %.*s\r\n", (int)r->target_len,
                 r->target);
        put_text(c, r, code, loc, rep);
        return;
    }
    if (!r->has_id) {
        put_text(c, r, 404, NULL, rep);
        return;
    }
    if (cfg.def->sc == SC_REDIRECT_CHAIN) {
        if (has_prefix(r, "/hop/"))
            hop = strtoul(r->path + 5, NULL, 10);
        if (hop >= (unsigned long)cfg.arg) {
            serve_file(c, r, NULL, rep);
            return;
        }
        snprintf(loc, sizeof loc, "Location: /hop/%lu/api/v2/pokemon/%lu\r\n",
                 hop + 1, r->id);
        put_text(c, r, chain_codes[hop % 4], loc, rep);
        return;
    }
    if (has_prefix(r, "/r/")) {
        serve_file(c, r, NULL, rep);
        return;
    }
    if (cfg.def->sc == SC_REDIRECT)
        snprintf(loc, sizeof loc, "Location: /r/api/v2/pokemon/%lu\r\n",
                 r->id);
    else if (cfg.def->sc == SC_REDIRECT_ABS)
        snprintf(loc, sizeof loc,
                 "Location: %s://127.0.0.1:%d/r/api/v2/pokemon/%lu\r\n",
                 scheme, listen_port, r->id);
    else
        snprintf(loc, sizeof loc,
                 "Location: %s://%s:%ld/r/api/v2/pokemon/%lu\r\n",
                 cfg.def->sc == SC_REDIRECT_DOWNGRADE ? "http" : scheme,
                 cfg.other_host, cfg.other_port, r->id);
    put_text(c, r, code, loc, rep);
}

/* A body that never ends: the head promises 10^12 bytes, and do_write
   queues more whenever the output runs low. endless-404 sends text;
   endless-gzip a gzip header and then empty stored deflate blocks (BFINAL
   0, LEN 0, NLEN 0xffff: five bytes that inflate to nothing), which a
   limit on decoded bytes never sees. */
static void
serve_endless(struct conn *c, const struct req *r, struct reply *rep)
{
    static const unsigned char gz_head[10] = {0x1f, 0x8b, 8, 0, 0,
                                              0,    0,    0, 0, 3};
    static unsigned char text[ENDLESS_PIECE], blocks[ENDLESS_PIECE];
    size_t i;

    if (!text[0]) {
        memset(text, 'x', sizeof text);
        for (i = 0; i + 5 <= sizeof blocks; i += 5)
            memcpy(blocks + i, "\0\0\0\377\377", 5);
    }
    if (cfg.def->sc == SC_ENDLESS_404) {
        put_head(c, 404, TEXT_TYPE, ENDLESS_LEN, 0);
        out_str(c, "\r\n");
        c->endless = text;
        c->endless_len = sizeof text;
        rep->status = 404;
    } else {
        put_head(c, 200, JSON_TYPE, ENDLESS_LEN, 0);
        out_str(c, CE_GZIP "\r\n");
        out_put(c, (const char *)gz_head, sizeof gz_head);
        c->endless = blocks;
        c->endless_len = sizeof blocks - sizeof blocks % 5;
        rep->status = 200;
    }
    (void)r;
    rep->body_len = (size_t)ENDLESS_LEN;
}

static void
serve_json_text(struct conn *c, const struct req *r, const char *json,
                struct reply *rep)
{
    put_response(c, r, 200, NULL, JSON_TYPE, json, strlen(json), rep);
}

/* Framing faults. Each keeps the connection open unless the fault is
   itself about closing: a client that misses the fault then hangs and
   its timeout shows it. */
static void
serve_malformed(struct conn *c, const struct req *r, struct reply *rep)
{
    static const char *const bad_lines[] = {
        "HTTP/1.1 20x OK", "HTTP/1.1 2000 OK", "HTTP/1.1200 OK",
        "ICY 200 OK", "http/1.1 200 OK",
    };
    const char *body;
    size_t len;
    long i;

    if (load_body(r, &body, &len) < 0) {
        put_text(c, r, 404, NULL, rep);
        return;
    }
    rep->status = 200;
    rep->body_len = len;
    switch (cfg.def->sc) {
    case SC_BAD_STATUS_LINE:
        rep->status = 0;
        out_printf(c,
                   "%s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
                   bad_lines[cfg.arg], JSON_TYPE, len,
                   r->close ? "Connection: close\r\n" : "");
        break;
    case SC_OVERSIZED_HEADERS:
        put_head(c, 200, JSON_TYPE, (long long)len, r->close);
        out_str(c, "X-Big: ");
        ob_reserve(&c->out, (size_t)cfg.arg * 1024);
        memset(c->out.base + c->out.wr, 'a', (size_t)cfg.arg * 1024);
        c->out.wr += (size_t)cfg.arg * 1024;
        out_str(c, "\r\n\r\n");
        break;
    case SC_MANY_HEADERS:
        put_head(c, 200, JSON_TYPE, (long long)len, r->close);
        for (i = 0; i < cfg.arg; i++)
            out_printf(c, "X-H-%ld: v\r\n", i);
        out_str(c, "\r\n");
        break;
    case SC_CONFLICTING_CL:
        put_head(c, 200, JSON_TYPE, -1, r->close);
        if (cfg.arg == 0)
            out_printf(c, "Content-Length: %zu\r\nContent-Length: %zu\r\n\r\n",
                       len, len + 1);
        else
            out_printf(c, "Content-Length: %zu, %zu\r\n\r\n", len, len + 1);
        break;
    case SC_TE_AND_CL:
        put_head(c, 200, JSON_TYPE, (long long)len, r->close);
        out_str(c, "Transfer-Encoding: chunked\r\n\r\n");
        put_chunks(c, body, len, 8192);
        out_str(c, "0\r\n\r\n");
        return;
    case SC_CHUNK_BWS:
        /* RFC 9112 section 7.1.1 allows BWS only before a ";". */
        put_head(c, 200, JSON_TYPE, -1, r->close);
        out_printf(c, "Transfer-Encoding: chunked\r\n\r\n%zx  \r\n", len);
        out_put(c, body, len);
        out_str(c, "\r\n0\r\n\r\n");
        return;
    case SC_BAD_CHUNK_SIZE:
        put_head(c, 200, JSON_TYPE, -1, r->close);
        out_str(c, "Transfer-Encoding: chunked\r\n\r\n");
        put_chunks(c, body, len < 100 ? len : 100, 100);
        out_str(c, "zz\r\n");
        if (len > 100)
            out_put(c, body + 100, len - 100);
        out_str(c, "\r\n0\r\n\r\n");
        return;
    case SC_CHUNK_OVERFLOW:
        put_head(c, 200, JSON_TYPE, -1, r->close);
        out_str(c, "Transfer-Encoding: chunked\r\n\r\n");
        /* 17 hex digits: more than 64 bits. The second form is 18 modulo
           2^64, so a parser that wraps sees a well-framed 18-byte body
           that names the wrong pokemon instead of an error. */
        if (cfg.arg == 0) {
            out_str(c, "fffffffffffffffff\r\n");
            out_put(c, body, len);
        } else {
            out_str(c, "10000000000000012\r\n{\"name\":\"wrapped\"}");
        }
        out_str(c, "\r\n0\r\n\r\n");
        return;
    case SC_SHORT_BODY:
        put_head(c, 200, JSON_TYPE, (long long)len + 1000, r->close);
        out_str(c, "\r\n");
        c->after = ACT_CLOSE;
        break;
    case SC_BARE_CR:
        put_head(c, 200, JSON_TYPE, (long long)len, r->close);
        out_str(c, cfg.arg == 0 ? "X-Bare: a\rb\r\n"
                                : "X-Bare: 1\rX-Next: 2\r\n");
        out_str(c, "\r\n");
        break;
    case SC_OBS_FOLD:
        if (cfg.arg == 0) {
            put_head(c, 200, JSON_TYPE, (long long)len, r->close);
            out_str(c, "X-Folded: first\r\n second\r\n\tthird\r\n\r\n");
        } else {
            put_head(c, 200, JSON_TYPE, -1, r->close);
            out_printf(c, "Content-Length:\r\n %zu\r\n\r\n", len);
        }
        break;
    case SC_TRUNCATED_JSON:
        len /= 2;
        rep->body_len = len;
        put_head(c, 200, JSON_TYPE, (long long)len, r->close);
        out_str(c, "\r\n");
        break;
    case SC_CLOSE_DELIMITED:
        put_head(c, 200, JSON_TYPE, -1, 0);
        out_str(c, "\r\n");
        c->after = ACT_CLOSE;
        break;
    default:
        die("serve_malformed: scenario %s", cfg.def->name);
    }
    out_put(c, body, len);
}

/* ---- compressed bodies ---- */

/* The body as a zlib stream (RFC 1950, what "deflate" means in RFC 9110
   section 8.4.1.2) or, raw, as bare deflate (RFC 1951), which some
   servers send under the same name; into zbuf. */
static void
deflate_body(const char *body, size_t len, int raw)
{
    z_stream zs;
    uLongf zlen;
    uLong bound;
    int rc;

    zbuf.rd = zbuf.wr = 0;
    if (!raw) {
        bound = compressBound((uLong)len);
        ob_reserve(&zbuf, bound);
        zlen = bound;
        rc = compress2((Bytef *)zbuf.base, &zlen, (const Bytef *)body,
                       (uLong)len, Z_DEFAULT_COMPRESSION);
        if (rc != Z_OK)
            die("compress2: %d", rc);
        zbuf.wr = zlen;
        return;
    }
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        die("deflateInit2 failed");
    bound = deflateBound(&zs, (uLong)len);
    ob_reserve(&zbuf, bound);
    zs.next_in = (Bytef *)body; /* zlib reads it, never writes */
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)zbuf.base;
    zs.avail_out = (uInt)bound;
    rc = deflate(&zs, Z_FINISH);
    deflateEnd(&zs);
    if (rc != Z_STREAM_END)
        die("deflate: %d", rc);
    zbuf.wr = zs.total_out;
}

/* gzip-bomb's body: mib MiB of fill bytes as a gzip member (RFC 1952).
   Zeros are not JSON, so a client that parses as it inflates stops at
   byte 0 whatever its size limit; spaces are JSON whitespace (RFC 8259
   section 2) and reach the limit. One MiB of them is deflated once, at
   level 9, by a fresh raw deflater and ended with Z_FULL_FLUSH: non-final
   blocks that refer to nothing before
   them and end on a byte boundary, so mib copies in a row are one valid
   deflate stream. A final empty fixed-Huffman block (03 00) ends it, and
   the CRC-32 comes from crc32_combine. Deflating the whole GiB instead
   takes seconds; this takes milliseconds and the same memory: about
   1030 times smaller than what it inflates to, which is the point. */
static void
make_bomb(long mib, unsigned char fill)
{
    static const unsigned char head[10] = {0x1f, 0x8b, 8, 0, 0, 0,
                                           0,    0,    2, 3};
    static const unsigned char last[2] = {0x03, 0x00};
    static unsigned char one[1 << 20];
    unsigned char seg[4096], trailer[8];
    unsigned long crc_seg, crc = crc32(0L, Z_NULL, 0);
    unsigned long long total = (unsigned long long)mib << 20;
    size_t seg_len;
    z_stream zs;
    long k;
    int rc, i;

    memset(one, fill, sizeof one);
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 9,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        die("deflateInit2 failed");
    zs.next_in = one;
    zs.avail_in = sizeof one;
    zs.next_out = seg;
    zs.avail_out = sizeof seg;
    rc = deflate(&zs, Z_FULL_FLUSH);
    if (rc != Z_OK || zs.avail_in != 0 || zs.avail_out == 0)
        die("deflate of the bomb's segment: %d", rc);
    seg_len = sizeof seg - zs.avail_out;
    deflateEnd(&zs);
    crc_seg = crc32(0L, one, sizeof one);

    ob_put(&bomb, head, sizeof head);
    for (k = 0; k < mib; k++) {
        ob_put(&bomb, seg, seg_len);
        crc = crc32_combine(crc, crc_seg, (z_off_t)sizeof one);
    }
    ob_put(&bomb, last, sizeof last);
    /* CRC-32 and ISIZE (the length modulo 2^32), little-endian. */
    for (i = 0; i < 4; i++) {
        trailer[i] = (unsigned char)(crc >> (8 * i));
        trailer[4 + i] = (unsigned char)(total >> (8 * i));
    }
    ob_put(&bomb, trailer, sizeof trailer);
    logmsg("bomb %zu bytes inflate to %ld MiB\n", bomb.wr, mib);
}

static void
serve_coded(struct conn *c, const struct req *r, struct reply *rep)
{
    enum sc sc = cfg.def->sc;
    int deflate = sc == SC_DEFLATE || sc == SC_DEFLATE_RAW;
    struct stat st;
    char path[4096];
    char *body;
    size_t len, off, i; /* gzip-corrupt flips [off, i) */

    if ((sc == SC_GZIP || sc == SC_GZIP_CHUNKED || deflate) &&
        !(deflate ? r->acc_deflate : r->acc_gzip)) {
        serve_file(c, r, VARY_AE, rep);
        return;
    }
    switch (sc) {
    case SC_ENCODING_UNKNOWN:
        serve_file(c, r, "Content-Encoding: br\r\n", rep);
        return;
    case SC_DEFLATE:
    case SC_DEFLATE_RAW:
        if (load_file(r, "", &body, &len) < 0) {
            put_text(c, r, 404, NULL, rep);
            return;
        }
        deflate_body(body, len, sc == SC_DEFLATE_RAW);
        put_response(c, r, 200, "Content-Encoding: deflate\r\n" VARY_AE,
                     JSON_TYPE, zbuf.base, zbuf.wr, rep);
        return;
    case SC_GZIP_BOMB:
    case SC_GZIP_BOMB_SPACES:
        /* Answers only ids that have a file, as the others do. */
        snprintf(path, sizeof path, "%s/api/v2/pokemon/%lu/index.json",
                 cfg.www, r->id);
        if (!r->has_id || stat(path, &st) < 0)
            put_text(c, r, 404, NULL, rep);
        else
            put_response(c, r, 200, CE_GZIP, JSON_TYPE, bomb.base, bomb.wr,
                         rep);
        return;
    default:
        break;
    }
    /* An id without index.json.gz is a 404 too: run tests/lab/data. */
    if (load_file(r, ".gz", &body, &len) < 0) {
        put_text(c, r, 404, NULL, rep);
        return;
    }
    switch (sc) {
    case SC_GZIP:
        put_response(c, r, 200, CE_GZIP VARY_AE,
                     JSON_TYPE, body, len, rep);
        break;
    case SC_GZIP_CHUNKED:
        put_chunked_response(c, r, CE_GZIP VARY_AE,
                             body, len, (size_t)cfg.arg, rep);
        break;
    case SC_GZIP_CORRUPT:
        /* 0: the middle of a .gz is deflate data, well past the 10-byte
           header and its file name and before the 8-byte trailer:
           inflate then fails, or (as with the lab's files) decodes wrong
           bytes and only the CRC-32 at the end says so. 1: the deflate
           data is intact and the body inflates to the right JSON; only
           the CRC-32 (the trailer's first 4 bytes) is wrong. */
        if (cfg.arg == 0) {
            off = len / 2 > CORRUPT_RUN / 2 ? len / 2 - CORRUPT_RUN / 2 : 0;
            i = off + CORRUPT_RUN;
        } else {
            off = len >= 8 ? len - 8 : 0;
            i = off + 4;
        }
        for (; off < i && off < len; off++)
            body[off] ^= (char)0xff;
        put_response(c, r, 200, CE_GZIP, JSON_TYPE, body, len, rep);
        break;
    case SC_GZIP_TRUNCATED:
        put_response(c, r, 200, CE_GZIP, JSON_TYPE, body, len / 2, rep);
        break;
    case SC_GZIP_TRAILING:
        /* ob_put may move filebuf: take the pointer afterwards. */
        ob_put(&filebuf, TRAILING_JUNK, sizeof TRAILING_JUNK - 1);
        put_response(c, r, 200, CE_GZIP, JSON_TYPE, filebuf.base, filebuf.wr,
                     rep);
        break;
    default:
        die("serve_coded: scenario %s", cfg.def->name);
    }
}

/* Turns one parsed request into queued bytes, per the scenario. */
static void
answer(struct conn *c, const struct req *r)
{
    struct reply rep = {0, 0};
    size_t before = pending(c), total, cut = 0;
    int cut_it = 0;
    char extra[128];

    switch (cfg.def->sc) {
    case SC_OK:
    case SC_TINY:
    case SC_DRIP:
    case SC_STALL:
    case SC_STALL_AFTER:
    case SC_RST_MID_PIPELINE:
        serve_file(c, r, NULL, &rep);
        break;
    case SC_RANDOM_RESET:
        serve_file(c, r, NULL, &rep);
        if (c->rr_armed && c->n_resp == c->rr_resp) {
            cut_it = 1;
            cut = (size_t)(c->rr_frac * (double)(pending(c) - before));
        }
        break;
    case SC_RST_MID_RESPONSE:
        serve_file(c, r, NULL, &rep);
        if (c->n_resp + 1 == (unsigned long)cfg.arg) {
            cut_it = 1;
            cut = pending(c) - before - rep.body_len + rep.body_len / 2;
        }
        break;
    case SC_CLOSE_AFTER:
    case SC_CLOSE_AFTER_ANN:
        if (c->n_resp + 1 >= (unsigned long)cfg.arg) {
            struct req r2 = *r;

            if (cfg.def->sc == SC_CLOSE_AFTER_ANN)
                r2.close = 1;
            serve_file(c, &r2, NULL, &rep);
            c->after = ACT_CLOSE;
        } else {
            serve_file(c, r, NULL, &rep);
        }
        break;
    case SC_CLOSE_FIRST:
        if (c->no == (unsigned long)cfg.arg && c->n_resp == 0) {
            struct req r2 = *r;

            r2.close = 1;
            serve_file(c, &r2, NULL, &rep);
            c->after = ACT_CLOSE;
        } else {
            serve_file(c, r, NULL, &rep);
        }
        break;
    case SC_IGNORE_CLOSE: {
        struct req r2 = *r;

        r2.close = 0;
        serve_file(c, &r2, NULL, &rep);
        break;
    }
    case SC_ENDLESS_404:
    case SC_ENDLESS_GZIP:
        if (r->has_id && r->id == (unsigned long)cfg.arg)
            serve_endless(c, r, &rep);
        else
            serve_file(c, r, NULL, &rep);
        break;
    case SC_CHUNKED:
        serve_chunked(c, r, &rep);
        break;
    case SC_INTERIM:
        out_str(c, "HTTP/1.1 100 Continue\r\n\r\n"
                   "HTTP/1.1 103 Early Hints\r\n"
                   "Link: </static/pokemon.css>; rel=preload; as=style\r\n"
                   "\r\n");
        serve_file(c, r, NULL, &rep);
        break;
    case SC_REDIRECT:
    case SC_REDIRECT_ABS:
    case SC_REDIRECT_OTHER:
    case SC_REDIRECT_DOWNGRADE:
    case SC_REDIRECT_LOOP:
    case SC_REDIRECT_CHAIN:
        serve_redirect(c, r, &rep);
        break;
    case SC_NO_REASON:
        serve_file(c, r, NULL, &rep);
        break;
    case SC_DOT_LOCATION:
        serve_dot_location(c, r, &rep);
        break;
    case SC_STATUS:
        put_text(c, r, (int)cfg.arg, NULL, &rep);
        break;
    case SC_RETRY_AFTER:
    case SC_RETRY_AFTER_DATE:
    case SC_503_THEN_OK:
        if (r->has_id && !seen_before(r->id)) {
            if (cfg.def->sc == SC_503_THEN_OK) {
                put_text(c, r, 503, NULL, &rep);
                break;
            }
            if (cfg.def->sc == SC_RETRY_AFTER) {
                snprintf(extra, sizeof extra, "Retry-After: %ld\r\n",
                         cfg.arg);
            } else {
                char date[64];

                http_date(date, sizeof date, cfg.arg);
                snprintf(extra, sizeof extra, "Retry-After: %s\r\n", date);
            }
            put_text(c, r, 429, extra, &rep);
            break;
        }
        serve_file(c, r, NULL, &rep);
        break;
    case SC_NOT_JSON:
        put_response(c, r, 200, NULL, "text/html; charset=utf-8", NOT_JSON,
                     sizeof NOT_JSON - 1, &rep);
        break;
    case SC_NO_KEY:
        snprintf(extra, sizeof extra,
                 "{\"id\":%s,\"forms\":[{\"name\":\"decoy\"}],"
                 "\"species\":{\"name\":\"decoy\",\"url\":\"x\"},"
                 "\"order\":1}",
                 r->id_str);
        serve_json_text(c, r, extra, &rep);
        break;
    case SC_NON_STRING:
        serve_json_text(c, r, "{\"name\":42}", &rep);
        break;
    case SC_DUP_KEY:
        serve_json_text(c, r, "{\"name\":\"a\",\"name\":\"b\"}", &rep);
        break;
    case SC_NESTED_DECOY:
        serve_json_text(c, r, "{\"a\":{\"name\":\"x\"},\"name\":\"real\"}",
                        &rep);
        break;
    case SC_HOSTILE_NAME:
        serve_json_text(c, r, HOSTILE_NAME_JSON, &rep);
        break;
    case SC_HOSTILE_ENCODING:
        put_response(c, r, 200,
                     "Content-Encoding: x\xc2\x9b" "31m\xe2\x80\xae\r\n",
                     JSON_TYPE, "{\"name\":\"x\"}", 12, &rep);
        break;
    case SC_HOSTILE_LOCATION:
        put_text(c, r, 302,
                 "Location: /r/\xc2\x9b" "2J\xe2\x80\xae\xe2\x81\xa6/1\r\n",
                 &rep);
        break;
    case SC_GZIP:
    case SC_GZIP_CHUNKED:
    case SC_GZIP_CORRUPT:
    case SC_GZIP_TRUNCATED:
    case SC_GZIP_TRAILING:
    case SC_GZIP_BOMB:
    case SC_GZIP_BOMB_SPACES:
    case SC_ENCODING_UNKNOWN:
    case SC_DEFLATE:
    case SC_DEFLATE_RAW:
        serve_coded(c, r, &rep);
        break;
    default:
        serve_malformed(c, r, &rep);
        break;
    }
    c->n_resp++;
    if (r->close && c->after == ACT_NONE && cfg.def->sc != SC_IGNORE_CLOSE)
        c->after = ACT_CLOSE;
    total = pending(c) - before;
    if (cut_it) {
        c->out.wr -= total - cut;
        total = cut;
        c->after = ACT_RST;
    }
    if (is_tiny()) {
        size_t rate = total / TINY_TICKS + 1;

        if (rate > c->rate)
            c->rate = rate;
    } else if (cfg.def->sc == SC_DRIP) {
        c->rate = 1;
    }
    logmsg("conn %lu req %lu id %s status %d%s\n", c->no, c->n_req, r->id_str,
           rep.status, cut_it ? " partial" : "");
}

/* A request we cannot parse ends the connection after one answer. */
static void
answer_error(struct conn *c, int status)
{
    struct req r;
    struct reply rep;

    memset(&r, 0, sizeof r);
    r.close = 1;
    c->n_req++;
    put_text(c, &r, status, NULL, &rep);
    c->n_resp++;
    c->after = ACT_CLOSE;
    logmsg("conn %lu req %lu id - status %d\n", c->no, c->n_req, status);
}

/* ---- connection I/O ---- */

static void
close_conn(struct conn *c, const char *why)
{
    if (c->dead)
        return;
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    /* SSL_free sends nothing: no close_notify unless do_shutdown sent it. */
    if (c->ssl)
        SSL_free(c->ssl);
    close(c->fd);
    free(c->in);
    free(c->out.base);
    logmsg("conn %lu close %s\n", c->no, why);
    c->ssl = NULL;
    c->in = NULL;
    c->out.base = NULL;
    c->fd = -1;
    c->dead = 1;
}

/* SO_LINGER {1, 0}: close() sends RST and drops unsent data. */
static void
rst_conn(struct conn *c)
{
    struct linger lg = {1, 0};

    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close_conn(c, "rst");
}

static void
close_conn_ssl_err(struct conn *c, const char *what)
{
    char buf[200], why[260];
    unsigned long e = ERR_get_error();

    /* SSL_ERROR_SYSCALL from a peer that went away: say so as the plain
       path does. */
    if (!e && (errno == ECONNRESET || errno == EPIPE)) {
        close_conn(c, "reset");
        return;
    }
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    else
        snprintf(buf, sizeof buf, "%s", errno ? strerror(errno) : "eof");
    snprintf(why, sizeof why, "error: %s: %s", what, buf);
    close_conn(c, why);
}

static enum io
xread(struct conn *c, char *p, size_t cap, size_t *got)
{
    ssize_t n;
    int r;

    *got = 0;
    if (!c->ssl) {
        for (;;) {
            n = recv(c->fd, p, cap, 0);
            if (n > 0) {
                *got = (size_t)n;
                return IO_OK;
            }
            if (n == 0)
                return IO_EOF;
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return IO_AGAIN;
            return IO_ERR;
        }
    }
    c->rd_wants_write = 0;
    ERR_clear_error();
    errno = 0;
    r = SSL_read(c->ssl, p, cap > INT_MAX ? INT_MAX : (int)cap);
    if (r > 0) {
        *got = (size_t)r;
        return IO_OK;
    }
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return IO_AGAIN;
    case SSL_ERROR_WANT_WRITE:
        c->rd_wants_write = 1;
        return IO_AGAIN;
    case SSL_ERROR_ZERO_RETURN:
        return IO_EOF;
    case SSL_ERROR_SYSCALL:
        return errno == 0 ? IO_EOF : IO_ERR;
    default:
        return IO_ERR;
    }
}

static enum io
xwrite(struct conn *c, const char *p, size_t len, size_t *done)
{
    ssize_t n;
    int r;

    *done = 0;
    if (!c->ssl) {
        for (;;) {
            n = send(c->fd, p, len, MSG_NOSIGNAL);
            if (n >= 0) {
                *done = (size_t)n;
                return IO_OK;
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return IO_AGAIN;
            return IO_ERR;
        }
    }
    c->wr_wants_read = 0;
    ERR_clear_error();
    errno = 0;
    r = SSL_write(c->ssl, p, len > INT_MAX ? INT_MAX : (int)len);
    if (r > 0) {
        *done = (size_t)r;
        return IO_OK;
    }
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_WRITE:
        return IO_AGAIN;
    case SSL_ERROR_WANT_READ:
        c->wr_wants_read = 1;
        return IO_AGAIN;
    default:
        return IO_ERR;
    }
}

static int
do_handshake(struct conn *c)
{
    int r;

    ERR_clear_error();
    errno = 0;
    r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->st = C_OPEN;
        c->deadline = 0;
        logmsg("conn %lu tls %s resumed %d\n", c->no, SSL_get_version(c->ssl),
               SSL_session_reused(c->ssl));
        return 1;
    }
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        c->ssl_want = EPOLLIN;
        return 0;
    case SSL_ERROR_WANT_WRITE:
        c->ssl_want = EPOLLOUT;
        return 0;
    default:
        close_conn_ssl_err(c, "handshake");
        return 0;
    }
}

static int
do_read(struct conn *c)
{
    size_t got;
    int progress = 0;

    if (c->peer_eof)
        return 0;
    for (;;) {
        if (c->stalled)
            c->in_rd = c->in_wr = 0;
        if (c->in_rd > 0 && c->in_wr == IN_CAP) {
            memmove(c->in, c->in + c->in_rd, c->in_wr - c->in_rd);
            c->in_wr -= c->in_rd;
            c->in_rd = 0;
        }
        if (c->in_wr == IN_CAP)
            break;
        switch (xread(c, c->in + c->in_wr, IN_CAP - c->in_wr, &got)) {
        case IO_OK:
            c->in_wr += got;
            /* Discarded bytes are no progress: a stalled connection has
               nothing to do with them. */
            if (!c->stalled)
                progress = 1;
            continue;
        case IO_AGAIN:
            break;
        case IO_EOF:
            c->peer_eof = 1;
            progress = 1;
            break;
        case IO_ERR:
            if (c->ssl)
                close_conn_ssl_err(c, "read");
            else
                close_conn(c, errno == ECONNRESET ? "reset" : "error: read");
            return 0;
        }
        break;
    }
    if (c->stalled)
        c->in_rd = c->in_wr = 0;
    return progress;
}

/* Decides, before parsing the next request, whether the scenario wants
   to stop answering. Returns 1 to stop processing for now. */
static int
gate(struct conn *c, int *progress)
{
    enum sc sc = cfg.def->sc;

    if (sc == SC_STALL ||
        (sc == SC_STALL_AFTER && c->n_resp >= (unsigned long)cfg.arg)) {
        c->stalled = 1;
        c->in_rd = c->in_wr = 0;
        *progress = 1;
        return 1;
    }
    if (sc == SC_RST_MID_PIPELINE && c->n_resp >= (unsigned long)cfg.arg) {
        /* Only once the earlier responses are out, so the reset hits a
           connection with answered requests behind it and unanswered
           requests ahead. */
        if (pending(c) == 0) {
            c->after = ACT_RST;
            *progress = 1;
        }
        return 1;
    }
    return 0;
}

static int
process(struct conn *c)
{
    struct req r;
    size_t used, avail, n;
    int progress = 0, rc;

    while (c->st == C_OPEN && !c->stalled && c->after == ACT_NONE) {
        avail = c->in_wr - c->in_rd;
        if (c->body_skip > 0) {
            if (avail == 0)
                break;
            n = avail < c->body_skip ? avail : c->body_skip;
            c->in_rd += n;
            c->body_skip -= n;
            progress = 1;
            continue;
        }
        if (avail == 0 || pending(c) >= OUT_HIGH)
            break;
        if (gate(c, &progress))
            break;
        rc = parse_request(c->in + c->in_rd, avail, &r, &used);
        if (rc == 0) {
            if (avail >= REQ_HEAD_MAX) {
                answer_error(c, 431);
                c->in_rd = c->in_wr;
                progress = 1;
            }
            break;
        }
        if (rc < 0) {
            answer_error(c, 400);
            c->in_rd = c->in_wr;
            progress = 1;
            break;
        }
        c->n_req++;
        answer(c, &r);
        c->in_rd += used;
        c->body_skip = (size_t)r.body_len;
        progress = 1;
    }
    if (c->in_rd == c->in_wr)
        c->in_rd = c->in_wr = 0;
    return progress;
}

static int
do_write(struct conn *c)
{
    int progress = 0, paced = is_paced();
    size_t n, done;
    long long now;

    for (;;) {
        if (c->endless && !c->retry_len && pending(c) < ENDLESS_PIECE)
            out_put(c, (const char *)c->endless, c->endless_len);
        if (pending(c) == 0)
            break;
        n = pending(c);
        if (c->retry_len) {
            n = c->retry_len;
        } else if (paced) {
            if (c->tick_left == 0) {
                if (!c->tick_at) {
                    now = now_ms();
                    c->tick_at = c->last_tick + (cfg.def->sc == SC_DRIP
                                                     ? DRIP_TICK_MS
                                                     : TINY_TICK_MS);
                    if (c->tick_at < now)
                        c->tick_at = now;
                }
                break;
            }
            if (n > c->tick_left)
                n = c->tick_left;
            if (is_tiny() && n > 1)
                n = 1 + rng_below(n < TINY_PIECE_MAX ? n : TINY_PIECE_MAX);
            else
                n = 1;
        } else if (n > WRITE_MAX) {
            n = WRITE_MAX;
        }
        switch (xwrite(c, c->out.base + c->out.rd, n, &done)) {
        case IO_OK:
            break;
        case IO_AGAIN:
            if (c->ssl)
                c->retry_len = n;
            return progress;
        default:
            if (c->ssl)
                close_conn_ssl_err(c, "write");
            else
                close_conn(c, errno == ECONNRESET || errno == EPIPE
                                  ? "reset"
                                  : "error: write");
            return 0;
        }
        c->retry_len = 0;
        c->out.rd += done;
        if (paced)
            c->tick_left -= done < c->tick_left ? done : c->tick_left;
        progress = 1;
    }
    if (pending(c) == 0) {
        c->out.rd = c->out.wr = 0;
        if (is_tiny()) {
            c->rate = 0;
            c->tick_left = 0;
        }
    }
    return progress;
}

/* Runs the connection's pending action once its output is on the wire. */
static int
after_drain(struct conn *c)
{
    if (pending(c) > 0 || c->retry_len)
        return 0;
    switch (c->after) {
    case ACT_CLOSE:
        c->st = C_SHUTDOWN;
        c->ssl_want = EPOLLOUT;
        c->deadline = now_ms() + LINGER_MS;
        return 1;
    case ACT_RST:
        c->st = C_RST_WAIT;
        c->deadline = now_ms() + RST_WAIT_MS;
        c->tick_at = now_ms();
        return 1;
    default:
        return 0;
    }
}

static int
do_shutdown(struct conn *c)
{
    int r;

    if (c->ssl) {
        ERR_clear_error();
        r = SSL_shutdown(c->ssl);
        if (r < 0) {
            switch (SSL_get_error(c->ssl, r)) {
            case SSL_ERROR_WANT_WRITE:
                c->ssl_want = EPOLLOUT;
                return 0;
            case SSL_ERROR_WANT_READ:
                c->ssl_want = EPOLLIN;
                return 0;
            default:
                /* The peer is gone; FIN below is all we can still say. */
                break;
            }
        }
    }
    shutdown(c->fd, SHUT_WR);
    c->st = C_LINGER;
    c->deadline = now_ms() + LINGER_MS;
    return 1;
}

/* Drains raw bytes after our FIN so that unread pipelined requests do not
   turn the close into a reset; the TLS layer is done with by now. */
static void
do_linger(struct conn *c)
{
    char buf[16384];
    ssize_t n;
    int i;

    for (i = 0; i < 64; i++) {
        n = recv(c->fd, buf, sizeof buf, 0);
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        close_conn(c, "closed");
        return;
    }
}

static void
update_interest(struct conn *c)
{
    struct epoll_event ev;
    unsigned m = 0;

    switch (c->st) {
    case C_HANDSHAKE:
    case C_SHUTDOWN:
        m = c->ssl_want;
        break;
    case C_OPEN:
        if (!c->peer_eof && c->in_wr - c->in_rd < IN_CAP)
            m |= EPOLLIN;
        if (pending(c) > 0 && (!is_paced() || c->tick_left || c->retry_len))
            m |= EPOLLOUT;
        if (c->rd_wants_write)
            m |= EPOLLOUT;
        if (c->wr_wants_read && !c->peer_eof)
            m |= EPOLLIN;
        break;
    case C_LINGER:
        m = EPOLLIN;
        break;
    case C_RST_WAIT:
        break;
    }
    if (m == c->mask)
        return;
    memset(&ev, 0, sizeof ev);
    ev.events = m;
    ev.data.u64 = (uint64_t)(c - conns) + 1;
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die("epoll_ctl: %s", strerror(errno));
    c->mask = m;
}

/* Moves the connection as far as it can go without waiting. */
static void
conn_run(struct conn *c)
{
    int progress;

    do {
        progress = 0;
        switch (c->st) {
        case C_HANDSHAKE:
            progress = do_handshake(c);
            break;
        case C_OPEN:
            progress |= do_read(c);
            if (c->dead)
                return;
            progress |= process(c);
            progress |= do_write(c);
            if (c->dead)
                return;
            progress |= after_drain(c);
            if (!progress && c->peer_eof && pending(c) == 0 &&
                c->after == ACT_NONE) {
                close_conn(c, "eof");
                return;
            }
            break;
        case C_SHUTDOWN:
            progress = do_shutdown(c);
            break;
        case C_LINGER:
            do_linger(c);
            break;
        case C_RST_WAIT:
            break;
        }
    } while (progress && !c->dead);
    if (!c->dead)
        update_interest(c);
}

static void
conn_event(struct conn *c, uint32_t events)
{
    conn_run(c);
    if (c->dead || !(events & (EPOLLERR | EPOLLHUP)))
        return;
    /* Level-triggered ERR/HUP would wake us forever; the syscalls above
       have had their chance to report it. */
    if (c->st == C_RST_WAIT)
        rst_conn(c);
    else
        close_conn(c, "hup");
}

static void
conn_timer(struct conn *c, long long now)
{
    int outq = 0;

    if (c->deadline && now >= c->deadline) {
        c->deadline = 0;
        switch (c->st) {
        case C_HANDSHAKE:
            close_conn(c, "error: handshake timeout");
            return;
        case C_SHUTDOWN:
        case C_LINGER:
            close_conn(c, "closed");
            return;
        case C_RST_WAIT:
            rst_conn(c);
            return;
        case C_OPEN:
            break;
        }
    }
    if (!c->tick_at || now < c->tick_at)
        return;
    c->tick_at = 0;
    if (c->st == C_RST_WAIT) {
        /* SIOCOUTQ counts unsent and unacknowledged bytes. */
        if (ioctl(c->fd, SIOCOUTQ, &outq) < 0 || outq == 0)
            rst_conn(c);
        else
            c->tick_at = now + RST_POLL_MS;
        return;
    }
    c->tick_left = c->rate;
    c->last_tick = now;
    conn_run(c);
}

static void
do_accept(int lfd)
{
    struct epoll_event ev;
    struct conn *c;
    int fd, one = 1;
    size_t i;

    for (;;) {
        /* accept4() is a GNU extension; accepted sockets do not inherit
           O_NONBLOCK, so set it by hand. */
        fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return;
        }
        if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ||
            fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
            close(fd);
            continue;
        }
        for (i = 0; i < MAX_CONNS && conns[i].used; i++)
            ;
        if (i == MAX_CONNS) {
            logmsg("refused: %d connections open\n", MAX_CONNS);
            close(fd);
            continue;
        }
        c = &conns[i];
        memset(c, 0, sizeof *c);
        c->used = 1;
        c->fd = fd;
        c->no = ++n_conns_seen;
        /* tiny-writes needs it (each write its own segment); for the
           others it is what a latency-minded server sets anyway. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->in = malloc(IN_CAP);
        if (!c->in)
            die("out of memory");
        logmsg("conn %lu open\n", c->no);
        if (ssl_ctx) {
            c->ssl = SSL_new(ssl_ctx);
            if (!c->ssl || !SSL_set_fd(c->ssl, fd))
                die("SSL_new failed");
            SSL_set_accept_state(c->ssl);
            c->st = C_HANDSHAKE;
            c->ssl_want = EPOLLIN;
            c->deadline = now_ms() + HANDSHAKE_MS;
        } else {
            c->st = C_OPEN;
        }
        if (cfg.def->sc == SC_RANDOM_RESET &&
            rng_below(100) < (unsigned long)cfg.arg) {
            c->rr_armed = 1;
            c->rr_resp = rng_below(RR_RESPONSES);
            c->rr_frac = (double)(rng_next() >> 11) / 9007199254740992.0;
            logmsg("conn %lu plan reset in response %lu at %.0f%%\n", c->no,
                   c->rr_resp + 1, c->rr_frac * 100);
        }
        c->mask = EPOLLIN;
        memset(&ev, 0, sizeof ev);
        ev.events = c->mask;
        ev.data.u64 = i + 1;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
            die("epoll_ctl: %s", strerror(errno));
    }
}

/* ---- set-up ---- */

static void
on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* Offers only HTTP/1.1: a client that asks for h2 must get 1.1. */
static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
            const unsigned char *in, unsigned int inlen, void *arg)
{
    unsigned int i;

    (void)ssl;
    (void)arg;
    for (i = 0; i < inlen && i + 1u + in[i] <= inlen; i += 1u + in[i]) {
        if (in[i] == 8 && memcmp(in + i + 1, "http/1.1", 8) == 0) {
            *out = in + i + 1;
            *outlen = in[i];
            return SSL_TLSEXT_ERR_OK;
        }
    }
    return SSL_TLSEXT_ERR_NOACK;
}

static void
tls_setup(void)
{
    static const unsigned char sid_ctx[] = "faultsrv";
    char buf[256];

    ssl_ctx = SSL_CTX_new(TLS_server_method());
    if (!ssl_ctx)
        die("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ssl_ctx, cfg.cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ssl_ctx, cfg.key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ssl_ctx) != 1) {
        ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
        die("cannot load %s / %s: %s", cfg.cert, cfg.key, buf);
    }
    /* Session tickets are on by default; the id context lets stateful
       TLS 1.2 resumption work too. */
    SSL_CTX_set_session_id_context(ssl_ctx, sid_ctx, sizeof sid_ctx - 1);
    SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    /* A client that closes without close_notify is just gone. */
    SSL_CTX_set_options(ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    SSL_CTX_set_alpn_select_cb(ssl_ctx, alpn_select, NULL);
}

static int
listen_setup(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd, one = 1;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("bind: %s", strerror(errno));
    if (listen(fd, 512) < 0)
        die("listen: %s", strerror(errno));
    if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
        die("getsockname: %s", strerror(errno));
    listen_port = ntohs(sa.sin_port);
    return fd;
}

/* Written beside FILE and renamed over it, so a poller sees all or
   nothing. */
static void
write_port_file(void)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", cfg.port_file, (long)getpid());
    f = fopen(tmp, "w");
    if (!f)
        die("cannot write %s: %s", tmp, strerror(errno));
    fprintf(f, "%d\n", listen_port);
    if (fclose(f) != 0 || rename(tmp, cfg.port_file) != 0)
        die("cannot write %s: %s", cfg.port_file, strerror(errno));
}

static void
usage(FILE *f)
{
    size_t i;

    fputs("usage: faultsrv --port-file FILE --www DIR [--tls CERT KEY]\n"
          "                [--scenario NAME[:ARG]] [--log FILE] [--seed S]\n"
          "                [--other-port P] [--other-host H]"
          " [--max-seconds S]\n"
          "scenarios (ARG default in brackets):\n",
          f);
    for (i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        if (scenarios[i].min == 0 && scenarios[i].max == 0)
            fprintf(f, "  %-22s %s\n", scenarios[i].name, scenarios[i].help);
        else
            fprintf(f, "  %-22s %s [%ld]\n", scenarios[i].name,
                    scenarios[i].help, scenarios[i].def);
    }
}

static long
parse_long(const char *s, long min, long max, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) {
        fprintf(stderr, "faultsrv: bad %s '%s' (%ld..%ld)\n", what, s, min,
                max);
        exit(2);
    }
    return v;
}

static void
parse_scenario(const char *spec)
{
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec), i;
    const struct scenario_def *d = NULL;

    for (i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        if (strlen(scenarios[i].name) == n &&
            memcmp(scenarios[i].name, spec, n) == 0)
            d = &scenarios[i];
    }
    if (!d) {
        fprintf(stderr, "faultsrv: unknown scenario '%.*s'\n", (int)n, spec);
        usage(stderr);
        exit(2);
    }
    cfg.def = d;
    cfg.arg = colon ? parse_long(colon + 1, d->min, d->max, "scenario ARG")
                    : d->def;
    if ((d->sc == SC_REDIRECT || d->sc == SC_REDIRECT_ABS ||
         d->sc == SC_REDIRECT_OTHER || d->sc == SC_REDIRECT_LOOP) &&
        cfg.arg != 301 && cfg.arg != 302 && cfg.arg != 303 &&
        cfg.arg != 307 && cfg.arg != 308) {
        fprintf(stderr, "faultsrv: redirect code must be 301, 302, 303, 307"
                        " or 308\n");
        exit(2);
    }
}

static void
parse_args(int argc, char **argv)
{
    int i;

    cfg.def = &scenarios[0];
    cfg.other_host = "127.0.0.1";
    cfg.seed = 1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        int left = argc - i - 1;

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "--tls") && left >= 2) {
            cfg.cert = argv[++i];
            cfg.key = argv[++i];
        } else if (left < 1) {
            break;
        } else if (!strcmp(a, "--port-file")) {
            cfg.port_file = argv[++i];
        } else if (!strcmp(a, "--www")) {
            cfg.www = argv[++i];
        } else if (!strcmp(a, "--scenario")) {
            parse_scenario(argv[++i]);
        } else if (!strcmp(a, "--log")) {
            cfg.log_path = argv[++i];
        } else if (!strcmp(a, "--seed")) {
            cfg.seed = (unsigned long long)parse_long(argv[++i], 0, LONG_MAX,
                                                      "--seed");
        } else if (!strcmp(a, "--other-port")) {
            cfg.other_port = parse_long(argv[++i], 1, 65535, "--other-port");
        } else if (!strcmp(a, "--other-host")) {
            cfg.other_host = argv[++i];
        } else if (!strcmp(a, "--max-seconds")) {
            cfg.max_seconds = parse_long(argv[++i], 0, 1000000,
                                         "--max-seconds");
        } else {
            break;
        }
    }
    if (i < argc) {
        fprintf(stderr, "faultsrv: bad or incomplete option '%s'\n", argv[i]);
        usage(stderr);
        exit(2);
    }
    if (!cfg.port_file || !cfg.www) {
        usage(stderr);
        exit(2);
    }
    if ((cfg.def->sc == SC_REDIRECT_OTHER ||
         cfg.def->sc == SC_REDIRECT_DOWNGRADE) &&
        !cfg.other_port) {
        fprintf(stderr, "faultsrv: %s needs --other-port\n", cfg.def->name);
        exit(2);
    }
}

int
main(int argc, char **argv)
{
    struct epoll_event evs[64];
    struct sigaction sa;
    struct rlimit rl;
    sigset_t block, waitmask;
    long long now, end_at = 0, next;
    int lfd, n, i, timeout;
    size_t k;

    parse_args(argc, argv);
    rng_state = cfg.seed ^ 0x9E3779B97F4A7C15ULL;
    if (!rng_state)
        rng_state = 1;
    seen_ids = calloc(SEEN_CAP, sizeof *seen_ids);
    if (!seen_ids)
        die("out of memory");
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max &&
        rl.rlim_cur < MAX_CONNS + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (cfg.log_path) {
        log_fp = fopen(cfg.log_path, "a");
        if (!log_fp)
            die("cannot open %s: %s", cfg.log_path, strerror(errno));
        setvbuf(log_fp, NULL, _IOLBF, 0);
    }

    /* SIGTERM/SIGINT are blocked except inside epoll_pwait, so a signal
       cannot slip in between the stop_flag check and the wait. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* SSL writes use write(), not MSG_NOSIGNAL */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);

    if (cfg.cert)
        tls_setup();
    lfd = listen_setup();
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1: %s", strerror(errno));
    memset(&evs[0], 0, sizeof evs[0]);
    evs[0].events = EPOLLIN;
    evs[0].data.u64 = 0;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &evs[0]) < 0)
        die("epoll_ctl: %s", strerror(errno));
    logmsg("listen %d scenario %s:%ld tls %d seed %llu\n", listen_port,
           cfg.def->name, cfg.arg, ssl_ctx != NULL, cfg.seed);
    if (cfg.def->sc == SC_GZIP_BOMB || cfg.def->sc == SC_GZIP_BOMB_SPACES)
        make_bomb(cfg.arg, cfg.def->sc == SC_GZIP_BOMB ? 0 : ' ');
    write_port_file();
    if (cfg.max_seconds)
        end_at = now_ms() + cfg.max_seconds * 1000;

    while (!stop_flag) {
        now = now_ms();
        if (end_at && now >= end_at)
            break;
        next = end_at;
        for (k = 0; k < MAX_CONNS; k++) {
            struct conn *c = &conns[k];

            if (!c->used)
                continue;
            if (c->tick_at && (!next || c->tick_at < next))
                next = c->tick_at;
            if (c->deadline && (!next || c->deadline < next))
                next = c->deadline;
        }
        timeout = !next ? -1 : next <= now ? 0 : (int)(next - now);
        n = epoll_pwait(epfd, evs, 64, timeout, &waitmask);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_pwait: %s", strerror(errno));
        }
        for (i = 0; i < n; i++) {
            struct conn *c;

            if (evs[i].data.u64 == 0) {
                do_accept(lfd);
                continue;
            }
            c = &conns[evs[i].data.u64 - 1];
            /* A slot closed earlier in this batch is not reused until
               the reaping below, so a stale event finds it dead. */
            if (c->used && !c->dead)
                conn_event(c, evs[i].events);
        }
        now = now_ms();
        for (k = 0; k < MAX_CONNS; k++) {
            if (conns[k].used && !conns[k].dead)
                conn_timer(&conns[k], now);
        }
        for (k = 0; k < MAX_CONNS; k++) {
            if (conns[k].used && conns[k].dead)
                conns[k].used = 0;
        }
    }

    for (k = 0; k < MAX_CONNS; k++) {
        if (conns[k].used && !conns[k].dead)
            close_conn(&conns[k], "shutdown");
    }
    close(lfd);
    close(epfd);
    SSL_CTX_free(ssl_ctx);
    free(seen_ids);
    free(filebuf.base);
    free(zbuf.base);
    free(bomb.base);
    logmsg("exit\n");
    if (log_fp)
        fclose(log_fp);
    return 0;
}
