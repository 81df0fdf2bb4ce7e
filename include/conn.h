/*
 * conn - one client connection: its socket, its TLS state, its two
 * buffers, its FIFO of requests in flight, and the response parser and
 * field extractor for the response at the head of that FIFO.
 *
 * Life of a connection:
 *
 *   CLOSED --conn_open--> CONNECTING --TCP up--> HANDSHAKING --TLS up-->
 *   OPEN --(server closes / error / timeout / conn_close)--> CLOSED
 *
 * (plain http skips HANDSHAKING). Requests may be submitted from
 * CONNECTING on: they wait in the output buffer and leave in one write as
 * soon as the handshake is done, so pipelining costs no extra round trip.
 *
 * Responses are matched to requests by order only (RFC 9112 sec. 9.3.2).
 * Each complete response produces one on_result() call for the job at the
 * head of the FIFO. When the connection ends, on_close() is called once
 * while the jobs still in flight (sent, not answered) can be read with
 * conn_inflight_job(); the FIFO is emptied after it returns. The
 * scheduler decides what to do with them: conn never retries anything.
 *
 * Memory: everything is inside struct conn plus the two buffers given to
 * conn_init(); nothing is allocated after that, whatever the server sends
 * (OpenSSL's own per-connection state aside).
 *
 * Callbacks must not call conn_open() or conn_submit() on the connection
 * that called them; they may read it.
 */
#ifndef POKEFETCH_CONN_H
#define POKEFETCH_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "decode.h"
#include "h1.h"
#include "jfield.h"
#include "loop.h"
#include "net.h"
#include "result.h"
#include "tlsio.h"

#define CONN_MAX_PIPELINE 256 /* requests in flight on one connection */
#define CONN_IN_CAP 16384     /* read buffer: one TLS record's plaintext */
#define CONN_OUT_CAP 8192     /* request bytes not yet written */
#define CONN_ERR_LEN 192
/* An answer other than 200 is read for its status (and Location,
   Retry-After): at most this many of its body bytes, then the connection
   is closed and the requests behind it go again on another, so a server
   cannot hold a connection with an endless error page. */
#define CONN_ERROR_BODY_MAX (64 * 1024)

enum conn_state {
    CONN_CLOSED = 0,
    CONN_CONNECTING,
    CONN_HANDSHAKING,
    CONN_OPEN,
};

/* Why a connection ended (on_close). */
enum conn_end {
    CONN_END_LOCAL = 0, /* conn_close(): we were done with it */
    CONN_END_ANNOUNCED, /* the server said "Connection: close" in a
                           complete response; requests after it were
                           never processed (RFC 9112 sec. 9.6) */
    CONN_END_EOF,       /* the server closed without saying so */
    CONN_END_ERROR,     /* reset, TLS error, malformed response */
    CONN_END_TIMEOUT,   /* idle or connect timeout */
    CONN_END_CONNECT,   /* could not connect or finish the handshake */
    CONN_END_VERIFY,    /* the certificate was not trusted: fatal */
};


struct conn;

struct conn_ops {
    void (*on_result)(void *owner, struct conn *c, uint32_t job,
                      const struct fetch_result *r);
    void (*on_close)(void *owner, struct conn *c, enum conn_end why,
                     const char *err);
};

/* Counters every connection adds to (owned by the scheduler). */
struct conn_stats {
    uint64_t bytes_rx;         /* bytes received, after TLS */
    uint64_t bytes_decoded;    /* body bytes after Content-Encoding */
    unsigned conns_opened;
    unsigned handshakes_full;
    unsigned handshakes_resumed;
    unsigned deepest_pipeline; /* most requests ever in flight at once */
};

/* What all connections share; owned by the scheduler, read-only here. */
struct conn_config {
    struct loop *loop;
    struct tlsio_ctx *tls;   /* NULL for http:// */
    const char *host;        /* NUL-terminated, for SNI and verification */
    int host_is_ip;
    const char *authority;   /* Host header value */
    size_t authority_len;
    const char *user_agent;
    const char *field;       /* the top-level key to extract */
    size_t field_len;
    int keep_alive;          /* 0: "Connection: close" on every request */
    const char *accept_encoding; /* NULL: ask for no compression */
    uint64_t max_body;       /* largest body after decoding */
    int64_t connect_timeout_ms; /* TCP connect + TLS handshake */
    int64_t idle_timeout_ms;    /* no byte received while busy */
    const struct conn_ops *ops;
    void *owner;
    struct conn_stats *stats;
};

struct conn {
    const struct conn_config *cfg;
    unsigned index;             /* position in the owner's array */
    enum conn_state state;
    int fd;
    struct loop_watcher watcher;
    struct tlsio tls;
    struct buf in, out;

    /* Requests in flight, oldest first: a ring of job numbers. */
    uint32_t fifo[CONN_MAX_PIPELINE];
    unsigned fifo_head, fifo_n;

    unsigned n_submitted;   /* requests queued on this connection */
    unsigned n_responses;   /* complete responses received */
    int closing;            /* no more requests: server will close */
    int buffered;           /* TLS holds bytes epoll cannot announce */

    /* Derived-interest inputs. */
    int hs_wants;           /* LOOP_READ/LOOP_WRITE the handshake asked */
    int read_wants_write;   /* SSL_read returned WANT_WRITE */
    int write_wants_read;   /* SSL_write returned WANT_READ */
    size_t retry_len;       /* SSL_write to repeat with this length */

    const struct sockaddr *peer; /* the address given to conn_open */
    int64_t opened_at;      /* loop_now_ms() at conn_open */
    int64_t last_rx;        /* last byte received, or last request sent */

    /* The response at the head of the FIFO. */
    struct h1_parser h1;
    struct jf_extractor jf;
    int extracting;         /* status 200 and a coding we can undo */
    int body_failed;        /* decoding or JSON failed (which, in conn.c):
                               the rest of the body is only framed */
    uint64_t body_wire;     /* body bytes read so far, before decoding */
    struct decoder dec;     /* Content-Encoding, if any */
    char value[JF_MAX_VALUE];
    char err[CONN_ERR_LEN];
};

/* Once, at start-up: inbuf CONN_IN_CAP bytes, outbuf CONN_OUT_CAP.
   Returns 0, or -ENOMEM if the decoder could not get its memory. */
int conn_init(struct conn *c, const struct conn_config *cfg, unsigned index,
              char *inbuf, char *outbuf);

/* Once, at the end: release what conn_init took (closes if open). */
void conn_release(struct conn *c);

/*
 * Start connecting a CLOSED connection to addr. Returns 0, or a negative
 * errno (e.g. -EMFILE) with nothing opened and no callback made.
 */
int conn_open(struct conn *c, const struct sockaddr *addr, socklen_t len);

/*
 * Queue a GET for target (the request-target) as job. Returns 0, or
 * -ENOBUFS if the FIFO or the output buffer is full, -EPIPE if the
 * connection is closed or closing. The bytes leave on conn_flush() or
 * when the socket is writable.
 */
int conn_submit(struct conn *c, uint32_t job, const char *target,
                size_t target_len);

/* Try to write queued requests now rather than on the next wake-up. */
void conn_flush(struct conn *c);

/* Run the read path if TLS holds bytes epoll will not announce. */
void conn_service_buffered(struct conn *c);

/* The nearest moment this connection times out, or -1 for none. */
int64_t conn_deadline(const struct conn *c);

/* End the connection with CONN_END_TIMEOUT if its deadline has passed. */
void conn_expire(struct conn *c, int64_t now);

/* End an open connection ourselves (CONN_END_LOCAL); on_close reports any
   jobs still in flight. No-op on a CLOSED connection. */
void conn_close(struct conn *c);

/* Jobs in flight: how many, and the i-th oldest. */
unsigned conn_inflight(const struct conn *c);
uint32_t conn_inflight_job(const struct conn *c, unsigned i);

/* Room for one more request of target_len bytes right now. */
int conn_can_take(const struct conn *c, size_t target_len);

#endif
