/*
 * transport_curl - the same interface as transport_h1, with libcurl's
 * multi interface as the transport (make pokefetch-curl). Everything above
 * it is shared with the hand-written build: the scheduler, the output and
 * the exit status; and so is everything below HTTP that decides what a
 * user sees: the trust store and name check (tlsio), the resolver (net),
 * the Content-Encoding decoder and the streaming extractor, fed from
 * libcurl's write callback, so memory still does not follow the body size.
 * libcurl does TCP, TLS and HTTP/1.1 framing (HTTP/2 with --http2). That
 * makes a comparison of the two builds a comparison of transports only,
 * and the two builds print the same thing for the same server (README:
 * "The two builds side by side" lists where they cannot).
 *
 * Mapping of pokefetch's options onto libcurl:
 *   -c N            N easy handles for the template's host, so at most N
 *                   transfers and connections to it at once, and one more
 *                   for each host a redirect names (as transport_h1)
 *   -p DEPTH        refused above 1: libcurl removed HTTP/1.1 pipelining
 *                   in 7.65.0 (max_pipeline below makes cli say so)
 *   --http2         HTTP/2 by ALPN (CURL_HTTP_VERSION_2TLS: a server
 *                   without h2 gets HTTP/1.1), multiplexed (CURLPIPE_
 *                   MULTIPLEX) with CURLOPT_PIPEWAIT, so transfers wait for
 *                   the first connection to say it multiplexes rather than
 *                   each opening one: -c N then caps the connections to
 *                   the template's host (CURLMOPT_MAX_HOST_CONNECTIONS),
 *                   and N x H2_STREAMS transfers run at once; libcurl opens
 *                   another connection only when one is full of streams.
 *                   Without it, HTTP/1.1 only, as the hand-written build.
 *   --no-keepalive  CURLOPT_FORBID_REUSE + "Connection: close"
 *   --cacert FILE, SSL_CERT_FILE, SSL_CERT_DIR
 *                   the trust store is tlsio's, loaded once at open (so
 *                   an unreadable file is one error before anything is
 *                   sent) and handed to each of libcurl's SSL_CTXs, with
 *                   the host name (or IP) to check, in CURLOPT_SSL_CTX_
 *                   FUNCTION; libcurl itself loads no CA file
 *   -k              CURLOPT_SSL_VERIFYPEER and _VERIFYHOST off
 *   --keylog FILE, SSLKEYLOGFILE
 *                   tlsio's key log, set on each of libcurl's SSL_CTXs in
 *                   CURLOPT_SSL_CTX_FUNCTION (replacing libcurl's own
 *                   callback); tlsio_keylog_open, called by cli before
 *                   the transport opens, has removed SSLKEYLOGFILE from
 *                   the environment, so curl_global_init opens no file of
 *                   its own from it and each line is written once
 *   --connect-timeout  CURLOPT_CONNECTTIMEOUT_MS (TCP + TLS)
 *   --idle-timeout  kept here: a transfer that has sent its request and
 *                   received no byte for that long is removed (the wait
 *                   wakes at the deadline), to the millisecond
 *   --compressed    our Accept-Encoding header, CURLOPT_HTTP_CONTENT_
 *                   DECODING off: the body is decoded by decode, as in the
 *                   hand-written build
 *   --max-body      counted in the write callback, on the wire (after
 *                   de-chunking) and after decoding
 *   --retries       connect attempts per origin, transport.h's rule
 *   -v, --trace     the run's timeline, from libcurl's callbacks
 *                   ("Observation" below); only then CURLOPT_VERBOSE
 *                   with a debug callback, for the request heads
 * The host names of the template and of redirects are resolved by net
 * (once, blocking, like the hand-written build) and given to libcurl with
 * CURLOPT_RESOLVE. No proxy is used, whatever the environment says
 * (CURLOPT_PROXY ""), as the hand-written build never uses one.
 *
 * Connect attempts: libcurl tries every address of a host within one
 * transfer, so each transfer whose connection fails (before the request
 * could be sent) is one attempt of its origin; the job goes back free.
 * Out of file descriptors (the socket callback sees EMFILE) with
 * connections open, the number of transfers is lowered to the number of
 * sockets open, said once, and the job goes back free.
 */
#include "transport.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conn.h" /* CONN_ERROR_BODY_MAX: the same limit */
#include "decode.h"
#include "h1.h" /* H1_MAX_CODING and its message: the same limit */
#include "jfield.h"
#include "loop.h"
#include "net.h"
#include "origin.h"
#include "timeline.h"
#include "tlsio.h"

#define URL_CAP (URL_MAX_HOST + 32 + URL_MAX_TARGET)
/* --http2: transfers at once per connection -c allows. nginx's
   http2_max_concurrent_streams is 128 (RFC 9113 asks servers for at
   least 100); a server that allows fewer makes libcurl queue the rest. */
#define H2_STREAMS 128
#define REASON_LEN (CURL_ERROR_SIZE + 96)

/* The SSL_CTX ex_data slots that lead a handshake's callback back to its
   transport and, when the run is observed, to its socket (OpenSSL hands
   out slots per process). */
static int tls_ctx_slot = -1;
static int tls_sock_slot = -1;

/* Why a callback stopped a transfer. */
enum stop { STOP_NONE = 0, STOP_ERROR_BODY, STOP_TOO_BIG, STOP_CODING_LONG };

/* Which stage gave up on a body first (as conn.c). */
enum { BODY_FAILED_JSON = 1, BODY_FAILED_DECODE = 2 };

/* A scheme + host + port (include/origin.h) and its URL prefix for
   libcurl; origins[0] is the template's. */
struct curl_origin {
    struct origin o;
    char prefix[URL_MAX_HOST + 32]; /* scheme://authority */
    size_t prefix_len;
};

static void
set_prefix(struct curl_origin *org)
{
    /* Built by copies: both strings live in org, which snprintf's
       restrict contract (and GCC's check of it) does not like. */
    const char *scheme = org->o.tls ? "https://" : "http://";
    size_t n = strlen(scheme);
    memcpy(org->prefix, scheme, n);
    memcpy(org->prefix + n, org->o.authority, org->o.authority_len);
    org->prefix_len = n + org->o.authority_len;
    org->prefix[org->prefix_len] = '\0';
}

struct transfer_watch;

struct transfer {
    struct transport *t;
    CURL *easy;
    int active;
    uint32_t job;
    unsigned origin;
    int connected;   /* the request could be sent (PREREQFUNCTION) */
    int no_fd;       /* the socket callback found no descriptor */
    long status;     /* final status, once its headers are in */
    int extracting;  /* 200 with a coding decode knows */
    int body_failed; /* BODY_FAILED_* */
    enum stop stop;
    uint64_t wire;   /* body bytes received (after de-chunking) */
    int64_t last_rx; /* the idle clock: last byte, or when connected */
    char coding[H1_MAX_CODING + 1]; /* Content-Encoding, lines joined */
    struct decoder dec;
    struct jf_extractor jf;
    char value[JF_MAX_VALUE];
    char errbuf[CURL_ERROR_SIZE];
    char url[URL_CAP];
    struct transfer_watch *watch; /* NULL unless the run is observed */
};

struct transport {
    const struct fetch_config *cfg;
    const struct transport_events *ev;
    CURLM *multi;
    CURLSH *share;
    struct curl_slist *headers;
    struct curl_slist *resolve; /* host:port:addresses from net */
    /* n_main handles for the template's origin, then one for each origin
       a redirect names (xfers[n_main + k - 1] for origin k), as the
       hand-written build gives each such origin a connection of its own
       beyond -c. */
    struct transfer *xfers;
    struct decode_arenas arenas; /* one per transfer, touched as used */
    unsigned n_main;
    unsigned n_xfers;     /* n_main + TRANSPORT_MAX_ORIGINS - 1 */
    unsigned main_active; /* transfers of the main pool */
    unsigned max_active;  /* n_main, lower once out of descriptors */
    unsigned n_sockets;   /* open now */
    struct curl_origin origins[TRANSPORT_MAX_ORIGINS];
    unsigned n_origins;
    struct tlsio_ctx tls; /* the trust store, for every https origin */
    int tls_open;
    int fatal;
    struct fetch_stats *st;
    /* Observed runs only (cfg->timeline): the run's timeline, and the
       sockets libcurl has open, n_socks slots. */
    struct timeline *tl;
    struct watched_sock *socks;
    unsigned n_socks;
    int closing; /* curl_close: what closes now, pokefetch closes */
};

static void
fatal(struct transport *t, const char *err)
{
    if (t->fatal)
        return;
    t->fatal = 1;
    t->ev->on_fatal(t->ev->owner, err);
}

/* The Content-Encoding lines of the final response, joined with ", " as
   h1 joins them, into out (H1_MAX_CODING + 1 bytes). Returns 0, or -1 if
   they are longer than H1_MAX_CODING. */
static int
content_coding(CURL *e, char *out)
{
    struct curl_header *h;
    size_t i, n = 0, amount = 1;

    out[0] = '\0';
    for (i = 0; i < amount; i++) {
        size_t len;

        if (curl_easy_header(e, "Content-Encoding", i, CURLH_HEADER, -1, &h) !=
            CURLHE_OK)
            break;
        amount = h->amount;
        len = strlen(h->value);
        if (n + (n ? 2 : 0) + len > H1_MAX_CODING)
            return -1;
        if (n) {
            memcpy(out + n, ", ", 2);
            n += 2;
        }
        memcpy(out + n, h->value, len + 1);
        n += len;
    }
    return 0;
}

/*
 * --- Observation (include/timeline.h). Nothing here runs unless the run
 * is observed: only then does curl_open give each transfer a struct
 * transfer_watch and the transport its table of sockets, and setup_easy
 * ask libcurl for the request heads it writes.
 *
 * libcurl shows no connection object: a connection is known here by its
 * socket, from the open-socket callback to the close-socket one, and a
 * transfer is bound to one only when libcurl is about to send its request
 * (PREREQFUNCTION, whose peer and local port name the socket;
 * CURLINFO_ACTIVESOCKET names the last connection a transfer kept, not
 * the one it is on). Each moment is read from the run's clock in the
 * callback that sees it, so the two builds' timelines are on one clock:
 *   connect     the open-socket callback
 *   TCP up      https: the SSL_CTX callback, which libcurl calls as it
 *               starts the handshake, in the step that saw the connect
 *               complete; http: PREREQFUNCTION, in that same step
 *   TLS up      OpenSSL's info callback, at SSL_CB_HANDSHAKE_DONE
 *   queued,     the debug callback's CURLINFO_HEADER_OUT, once the
 *   sent        request head is written: its bytes exactly, and the
 *               record queued since the submit (tl_queued_since)
 *   first byte  the first header line libcurl hands over (the read that
 *               brought the first byte, unless the server dribbles)
 *   head        the empty line that ends the final head
 *   last byte   the last bytes the header or write callback got (libcurl
 *               hands the finished transfer back only when its turn
 *               ends: tl_done_at)
 * libcurl's CURLINFO_*_TIME_T are not used: they count from a start it
 * does not show (its first turn after the submit, not the submit), and
 * 7.88 adds up its attempts' when it reconnects by itself.
 *
 * A socket that closes while a transfer opens or uses it is "parked" on
 * that transfer: its close is said with the transfer's outcome, which
 * tells why it closed, after the request's end (as conn.c orders them).
 */

/* A socket libcurl opened. */
struct watched_sock {
    int fd;              /* -1: a free slot */
    uint16_t local_port; /* 0 until looked up */
    uint32_t conn;       /* its tl_conn record */
    struct transfer *on; /* the transfer opening or using it; NULL while
                            it waits in libcurl's cache */
};

struct transfer_watch {
    int64_t submit_us;         /* handed to the transport (tl_now) */
    struct watched_sock *sock; /* its connection, once bound */
    uint32_t rec;              /* its tl_request; TL_NONE before */
    uint32_t parked;           /* a socket of its that closed; TL_NONE */
    int parked_errno;          /* that socket's SO_ERROR as it closed */
    int64_t last_us;           /* the response's last byte so far */
    int in_head;               /* a response head is being read */
    size_t head_len;
    char head[TL_MAX_HEAD]; /* the response head as received */
};

/* The empty line that ends a head (the header callback's view). */
static int
head_end(const char *data, size_t len)
{
    return len <= 2 && (data[0] == '\r' || data[0] == '\n');
}

/* The slot of socket fd (-1: a free slot), or NULL. */
static struct watched_sock *
sock_with_fd(struct transport *t, int fd)
{
    unsigned i;

    for (i = 0; i < t->n_socks; i++)
        if (t->socks[i].fd == fd)
            return &t->socks[i];
    return NULL;
}

static uint16_t
local_port(int fd)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof a;

    if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        return 0;
    if (a.ss_family == AF_INET6)
        return ntohs(
            ((const struct sockaddr_in6 *)(const void *)&a)->sin6_port);
    if (a.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)(const void *)&a)->sin_port);
    return 0;
}

/* The socket connected from local_port to ip:port, or NULL. */
static struct watched_sock *
sock_between(struct transport *t, const char *ip, int port, int local)
{
    char peer[INET6_ADDRSTRLEN + 16];
    unsigned i;

    snprintf(peer, sizeof peer, strchr(ip, ':') ? "[%s]:%d" : "%s:%d", ip,
             port);
    for (i = 0; i < t->n_socks; i++) {
        struct watched_sock *s = &t->socks[i];
        const struct tl_conn *c = tl_conn_at(t->tl, s->conn);

        if (s->fd < 0 || !c)
            continue;
        if (!s->local_port)
            s->local_port = local_port(s->fd);
        if (s->local_port == local && strcmp(c->peer, peer) == 0)
            return s;
    }
    return NULL;
}

/* x's parked socket is closed, why and err said. */
static void
settle(struct transfer *x, enum conn_end why, const char *err)
{
    struct transfer_watch *w = x->watch;

    if (w->parked == TL_NONE)
        return;
    tl_close(x->t->tl, w->parked, why, err);
    w->parked = TL_NONE;
}

/* x goes on without its parked socket: why it closed, from how far it
   got (up: libcurl found the kept-alive connection closed and sends the
   request again; never up: it tried the next address). */
static void
settle_left(struct transfer *x)
{
    struct transfer_watch *w = x->watch;
    const struct tl_conn *c = tl_conn_at(x->t->tl, w->parked);
    char err[CONN_ERR_LEN];

    if (c && c->tcp_us >= 0) {
        settle(x, CONN_END_EOF, "connection closed before the response");
    } else if (c && w->parked_errno) {
        snprintf(err, sizeof err, "connect to %s: %s", c->peer,
                 strerror(w->parked_errno));
        settle(x, CONN_END_CONNECT, err);
    } else {
        settle(x, CONN_END_LOCAL,
               "closed by libcurl before it connected: it tried another "
               "address");
    }
}

/* libcurl takes x to another socket (the next address, or a new
   connection after the kept-alive one it sent on turned out closed):
   what x leaves behind ends. */
static void
watch_moved_on(struct transfer *x)
{
    struct transfer_watch *w = x->watch;

    if (w->rec != TL_NONE) {
        tl_lost(x->t->tl, w->rec,
                "connection closed before the response; libcurl sends the "
                "request again by itself");
        w->rec = TL_NONE;
        w->in_head = 1;
        w->head_len = 0;
    }
    settle_left(x);
    if (w->sock) {
        w->sock->on = NULL;
        w->sock = NULL;
    }
}

/* x opened socket fd to sa: a new connection record. */
static void
watch_open(struct transfer *x, int fd, const struct sockaddr *sa)
{
    struct transport *t = x->t;
    struct watched_sock *s;
    char peer[80];

    if (!x->watch)
        return;
    watch_moved_on(x);
    s = sock_with_fd(t, -1);
    if (!s)
        return; /* more sockets at once than foreseen: not shown */
    net_addr_text(sa, peer, sizeof peer);
    s->conn = tl_connect(t->tl, x->origin, t->origins[x->origin].o.tls, peer);
    s->fd = fd;
    s->local_port = 0;
    s->on = x;
}

/* s is closing with x on it: its close waits for x's outcome. An earlier
   one still parked was an address x gave up. */
static void
park(struct transfer *x, struct watched_sock *s, int fd)
{
    struct transfer_watch *w = x->watch;
    socklen_t len = sizeof w->parked_errno;

    settle_left(x);
    w->parked = s->conn;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &w->parked_errno, &len) < 0)
        w->parked_errno = 0;
    if (w->sock == s)
        w->sock = NULL;
}

/* libcurl closes a socket no transfer uses: it found the server had
   closed it (the end, or TLS close_notify, waits to be read), or it let
   it go itself (its cache of idle connections was full). */
static void
closed_idle(struct transport *t, uint32_t conn, int fd)
{
    char b, err[CONN_ERR_LEN];
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

    if (n >= 0) {
        tl_close(t->tl, conn, CONN_END_EOF,
                 "connection closed by server while idle");
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        tl_close(t->tl, conn, CONN_END_LOCAL, "closed by libcurl while idle");
    } else {
        snprintf(err, sizeof err, "connection lost while idle: %s",
                 strerror(errno));
        tl_close(t->tl, conn, CONN_END_ERROR, err);
    }
}

/* libcurl is about to close socket fd. */
static void
watch_close(struct transport *t, int fd)
{
    struct watched_sock *s = t->socks && fd >= 0 ? sock_with_fd(t, fd) : NULL;
    struct transfer *x;

    if (!s)
        return;
    x = s->on;
    s->fd = -1;
    s->on = NULL;
    if (t->closing)
        tl_close(t->tl, s->conn, CONN_END_LOCAL, "closed by pokefetch");
    else if (x)
        park(x, s, fd);
    else
        closed_idle(t, s->conn, fd);
}

/* x's new connection is connected and its TLS handshake starts (ctx is
   the connection's own SSL_CTX): the socket x opened that is not up yet
   (libcurl has closed the others it tried). */
static void
watch_handshake(struct transfer *x, SSL_CTX *ctx)
{
    struct transport *t = x->t;
    unsigned i;

    if (!x->watch)
        return;
    watch_moved_on(x);
    for (i = 0; i < t->n_socks; i++) {
        struct watched_sock *s = &t->socks[i];
        const struct tl_conn *c = tl_conn_at(t->tl, s->conn);

        if (s->fd >= 0 && s->on == x && c && c->tcp_us < 0) {
            tl_tcp_up(t->tl, s->conn);
            SSL_CTX_set_ex_data(ctx, tls_sock_slot, s);
            return;
        }
    }
}

/* A handshake of an observed run is done. */
static void
watch_tls_up(struct transport *t, const SSL *ssl)
{
    struct watched_sock *s;
    const struct tl_conn *c;
    struct tl_tls_info info;
    struct tlsio io;

    if (!t->tl)
        return;
    s = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_sock_slot);
    c = s ? tl_conn_at(t->tl, s->conn) : NULL;
    if (!c || c->tls_us >= 0)
        return;
    /* tlsio_info only reads; OpenSSL's getters for the group and ALPN
       take a non-const SSL. */
    io.ssl = (SSL *)(uintptr_t)ssl;
    io.unclean_eof = 0;
    tlsio_info(&io, &info);
    tl_tls_up(t->tl, s->conn, &info);
}

/* x's request is about to leave on the connection from local_port to
   ip:port. */
static void
watch_bound(struct transfer *x, const char *ip, int port, int local)
{
    struct transport *t = x->t;
    struct watched_sock *s;
    const struct tl_conn *c;

    if (!x->watch)
        return;
    watch_moved_on(x);
    s = sock_between(t, ip, port, local);
    if (!s)
        return;
    s->on = x;
    x->watch->sock = s;
    c = tl_conn_at(t->tl, s->conn);
    if (c->tcp_us < 0) /* plain http: connected in this same step */
        tl_tcp_up(t->tl, s->conn);
}

/* x's request record, made at its first sign on the connection it is
   bound to, or the one it opened and lost: head is what libcurl wrote,
   NULL if it wrote nothing. TL_NONE without a connection. */
static uint32_t
watch_record(struct transfer *x, const char *head, size_t len)
{
    struct transfer_watch *w = x->watch;
    struct transport *t = x->t;
    size_t skip = t->origins[x->origin].prefix_len;
    uint32_t conn = w->sock ? w->sock->conn : w->parked;

    if (w->rec == TL_NONE && conn != TL_NONE)
        w->rec = tl_queued_since(t->tl, w->submit_us, conn, x->job,
                                 t->cfg->ids[x->job], 0, x->url + skip,
                                 strlen(x->url) - skip, head, len);
    return w->rec;
}

/* The request head libcurl wrote (set only when observed; libcurl calls
   it only with CURLOPT_VERBOSE). The first write is "sent": a head that
   needs a second write (never for a GET this size) is shown as far as
   the first went. */
static int
on_debug(CURL *e, curl_infotype type, char *data, size_t size, void *arg)
{
    struct transfer *x = arg;

    (void)e;
    if (type == CURLINFO_HEADER_OUT && x->watch->rec == TL_NONE)
        tl_sent(x->t->tl, watch_record(x, data, size));
    return 0;
}

/* Whether a field name of the final response has token among its
   comma-separated values (case-insensitive, as RFC 9110 compares them). */
static int
has_token(CURL *e, const char *name, const char *token)
{
    struct curl_header *h;
    size_t i, amount = 1, n = strlen(token);

    for (i = 0; i < amount; i++) {
        const char *v;

        if (curl_easy_header(e, name, i, CURLH_HEADER, -1, &h) != CURLHE_OK)
            return 0;
        amount = h->amount;
        for (v = h->value; *v; v += *v == ',') {
            v += strspn(v, " \t");
            if (strncasecmp(v, token, n) == 0 && strchr(" \t,", v[n]))
                return 1;
            v += strcspn(v, ",");
        }
    }
    return 0;
}

/* How the final response's body is delimited (as h1 tells it; an HTTP/2
   stream without Content-Length ends with its last DATA frame). */
enum frame {
    FRAME_CHUNKED,
    FRAME_LENGTH,
    FRAME_NONE,
    FRAME_TO_CLOSE,
    FRAME_H2_STREAM
};

static enum frame
frame_of(struct transfer *x, long status, curl_off_t *len)
{
    long version = 0;

    *len = -1;
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, len);
    curl_easy_getinfo(x->easy, CURLINFO_HTTP_VERSION, &version);
    if (has_token(x->easy, "Transfer-Encoding", "chunked"))
        return FRAME_CHUNKED;
    if (*len >= 0)
        return FRAME_LENGTH;
    if (status == 204 || status == 304)
        return FRAME_NONE;
    return version == CURL_HTTP_VERSION_2_0 ? FRAME_H2_STREAM : FRAME_TO_CLOSE;
}

/* How the final response's body is framed and coded, in conn.c's words. */
static const char *
framing(struct transfer *x, long status, char *out, size_t cap)
{
    static const char *const words[] = {"chunked", "Content-Length", "no body",
                                        "body until the connection closes",
                                        "body until the HTTP/2 stream ends"};
    char coding[H1_MAX_CODING + 1];
    curl_off_t len;
    enum frame f = frame_of(x, status, &len);
    int n = snprintf(out, cap, "%s", words[f]);

    if (f == FRAME_LENGTH && n > 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, " %lld", (long long)len);
    if (content_coding(x->easy, coding) == 0 && coding[0] && n > 0 &&
        (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, ", Content-Encoding %s", coding);
    return out;
}

/* A header line of x's response (interim ones' too): kept as received;
   the empty line that ends the final head is its event. */
static void
watch_header(struct transfer *x, const char *data, size_t len)
{
    struct transfer_watch *w = x->watch;
    char what[64 + H1_MAX_CODING];
    long status = 0;
    size_t n;

    if (!w || !w->in_head)
        return;
    w->last_us = tl_now(x->t->tl);
    if (w->head_len == 0)
        tl_first_byte(x->t->tl, w->rec);
    n = len < TL_MAX_HEAD - w->head_len ? len : TL_MAX_HEAD - w->head_len;
    memcpy(w->head + w->head_len, data, n);
    w->head_len += n;
    if (!head_end(data, len))
        return;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200)
        return; /* an interim response: the final head follows */
    w->in_head = 0;
    tl_head(x->t->tl, w->rec, (int)status,
            framing(x, status, what, sizeof what), w->head, w->head_len);
}

/* How a connection that closed with x's complete response ended: the
   server said so, or its body ended with it; else pokefetch asked
   (--no-keepalive). */
static enum conn_end
closed_after(struct transfer *x, const char **why)
{
    curl_off_t len;

    if (has_token(x->easy, "Connection", "close") ||
        frame_of(x, x->status, &len) == FRAME_TO_CLOSE) {
        *why = "server closed the connection";
        return CONN_END_ANNOUNCED;
    }
    *why = "closed by pokefetch";
    return CONN_END_LOCAL;
}

/* x's transfer is over: its request ended with outcome (TL_UNANSWERED:
   err says why), then its parked socket, if any, closed (why, err). Its
   connection, if kept, goes back to libcurl's cache. */
static void
watch_end(struct transfer *x, enum tl_outcome outcome, enum conn_end why,
          const char *err)
{
    struct transfer_watch *w = x->watch;
    struct transport *t = x->t;
    long head_bytes = 0;
    unsigned i;

    if (!w)
        return;
    if (outcome == TL_UNANSWERED) {
        tl_lost(t->tl, watch_record(x, NULL, 0), err);
    } else {
        /* As received, but without chunked framing: libcurl takes it
           off before the body reaches us. */
        curl_easy_getinfo(x->easy, CURLINFO_HEADER_SIZE, &head_bytes);
        tl_done_at(t->tl, w->last_us, w->rec, outcome, (int)x->status,
                   (uint64_t)head_bytes + x->wire,
                   x->extracting ? x->dec.produced : x->wire, w->head,
                   w->head_len);
    }
    settle(x, why, err);
    for (i = 0; i < t->n_socks; i++)
        if (t->socks[i].on == x)
            t->socks[i].on = NULL;
    w->sock = NULL;
    w->rec = TL_NONE;
}

/* x is handed a new request. */
static void
watch_submit(struct transfer *x)
{
    struct transfer_watch *w = x->watch;

    if (!w)
        return;
    w->submit_us = tl_now(x->t->tl);
    w->sock = NULL;
    w->rec = w->parked = TL_NONE;
    w->last_us = -1;
    w->in_head = 1;
    w->head_len = 0;
}

/* An observed run's memory, taken once: a watch per transfer and a slot
   per socket that can be open at once (one connection per transfer,
   each of which may be trying two addresses, and those in libcurl's
   cache). Returns 0, or -1 if out of memory. */
static int
watch_open_all(struct transport *t)
{
    unsigned i;

    if (!t->tl)
        return 0;
    if (tls_sock_slot < 0)
        tls_sock_slot = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    t->n_socks = 3 * t->n_xfers + 8;
    t->socks = malloc(t->n_socks * sizeof *t->socks);
    if (!t->socks)
        return -1;
    for (i = 0; i < t->n_socks; i++) {
        t->socks[i].fd = -1;
        t->socks[i].on = NULL;
    }
    for (i = 0; i < t->n_xfers; i++) {
        t->xfers[i].watch = calloc(1, sizeof *t->xfers[i].watch);
        if (!t->xfers[i].watch)
            return -1;
        t->xfers[i].watch->rec = t->xfers[i].watch->parked = TL_NONE;
    }
    return 0;
}

/* Origin o resolved (since t0_us, on loop_now_us) to a: observed, it is
   named and the answer is an event, as transport_h1 says it. */
static void
watch_resolved(struct transport *t, unsigned o, const struct net_addrs *a,
               int64_t t0_us)
{
    char text[512];

    if (!t->tl)
        return;
    tl_origin(t->tl, o, t->origins[o].prefix);
    net_resolved_text(t->origins[o].o.host, a, loop_now_us() - t0_us, text,
                      sizeof text);
    tl_dns(t->tl, text);
}

/* The final response's headers are in: decide whether its body is read,
   and how (as conn.c's start_body). Returns -1 if the response is
   malformed (a Content-Encoding list h1 would refuse as too large). */
static int
start_body(struct transfer *x, long status)
{
    const struct fetch_config *cfg = x->t->cfg;

    x->status = status;
    x->extracting = 0;
    if (status != 200)
        return 0;
    if (content_coding(x->easy, x->coding) < 0) {
        x->stop = STOP_CODING_LONG;
        return -1;
    }
    if (decode_begin(&x->dec, x->coding, strlen(x->coding), cfg->max_body) !=
        DECODE_AGAIN)
        return 0; /* finish_response names the coding */
    (void)jf_begin(&x->jf, cfg->field, cfg->field_len);
    x->extracting = 1;
    return 0;
}

/* Each header line, interim responses' too: the empty line ends a block. */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct transfer *x = arg;
    size_t len = size * nmemb;
    long status = 0;

    x->last_rx = loop_now_ms();
    watch_header(x, data, len);
    if (head_end(data, len)) {
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && start_body(x, status) < 0)
            return 0; /* libcurl stops: CURLE_WRITE_ERROR */
    }
    return len;
}

/* Body bytes through the decoder into the extractor; once either fails,
   the rest is only counted. */
static void
body_bytes(struct transfer *x, const char *data, size_t len)
{
    const char *out;
    size_t out_len;
    enum decode_rc dr;

    while ((dr = decode_feed(&x->dec, &data, &len, &out, &out_len)) ==
           DECODE_OUTPUT) {
        if (jf_feed(&x->jf, out, out_len) != JF_AGAIN) {
            x->body_failed = BODY_FAILED_JSON;
            return;
        }
    }
    if (dr != DECODE_AGAIN)
        x->body_failed = BODY_FAILED_DECODE;
}

/* Body bytes as received: bounded on the wire, then decoded. Returning
   less than len makes libcurl stop with CURLE_WRITE_ERROR. */
static size_t
take_body(struct transfer *x, const char *data, size_t len)
{
    x->last_rx = loop_now_ms();
    x->wire += len;
    if (x->status != 200) {
        if (x->wire <= CONN_ERROR_BODY_MAX)
            return len;
        x->stop = STOP_ERROR_BODY;
        return 0;
    }
    if (x->wire > x->t->cfg->max_body) {
        x->stop = STOP_TOO_BIG;
        return 0;
    }
    if (x->extracting && !x->body_failed)
        body_bytes(x, data, len);
    return len;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct transfer *x = arg;
    size_t n = take_body(x, data, size * nmemb);

    if (x->watch) /* these bytes are through: the response's end so far */
        x->watch->last_us = tl_now(x->t->tl);
    return n;
}

/* The connection is up (new or reused) and the request about to leave:
   the idle clock starts. */
static int
on_prereq(void *arg, char *ip, char *local_ip, int port, int local_port)
{
    struct transfer *x = arg;

    (void)local_ip;
    x->connected = 1;
    x->last_rx = loop_now_ms();
    watch_bound(x, ip, port, local_port);
    return CURL_PREREQFUNC_OK;
}

static curl_socket_t
on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct transfer *x = arg;
    int fd;

    (void)purpose;
    fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE)
            x->no_fd = 1;
        return CURL_SOCKET_BAD;
    }
    x->t->n_sockets++;
    watch_open(x, fd, &a->addr);
    return fd;
}

static int
on_close_socket(void *arg, curl_socket_t fd)
{
    struct transport *t = arg;

    t->n_sockets--;
    watch_close(t, fd);
    return close(fd);
}

/* Each handshake's end: full or resumed, as the hand-written build
   counts them. */
static void
on_tls_info(const SSL *ssl, int where, int ret)
{
    struct transport *t;

    (void)ret;
    if (!(where & SSL_CB_HANDSHAKE_DONE))
        return;
    t = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_ctx_slot);
    if (!t)
        return;
    if (SSL_session_reused(ssl))
        t->st->handshakes_resumed++;
    else
        t->st->handshakes_full++;
    watch_tls_up(t, ssl);
}

/*
 * Each new connection's SSL_CTX, before its SSL exists: tlsio's trust
 * store and the name (or IP) the certificate must match, so verification
 * and its messages are OpenSSL's, as in the hand-written build; and
 * tlsio's key log, -k or not.
 */
static CURLcode
on_ssl_ctx(CURL *e, void *sslctx, void *arg)
{
    struct transfer *x = arg;
    struct transport *t = x->t;
    const struct curl_origin *org = &t->origins[x->origin];
    SSL_CTX *ctx = sslctx;
    X509_VERIFY_PARAM *p = SSL_CTX_get0_param(ctx);

    (void)e;
    SSL_CTX_set_ex_data(ctx, tls_ctx_slot, t);
    SSL_CTX_set_info_callback(ctx, on_tls_info);
    tlsio_keylog_attach(ctx);
    watch_handshake(x, ctx);
    if (t->cfg->insecure)
        return CURLE_OK;
    SSL_CTX_set1_cert_store(ctx, SSL_CTX_get_cert_store(t->tls.ctx));
    if (org->o.host_is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(p, org->o.host) != 1)
            return CURLE_SSL_CERTPROBLEM;
    } else {
        char name[URL_MAX_HOST + 1];

        if (!tlsio_cert_name(org->o.host, name, sizeof name) ||
            X509_VERIFY_PARAM_set1_host(p, name, 0) != 1)
            return CURLE_SSL_CERTPROBLEM;
        X509_VERIFY_PARAM_set_hostflags(p,
                                        X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
    return CURLE_OK;
}

static void
add_transfer_stats(struct transport *t, struct transfer *x)
{
    curl_off_t body = 0;
    long headers = 0, connects = 0;

    curl_easy_getinfo(x->easy, CURLINFO_SIZE_DOWNLOAD_T, &body);
    curl_easy_getinfo(x->easy, CURLINFO_HEADER_SIZE, &headers);
    curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects);
    /* Headers and bodies as received, without chunked framing. */
    t->st->bytes_rx += (uint64_t)body + (uint64_t)headers;
    t->st->conns_opened += (unsigned)connects;
}

/* The value of the final response's header name, if it came once, is
   not empty and is at most max bytes (h1 keeps no other); NULL if not,
   with *bad set if it came but cannot be used. */
static const char *
single_header(CURL *e, const char *name, size_t max, int *bad)
{
    struct curl_header *h;

    *bad = 0;
    if (curl_easy_header(e, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK)
        return NULL;
    if (h->amount != 1 || !h->value[0] || strlen(h->value) > max) {
        *bad = 1;
        return NULL;
    }
    return h->value;
}

/* Location and Retry-After, raw, as conn.c hands them up: the scheduler
   resolves the one and h1 reads the other, in both builds. */
static void
redirect_fields(struct transfer *x, struct fetch_result *r)
{
    const char *v;
    int bad;

    r->retry_after_s = -1;
    v = single_header(x->easy, "Retry-After", H1_MAX_RETRY_AFTER, &bad);
    if (v && h1_retry_after(v, strlen(v), (int64_t)time(NULL),
                            &r->retry_after_s) < 0)
        r->retry_after_s = -1;
    v = single_header(x->easy, "Location", H1_MAX_LOCATION, &bad);
    r->location = v;
    r->location_len = v ? strlen(v) : 0;
    r->location_bad = bad;
}

/* A complete response (or one cut at CONN_ERROR_BODY_MAX): its result, worded
   as conn.c's complete_response words it. */
static void
finish_response(struct transport *t, struct transfer *x)
{
    struct fetch_result r;
    char err[REASON_LEN];

    memset(&r, 0, sizeof r);
    r.status = (int)x->status;
    redirect_fields(x, &r);
    if (x->extracting) {
        enum decode_rc dr = decode_finish(&x->dec);
        enum jf_rc jr = jf_finish(&x->jf, x->value, sizeof x->value, &r.len);

        t->st->bytes_decoded += x->dec.produced;
        if (dr == DECODE_E_TOO_BIG && x->body_failed != BODY_FAILED_JSON) {
            decode_over_limit(err, sizeof err,
                              decode_identity(&x->dec) ? NULL : x->dec.name,
                              x->dec.limit);
        } else if (dr != DECODE_END && x->body_failed != BODY_FAILED_JSON) {
            snprintf(err, sizeof err, "Content-Encoding %s: %s", x->dec.name,
                     decode_strerror(dr));
        } else if (jr == JF_OK) {
            r.ok = x->jf.value_json ? FETCH_JSON : FETCH_STRING;
            r.text = x->value;
        } else {
            size_t n;

            jf_explain(&x->jf, jr, t->cfg->field, err, sizeof err);
            n = strlen(err);
            if (!decode_identity(&x->dec))
                snprintf(err + n, sizeof err - n, " of the %s-decoded body",
                         x->dec.name);
        }
    } else if (x->status == 200) {
        snprintf(err, sizeof err, "unsupported Content-Encoding: %s",
                 x->coding);
    } else {
        snprintf(err, sizeof err, "HTTP status %ld", x->status);
    }
    if (!r.ok) {
        r.text = err;
        r.len = strlen(err);
    }
    if (x->watch) {
        const char *why = "response body cut short by pokefetch";
        enum conn_end end = x->stop ? CONN_END_LOCAL : closed_after(x, &why);

        watch_end(x, r.ok ? TL_OK : TL_FAILED, end, why);
    }
    t->ev->on_result(t->ev->owner, x->job, &r);
}

/* A failed handshake as tlsio words it: "TLS handshake: " and OpenSSL's
   (or the socket's) reason, without libcurl's "OpenSSL/3.0.x: ",
   "OpenSSL SSL_connect: " or "Recv failure: " before it. */
static void
tls_reason(const char *lib, char *out, size_t cap)
{
    static const char *const prefixes[] = {"OpenSSL/", "OpenSSL SSL_connect: ",
                                           "Recv failure: ", "Send failure: "};
    const char *colon = strstr(lib, ": ");
    size_t i;

    for (i = 0; colon && i < sizeof prefixes / sizeof *prefixes; i++)
        if (strncmp(lib, prefixes[i], strlen(prefixes[i])) == 0) {
            lib = colon + 2;
            break;
        }
    snprintf(out, cap, "TLS handshake: %s", lib);
}

/* "connect to IP:PORT: reason", with the address libcurl tried last. */
static void
connect_reason(struct transport *t, struct transfer *x, CURLcode code,
               char *out, size_t cap)
{
    const struct curl_origin *org = &t->origins[x->origin];
    char *ip = NULL;
    long port = 0, os_errno = 0;
    char to[80];

    if (code == CURLE_OPERATION_TIMEDOUT) {
        snprintf(out, cap, "connect timeout after %.3g s",
                 (double)t->cfg->connect_timeout_ms / 1000);
        return;
    }
    if (code != CURLE_COULDNT_CONNECT) {
        tls_reason(x->errbuf[0] ? x->errbuf : curl_easy_strerror(code), out,
                   cap);
        return;
    }
    curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_IP, &ip);
    curl_easy_getinfo(x->easy, CURLINFO_PRIMARY_PORT, &port);
    curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os_errno);
    if (x->no_fd)
        os_errno = EMFILE;
    if (ip && ip[0] && port > 0)
        snprintf(to, sizeof to, strchr(ip, ':') ? "[%s]:%ld" : "%s:%ld", ip,
                 port);
    else
        snprintf(to, sizeof to, strchr(org->o.host, ':') ? "[%s]:%u" : "%s:%u",
                 org->o.host, (unsigned)org->o.port);
    snprintf(out, cap, "connect to %s: %s", to,
             os_errno ? strerror((int)os_errno)
                      : (x->errbuf[0] ? x->errbuf : curl_easy_strerror(code)));
}

/*
 * x's connection could not be made (transport.h's rule): one more failed
 * attempt for its origin. The job goes back free, unless the origin is
 * now out of attempts: then the template's origin ends the run, and a
 * redirect's fails this job (and every later one sent there).
 */
static void
connect_failed(struct transport *t, struct transfer *x, const char *err)
{
    struct origin *org = &t->origins[x->origin].o;

    if (origin_connect_failed(org, t->cfg->max_retries + 1, err)) {
        if (x->origin > 0) {
            transport_fail_job(t->ev, x->job, org->why);
            return;
        }
        fatal(t, org->why);
    }
    t->ev->on_unanswered(t->ev->owner, x->job, 0, err);
}

/* How many connections libcurl may have open and keep: at most one per
   handle, or (--http2) -c for the template's host and one for each other
   origin, each carrying many streams. */
static void
set_connection_limits(struct transport *t, unsigned conns)
{
    const struct fetch_config *cfg = t->cfg;

    if (cfg->http2) {
        if (conns > cfg->connections + TRANSPORT_MAX_ORIGINS - 1)
            conns = cfg->connections + TRANSPORT_MAX_ORIGINS - 1;
        curl_multi_setopt(t->multi, CURLMOPT_PIPELINING,
                          (long)CURLPIPE_MULTIPLEX);
        curl_multi_setopt(t->multi, CURLMOPT_MAX_CONCURRENT_STREAMS,
                          (long)H2_STREAMS);
        curl_multi_setopt(
            t->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
            (long)(conns < cfg->connections ? conns : cfg->connections));
    } else {
        curl_multi_setopt(t->multi, CURLMOPT_PIPELINING,
                          (long)CURLPIPE_NOTHING);
    }
    curl_multi_setopt(t->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)conns);
    curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, (long)conns);
}

/*
 * A socket found no file descriptor. With connections open, go on with as
 * many as are open (said once) and send the job again, free. Returns 0 if
 * none is open: then it is a failed connect like any other.
 */
static int
out_of_fds(struct transport *t, struct transfer *x)
{
    char msg[96];
    unsigned n = t->n_sockets;

    if (n == 0)
        return 0;
    watch_end(x, TL_UNANSWERED, CONN_END_CONNECT, "out of file descriptors");
    if (n < (t->cfg->http2 ? t->cfg->connections : t->max_active)) {
        /* Of the main pool; the rest keep theirs. HTTP/2's transfers
           share connections: only those are fewer. */
        if (!t->cfg->http2)
            t->max_active = n;
        set_connection_limits(t, n);
        snprintf(msg, sizeof msg,
                 "out of file descriptors: going on with %u connections", n);
        t->ev->on_warning(t->ev->owner, msg);
    }
    t->ev->on_unanswered(t->ev->owner, x->job, 0, "out of file descriptors");
    return 1;
}

/* libcurl's "<prefix><detail>" as "<ours>: <detail>"; 0 if lib does not
   start with prefix. */
static int
reword(const char *lib, const char *prefix, const char *ours, char *out,
       size_t cap)
{
    size_t n = strlen(prefix);

    if (strncmp(lib, prefix, n) != 0)
        return 0;
    snprintf(out, cap, "%s: %s", ours, lib + n);
    return 1;
}

/*
 * A failed read (recv 1) or write (recv 0): libcurl's "Recv failure:
 * <strerror>" or "OpenSSL SSL_read: ..." as conn.c's "read: ..." or "TLS
 * read: ..."; anything else is lib after prefix (for a read: libcurl
 * refused what it read, a chunk size say).
 */
static void
io_reason(const char *lib, int tls, int recv, const char *prefix, char *out,
          size_t cap)
{
    static const char *const curls[2][2] = {
        {"Send failure: ", "OpenSSL SSL_write: "},
        {"Recv failure: ", "OpenSSL SSL_read: "}};
    static const char *const ours[2][2] = {{"send", "TLS write"},
                                           {"read", "TLS read"}};

    if (!reword(lib, curls[recv][0], ours[recv][tls], out, cap) &&
        !reword(lib, curls[recv][1], ours[recv][1], out, cap))
        snprintf(out, cap, "%s%s", prefix, lib);
}

/* What a transfer that failed after its request left says, in the words
   of the hand-written build where the meaning is the same. */
static void
failure_reason(struct transfer *x, CURLcode code, char *out, size_t cap)
{
    const char *lib = x->errbuf[0] ? x->errbuf : curl_easy_strerror(code);
    int tls = x->t->origins[x->origin].o.tls;

    switch (code) {
    case CURLE_GOT_NOTHING:
        snprintf(out, cap, "connection closed before the response");
        return;
    case CURLE_PARTIAL_FILE:
        snprintf(out, cap, "connection closed mid-response");
        return;
    case CURLE_RECV_ERROR:
        io_reason(lib, tls, 1, "malformed response: ", out, cap);
        return;
    case CURLE_SEND_ERROR:
        io_reason(lib, tls, 0, "", out, cap);
        return;
    case CURLE_OUT_OF_MEMORY:
        /* What libcurl says when a header outgrows its buffer. */
        if (!x->status) {
            snprintf(out, cap,
                     "malformed response: header too large for "
                     "libcurl");
            return;
        }
        break;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
        snprintf(out, cap, "malformed response: %s", lib);
        return;
    default:
        break;
    }
    snprintf(out, cap, "%s", lib);
}

/* The certificate was refused: OpenSSL's reason, as tlsio words it. */
static void
verify_reason(struct transfer *x, char *out, size_t cap)
{
    long v = X509_V_OK;

    curl_easy_getinfo(x->easy, CURLINFO_SSL_VERIFYRESULT, &v);
    if (v != X509_V_OK)
        snprintf(out, cap, "certificate verify failed: %s",
                 X509_verify_cert_error_string(v));
    else
        snprintf(out, cap, "%s", x->errbuf[0] ? x->errbuf : "TLS verify");
}

static void
release(struct transport *t, struct transfer *x)
{
    x->active = 0;
    if (x < t->xfers + t->n_main)
        t->main_active--;
    curl_multi_remove_handle(t->multi, x->easy);
    add_transfer_stats(t, x);
}

/* One transfer is over: report it and free its handle for the next. */
static void
finished(struct transport *t, struct transfer *x, CURLcode code)
{
    struct curl_origin *org = &t->origins[x->origin];
    char err[REASON_LEN];

    release(t, x);
    if (x->status)
        origin_answered(&org->o);
    if (code == CURLE_OK ||
        (code == CURLE_WRITE_ERROR && x->stop == STOP_ERROR_BODY)) {
        finish_response(t, x);
        return;
    }
    if (code == CURLE_WRITE_ERROR && x->stop == STOP_TOO_BIG) {
        /* As conn.c says it: compressed, the limit was reached by the
           bytes as sent, not by what they decode to. */
        decode_over_limit(err, sizeof err - 9, x->coding[0] ? x->coding : NULL,
                          t->cfg->max_body);
        if (x->coding[0])
            strcat(err, " as sent");
        watch_end(x, TL_FAILED, CONN_END_LOCAL,
                  "response body cut short by pokefetch");
        transport_fail_job(t->ev, x->job, err);
        return;
    }
    if (code == CURLE_WRITE_ERROR && x->stop == STOP_CODING_LONG) {
        snprintf(err, sizeof err, "malformed response: %s",
                 h1_strerror(H1_E_TOO_LARGE));
        watch_end(x, TL_UNANSWERED, CONN_END_ERROR, err);
        t->ev->on_unanswered(t->ev->owner, x->job, 1, err);
        return;
    }
    if (code == CURLE_PEER_FAILED_VERIFICATION) {
        /* Untrusted: every connection would say the same. */
        verify_reason(x, err, sizeof err);
        watch_end(x, TL_UNANSWERED, CONN_END_VERIFY, err);
        if (x->origin == 0) {
            t->ev->on_unanswered(t->ev->owner, x->job, 0, err);
            fatal(t, err);
        } else {
            transport_fail_job(t->ev, x->job, err);
        }
        return;
    }
    if (!x->connected) {
        if (x->no_fd && out_of_fds(t, x))
            return;
        connect_reason(t, x, code, err, sizeof err);
        watch_end(x, TL_UNANSWERED, CONN_END_CONNECT, err);
        connect_failed(t, x, err);
        return;
    }
    /* Reset, truncation, malformed: it may be this request's fault. */
    failure_reason(x, code, err, sizeof err);
    watch_end(x, TL_UNANSWERED,
              code == CURLE_GOT_NOTHING || code == CURLE_PARTIAL_FILE
                  ? CONN_END_EOF
                  : CONN_END_ERROR,
              err);
    t->ev->on_unanswered(t->ev->owner, x->job, 1, err);
}

static int
setup_easy(struct transport *t, struct transfer *x)
{
    const struct fetch_config *cfg = t->cfg;
    CURL *e = curl_easy_init();

    x->t = t;
    x->easy = e; /* curl_close frees it, whatever fails below */
    if (!e || decode_init(&x->dec, &t->arenas) < 0)
        return -1;
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    if (cfg->http2) {
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                         (long)CURL_HTTP_VERSION_2TLS);
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    }
    curl_easy_setopt(e, CURLOPT_USERAGENT, cfg->user_agent);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, x);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, t);
    curl_easy_setopt(e, CURLOPT_SHARE, t->share);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* not even from the env */
    curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    /* libcurl loads no CA file of its own: on_ssl_ctx gives tlsio's. */
    curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
    curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    if (curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) != CURLE_OK)
        return -1; /* a libcurl not built with OpenSSL */
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, x);
    if (!cfg->keep_alive)
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    if (cfg->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    /* libcurl has no "none": 0 would be its own default of 300 s. */
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     cfg->connect_timeout_ms > 0
                         ? (long)cfg->connect_timeout_ms
                         : (long)INT_MAX);
    if (x->watch) {
        /* The request heads as written: libcurl's debug callback, which
           it calls only when verbose (its text lines are ignored). */
        curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
        curl_easy_setopt(e, CURLOPT_DEBUGDATA, x);
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    }
    return 0;
}

/*
 * Set up origin o, named already: resolve its host (net, as the
 * hand-written build; the addresses go to libcurl through
 * CURLOPT_RESOLVE) and, for the first https origin, load the trust store.
 * Returns 0 or -1 with err.
 */
static int
origin_resolve(struct transport *t, unsigned o, char *err, size_t errcap)
{
    struct curl_origin *org = &t->origins[o];
    const char *host = org->o.host;
    uint16_t port = org->o.port;
    struct net_addrs addrs;
    struct curl_slist *l;
    char entry[URL_MAX_HOST + 16 + NET_MAX_ADDRS * (INET6_ADDRSTRLEN + 3)];
    int64_t t0 = t->tl ? loop_now_us() : 0;
    size_t n;
    unsigned i;

    if (net_resolve(host, port, &addrs, err, errcap) < 0)
        return -1;
    watch_resolved(t, o, &addrs, t0);
    if (org->o.tls && !t->tls_open) {
        if (tlsio_ctx_open(&t->tls, t->cfg->cafile, t->cfg->insecure, err,
                           errcap) < 0)
            return -1;
        t->tls_open = 1;
    }
    if (org->o.host_is_ip)
        return 0; /* libcurl resolves nothing for a literal */
    n = (size_t)snprintf(entry, sizeof entry, "%s:%u:", host, (unsigned)port);
    for (i = 0; i < addrs.n && n < sizeof entry; i++) {
        char ip[INET6_ADDRSTRLEN + 16]; /* "1.2.3.4:443" or "[::1]:443" */

        net_addr_text((const struct sockaddr *)&addrs.addr[i], ip, sizeof ip);
        *strrchr(ip, ':') = '\0';
        n += (size_t)snprintf(entry + n, sizeof entry - n, "%s%s",
                              i ? "," : "", ip);
    }
    l = curl_slist_append(t->resolve, entry);
    if (!l) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    t->resolve = l;
    return 0;
}

static void
curl_close(struct transport *t)
{
    unsigned i;

    if (!t)
        return;
    /* Requests still out end here, and every connection closes now
       because pokefetch closes it (as transport_h1's conn_free). */
    for (i = 0; t->xfers && i < t->n_xfers; i++)
        if (t->xfers[i].active)
            watch_end(&t->xfers[i], TL_UNANSWERED, CONN_END_LOCAL,
                      "closed by pokefetch");
    t->closing = 1;
    for (i = 0; t->xfers && i < t->n_xfers; i++) {
        if (t->xfers[i].active)
            curl_multi_remove_handle(t->multi, t->xfers[i].easy);
        if (t->xfers[i].easy)
            curl_easy_cleanup(t->xfers[i].easy);
        decode_close(&t->xfers[i].dec);
    }
    decode_arenas_close(&t->arenas);
    /* The multi closes the connections it kept, through on_close_socket:
       t is still whole here. */
    if (t->multi)
        curl_multi_cleanup(t->multi);
    if (t->share)
        curl_share_cleanup(t->share);
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->resolve);
    if (t->tls_open)
        tlsio_ctx_close(&t->tls);
    for (i = 0; t->xfers && i < t->n_xfers; i++)
        free(t->xfers[i].watch);
    free(t->socks);
    free(t->xfers);
    free(t);
    curl_global_cleanup();
}

/* The request headers every transfer sends besides Host and User-Agent. */
static struct curl_slist *
request_headers(const struct fetch_config *cfg)
{
    const char *lines[3] = {"Accept: application/json", NULL, NULL};
    struct curl_slist *h = NULL, *l;
    char ae[96];
    unsigned i, n = 1;

    if (cfg->compressed && decode_accept_encoding) {
        snprintf(ae, sizeof ae, "Accept-Encoding: %s", decode_accept_encoding);
        lines[n++] = ae;
    }
    if (!cfg->keep_alive)
        lines[n++] = "Connection: close";
    for (i = 0; i < n; i++) {
        l = curl_slist_append(h, lines[i]);
        if (!l) {
            curl_slist_free_all(h);
            return NULL;
        }
        h = l;
    }
    return h;
}

static struct transport *
curl_open(const struct fetch_config *cfg, const struct transport_events *ev,
          struct fetch_stats *st, char *err, size_t errcap)
{
    const struct url_template *u = &cfg->tmpl;
    struct transport *t;
    unsigned i;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errcap, "libcurl initialisation failed");
        return NULL;
    }
    t = calloc(1, sizeof *t);
    if (!t) {
        curl_global_cleanup();
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    t->cfg = cfg;
    t->ev = ev;
    t->st = st;
    t->tl = cfg->timeline;
    if (tls_ctx_slot < 0)
        tls_ctx_slot = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    if (origin_set_template(&t->origins[0].o, u, cfg->url) < 0) {
        snprintf(err, errcap, "host name too long");
        goto fail;
    }
    set_prefix(&t->origins[0]);
    if (origin_resolve(t, 0, err, errcap) < 0)
        goto fail;
    t->origins[0].o.ready = 1;
    t->n_origins = 1;

    t->n_main = cfg->connections * (cfg->http2 ? H2_STREAMS : 1);
    if (t->n_main > cfg->n_ids)
        t->n_main = (unsigned)cfg->n_ids;
    t->max_active = t->n_main;
    t->n_xfers = t->n_main + TRANSPORT_MAX_ORIGINS - 1;
    t->xfers = calloc(t->n_xfers, sizeof *t->xfers);
    t->multi = curl_multi_init();
    t->share = curl_share_init();
    t->headers = request_headers(cfg);
    if (!t->xfers || !t->multi || !t->share || !t->headers ||
        decode_arenas_open(&t->arenas, t->n_xfers) < 0 ||
        watch_open_all(t) < 0) {
        snprintf(err, errcap, "out of memory");
        goto fail;
    }
    curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    set_connection_limits(t, t->n_xfers);
    /* Every handle now, the extra origins' too (they are named when a
       redirect appears): nothing is allocated in a callback. */
    for (i = 0; i < t->n_xfers; i++) {
        if (setup_easy(t, &t->xfers[i]) < 0) {
            snprintf(err, errcap,
                     "cannot create a libcurl handle (is it "
                     "built with OpenSSL?)");
            goto fail;
        }
    }
    if (cfg->insecure && u->tls)
        ev->on_warning(ev->owner, "warning: --insecure: the server's "
                                  "certificate is not verified");
    return t;
fail:
    curl_close(t);
    return NULL;
}

static void
curl_prepare(struct transport *t, size_t queued)
{
    (void)t;
    (void)queued; /* libcurl opens connections as transfers need them */
}

/* A new origin named by a redirect: resolved and checked here, at once,
   as the hand-written build does. */
static int
curl_origin(struct transport *t, const struct url_ref *ref, const char *s,
            char *err, size_t errcap)
{
    unsigned i;

    for (i = 0; i < t->n_origins; i++)
        if (origin_is(&t->origins[i].o, ref, s))
            return (int)i;
    if (t->n_origins == TRANSPORT_MAX_ORIGINS) {
        snprintf(err, errcap, "redirected to more than %d hosts",
                 TRANSPORT_MAX_ORIGINS);
        return -1;
    }
    /* Only named here, inside a callback: resolving and the trust store
       wait for the first submit (origin_ready). */
    if (origin_set_ref(&t->origins[i].o, ref, s) < 0) {
        snprintf(err, errcap, "redirect: host name too long");
        return -1;
    }
    set_prefix(&t->origins[i]);
    return (int)t->n_origins++;
}

/* An origin a redirect named is set up at its first submit, in the
   scheduler's turn, not inside a callback; if that fails, the origin is
   unreachable and its jobs fail with why. */
static void
origin_ready(struct transport *t, unsigned o)
{
    struct curl_origin *org = &t->origins[o];
    char err[REASON_LEN];

    if (org->o.ready || org->o.unreachable)
        return;
    if (origin_resolve(t, o, err, sizeof err) < 0) {
        origin_fail(&org->o, err);
        return;
    }
    org->o.ready = 1;
}

static int
curl_submit(struct transport *t, uint32_t job, int origin, const char *target,
            size_t target_len)
{
    struct curl_origin *org;
    struct transfer *x = NULL;
    unsigned i;

    if (t->fatal)
        return -EPIPE;
    if (origin < 0 || (unsigned)origin >= t->n_origins)
        return -EINVAL;
    org = &t->origins[origin];
    origin_ready(t, (unsigned)origin);
    if (org->o.unreachable) {
        transport_fail_job(t->ev, job, org->o.why);
        return 0;
    }
    if (origin > 0) {
        x = &t->xfers[t->n_main + (unsigned)origin - 1];
        if (x->active)
            return -EAGAIN;
    } else if (t->main_active < t->max_active) {
        for (i = 0; i < t->n_main && !x; i++)
            if (!t->xfers[i].active)
                x = &t->xfers[i];
    }
    if (!x)
        return -EAGAIN;
    if (org->prefix_len + target_len + 1 > sizeof x->url)
        return -ENAMETOOLONG;
    memcpy(x->url, org->prefix, org->prefix_len);
    memcpy(x->url + org->prefix_len, target, target_len);
    x->url[org->prefix_len + target_len] = '\0';
    curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
    curl_easy_setopt(x->easy, CURLOPT_RESOLVE, t->resolve);
    x->job = job;
    x->origin = (unsigned)origin;
    x->connected = 0;
    x->no_fd = 0;
    x->status = 0;
    x->extracting = 0;
    x->body_failed = 0;
    x->stop = STOP_NONE;
    x->wire = 0;
    x->last_rx = loop_now_ms();
    x->coding[0] = '\0';
    x->errbuf[0] = '\0';
    watch_submit(x);
    if (curl_multi_add_handle(t->multi, x->easy) != CURLM_OK)
        return -ENOMEM;
    x->active = 1;
    if (origin == 0)
        t->main_active++;
    if (t->st->deepest_pipeline < 1)
        t->st->deepest_pipeline = 1;
    return 0;
}

/* Hand every finished transfer to the scheduler; returns how many. */
static unsigned
drain_messages(struct transport *t)
{
    CURLMsg *m;
    int left;
    unsigned n = 0;

    while ((m = curl_multi_info_read(t->multi, &left))) {
        struct transfer *x = NULL;

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x && x->active) {
            finished(t, x, m->data.result);
            n++;
        }
    }
    return n;
}

/* When x runs out of --idle-timeout, or -1: only a transfer whose request
   could leave awaits a response (connecting has its own timeout). */
static int64_t
idle_deadline(const struct transport *t, const struct transfer *x)
{
    if (!x->active || !x->connected || t->cfg->idle_timeout_ms <= 0)
        return -1;
    return x->last_rx + t->cfg->idle_timeout_ms;
}

/* Transfers silent for --idle-timeout end, as the hand-written build's
   connections do: charged, the connection closed. Returns how many. */
static unsigned
expire_idle(struct transport *t)
{
    int64_t now = loop_now_ms();
    unsigned i, n = 0;
    char err[96];

    for (i = 0; i < t->n_xfers; i++) {
        struct transfer *x = &t->xfers[i];
        int64_t d = idle_deadline(t, x);

        if (d < 0 || now < d)
            continue;
        release(t, x);
        snprintf(err, sizeof err,
                 "idle timeout: no bytes from the server for %.3g s",
                 (double)t->cfg->idle_timeout_ms / 1000);
        watch_end(x, TL_UNANSWERED, CONN_END_TIMEOUT, err);
        t->ev->on_unanswered(t->ev->owner, x->job, 1, err);
        n++;
    }
    return n;
}

/* The poll's timeout in ms: at most 1 s, or libcurl's, the caller's
   deadline or the nearest idle deadline, whichever comes first. */
static int
wait_ms(struct transport *t, int64_t deadline_ms)
{
    int64_t now = loop_now_ms(), timeout = 1000;
    long curl_timeout = -1;
    unsigned i;

    curl_multi_timeout(t->multi, &curl_timeout);
    if (curl_timeout >= 0 && curl_timeout < timeout)
        timeout = curl_timeout;
    if (deadline_ms >= 0 && deadline_ms - now < timeout)
        timeout = deadline_ms - now;
    for (i = 0; i < t->n_xfers; i++) {
        int64_t d = idle_deadline(t, &t->xfers[i]);

        if (d >= 0 && d - now < timeout)
            timeout = d - now;
    }
    return timeout < 0 ? 0 : (int)timeout;
}

static int
curl_wait(struct transport *t, int64_t deadline_ms)
{
    int running = 0, numfds = 0;
    CURLMcode mc;

    mc = curl_multi_perform(t->multi, &running);
    if (mc != CURLM_OK)
        return -EIO;
    /* A finished transfer frees a slot: back to the scheduler to fill it
       before sleeping, or the next request waits out the poll. */
    if (drain_messages(t) + expire_idle(t) > 0)
        return 0;
    /* With nothing active this still sleeps until the deadline: the
       scheduler may be waiting out a server's Retry-After. */
    mc = curl_multi_poll(t->multi, NULL, 0, wait_ms(t, deadline_ms), &numfds);
    if (mc != CURLM_OK)
        return -EIO;
    mc = curl_multi_perform(t->multi, &running);
    if (mc != CURLM_OK)
        return -EIO;
    drain_messages(t);
    expire_idle(t);
    return 0;
}

static void
curl_abort(struct transport *t)
{
    unsigned i;

    for (i = 0; i < t->n_xfers; i++) {
        struct transfer *x = &t->xfers[i];

        if (!x->active)
            continue;
        release(t, x);
        watch_end(x, TL_UNANSWERED, CONN_END_LOCAL, "closed by pokefetch");
        t->ev->on_unanswered(t->ev->owner, x->job, 0, "aborted");
    }
}

/* libcurl's versions, then OpenSSL's as tlsio gives them: libcurl and
   tlsio use the one libssl of the process. */
static const char *
curl_version_text(char *out, size_t cap)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    int n = snprintf(out, cap,
                     "transport: libcurl\n"
                     "libcurl: built with %s, running %s (with %s)\n",
                     LIBCURL_VERSION, v->version,
                     v->ssl_version ? v->ssl_version : "no TLS");

    if (n > 0 && (size_t)n < cap)
        tlsio_version(out + n, cap - (size_t)n);
    return "libcurl";
}

/* Why an option is refused: the libcurl that runs lacks the call. */
static void
curl_lacks(const char *option, char *out, size_t cap)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    int early = strcmp(option, "--early-data") == 0;

    snprintf(out, cap, "it runs with libcurl %s, and %s needs libcurl %s (%s)",
             v->version, option, early ? "8.11" : "8.12",
             early ? "CURLSSLOPT_EARLYDATA" : "curl_easy_ssls_import");
}

static const struct transport_vt transport_curl = {
    .name = "libcurl",
    .max_pipeline = 1,
    .http2 = 1,
    .open = curl_open,
    .prepare = curl_prepare,
    .origin = curl_origin,
    .submit = curl_submit,
    .wait = curl_wait,
    .abort = curl_abort,
    .close = curl_close,
    .version = curl_version_text,
    .lacks = curl_lacks,
};

const struct transport_vt *const transport_default = &transport_curl;
