/*
 * timeline - what happened to each connection and each request of a
 * run, on the loop's monotonic clock (microseconds since the run
 * started): the one record that -v, --trace, --har, --waterfall and
 * --stats json are all made from.
 *
 * The transports and the scheduler report events here (tl_* below) when
 * a run is observed, i.e. when fetch_config.timeline is not NULL; with
 * no output asking for them it is NULL and nothing is recorded, read or
 * called. Each event updates a fixed-size record (struct tl_conn per
 * connection opened, struct tl_request per request sent) and is then
 * handed, as one struct tl_event, to every sink that asked for events
 * (the -v/--trace printer, the HAR writer): sinks format, the timeline
 * only records. The pictures and statistics made at the end (waterfall,
 * --stats json) read the records with tl_conn_at / tl_request_at.
 *
 * Memory: records live in chunks of TL_CHUNK records, taken as the run
 * needs them; nothing is allocated per event, and a record never moves
 * once made (pointers to it stay valid until tl_free). Bytes per
 * request: sizeof(struct tl_request) plus its request-target, kept in a
 * string arena of the same chunked kind (the HAR names the URL).
 *
 * One thread, no I/O, no clock of its own (it is given one): sinks do
 * the writing.
 */
#ifndef POKEFETCH_TIMELINE_H
#define POKEFETCH_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#define TL_CHUNK 4096 /* records per chunk */

struct timeline;

/* How a request ended, as its connection saw it (what the scheduler
   then did, a redirect or a retry, is its own event). */
enum tl_outcome {
    TL_PENDING = 0, /* still in flight (or the run ended first) */
    TL_OK,          /* a response with the field's value */
    TL_FAILED,      /* a response that is an error for its id: a status
                       other than 200, invalid JSON, no such key... */
    TL_UNANSWERED,  /* its connection ended first: sent again or failed */
};

/* One connection: one connect() to one address. */
struct tl_conn {
    int64_t start_us;   /* connect() called */
    int64_t tcp_us;     /* TCP established; -1 never */
    int64_t tls_us;     /* TLS handshake done; -1 never, or plain http */
    int64_t end_us;     /* closed; -1 still open when the run ended */
    uint32_t requests;  /* requests queued on it */
    uint32_t responses; /* complete responses read from it */
    uint16_t origin;    /* 0: the template's; others, redirects' */
    uint8_t tls;        /* https */
    uint8_t resumed;    /* TLS session resumed (abbreviated handshake) */
    int8_t end_why;     /* enum conn_end (conn.h); -1 still open */
    char peer[48];      /* "127.0.0.1:8443", "[::1]:8443" */
};

/* One request: one attempt at one id on one connection. */
struct tl_request {
    int64_t queued_us;     /* handed to the transport (submit) */
    int64_t sent_us;       /* its last byte written; -1 never */
    int64_t first_byte_us; /* first byte of its response; -1 none */
    int64_t end_us;        /* response complete or given up; -1 pending */
    uint64_t wire_bytes;   /* response bytes as received: head + body */
    uint64_t body_bytes;   /* body after Content-Encoding */
    uint32_t id;           /* the id asked for */
    uint32_t conn;         /* its connection: tl_conn_at(tl, conn) */
    uint32_t target_off;   /* request-target: tl_target() */
    uint16_t target_len;
    uint16_t pipeline_pos; /* requests ahead of it on its connection
                              when it was queued: 0 = at the head */
    uint16_t attempt;      /* 1 the first time its job was sent, 2 the
                              next (a retry or a redirect's request) */
    int16_t status;        /* HTTP status; 0 no response */
    uint8_t outcome;       /* enum tl_outcome */
    uint8_t opened_conn;   /* the first request on a connection that
                              was not up yet: its connect and handshake
                              are this request's (HAR's connect, ssl) */
};

/* A request's time split as HAR 1.2 splits it, in microseconds; -1
   where a phase does not apply. Contiguous: blocked + connect + send +
   wait + receive == total (dns is always -1: names are resolved once,
   before the first connection, and reported as TL_EV_DNS; ssl is part
   of connect, as HAR defines it). A request still pending when the run
   ended counts up to `now`. */
struct tl_phases {
    int64_t blocked; /* queued until it could be written: waiting for a
                        connection another request opened, or behind the
                        requests ahead of it */
    int64_t dns;     /* -1 */
    int64_t connect; /* opened_conn: TCP and TLS, from when it was
                        queued or the connect started, whichever is
                        later; else -1 */
    int64_t ssl;     /* the TLS part of connect; -1 without TLS or
                        without connect */
    int64_t send;    /* written: until its last byte left */
    int64_t wait;    /* until the first byte of its response */
    int64_t receive; /* until its last byte (or it was given up) */
    int64_t total;
};

void tl_phases(const struct timeline *tl, const struct tl_request *r,
               int64_t now, struct tl_phases *p);

/* What a TLS handshake settled, for -v. Strings NUL-terminated, ""
   when unknown. */
struct tl_tls_info {
    const char *version; /* "TLSv1.3" */
    const char *cipher;  /* "TLS_AES_256_GCM_SHA384" */
    const char *group;   /* key exchange: "X25519" */
    const char *alpn;    /* "http/1.1", "" when none was agreed */
    char subject[160];   /* the leaf certificate's subject, one line */
    char issuer[160];
    int resumed;
};

enum tl_kind {
    TL_EV_DNS,      /* a host resolved: text "host: addr, addr" */
    TL_EV_CONNECT,  /* conn: connect() started (peer in the record) */
    TL_EV_TCP_UP,   /* conn: TCP established */
    TL_EV_TLS_UP,   /* conn: handshake done; tls says what it agreed */
    TL_EV_QUEUED,   /* req: queued on conn; bytes = the request head */
    TL_EV_SENT,     /* req: its last byte written */
    TL_EV_HEAD,     /* req: response head complete; bytes = the head
                        (status line and fields, as received, cut at
                        TL_MAX_HEAD bytes), text = framing and coding */
    TL_EV_DONE,     /* req: response complete (outcome set); bytes =
                        the head again, as at TL_EV_HEAD */
    TL_EV_LOST,     /* req: its connection ended before its response;
                        text = why */
    TL_EV_RETRY,    /* sched: id sent again; text = why */
    TL_EV_REDIRECT, /* sched: id follows a redirect; text = Location */
    TL_EV_LIMIT,    /* conn: the server's per-connection limit learned;
                        number = requests */
    TL_EV_CLOSE,    /* conn: closed (end_why set); text = why */
    TL_EV_EARLY,    /* conn: requests written as TLS early data, before
                       the handshake; number = requests, size = bytes */
    TL_EV_ACCEPTED, /* conn: the server took the early data; number =
                       requests */
    TL_EV_REJECTED, /* conn: it did not: they go again after the
                       handshake; number = requests */
};

#define TL_MAX_HEAD 8192 /* response head bytes a sink is shown */

struct tl_event {
    enum tl_kind kind;
    int64_t t_us;               /* when, on the run's clock */
    uint32_t conn_no;           /* TL_EV_CONNECT..QUEUED, LIMIT, CLOSE */
    const struct tl_conn *conn; /* NULL for DNS, RETRY, REDIRECT */
    uint32_t req_no;
    const struct tl_request *req;  /* request events, else NULL */
    const struct tl_tls_info *tls; /* TL_EV_TLS_UP */
    const char *text;              /* NUL-terminated, or NULL */
    const char *bytes;             /* see the kind; not NUL-terminated */
    size_t bytes_len;
    uint64_t number;
    uint64_t size; /* TL_EV_EARLY */
};

/* A consumer of events: called once per event, in order. */
struct tl_sink {
    void (*on_event)(void *arg, const struct tl_event *ev);
    void *arg;
};

#define TL_MAX_SINKS 4

/* A timeline for a run of n_jobs jobs (it counts each job's attempts),
   on the clock now_us (microseconds; loop_now_us in the program, a fake
   one in tests), which starts from 0 at this call. NULL if out of
   memory. */
struct timeline *tl_new(size_t n_jobs, int64_t (*now_us)(void));
void tl_free(struct timeline *tl);

/* Add a sink (at most TL_MAX_SINKS). Returns 0 or -1. */
int tl_add_sink(struct timeline *tl, const struct tl_sink *sink);

/* Microseconds since tl_new, on the monotonic clock. */
int64_t tl_now(const struct timeline *tl);

/* Origins by number (0: the template's; then those redirects name),
   named once before their first connection: "https://host:port". */
#define TL_MAX_ORIGINS 8
#define TL_ORIGIN_LEN 300
void tl_origin(struct timeline *tl, unsigned no, const char *name);
/* "" if no was never named. */
const char *tl_origin_name(const struct timeline *tl, unsigned no);

/* Records so far, and one of them by number (valid until tl_free). */
uint32_t tl_conn_count(const struct timeline *tl);
uint32_t tl_request_count(const struct timeline *tl);
const struct tl_conn *tl_conn_at(const struct timeline *tl, uint32_t no);
const struct tl_request *tl_request_at(const struct timeline *tl, uint32_t no);
/* A request's target (not NUL-terminated; length r->target_len). */
const char *tl_target(const struct timeline *tl, const struct tl_request *r);

/* The events. Each returns at once; the numbers they return name the
   record for the events after. Out of memory, a record is not made:
   TL_NONE is returned and the events naming it are ignored. */
#define TL_NONE UINT32_MAX

void tl_dns(struct timeline *tl, const char *text);
uint32_t tl_connect(struct timeline *tl, unsigned origin, int tls,
                    const char *peer);
void tl_tcp_up(struct timeline *tl, uint32_t conn);
void tl_tls_up(struct timeline *tl, uint32_t conn,
               const struct tl_tls_info *info);
uint32_t tl_queued(struct timeline *tl, uint32_t conn, uint32_t job,
                   uint32_t id, unsigned pipeline_pos, const char *target,
                   size_t target_len, const char *head, size_t head_len);
/* As tl_queued, for a transport that binds a request to a connection
   only as it sends it (libcurl): the request was handed to the
   transport at queued_us (on tl_now's clock; a time after now counts as
   now), which becomes the record's queued_us and the moment
   opened_conn is judged at (conn not yet up then); the event is now. */
uint32_t tl_queued_since(struct timeline *tl, int64_t queued_us, uint32_t conn,
                         uint32_t job, uint32_t id, unsigned pipeline_pos,
                         const char *target, size_t target_len,
                         const char *head, size_t head_len);
void tl_sent(struct timeline *tl, uint32_t req);
void tl_first_byte(struct timeline *tl, uint32_t req);
void tl_head(struct timeline *tl, uint32_t req, int status,
             const char *framing, const char *head, size_t head_len);
void tl_done(struct timeline *tl, uint32_t req, enum tl_outcome outcome,
             int status, uint64_t wire_bytes, uint64_t body_bytes,
             const char *head, size_t head_len);
/* As tl_done, for a transport that learns of a response's end only
   after the fact (libcurl hands a finished transfer back when its turn
   ends): end_us is when its last byte came, on tl_now's clock, and
   becomes the record's end_us (not before its first byte, or before it
   was sent, nor after now); the event is now. */
void tl_done_at(struct timeline *tl, int64_t end_us, uint32_t req,
                enum tl_outcome outcome, int status, uint64_t wire_bytes,
                uint64_t body_bytes, const char *head, size_t head_len);
void tl_lost(struct timeline *tl, uint32_t req, const char *why);
void tl_retry(struct timeline *tl, uint32_t id, const char *why);
void tl_redirect(struct timeline *tl, uint32_t id, const char *location);
void tl_limit(struct timeline *tl, uint32_t conn, unsigned requests);
void tl_close(struct timeline *tl, uint32_t conn, int why, const char *err);
void tl_early(struct timeline *tl, uint32_t conn, unsigned requests,
              size_t bytes);
void tl_early_verdict(struct timeline *tl, uint32_t conn, int accepted,
                      unsigned requests);

#endif
