/*
 * transport_h1 - the hand-written transport: one epoll loop and a pool of
 * connections (conn: socket, OpenSSL, h1 parser, jfield extractor), with
 * the connection policy that pipelining needs. See include/transport.h
 * for the interface; this file is the policy:
 *
 *  - Connections: up to `connections`, never more than jobs left.
 *    A request goes to the open connection with the fewest in flight, so
 *    ids spread evenly and the first flight leaves at once. Requests may
 *    be queued on a connection that is still connecting: they leave in
 *    one write as soon as the handshake is done.
 *  - Pipelining: up to `pipeline` requests in flight per connection.
 *    Brand-new connections at the start pipeline at once (nothing has
 *    failed yet); a connection that replaces one that died unannounced
 *    sends one request and waits for its answer first (RFC 9112 sec.
 *    9.3.2), and two such deaths with requests pipelined set the depth to
 *    1 for the rest of the run.
 *  - Server limits: when a server announces "Connection: close" after k
 *    responses with requests still unanswered, later connections carry
 *    at most k requests each, so no request is sent only to be refused;
 *    a server that answers one request per connection gets no pipelining.
 *  - Unanswered requests: after a close announcement they were never
 *    processed (RFC 9112 sec. 9.6): returned free. After an unannounced
 *    close, reset, malformed response or timeout, the oldest one is
 *    charged (it may be the cause) and the rest returned free.
 *  - Fatal: an untrusted certificate; SCHED-like limit of failed connects
 *    in a row (TRANSPORT_MAX_CONNECT_FAILURES); no socket at all.
 */
#include "transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "decode.h"
#include "loop.h"
#include "net.h"
#include "tlsio.h"

#define TRANSPORT_MAX_CONNECT_FAILURES 3

struct transport {
    const struct transport_config *cfg;
    const struct transport_events *ev;

    struct loop loop;
    struct tlsio_ctx tls;
    int use_tls;
    struct net_addrs addrs;
    unsigned addr_next;
    char host[URL_MAX_HOST + 1];
    char authority[URL_MAX_HOST + 16];
    struct conn_config conn_cfg;
    struct conn_stats cstats;

    struct conn *conns;
    unsigned char *probe; /* per connection: answer once before pipelining */
    char *conn_mem;
    unsigned n_conns;     /* allocated */
    unsigned max_open;    /* may drop below n_conns on EMFILE */
    unsigned n_open;
    size_t n_inflight;    /* over all connections */

    /* Learned about the server. */
    unsigned depth;        /* pipeline depth now */
    unsigned max_per_conn; /* 0: no limit known */
    int probe_next;
    unsigned pipelined_deaths;
    unsigned connect_failures_in_row;
    int last_status;
    int fatal;
};

static void
fatal(struct transport *t, const char *err)
{
    if (t->fatal)
        return;
    t->fatal = 1;
    t->ev->on_fatal(t->ev->owner, err);
}

static void
on_result(void *owner, struct conn *c, uint32_t job,
          const struct fetch_result *r)
{
    struct transport *t = owner;

    (void)c;
    t->last_status = r->status;
    t->connect_failures_in_row = 0;
    t->n_inflight--;
    t->ev->on_result(t->ev->owner, job, r);
}

/* Hand a closing connection's unanswered jobs back, the oldest charged if
   charge_oldest is set. */
static void
give_back(struct transport *t, struct conn *c, int charge_oldest,
          const char *err)
{
    unsigned n = conn_inflight(c), i;

    /* Newest first, so that a scheduler pushing each to the front of its
       queue ends with them in their original order. */
    for (i = n; i-- > 0;) {
        t->n_inflight--;
        t->ev->on_unanswered(t->ev->owner, conn_inflight_job(c, i),
                             i == 0 && charge_oldest, err);
    }
}

static void
on_close(void *owner, struct conn *c, enum conn_end why, const char *err)
{
    struct transport *t = owner;
    unsigned k = conn_inflight(c);

    t->n_open--;
    switch (why) {
    case CONN_END_LOCAL:
        give_back(t, c, 0, err);
        break;
    case CONN_END_ANNOUNCED:
        /* An error status that closed the connection says nothing about
           a limit on requests per connection. */
        if (k > 0 && c->n_responses > 0 && t->last_status < 400 &&
            (!t->max_per_conn || c->n_responses < t->max_per_conn))
            t->max_per_conn = c->n_responses;
        give_back(t, c, 0, err);
        break;
    case CONN_END_EOF:
    case CONN_END_ERROR:
    case CONN_END_TIMEOUT:
        if (k > 0) {
            t->probe_next = 1;
            if (k > 1 && ++t->pipelined_deaths >= 2)
                t->depth = 1;
        }
        if (c->n_responses > 0)
            t->connect_failures_in_row = 0;
        give_back(t, c, 1, err);
        break;
    case CONN_END_CONNECT:
        give_back(t, c, 0, err);
        if (t->addrs.n > 1)
            t->addr_next = (t->addr_next + 1) % t->addrs.n;
        if (++t->connect_failures_in_row >= TRANSPORT_MAX_CONNECT_FAILURES)
            fatal(t, err);
        break;
    case CONN_END_VERIFY:
        give_back(t, c, 0, err);
        fatal(t, err);
        break;
    }
}

static const struct conn_ops h1_conn_ops = {on_result, on_close};

static void
h1_close(struct transport *t)
{
    unsigned i;

    if (!t)
        return;
    if (t->conns)
        for (i = 0; i < t->n_conns; i++)
            conn_release(&t->conns[i]);
    if (t->loop.epfd >= 0)
        loop_close(&t->loop);
    if (t->use_tls)
        tlsio_ctx_close(&t->tls);
    free(t->conns);
    free(t->probe);
    free(t->conn_mem);
    free(t);
}

static struct transport *
h1_open(const struct transport_config *cfg, const struct transport_events *ev,
        size_t jobs, char *err, size_t errcap)
{
    const struct url_template *u = cfg->tmpl;
    struct transport *t = calloc(1, sizeof *t);
    size_t len, i;

    if (!t) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    t->loop.epfd = -1;
    t->cfg = cfg;
    t->ev = ev;
    memcpy(t->host, cfg->url + u->host_off, u->host_len);
    t->host[u->host_len] = '\0';
    len = url_authority(u, cfg->url, t->authority, sizeof t->authority);
    if (!len) {
        snprintf(err, errcap, "host name too long");
        goto fail;
    }
    t->use_tls = u->tls;
    if (t->use_tls &&
        tlsio_ctx_open(&t->tls, cfg->cafile, cfg->insecure, err, errcap) < 0) {
        t->use_tls = 0;
        goto fail;
    }
    if (net_resolve(t->host, u->port, &t->addrs, err, errcap) < 0)
        goto fail;
    if (loop_open(&t->loop) < 0) {
        snprintf(err, errcap, "epoll_create1: %s", strerror(errno));
        goto fail;
    }

    t->n_conns = cfg->connections;
    if (t->n_conns > jobs)
        t->n_conns = (unsigned)jobs;
    t->max_open = t->n_conns;
    t->depth = cfg->pipeline;
    if (!cfg->keep_alive)
        t->max_per_conn = 1;
    t->conns = calloc(t->n_conns, sizeof *t->conns);
    t->probe = calloc(t->n_conns, 1);
    t->conn_mem = malloc((size_t)t->n_conns * (CONN_IN_CAP + CONN_OUT_CAP));
    if (!t->conns || !t->probe || !t->conn_mem) {
        snprintf(err, errcap, "out of memory for %u connections", t->n_conns);
        goto fail;
    }

    t->conn_cfg.loop = &t->loop;
    t->conn_cfg.tls = t->use_tls ? &t->tls : NULL;
    t->conn_cfg.host = t->host;
    t->conn_cfg.host_is_ip = u->host_is_ip;
    t->conn_cfg.authority = t->authority;
    t->conn_cfg.authority_len = len;
    t->conn_cfg.user_agent = cfg->user_agent;
    t->conn_cfg.field = cfg->field;
    t->conn_cfg.field_len = strlen(cfg->field);
    t->conn_cfg.keep_alive = cfg->keep_alive;
    t->conn_cfg.accept_encoding = cfg->compressed ? decode_accept_encoding
                                                  : NULL;
    t->conn_cfg.max_body = cfg->max_body;
    t->conn_cfg.connect_timeout_ms = cfg->connect_timeout_ms;
    t->conn_cfg.idle_timeout_ms = cfg->idle_timeout_ms;
    t->conn_cfg.ops = &h1_conn_ops;
    t->conn_cfg.owner = t;
    t->conn_cfg.stats = &t->cstats;
    for (i = 0; i < t->n_conns; i++) {
        char *mem = t->conn_mem + i * (CONN_IN_CAP + CONN_OUT_CAP);
        if (conn_init(&t->conns[i], &t->conn_cfg, (unsigned)i, mem,
                      mem + CONN_IN_CAP) < 0) {
            snprintf(err, errcap, "out of memory for the decompressor");
            goto fail;
        }
    }
    if (cfg->insecure && t->use_tls)
        ev->on_warning(ev->owner, "warning: --insecure: the server's "
                                  "certificate is not verified");
    return t;
fail:
    h1_close(t);
    return NULL;
}

static void
h1_prepare(struct transport *t, size_t queued)
{
    size_t want = queued + t->n_inflight;
    unsigned i;

    for (i = 0; i < t->n_conns && !t->fatal && t->n_open < t->max_open &&
                t->n_open < want;
         i++) {
        struct conn *c = &t->conns[i];
        int rc;

        if (c->state != CONN_CLOSED)
            continue;
        rc = conn_open(c, (const struct sockaddr *)&t->addrs.addr[t->addr_next],
                       t->addrs.len[t->addr_next]);
        if ((rc == -EMFILE || rc == -ENFILE) && t->n_open > 0) {
            char msg[128];
            snprintf(msg, sizeof msg,
                     "out of file descriptors: going on with %u connections",
                     t->n_open);
            t->ev->on_warning(t->ev->owner, msg);
            t->max_open = t->n_open;
            return;
        }
        if (rc < 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "cannot open a socket: %s",
                     strerror(-rc));
            fatal(t, msg);
            return;
        }
        t->probe[i] = (unsigned char)t->probe_next;
        t->probe_next = 0;
        t->n_open++;
    }
    if (t->n_open == 0 && queued > 0 && !t->fatal)
        fatal(t, "no connection could be opened");
}

/* The open connection that can take a request now with the fewest in
   flight, or NULL. */
static struct conn *
pick(struct transport *t, size_t target_len)
{
    struct conn *best = NULL;
    unsigned i;

    for (i = 0; i < t->n_conns; i++) {
        struct conn *c = &t->conns[i];
        unsigned limit = t->depth;

        if (c->state == CONN_CLOSED || !conn_can_take(c, target_len))
            continue;
        if (t->probe[i] && c->n_responses == 0)
            limit = 1;
        if (conn_inflight(c) >= limit)
            continue;
        if (t->max_per_conn && c->n_submitted >= t->max_per_conn)
            continue;
        if (!best || conn_inflight(c) < conn_inflight(best))
            best = c;
    }
    return best;
}

static int
h1_submit(struct transport *t, uint32_t job, const char *target,
          size_t target_len)
{
    struct conn *c;

    if (t->fatal)
        return -EPIPE;
    c = pick(t, target_len);
    if (!c || conn_submit(c, job, target, target_len) < 0)
        return -EAGAIN;
    t->n_inflight++;
    return 0;
}

static int64_t
nearest_deadline(struct transport *t, int64_t deadline)
{
    unsigned i;

    for (i = 0; i < t->n_conns; i++) {
        int64_t d = conn_deadline(&t->conns[i]);

        if (t->conns[i].buffered)
            return 0;
        if (d >= 0 && (deadline < 0 || d < deadline))
            deadline = d;
    }
    return deadline;
}

static int
h1_wait(struct transport *t, int64_t deadline_ms)
{
    int64_t now;
    unsigned i;
    int rc;

    /* Requests queued since the last turn leave now, together. */
    for (i = 0; i < t->n_conns; i++)
        conn_flush(&t->conns[i]);
    rc = loop_run_once(&t->loop, nearest_deadline(t, deadline_ms));
    if (rc < 0)
        return rc;
    for (i = 0; i < t->n_conns; i++)
        conn_service_buffered(&t->conns[i]);
    now = loop_now_ms();
    for (i = 0; i < t->n_conns; i++)
        conn_expire(&t->conns[i], now);
    return 0;
}

static void
h1_abort(struct transport *t)
{
    unsigned i;

    for (i = 0; i < t->n_conns; i++)
        conn_close(&t->conns[i]);
}

static void
h1_stats(const struct transport *t, struct transport_stats *out)
{
    out->bytes_rx = t->cstats.bytes_rx;
    out->bytes_decoded = t->cstats.bytes_decoded;
    out->conns_opened = t->cstats.conns_opened;
    out->handshakes_full = t->cstats.handshakes_full;
    out->handshakes_resumed = t->cstats.handshakes_resumed;
    out->deepest_pipeline = t->cstats.deepest_pipeline;
    out->learned_max_requests = t->cfg->keep_alive ? t->max_per_conn : 0;
}

static const struct transport_vt transport_h1 = {
    "pokefetch", CONN_MAX_PIPELINE, h1_open, h1_prepare, h1_submit,
    h1_wait,     h1_abort,          h1_stats, h1_close,
};

const struct transport_vt *const transport_default = &transport_h1;
