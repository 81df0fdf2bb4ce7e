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
 * With --early-data, those queued while CONNECTING that fit a resumed
 * session's early data limit leave with the ClientHello instead, and
 * stay in the buffer until the handshake says whether the server took
 * them (if not, they leave again then).
 *
 * Responses are matched to requests by order only (RFC 9112 sec. 9.3.2).
 * Each complete response produces one on_result() call for the job at the
 * head of the FIFO. When the connection ends, on_close() is called once
 * while the jobs still in flight (sent, not answered) can be read with
 * conn_inflight_job(); the FIFO is emptied after it returns. The
 * scheduler decides what to do with them: conn never retries anything.
 *
 * Memory: conn_new() takes everything a connection needs at start-up,
 * but for the memory a compressed body is inflated in, an arena of the
 * transport's shared set held only while such a body is read; nothing is
 * allocated after that, whatever the server sends (OpenSSL's own
 * per-connection state aside). struct conn is opaque: its owner (the
 * transport's pool) reads it through the functions below.
 *
 * Callbacks must not call conn_open() or conn_submit() on the connection
 * that called them; they may read it.
 */
#ifndef POKEFETCH_CONN_H
#define POKEFETCH_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "fetch.h"
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
struct decode_arenas;

struct conn_ops {
    void (*on_result)(void *owner, struct conn *c, uint32_t job,
                      const struct fetch_result *r);
    void (*on_close)(void *owner, struct conn *c, enum conn_end why,
                     const char *err);
};

/* What the connections to one origin share; owned by the transport,
   read-only here. The run's options (user agent, field, keep-alive,
   compression, limits, timeouts) are read from run, and the
   connections count into stats (bytes, connections, handshakes,
   pipeline depth). */
struct conn_config {
    struct loop *loop;
    struct tlsio_ctx *tls; /* NULL for http:// */
    const char *host;      /* NUL-terminated, for SNI and verification */
    int host_is_ip;
    const char *authority; /* Host header value */
    size_t authority_len;
    const struct fetch_config *run;
    struct fetch_stats *stats;
    const struct conn_ops *ops;
    void *owner;
    unsigned origin; /* the owner's number for the origin (timeline) */
};

/*
 * Once, at start-up: a CLOSED connection for cfg's origin, with its
 * buffers (CONN_IN_CAP and CONN_OUT_CAP bytes) and its decoder, which
 * draws on arenas (shared by the owner's connections). index is the
 * owner's number for it (conn_index). Returns NULL if out of memory or
 * if arenas has no place for another decoder.
 */
struct conn *conn_new(const struct conn_config *cfg, unsigned index,
                      struct decode_arenas *arenas);

/* Once, at the end: close it if open and release everything. NULL is
   ignored. */
void conn_free(struct conn *c);

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

/* Run the read path if TLS holds bytes epoll will not announce. Returns
   1 if it ran, 0 if there were none. */
int conn_service_buffered(struct conn *c);

/* The nearest moment this connection needs its owner: when it times out,
   or 0 (at once) if TLS holds bytes that epoll will not announce (call
   conn_service_buffered); -1 for never. */
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

/* What the owner may read: its number for the connection, whether it is
   CLOSED, the requests queued on it and the complete responses received
   since conn_open, and the address conn_open was given. */
unsigned conn_index(const struct conn *c);
int conn_closed(const struct conn *c);
/* Handshake done: requests queued now leave at once. */
int conn_established(const struct conn *c);
unsigned conn_submitted(const struct conn *c);
unsigned conn_responses(const struct conn *c);
const struct sockaddr *conn_peer(const struct conn *c);

/* A connection whose early data was accepted, in a run that keeps its
   TLS sessions, still awaits its session ticket: the server sends it a
   round trip after the handshake, often after every answer has come.
   Until when it is worth waiting for (loop_now_ms clock), or -1. */
int64_t conn_ticket_due(const struct conn *c);

/* Its connection record in the run's timeline (include/timeline.h), or
   UINT32_MAX (TL_NONE) when the run is not observed. */
uint32_t conn_record(const struct conn *c);

#endif
