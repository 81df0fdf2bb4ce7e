/*
 * conn - one connection's state machine; see include/conn.h.
 *
 * The read path never copies body bytes: TLS decrypts into the read
 * buffer, the h1 parser frames them in place, and body spans go straight
 * to the field extractor. The parser consumes everything it is given
 * (it keeps no header lines), so after each read the buffer is empty again
 * and the next read starts at its base.
 *
 *   in:   base ........ rd ==== wr ......... cap
 *                       ^ bytes of this read, fed to h1 then dropped
 *   out:  base .. rd ========== wr ......... cap
 *                    ^ request bytes not yet accepted by the socket/TLS
 *
 * Interest in epoll is derived from state in update_interest(), never set
 * ad hoc: want to write while connecting, while the handshake asks for it,
 * while request bytes wait (unless TLS said a write must wait for a read),
 * or when a TLS read asked to write. Always want to read once connected:
 * it is how a close, a reset or a session ticket is noticed.
 */
#include "conn.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "decode.h"
#include "h1.h"
#include "jfield.h"
#include "timeline.h"
#include "tlsio.h"

enum conn_state {
    CONN_CLOSED = 0,
    CONN_CONNECTING,
    CONN_HANDSHAKING,
    CONN_OPEN,
};

/* --early-data on one connection: the requests queued before TCP was up
   that fit the session's max_early_data go with the ClientHello; their
   bytes stay at the base of out until the server's verdict. */
enum early_phase {
    EARLY_OFF = 0, /* none on this connection, or verdict known */
    EARLY_WRITING, /* SSL_write_early_data has not taken them all */
    EARLY_SENT,    /* all written; the handshake will say */
};

struct conn {
    const struct conn_config *cfg;
    unsigned index; /* position in the owner's array */
    enum conn_state state;
    int fd;
    struct loop_watcher watcher;
    struct tlsio tls;
    struct buf in, out;

    /* Requests in flight, oldest first: a ring of job numbers. */
    uint32_t fifo[CONN_MAX_PIPELINE];
    unsigned fifo_head, fifo_n;

    unsigned n_submitted; /* requests queued on this connection */
    unsigned n_responses; /* complete responses received */
    int closing;          /* no more requests: server will close */
    int buffered;         /* TLS holds bytes epoll cannot announce */

    /* Derived-interest inputs. */
    int hs_wants;         /* LOOP_READ/LOOP_WRITE the handshake asked */
    int read_wants_write; /* SSL_read returned WANT_WRITE */
    int write_wants_read; /* SSL_write returned WANT_READ */
    size_t retry_len;     /* SSL_write to repeat with this length */

    enum early_phase early;
    size_t early_len;     /* request bytes going as early data */
    size_t early_done;    /* of those, taken by TLS */
    unsigned early_n;     /* requests in early_len */
    unsigned early_taken; /* the first requests the server accepted as
                                 early data (a 425 for them asks again) */
    uint16_t pre_end[CONN_MAX_PIPELINE]; /* out.wr after each request
                                            queued while connecting */

    const struct sockaddr *peer; /* the address given to conn_open */
    int64_t opened_at;           /* loop_now_ms() at conn_open */
    int64_t tcp_up_at;           /* loop_now_ms() when TCP was up */
    int64_t ticket_due;          /* conn_ticket_due, or -1 */
    int64_t last_rx;             /* last byte received, or last request sent */

    /* The response at the head of the FIFO. */
    struct h1_parser h1;
    struct jf_extractor jf;
    int extracting;     /* status 200 and a coding we can undo */
    int body_failed;    /* decoding or JSON failed (which, in conn.c):
                               the rest of the body is only framed */
    uint64_t body_wire; /* body bytes read so far, before decoding */
    struct decoder dec; /* Content-Encoding, if any */
    char value[JF_MAX_VALUE];
    char err[CONN_ERR_LEN];

    struct conn_watch *watch; /* NULL unless the run is observed */
};

/*
 * What an observed connection keeps for the run's timeline (only then:
 * allocated by conn_new when fetch_config.timeline is set): its record
 * numbers, where each request's bytes end in the stream of request bytes
 * (so a write that passes that point says "sent"), and the head of the
 * response being read, as received, for --trace and --har.
 */
struct conn_watch {
    struct timeline *tl;
    uint32_t conn_no; /* tl_conn record of the current connection */
    uint32_t rec[CONN_MAX_PIPELINE];     /* tl_request, as fifo[] */
    uint64_t req_end[CONN_MAX_PIPELINE]; /* out_queued after it, as fifo[] */
    uint64_t out_queued, out_written;    /* request bytes since conn_open */
    unsigned n_sent; /* requests wholly written since conn_open */
    int in_head;     /* the head response's head is being read */
    size_t head_len;
    char head[TL_MAX_HEAD];
};

_Static_assert(CONN_OUT_CAP <= UINT16_MAX, "pre_end holds offsets in out");

/* Beyond twice the handshake's time, how long a ticket is waited for. */
#define TICKET_SLACK_MS 20

/* Reads per wake-up before giving the other connections a turn. */
#define READS_PER_WAKEUP 32

/* c->body_failed: which stage gave up on the body first. */
enum { BODY_FAILED_JSON = 1, BODY_FAILED_DECODE = 2 };

/* Bytes of a request beyond its target, host and user agent. */
#define REQUEST_OVERHEAD 96

static void on_event(struct loop_watcher *w, unsigned events);

/* The FIFO position of the i-th oldest request in flight. */
static unsigned
fifo_at(const struct conn *c, unsigned i)
{
    return (c->fifo_head + i) % CONN_MAX_PIPELINE;
}

/* --- Observation: each function does nothing unless c->watch is set. */

/* Connecting to addr: a new connection record. */
static void
watch_open(struct conn *c, const struct sockaddr *addr)
{
    struct conn_watch *w = c->watch;
    char peer[80];

    if (!w)
        return;
    net_addr_text(addr, peer, sizeof peer);
    w->conn_no = tl_connect(w->tl, c->cfg->origin, c->cfg->tls != NULL, peer);
    w->out_queued = w->out_written = 0;
    w->n_sent = 0;
    w->in_head = 1;
    w->head_len = 0;
}

/* The request just queued for job: its bytes are the last n of out. */
static void
watch_queued(struct conn *c, uint32_t job, const char *target,
             size_t target_len, size_t n)
{
    struct conn_watch *w = c->watch;
    unsigned at = fifo_at(c, c->fifo_n);
    const struct buf *o = &c->out;

    if (!w)
        return;
    w->out_queued += n;
    w->req_end[at] = w->out_queued;
    w->rec[at] =
        tl_queued(w->tl, w->conn_no, job, c->cfg->run->ids[job], c->fifo_n,
                  target, target_len, o->base + o->wr - n, n);
}

/* n more request bytes left: the requests they complete are sent. */
static void
watch_written(struct conn *c, size_t n)
{
    struct conn_watch *w = c->watch;
    unsigned answered = c->n_submitted - c->fifo_n;

    if (!w)
        return;
    w->out_written += n;
    if (w->n_sent < answered) /* answered before wholly sent */
        w->n_sent = answered;
    while (w->n_sent < c->n_submitted) {
        unsigned at = fifo_at(c, w->n_sent - answered);

        if (w->req_end[at] > w->out_written)
            break;
        tl_sent(w->tl, w->rec[at]);
        w->n_sent++;
    }
}

/* The first n requests, len bytes, went as early data and were
   rejected: they are written again, as if they had not been. Their
   timeline records keep the moment they first left. */
static void
watch_unsent(struct conn *c, size_t len, unsigned n)
{
    struct conn_watch *w = c->watch;

    if (!w)
        return;
    w->out_written -= len;
    w->n_sent -= n;
}

/* How the head response's body is framed and coded, in words. */
static const char *
framing(const struct conn *c, char *out, size_t cap)
{
    const struct h1_parser *p = &c->h1;
    int n;

    if (p->flags & H1_F_CHUNKED)
        n = snprintf(out, cap, "chunked");
    else if (p->flags & H1_F_HAS_LENGTH)
        n = snprintf(out, cap, "Content-Length %llu",
                     (unsigned long long)p->content_length);
    else if (p->flags & H1_F_NO_BODY)
        n = snprintf(out, cap, "no body");
    else
        n = snprintf(out, cap, "body until the connection closes");
    if (p->content_encoding_len && n > 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, ", Content-Encoding %.*s",
                 (int)p->content_encoding_len, p->content_encoding);
    return out;
}

/* h1 was given data and used `used` bytes of it, returning rc: keep the
   bytes of the head response's head, and note its first byte. */
static void
watch_input(struct conn *c, const char *data, size_t used, enum h1_rc rc)
{
    struct conn_watch *w = c->watch;
    char what[64 + H1_MAX_CODING];
    uint32_t rec;
    size_t n;

    if (!w || !w->in_head || !c->fifo_n)
        return;
    rec = w->rec[fifo_at(c, 0)];
    if (w->head_len == 0 && used)
        tl_first_byte(w->tl, rec);
    n = used < TL_MAX_HEAD - w->head_len ? used : TL_MAX_HEAD - w->head_len;
    memcpy(w->head + w->head_len, data, n);
    w->head_len += n;
    if (rc != H1_HEADERS)
        return;
    w->in_head = 0;
    tl_head(w->tl, rec, c->h1.status, framing(c, what, sizeof what), w->head,
            w->head_len);
}

/* The head request has its result r; the next response's head is next. */
static void
watch_done(struct conn *c, const struct fetch_result *r)
{
    struct conn_watch *w = c->watch;

    if (!w)
        return;
    tl_done(w->tl, w->rec[fifo_at(c, 0)], r->ok ? TL_OK : TL_FAILED, r->status,
            c->h1.consumed, c->extracting ? c->dec.produced : c->body_wire,
            w->head, w->head_len);
    w->in_head = 1;
    w->head_len = 0;
}

/* The connection ends: its requests in flight were not answered. */
static void
watch_end(struct conn *c, enum conn_end why, const char *err)
{
    struct conn_watch *w = c->watch;
    unsigned i;

    if (!w)
        return;
    for (i = 0; i < c->fifo_n; i++)
        tl_lost(w->tl, w->rec[fifo_at(c, i)], err);
    tl_close(w->tl, w->conn_no, why, err);
}

struct conn *
conn_new(const struct conn_config *cfg, unsigned index,
         struct decode_arenas *arenas)
{
    /* Not zeroed whole: the rest is set before it is read (conn_open,
       start_body); the buffers follow the struct in one block. */
    struct conn *c = malloc(sizeof *c + CONN_IN_CAP + CONN_OUT_CAP);
    char *mem;

    if (!c)
        return NULL;
    mem = (char *)(c + 1);
    c->cfg = cfg;
    c->index = index;
    c->state = CONN_CLOSED;
    c->fd = -1;
    c->fifo_head = c->fifo_n = 0;
    c->closing = c->buffered = 0;
    c->tls.ssl = NULL;
    buf_init(&c->in, mem, CONN_IN_CAP);
    buf_init(&c->out, mem + CONN_IN_CAP, CONN_OUT_CAP);
    loop_watcher_init(&c->watcher, on_event, c);
    c->watch = NULL;
    if (cfg->run->timeline) {
        c->watch = malloc(sizeof *c->watch);
        if (!c->watch) {
            free(c);
            return NULL;
        }
        c->watch->tl = cfg->run->timeline;
    }
    if (decode_init(&c->dec, arenas) < 0) {
        free(c->watch);
        free(c);
        return NULL;
    }
    return c;
}

void
conn_free(struct conn *c)
{
    if (!c)
        return;
    conn_close(c);
    decode_close(&c->dec);
    free(c->watch);
    free(c);
}

unsigned
conn_index(const struct conn *c)
{
    return c->index;
}

int
conn_established(const struct conn *c)
{
    return c->state == CONN_OPEN;
}

int
conn_closed(const struct conn *c)
{
    return c->state == CONN_CLOSED;
}

unsigned
conn_submitted(const struct conn *c)
{
    return c->n_submitted;
}

unsigned
conn_responses(const struct conn *c)
{
    return c->n_responses;
}

int64_t
conn_ticket_due(const struct conn *c)
{
    if (c->state != CONN_OPEN || c->tls.tickets > 0)
        return -1;
    return c->ticket_due;
}

uint32_t
conn_record(const struct conn *c)
{
    return c->watch ? c->watch->conn_no : TL_NONE;
}

const struct sockaddr *
conn_peer(const struct conn *c)
{
    return c->peer;
}

unsigned
conn_inflight(const struct conn *c)
{
    return c->fifo_n;
}

uint32_t
conn_inflight_job(const struct conn *c, unsigned i)
{
    assert(i < c->fifo_n);
    return c->fifo[(c->fifo_head + i) % CONN_MAX_PIPELINE];
}

static size_t
request_size(const struct conn *c, size_t target_len)
{
    return target_len + c->cfg->authority_len +
           strlen(c->cfg->run->user_agent) +
           (c->cfg->run->compressed ? strlen(decode_accept_encoding) : 0) +
           REQUEST_OVERHEAD;
}

int
conn_can_take(const struct conn *c, size_t target_len)
{
    const struct buf *o = &c->out;

    if (c->state == CONN_CLOSED || c->closing)
        return 0;
    if (c->fifo_n >= CONN_MAX_PIPELINE)
        return 0;
    /* Free space counts what compaction would give back, as long as no
       TLS write is waiting to be repeated with the same bytes. */
    return request_size(c, target_len) <=
           (c->retry_len ? buf_space(o) : o->cap - buf_unread(o));
}

static void
update_interest(struct conn *c)
{
    unsigned mask = 0;

    switch (c->state) {
    case CONN_CLOSED:
        return;
    case CONN_CONNECTING:
        mask = LOOP_WRITE;
        break;
    case CONN_HANDSHAKING:
        mask = (unsigned)c->hs_wants;
        break;
    case CONN_OPEN:
        mask = LOOP_READ;
        if ((buf_unread(&c->out) && !c->write_wants_read) ||
            c->read_wants_write)
            mask |= LOOP_WRITE;
        break;
    }
    /* A connect or handshake step costs little, and one left waiting
       behind another connection's answers delays its round trip (its
       requests, or its Finished and so its session ticket): it runs
       first in a turn. */
    c->watcher.first = c->state != CONN_OPEN;
    if (loop_set(c->cfg->loop, &c->watcher, c->fd, mask) < 0) {
        /* epoll_ctl fails only on resource exhaustion; without a
           registration this connection would never wake up again. */
        snprintf(c->err, sizeof c->err, "epoll_ctl: %s", strerror(errno));
    }
}

/* The single exit: close everything, tell the owner, forget the FIFO. */
static void
end(struct conn *c, enum conn_end why, const char *err)
{
    int polite = why == CONN_END_LOCAL || why == CONN_END_ANNOUNCED;

    if (c->state == CONN_CLOSED)
        return;
    loop_forget(c->cfg->loop, &c->watcher);
    if (c->cfg->tls)
        tlsio_close(&c->tls, polite && c->state == CONN_OPEN);
    close(c->fd);
    c->fd = -1;
    c->state = CONN_CLOSED;
    watch_end(c, why, err ? err : "");
    c->cfg->ops->on_close(c->cfg->owner, c, why, err ? err : "");
    c->fifo_n = 0;
    c->fifo_head = 0;
    c->closing = 0;
    c->buffered = 0;
    c->retry_len = 0;
    c->early = EARLY_OFF;
    buf_reset(&c->in);
    buf_reset(&c->out);
}

/* End with "what: detail" (or just what) as the reason. */
static void
fail(struct conn *c, enum conn_end why, const char *what, const char *detail)
{
    if (detail)
        snprintf(c->err, sizeof c->err, "%s: %s", what, detail);
    else
        snprintf(c->err, sizeof c->err, "%s", what);
    end(c, why, c->err);
}

int
conn_open(struct conn *c, const struct sockaddr *addr, socklen_t len)
{
    int fd, rc;

    assert(c->state == CONN_CLOSED);
    rc = net_connect_start(addr, len, &fd);
    if (rc < 0)
        return rc;
    c->fd = fd;
    c->peer = addr;
    c->state = CONN_CONNECTING;
    c->n_submitted = 0;
    c->n_responses = 0;
    c->closing = 0;
    c->hs_wants = 0;
    c->read_wants_write = 0;
    c->write_wants_read = 0;
    c->retry_len = 0;
    c->early = EARLY_OFF;
    c->early_taken = 0;
    c->ticket_due = -1;
    c->opened_at = loop_now_ms();
    c->last_rx = c->opened_at;
    c->err[0] = '\0';
    c->tls.ssl = NULL;
    h1_begin(&c->h1, 0);
    c->cfg->stats->conns_opened++;
    watch_open(c, addr);
    update_interest(c);
    return 0;
}

int
conn_submit(struct conn *c, uint32_t job, const char *target,
            size_t target_len)
{
    struct buf *o = &c->out;
    struct h1_request req;
    size_t n;

    if (c->state == CONN_CLOSED || c->closing)
        return -EPIPE;
    if (!conn_can_take(c, target_len))
        return -ENOBUFS;
    if (!c->retry_len && buf_space(o) < request_size(c, target_len))
        buf_compact(o);
    req.target = target;
    req.target_len = target_len;
    req.authority = c->cfg->authority;
    req.authority_len = c->cfg->authority_len;
    req.user_agent = c->cfg->run->user_agent;
    req.accept_encoding =
        c->cfg->run->compressed ? decode_accept_encoding : NULL;
    req.keep_alive = c->cfg->run->keep_alive;
    n = h1_write_get(o->base + o->wr, buf_space(o), &req);
    if (!n)
        return -ENOBUFS;
    o->wr += n;
    if (c->state == CONN_CONNECTING) /* nothing written yet: rd is 0 */
        c->pre_end[c->fifo_n] = (uint16_t)o->wr;
    watch_queued(c, job, target, target_len, n);
    if (c->fifo_n == 0)
        c->last_rx = loop_now_ms(); /* the idle clock starts now */
    c->fifo[(c->fifo_head + c->fifo_n) % CONN_MAX_PIPELINE] = job;
    c->fifo_n++;
    c->n_submitted++;
    if (c->fifo_n > c->cfg->stats->deepest_pipeline)
        c->cfg->stats->deepest_pipeline = c->fifo_n;
    update_interest(c);
    return 0;
}

/* Write queued request bytes until done or the socket pushes back.
   Returns 0, or -1 if the connection ended. */
static int
do_write(struct conn *c)
{
    struct buf *o = &c->out;

    while (buf_unread(o)) {
        size_t len = c->retry_len ? c->retry_len : buf_unread(o);
        size_t n = 0;
        enum io_rc rc;
        int e = 0;

        if (c->cfg->tls)
            rc = tlsio_write(&c->tls, o->base + o->rd, len, &n, c->err,
                             sizeof c->err);
        else
            rc = net_write(c->fd, o->base + o->rd, len, &n, &e);
        c->write_wants_read = 0;
        switch (rc) {
        case IO_OK:
            o->rd += n;
            c->retry_len = 0;
            watch_written(c, n);
            continue;
        case IO_WANT_WRITE:
            c->retry_len = c->cfg->tls ? len : 0;
            return 0;
        case IO_WANT_READ:
            c->retry_len = len;
            c->write_wants_read = 1;
            return 0;
        case IO_EOF:
            end(c, CONN_END_EOF, "connection closed while sending");
            return -1;
        case IO_ERR:
            if (!c->cfg->tls)
                snprintf(c->err, sizeof c->err, "send: %s", strerror(e));
            end(c, CONN_END_ERROR, c->err);
            return -1;
        }
    }
    buf_reset(o);
    return 0;
}

void
conn_flush(struct conn *c)
{
    if (c->state == CONN_OPEN && !c->write_wants_read && buf_unread(&c->out)) {
        if (do_write(c) == 0)
            update_interest(c);
    }
}

/* The head job has its result r: off the FIFO, then up to the owner. */
static void
pop_head_report(struct conn *c, const struct fetch_result *r)
{
    uint32_t job = conn_inflight_job(c, 0);

    watch_done(c, r);
    c->fifo_head = (c->fifo_head + 1) % CONN_MAX_PIPELINE;
    c->fifo_n--;
    c->n_responses++;
    c->cfg->ops->on_result(c->cfg->owner, c, job, r);
}

static int complete_response(struct conn *c);

/* The head response ends here, before its body does: the body went past
   what is read of it (a 200's --max-body, an error's
   CONN_ERROR_BODY_MAX). The job gets its result (err, or for an error
   status the status itself), and the connection closes, since the rest
   of the body would still come first: the requests behind go again. */
static void
cut_response(struct conn *c, const char *err)
{
    if (c->h1.status == 200) {
        struct fetch_result r;

        memset(&r, 0, sizeof r);
        r.status = 200;
        r.retry_after_s = -1;
        r.text = err;
        r.len = strlen(err);
        pop_head_report(c, &r);
    } else if (complete_response(c) < 0) {
        return;
    }
    end(c, CONN_END_LOCAL, "response body cut short by pokefetch");
}

/* The head response is complete: hand its result up and get ready for
   the next one. Returns -1 if the connection ended. */
static int
complete_response(struct conn *c)
{
    struct fetch_result r;
    unsigned close_after = c->h1.flags & H1_F_CONN_CLOSE;

    memset(&r, 0, sizeof r);
    r.status = c->h1.status;
    r.retry_after_s = -1;
    r.early = c->n_responses < c->early_taken;
    if (c->h1.flags & H1_F_LOCATION) {
        r.location = c->h1.location;
        r.location_len = c->h1.location_len;
    }
    r.location_bad = (c->h1.flags & H1_F_LOCATION_BAD) != 0;
    if ((c->h1.flags & H1_F_RETRY_AFTER) &&
        h1_retry_after(c->h1.retry_after, c->h1.retry_after_len,
                       (int64_t)time(NULL), &r.retry_after_s) < 0)
        r.retry_after_s = -1;
    if (c->extracting) {
        enum decode_rc dr = decode_finish(&c->dec);
        enum jf_rc jr = jf_finish(&c->jf, c->value, sizeof c->value, &r.len);

        c->cfg->stats->bytes_decoded += c->dec.produced;
        /* The first failure in the body's order names the cause: a JSON
           error found while decoding went fine stopped the decoding, so
           the decoder's "cut short" would be a wrong reason then. */
        if (dr == DECODE_E_TOO_BIG && c->body_failed != BODY_FAILED_JSON) {
            decode_over_limit(c->err, sizeof c->err,
                              decode_identity(&c->dec) ? NULL : c->dec.name,
                              c->dec.limit);
        } else if (dr != DECODE_END && c->body_failed != BODY_FAILED_JSON) {
            snprintf(c->err, sizeof c->err, "Content-Encoding %s: %s",
                     c->dec.name, decode_strerror(dr));
        } else if (jr == JF_OK) {
            r.ok = c->jf.value_json ? FETCH_JSON : FETCH_STRING;
            r.text = c->value;
        } else {
            size_t n;

            jf_explain(&c->jf, jr, c->cfg->run->field, c->err, sizeof c->err);
            /* Byte offsets are then in the decoded body, and a corrupt
               stream that still inflates shows up as bad JSON first. */
            n = strlen(c->err);
            if (!decode_identity(&c->dec))
                snprintf(c->err + n, sizeof c->err - n,
                         " of the %s-decoded body", c->dec.name);
        }
    } else if (c->h1.status == 200) {
        snprintf(c->err, sizeof c->err, "unsupported Content-Encoding: %.*s",
                 (int)c->h1.content_encoding_len, c->h1.content_encoding);
    } else {
        snprintf(c->err, sizeof c->err, "HTTP status %d", c->h1.status);
    }
    if (!r.ok) {
        r.text = c->err;
        r.len = strlen(c->err);
    }
    pop_head_report(c, &r);
    if (close_after) {
        /* RFC 9112 sec. 9.6: no more requests on this connection, and the
           ones already sent will not be processed. */
        c->closing = 1;
        end(c, CONN_END_ANNOUNCED, "server closed the connection");
        return -1;
    }
    h1_begin(&c->h1, 0);
    return 0;
}

/* Headers are in: decide whether this body is read, and how. */
static void
start_body(struct conn *c)
{
    c->extracting = 0;
    c->body_failed = 0;
    c->body_wire = 0;
    if (c->h1.status != 200)
        return;
    if (decode_begin(&c->dec, c->h1.content_encoding,
                     c->h1.content_encoding_len,
                     c->cfg->run->max_body) != DECODE_AGAIN)
        return; /* complete_response names the coding */
    (void)jf_begin(&c->jf, c->cfg->run->field, c->cfg->run->field_len);
    c->extracting = 1;
}

/* Body bytes, in place: through the decoder (a pass-through for identity)
   into the extractor. Once either fails the rest of the body is only
   framed, so a decompression bomb that is not JSON costs nothing. */
static void
body_bytes(struct conn *c, const char *data, size_t len)
{
    const char *out;
    size_t out_len;
    enum decode_rc dr;

    while ((dr = decode_feed(&c->dec, &data, &len, &out, &out_len)) ==
           DECODE_OUTPUT) {
        if (jf_feed(&c->jf, out, out_len) != JF_AGAIN) {
            c->body_failed = BODY_FAILED_JSON;
            return;
        }
    }
    if (dr != DECODE_AGAIN)
        c->body_failed = BODY_FAILED_DECODE;
}

/*
 * Whether the head response's body has gone past what is read of it:
 * --max-body counts the bytes on the wire too (an endless run of empty
 * deflate blocks decodes to nothing), and an error status needs only
 * CONN_ERROR_BODY_MAX. If so the response is cut (the connection ends)
 * and 1 is returned.
 */
static int
body_past_limit(struct conn *c)
{
    char why[CONN_ERR_LEN], coding[H1_MAX_CODING + 1];
    size_t n = c->h1.content_encoding_len;

    if (c->h1.status == 200 && c->body_wire > c->cfg->run->max_body) {
        /* Compressed, the limit was reached by the bytes as sent, not by
           what they decode to: say which. */
        memcpy(coding, c->h1.content_encoding, n);
        coding[n] = '\0';
        decode_over_limit(why, sizeof why - 9, n ? coding : NULL,
                          c->cfg->run->max_body);
        if (n)
            strcat(why, " as sent");
        cut_response(c, why);
        return 1;
    }
    if (c->h1.status != 200 && c->body_wire > CONN_ERROR_BODY_MAX) {
        cut_response(c, NULL);
        return 1;
    }
    return 0;
}

/* Feed what was just read to the parser and the extractor. Returns -1 if
   the connection ended. */
static int
process_input(struct conn *c)
{
    struct buf *in = &c->in;

    /* The parser reports one event per call and may have one to report
       with no bytes left (the end of a body), so call it until it asks
       for more. */
    for (;;) {
        const char *data = in->base + in->rd;
        size_t used = 0;
        enum h1_rc rc;

        if (!c->fifo_n) {
            if (in->rd == in->wr)
                break;
            fail(c, CONN_END_ERROR,
                 "server sent bytes with no request outstanding", NULL);
            return -1;
        }
        rc = h1_feed(&c->h1, data, buf_unread(in), &used);
        in->rd += used;
        watch_input(c, data, used, rc);
        switch (rc) {
        case H1_AGAIN:
            buf_reset(in);
            return 0;
        case H1_HEADERS:
            start_body(c);
            break;
        case H1_BODY:
            c->body_wire += c->h1.body_len;
            if (body_past_limit(c))
                return -1;
            if (c->extracting && !c->body_failed)
                body_bytes(c, data + c->h1.body_off, c->h1.body_len);
            break;
        case H1_DONE:
            if (complete_response(c) < 0)
                return -1;
            break;
        default:
            fail(c, CONN_END_ERROR, "malformed response", h1_strerror(rc));
            return -1;
        }
    }
    buf_reset(in);
    return 0;
}

/* The server closed its side. A body delimited by the close ends here;
   anything else still in flight was not answered. */
static void
on_eof(struct conn *c)
{
    if (c->fifo_n && h1_started(&c->h1)) {
        enum h1_rc rc = h1_finish(&c->h1);

        if (rc == H1_DONE && c->cfg->tls && c->tls.unclean_eof &&
            (c->h1.flags & H1_F_BODY_TO_EOF)) {
            /* Without close_notify, a close-delimited body cannot be told
               apart from a truncated one (RFC 9112 sec. 9.8). */
            end(c, CONN_END_ERROR,
                "connection closed without TLS close_notify: body may be "
                "truncated");
            return;
        }
        if (rc == H1_DONE) {
            /* The response ended with the connection: it said so. */
            c->h1.flags |= H1_F_CONN_CLOSE;
            (void)complete_response(c);
            return;
        }
        /* H1_E_TRUNCATED's own text says just that; other errors (an
           unterminated chunk, say) add what was wrong. */
        fail(c, CONN_END_EOF, "connection closed mid-response",
             rc == H1_E_TRUNCATED ? NULL : h1_strerror(rc));
        return;
    }
    end(c, CONN_END_EOF,
        c->fifo_n ? "connection closed before the response"
                  : "connection closed by server while idle");
}

static void
do_read(struct conn *c)
{
    struct buf *in = &c->in;
    int i;

    c->read_wants_write = 0;
    c->buffered = 0;
    for (i = 0; i < READS_PER_WAKEUP; i++) {
        size_t n = 0;
        enum io_rc rc;
        int e = 0;

        if (c->cfg->tls)
            rc = tlsio_read(&c->tls, in->base + in->wr, buf_space(in), &n,
                            c->err, sizeof c->err);
        else
            rc = net_read(c->fd, in->base + in->wr, buf_space(in), &n, &e);
        switch (rc) {
        case IO_OK:
            in->wr += n;
            c->cfg->stats->bytes_rx += n;
            c->last_rx = loop_now_ms();
            if (process_input(c) < 0)
                return;
            continue;
        case IO_WANT_READ:
            return;
        case IO_WANT_WRITE:
            c->read_wants_write = 1;
            return;
        case IO_EOF:
            on_eof(c);
            return;
        case IO_ERR:
            if (!c->cfg->tls)
                snprintf(c->err, sizeof c->err, "read: %s", strerror(e));
            end(c, CONN_END_ERROR, c->err);
            return;
        }
    }
    /* Out of turns: OpenSSL may hold records that epoll will not announce
       again, so the owner must call conn_service_buffered(). */
    if (c->cfg->tls && tlsio_pending(&c->tls))
        c->buffered = 1;
}

/*
 * --early-data, TCP just up: the requests queued so far that fit the
 * session's max_early_data (whole ones, in order) are to go as early
 * data. Not with -k: its connections trust no session.
 */
static void
plan_early(struct conn *c)
{
    size_t budget;
    unsigned n = 0;

    if (!c->cfg->run->early_data || c->cfg->run->insecure)
        return;
    budget = tlsio_early_budget(&c->tls);
    while (n < c->fifo_n && c->pre_end[n] <= budget)
        n++;
    if (n == 0)
        return;
    c->early = EARLY_WRITING;
    c->early_n = n;
    c->early_len = c->pre_end[n - 1];
    c->early_done = 0;
}

/* Hand the early requests to TLS, which puts the ClientHello first.
   Returns IO_OK once it has taken them all. */
static enum io_rc
write_early(struct conn *c)
{
    while (c->early_done < c->early_len) {
        size_t n = 0;
        enum io_rc rc = tlsio_write_early(&c->tls, c->out.base + c->early_done,
                                          c->early_len - c->early_done, &n,
                                          c->err, sizeof c->err);

        if (rc != IO_OK)
            return rc;
        c->early_done += n;
    }
    c->early = EARLY_SENT;
    c->cfg->stats->early_sent += c->early_n;
    if (c->watch)
        tl_early(c->watch->tl, c->watch->conn_no, c->early_n, c->early_len);
    watch_written(c, c->early_len);
    return IO_OK;
}

/* The handshake says what the server did with the early data: taken, its
   bytes are done; rejected, they are still at the base of out and go
   again now, as requests queued during the handshake do. */
static void
early_verdict(struct conn *c)
{
    int accepted;

    if (c->early != EARLY_SENT)
        return;
    c->early = EARLY_OFF;
    accepted = tlsio_early_status(&c->tls) == TLSIO_EARLY_ACCEPTED;
    if (accepted) {
        int64_t now = loop_now_ms();

        c->out.rd += c->early_len;
        c->early_taken = c->early_n;
        c->cfg->stats->early_accepted += c->early_n;
        /* The ticket leaves the server once our Finished reaches it: a
           round trip from now, about as long as the handshake took. */
        if (c->cfg->tls->key[0])
            c->ticket_due = now + 2 * (now - c->tcp_up_at) + TICKET_SLACK_MS;
    } else {
        c->cfg->stats->early_resent += c->early_n;
        watch_unsent(c, c->early_len, c->early_n);
    }
    if (c->watch)
        tl_early_verdict(c->watch->tl, c->watch->conn_no, accepted,
                         c->early_n);
}

static void
tls_up(struct conn *c)
{
    c->state = CONN_OPEN;
    if (tlsio_resumed(&c->tls))
        c->cfg->stats->handshakes_resumed++;
    else
        c->cfg->stats->handshakes_full++;
    if (c->watch) {
        struct tl_tls_info info;

        tlsio_info(&c->tls, &info);
        tl_tls_up(c->watch->tl, c->watch->conn_no, &info);
    }
    early_verdict(c);
    /* Answers to early data can come with the server's Finished, read
       ahead into OpenSSL with it: epoll will not announce them. */
    c->buffered = tlsio_pending(&c->tls);
}

static void
handshake(struct conn *c)
{
    enum io_rc rc = IO_OK;

    if (c->early == EARLY_WRITING)
        rc = write_early(c);
    if (rc == IO_OK)
        rc = tlsio_handshake(&c->tls, c->err, sizeof c->err);
    switch (rc) {
    case IO_OK:
        tls_up(c);
        return;
    case IO_WANT_READ:
        c->hs_wants = LOOP_READ;
        return;
    case IO_WANT_WRITE:
        c->hs_wants = LOOP_WRITE;
        return;
    case IO_EOF:
        end(c, CONN_END_CONNECT, "TLS handshake: connection closed by server");
        return;
    case IO_ERR:
        end(c,
            tlsio_verify_failed(&c->tls) ? CONN_END_VERIFY : CONN_END_CONNECT,
            c->err);
        return;
    }
}

static void
connected(struct conn *c)
{
    int rc = net_connect_finish(c->fd);

    if (rc < 0) {
        char to[80];

        net_addr_text(c->peer, to, sizeof to);
        snprintf(c->err, sizeof c->err, "connect to %s: %s", to,
                 strerror(-rc));
        end(c, CONN_END_CONNECT, c->err);
        return;
    }
    c->tcp_up_at = loop_now_ms();
    if (c->watch)
        tl_tcp_up(c->watch->tl, c->watch->conn_no);
    if (!c->cfg->tls) {
        c->state = CONN_OPEN;
        return;
    }
    if (tlsio_open(&c->tls, c->cfg->tls, c->fd, c->cfg->host,
                   c->cfg->host_is_ip, c->err, sizeof c->err) < 0) {
        end(c, CONN_END_CONNECT, c->err);
        return;
    }
    c->state = CONN_HANDSHAKING;
    plan_early(c);
    handshake(c);
}

static void
on_event(struct loop_watcher *w, unsigned events)
{
    struct conn *c = w->owner;

    switch (c->state) {
    case CONN_CLOSED:
        return;
    case CONN_CONNECTING:
        connected(c);
        break;
    case CONN_HANDSHAKING:
        handshake(c);
        break;
    case CONN_OPEN:
        if ((events & LOOP_READ) ||
            (c->read_wants_write && (events & LOOP_WRITE)))
            do_read(c);
        if (c->state == CONN_OPEN &&
            ((events & LOOP_WRITE) ||
             (c->write_wants_read && (events & LOOP_READ))))
            (void)do_write(c);
        break;
    }
    /* A handshake that just finished leaves requests ready to go: send
       them in this turn rather than after one more epoll round. */
    if (c->state == CONN_OPEN && buf_unread(&c->out) && !c->write_wants_read)
        (void)do_write(c);
    if (c->state != CONN_CLOSED)
        update_interest(c);
}

int
conn_service_buffered(struct conn *c)
{
    if (c->state != CONN_OPEN || !c->buffered)
        return 0;
    do_read(c);
    if (c->state != CONN_CLOSED)
        update_interest(c);
    return 1;
}

/* When the connection times out: connect + handshake, or no byte while
   a response is awaited; -1 for never. */
static int64_t
timeout_at(const struct conn *c)
{
    switch (c->state) {
    case CONN_CLOSED:
        return -1;
    case CONN_CONNECTING:
    case CONN_HANDSHAKING:
        return c->cfg->run->connect_timeout_ms > 0
                   ? c->opened_at + c->cfg->run->connect_timeout_ms
                   : -1;
    case CONN_OPEN:
        if (!c->fifo_n || c->cfg->run->idle_timeout_ms <= 0)
            return -1;
        return c->last_rx + c->cfg->run->idle_timeout_ms;
    }
    return -1;
}

int64_t
conn_deadline(const struct conn *c)
{
    return c->buffered ? 0 : timeout_at(c);
}

void
conn_expire(struct conn *c, int64_t now)
{
    int64_t d = timeout_at(c);

    if (d < 0 || now < d)
        return;
    if (c->state == CONN_OPEN) {
        snprintf(c->err, sizeof c->err,
                 "idle timeout: no bytes from the server for %.3g s",
                 (double)c->cfg->run->idle_timeout_ms / 1000);
        end(c, CONN_END_TIMEOUT, c->err);
    } else {
        snprintf(c->err, sizeof c->err, "connect timeout after %.3g s",
                 (double)c->cfg->run->connect_timeout_ms / 1000);
        end(c, CONN_END_CONNECT, c->err);
    }
}

void
conn_close(struct conn *c)
{
    if (c->state != CONN_CLOSED)
        end(c, CONN_END_LOCAL, "closed by pokefetch");
}
