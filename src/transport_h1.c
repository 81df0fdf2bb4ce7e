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
 *  - Spent connections: one that has carried as many requests as the
 *    server allows (the learned limit, or one with --no-keepalive) and
 *    has answered them is closed at the next turn, even if the server
 *    keeps it open, so its slot opens a fresh one for the work queued.
 *  - Connect attempts (transport.h's rule): 1 + --retries failures in a
 *    row make an origin unreachable, and at least one try of each of its
 *    addresses; a connect() that fails at once counts like one that
 *    fails later, and is tried again at once. A failure of a connection
 *    that went to an address already left behind (the first wave of
 *    connections all went to one address) is not counted again.
 *  - Fatal: an untrusted certificate, or the template's origin
 *    unreachable. For an origin a redirect named, the same failures fail
 *    only the jobs sent there.
 *  - Origins: the template's has the pool of `connections`; each origin
 *    a redirect names gets one connection of its own (slots[n_main + k -
 *    1] for origin k), with its own TLS context, so a redirect never
 *    waits for the main pool and never offers a session to the wrong host.
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
#include "origin.h"
#include "timeline.h"
#include "tlsio.h"

/* One connection of the pool, and what the pool keeps about it. */
struct slot {
    struct conn *conn; /* NULL until its origin needs it */
    int probe;         /* answer once before pipelining on it */
};

/* A scheme + host + port requests go to (include/origin.h), and what the
   pool keeps for it; origins[0] is the template's. */
struct pool_origin {
    struct origin o;
    struct tlsio_ctx tls_ctx;
    int tls_open;
    struct net_addrs addrs;
    unsigned addr_next;
    struct conn_config cfg;
};

struct transport {
    const struct fetch_config *cfg;
    const struct transport_events *ev;
    struct fetch_stats *st;

    struct loop loop;
    struct pool_origin origins[TRANSPORT_MAX_ORIGINS];
    unsigned n_origins;

    struct slot *slots; /* n_main for origin 0, then one per origin > 0 */
    struct decode_arenas arenas; /* one per connection, touched as used */
    unsigned n_main;             /* the main pool's size */
    unsigned n_conns;  /* allocated: n_main + TRANSPORT_MAX_ORIGINS - 1 */
    unsigned max_open; /* of the main pool; may drop on EMFILE */
    unsigned n_open;   /* of the main pool */
    size_t n_inflight; /* over all connections */

    /* Learned about the server. */
    unsigned depth;        /* pipeline depth now */
    unsigned max_per_conn; /* 0: no limit known */
    int probe_next;
    unsigned pipelined_deaths;
    unsigned long n_ended; /* connections ended so far (pool_wait) */
    int last_status;
    int fatal;
};

/* Slots with a connection: the main pool's, then one per origin a
   redirect named, in the order they appeared. */
static unsigned
live_slots(const struct transport *t)
{
    return t->n_main + t->n_origins - 1;
}

/* The origin a connection belongs to. */
static unsigned
origin_of(const struct transport *t, const struct conn *c)
{
    unsigned i = conn_index(c);

    return i < t->n_main ? 0 : i - t->n_main + 1;
}

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

    t->last_status = r->status;
    origin_answered(&t->origins[origin_of(t, c)].o);
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

/* Every job in flight fails for good with err (a secondary origin that
   cannot be reached: the main pool cannot serve those requests). */
static void
fail_inflight(struct transport *t, struct conn *c, const char *err)
{
    unsigned n = conn_inflight(c), i;

    for (i = 0; i < n; i++) {
        t->n_inflight--;
        transport_fail_job(t->ev, conn_inflight_job(c, i), err);
    }
}

/* The address origin o's next connection goes to. */
static const struct sockaddr *
addr_now(const struct pool_origin *org)
{
    return (const struct sockaddr *)&org->addrs.addr[org->addr_next];
}

/*
 * A connection attempt to origin o failed, at once or later, with err;
 * the next one goes to the next address. Returns 1 if the origin is now
 * unreachable (transport.h's rule): for the template's origin, the run
 * is over.
 */
static int
connect_failed(struct transport *t, unsigned o, const char *err)
{
    struct pool_origin *org = &t->origins[o];
    unsigned attempts = t->cfg->max_retries + 1;

    if (attempts < org->addrs.n)
        attempts = org->addrs.n;
    if (org->addrs.n)
        org->addr_next = (org->addr_next + 1) % org->addrs.n;
    if (!origin_connect_failed(&org->o, attempts, err))
        return 0;
    if (o == 0)
        fatal(t, org->o.why);
    return 1;
}

/* The server closed c after its answers: that many per connection is its
   limit (the pool opens no connection for more). */
static void
learned_limit(struct transport *t, struct conn *c)
{
    t->st->learned_max_requests = t->max_per_conn = conn_responses(c);
    if (t->cfg->timeline)
        tl_limit(t->cfg->timeline, conn_record(c), t->max_per_conn);
}

static void
on_close(void *owner, struct conn *c, enum conn_end why, const char *err)
{
    struct transport *t = owner;
    unsigned k = conn_inflight(c), o = origin_of(t, c);
    struct pool_origin *org = &t->origins[o];

    t->n_ended++;
    if (o == 0)
        t->n_open--;
    switch (why) {
    case CONN_END_LOCAL:
        give_back(t, c, 0, err);
        break;
    case CONN_END_ANNOUNCED:
        /* An error status that closed the connection says nothing about
           a limit on requests per connection. */
        if (o == 0 && k > 0 && conn_responses(c) > 0 && t->last_status < 400 &&
            (!t->max_per_conn || conn_responses(c) < t->max_per_conn))
            learned_limit(t, c);
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
        if (conn_responses(c) > 0)
            origin_answered(&org->o);
        give_back(t, c, 1, err);
        break;
    case CONN_END_CONNECT:
        /* A stale failure (an address already left) is not counted. */
        if (conn_peer(c) == addr_now(org) && connect_failed(t, o, err) &&
            o > 0)
            fail_inflight(t, c, org->o.why);
        else
            give_back(t, c, 0, err);
        break;
    case CONN_END_VERIFY:
        if (o == 0)
            give_back(t, c, 0, err), fatal(t, err);
        else
            fail_inflight(t, c, err);
        break;
    }
}

static const struct conn_ops pool_conn_ops = {on_result, on_close};

static void pool_prepare(struct transport *t, size_t queued);

/* Connections whose handshake is done. */
static unsigned
n_established(struct transport *t)
{
    unsigned i, n = 0;

    for (i = 0; i < live_slots(t); i++)
        if (t->slots[i].conn && conn_established(t->slots[i].conn))
            n++;
    return n;
}

/*
 * Run the read path of each connection whose TLS holds bytes epoll will
 * not announce, and after each, whatever became ready meanwhile: one
 * connection's answers can hold the CPU for milliseconds, and a handshake
 * finishing on another must not wait behind them (its Finished, and with
 * it the server's session ticket, would leave that much later). Stops
 * early, the rest for the next turn, when a handshake finished: the
 * scheduler fills that connection first, so its requests leave before
 * the answers already here are read (a connection whose first requests
 * went as early data has room for the others only now).
 */
static int
service_buffered(struct transport *t)
{
    unsigned i, open = n_established(t);

    for (i = 0; i < live_slots(t); i++) {
        int rc;

        if (!t->slots[i].conn || !conn_service_buffered(t->slots[i].conn))
            continue;
        rc = loop_run_once(&t->loop, 0);
        if (rc < 0)
            return rc;
        if (n_established(t) > open)
            return 0;
    }
    return 0;
}

/*
 * The run is over, but connections that sent early data may not have
 * their session tickets yet (conn_ticket_due): without them the next run
 * would find none to resume with, and send nothing early. Wait for them,
 * each no longer than about a round trip; the names are out already.
 */
static void
await_tickets(struct transport *t)
{
    for (;;) {
        int64_t due = -1, d;
        unsigned i;

        for (i = 0; i < live_slots(t); i++)
            if (t->slots[i].conn &&
                (d = conn_ticket_due(t->slots[i].conn)) > due)
                due = d;
        if (due < 0 || loop_now_ms() >= due)
            return;
        if (loop_run_once(&t->loop, due) < 0 || service_buffered(t) < 0)
            return;
    }
}

static void
pool_close(struct transport *t)
{
    unsigned i;

    if (!t)
        return;
    if (t->slots && t->loop.epfd >= 0)
        await_tickets(t);
    if (t->slots)
        for (i = 0; i < t->n_conns; i++)
            conn_free(t->slots[i].conn);
    if (t->loop.epfd >= 0)
        loop_close(&t->loop);
    for (i = 0; i < t->n_origins; i++)
        if (t->origins[i].tls_open)
            tlsio_ctx_close(&t->origins[i].tls_ctx);
    decode_arenas_close(&t->arenas);
    free(t->slots);
    free(t);
}

/* Fill in the configuration origin o's connections share (it is named
   already). */
static void
origin_conns(struct transport *t, unsigned o)
{
    struct pool_origin *org = &t->origins[o];
    struct conn_config *cc = &org->cfg;

    cc->loop = &t->loop;
    cc->tls = org->o.tls ? &org->tls_ctx : NULL;
    cc->host = org->o.host;
    cc->host_is_ip = org->o.host_is_ip;
    cc->authority = org->o.authority;
    cc->authority_len = org->o.authority_len;
    cc->run = t->cfg;
    cc->stats = t->st;
    cc->ops = &pool_conn_ops;
    cc->owner = t;
    cc->origin = o;
}

/*
 * Resolve origin o's name into its addresses (blocks). Observed, the
 * origin is named in the timeline and the answer is an event: "host:
 * addr, addr (N ms)". Returns 0 or -1 with err.
 */
static int
origin_resolve(struct transport *t, unsigned o, char *err, size_t errcap)
{
    struct pool_origin *org = &t->origins[o];
    struct timeline *tl = t->cfg->timeline;
    char text[512], name[TL_ORIGIN_LEN];
    int64_t t0 = tl ? loop_now_us() : 0;

    if (net_resolve(org->o.host, org->o.port, &org->addrs, err, errcap) < 0)
        return -1;
    if (!tl)
        return 0;
    snprintf(name, sizeof name, "%s://%s", org->o.tls ? "https" : "http",
             org->o.authority);
    tl_origin(tl, o, name);
    net_resolved_text(org->o.host, &org->addrs, loop_now_us() - t0, text,
                      sizeof text);
    tl_dns(tl, text);
    return 0;
}

/* Origin o's TLS context (trust store, ALPN, session cache or store),
   if it speaks TLS. Returns 0 or -1 with err. */
static int
origin_tls_init(struct transport *t, unsigned o, char *err, size_t errcap)
{
    struct pool_origin *org = &t->origins[o];

    if (!org->o.tls)
        return 0;
    if (tlsio_ctx_open(&org->tls_ctx, t->cfg->cafile, t->cfg->insecure, err,
                       errcap) < 0)
        return -1;
    tlsio_ctx_origin(&org->tls_ctx, org->o.host, org->o.port,
                     org->o.host_is_ip);
    org->tls_open = 1;
    return 0;
}

/*
 * An origin a redirect named is set up the first time a job is submitted
 * to it, in the scheduler's turn and not inside an event callback:
 * resolving its name and loading a trust store block (the latter ~30 ms).
 * If either fails, the origin is unreachable and its jobs fail with why.
 */
static void
origin_ready(struct transport *t, unsigned o)
{
    struct pool_origin *org = &t->origins[o];
    char err[CONN_ERR_LEN];

    if (org->o.ready || org->o.unreachable)
        return;
    if (origin_resolve(t, o, err, sizeof err) < 0 ||
        origin_tls_init(t, o, err, sizeof err) < 0) {
        origin_fail(&org->o, err);
        return;
    }
    org->o.ready = 1;
}

static struct transport *
pool_open(const struct fetch_config *cfg, const struct transport_events *ev,
          struct fetch_stats *st, char *err, size_t errcap)
{
    const struct url_template *u = &cfg->tmpl;
    struct transport *t = calloc(1, sizeof *t);
    struct origin *o0;
    unsigned i;

    if (!t) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    t->loop.epfd = -1;
    t->cfg = cfg;
    t->ev = ev;
    t->st = st;
    if (loop_open(&t->loop) < 0) {
        snprintf(err, errcap, "epoll_create1: %s", strerror(errno));
        goto fail;
    }
    o0 = &t->origins[0].o;
    t->n_origins = 1;
    if (origin_set_template(o0, u, cfg->url) < 0) {
        snprintf(err, errcap, "host name too long");
        goto fail;
    }
    origin_conns(t, 0);
    if (origin_resolve(t, 0, err, errcap) < 0)
        goto fail;

    t->n_main = cfg->connections;
    if (t->n_main > cfg->n_ids)
        t->n_main = (unsigned)cfg->n_ids;
    t->n_conns = t->n_main + TRANSPORT_MAX_ORIGINS - 1;
    t->max_open = t->n_main;
    t->depth = cfg->pipeline;
    if (!cfg->keep_alive)
        t->max_per_conn = 1;
    t->slots = calloc(t->n_conns, sizeof *t->slots);
    if (!t->slots || decode_arenas_open(&t->arenas, t->n_conns) < 0) {
        snprintf(err, errcap, "out of memory for %u connections", t->n_main);
        goto fail;
    }
    /* Every connection now, the extra origins' too (they are named when
       a redirect appears): nothing is allocated in a callback. */
    for (i = 0; i < t->n_conns; i++) {
        unsigned o = i < t->n_main ? 0 : i - t->n_main + 1;

        /* The rest of an extra origin's config comes when it is named;
           the run's options are known now (conn_new reads them). */
        t->origins[o].cfg.run = cfg;
        t->slots[i].conn = conn_new(&t->origins[o].cfg, i, &t->arenas);
        if (!t->slots[i].conn) {
            snprintf(err, errcap, "out of memory for %u connections",
                     t->n_main);
            goto fail;
        }
    }
    /*
     * Connect first, then build the TLS context while the SYNs are out:
     * no connection needs it before its TCP handshake is done, one round
     * trip from now, and building it is the slowest thing the program
     * does before its first byte (loading Debian's default trust store,
     * ~140 certificates, takes ~30 ms here; SSL_CTX_new ~2 ms). If it
     * fails, it may be for want of a file descriptor (a low ulimit -n,
     * all of them just taken by sockets): those connections close unused
     * and it is tried once more (the scheduler opens them again); if it
     * fails then too, the run ends with the reason, as before anything
     * was sent.
     */
    pool_prepare(t, cfg->n_ids);
    if (origin_tls_init(t, 0, err, errcap) < 0) {
        if (t->n_open == 0)
            goto fail;
        for (i = 0; i < t->n_main; i++)
            conn_close(t->slots[i].conn);
        if (origin_tls_init(t, 0, err, errcap) < 0)
            goto fail;
    }
    o0->ready = 1;
    if (cfg->insecure && u->tls)
        ev->on_warning(ev->owner, "warning: --insecure: the server's "
                                  "certificate is not verified");
    return t;
fail:
    pool_close(t);
    return NULL;
}

static int
pool_origin(struct transport *t, const struct url_ref *ref, const char *s,
            char *err, size_t errcap)
{
    unsigned o;

    for (o = 0; o < t->n_origins; o++)
        if (origin_is(&t->origins[o].o, ref, s))
            return (int)o;
    if (t->n_origins == TRANSPORT_MAX_ORIGINS) {
        snprintf(err, errcap, "redirected to more than %d hosts",
                 TRANSPORT_MAX_ORIGINS);
        return -1;
    }
    if (origin_set_ref(&t->origins[o].o, ref, s) < 0) {
        snprintf(err, errcap, "redirect: host name too long");
        return -1;
    }
    origin_conns(t, o);
    return (int)t->n_origins++;
}

/* Whether c has carried all the requests one connection may: the
   learned server limit, or one request with --no-keepalive. */
static int
spent(const struct transport *t, const struct conn *c)
{
    return t->max_per_conn && conn_submitted(c) >= t->max_per_conn;
}

/* Whether connection i may take one more request of target_len now. */
static int
can_take(const struct transport *t, unsigned i, size_t target_len)
{
    const struct conn *c = t->slots[i].conn;
    unsigned limit = t->depth;

    if (!c || conn_closed(c) || !conn_can_take(c, target_len))
        return 0;
    if (t->slots[i].probe && conn_responses(c) == 0)
        limit = 1;
    if (conn_inflight(c) >= limit)
        return 0;
    return !spent(t, c);
}

/* The main pool's connection that can take a request now with the fewest
   in flight, or NULL. */
static struct conn *
pick(struct transport *t, size_t target_len)
{
    struct conn *best = NULL;
    unsigned i;

    for (i = 0; i < t->n_main; i++) {
        struct conn *c = t->slots[i].conn;

        if (!can_take(t, i, target_len))
            continue;
        if (!best || conn_inflight(c) < conn_inflight(best))
            best = c;
    }
    return best;
}

/*
 * Open connection slot i to origin o's current address. Returns 0 if
 * opened; 1 if connect() failed at once (counted as an attempt; try
 * again unless the origin is now unreachable); -1 if the main pool is
 * out of file descriptors with connections still open: it goes on with
 * those (said once, as a warning).
 */
static int
open_slot(struct transport *t, unsigned i, unsigned o)
{
    struct pool_origin *org = &t->origins[o];
    char msg[160], to[80];
    int rc;

    rc = conn_open(t->slots[i].conn, addr_now(org),
                   org->addrs.len[org->addr_next]);
    if (rc == 0) {
        t->slots[i].probe = o == 0 && t->probe_next;
        if (o == 0) {
            t->probe_next = 0;
            t->n_open++;
        }
        return 0;
    }
    if ((rc == -EMFILE || rc == -ENFILE) && o == 0 && t->n_open > 0) {
        snprintf(msg, sizeof msg,
                 "out of file descriptors: going on with %u connections",
                 t->n_open);
        t->ev->on_warning(t->ev->owner, msg);
        t->max_open = t->n_open;
        return -1;
    }
    net_addr_text(addr_now(org), to, sizeof to);
    snprintf(msg, sizeof msg, "connect to %s: %s", to, strerror(-rc));
    (void)connect_failed(t, o, msg);
    return 1;
}

/* Close the connections that can take no more work and have none left,
   so that their slots open fresh ones: a server may keep such a
   connection open (an idle one has no deadline) and never close it. */
static void
retire_spent(struct transport *t)
{
    unsigned i;

    for (i = 0; i < live_slots(t); i++) {
        struct conn *c = t->slots[i].conn;

        if (!conn_closed(c) && conn_inflight(c) == 0 && spent(t, c))
            conn_close(c);
    }
}

static void
pool_prepare(struct transport *t, size_t queued)
{
    size_t want = queued + t->n_inflight;
    unsigned i;

    retire_spent(t);
    for (i = 0; i < t->n_main && !t->fatal && t->n_open < t->max_open &&
                t->n_open < want;
         i++) {
        int rc;

        if (!conn_closed(t->slots[i].conn))
            continue;
        /* A failure at once is tried again until the attempts run out. */
        while ((rc = open_slot(t, i, 0)) == 1 && !t->fatal)
            ;
        if (rc < 0)
            return;
    }
    if (t->n_open == 0 && queued > 0 && !t->fatal)
        fatal(t, "no connection could be opened");
}

/* An extra origin's own connection, opened if need be, or NULL. */
static struct conn *
pick_extra(struct transport *t, unsigned o, size_t target_len)
{
    unsigned i = t->n_main + o - 1;

    origin_ready(t, o);
    while (conn_closed(t->slots[i].conn) && !t->origins[o].o.unreachable)
        (void)open_slot(t, i, o);
    return can_take(t, i, target_len) ? t->slots[i].conn : NULL;
}

static int
pool_submit(struct transport *t, uint32_t job, int origin, const char *target,
            size_t target_len)
{
    struct conn *c;

    if (t->fatal)
        return -EPIPE;
    if (origin < 0 || (unsigned)origin >= t->n_origins)
        return -EINVAL;
    c = origin == 0 ? pick(t, target_len)
                    : pick_extra(t, (unsigned)origin, target_len);
    if (t->origins[origin].o.unreachable) {
        transport_fail_job(t->ev, job, t->origins[origin].o.why);
        return 0;
    }
    if (!c || conn_submit(c, job, target, target_len) < 0)
        return -EAGAIN;
    t->n_inflight++;
    return 0;
}

static int64_t
nearest_deadline(struct transport *t, int64_t deadline)
{
    unsigned i;

    for (i = 0; i < live_slots(t); i++) {
        int64_t d = conn_deadline(t->slots[i].conn);

        if (d >= 0 && (deadline < 0 || d < deadline))
            deadline = d;
    }
    return deadline;
}

static int
pool_wait(struct transport *t, int64_t deadline_ms)
{
    int64_t now;
    unsigned long ended;
    unsigned i, open;
    int rc;

    /*
     * Requests queued since the last turn leave now, together. A
     * connection that ends here (the server reset it: the write fails)
     * has handed its requests back to the scheduler, which must place
     * them, and open another connection, before anything waits: with
     * no connection left, nothing would ever wake this wait.
     */
    ended = t->n_ended;
    for (i = 0; i < live_slots(t); i++)
        conn_flush(t->slots[i].conn);
    if (t->n_ended != ended)
        return 0;
    open = n_established(t);
    rc = loop_run_once(&t->loop, nearest_deadline(t, deadline_ms));
    if (rc < 0)
        return rc;
    /* A handshake just done: fill it before reading (service_buffered). */
    if (n_established(t) > open)
        return 0;
    if ((rc = service_buffered(t)) < 0)
        return rc;
    now = loop_now_ms();
    for (i = 0; i < live_slots(t); i++)
        conn_expire(t->slots[i].conn, now);
    return 0;
}

static void
pool_abort(struct transport *t)
{
    unsigned i;

    for (i = 0; i < live_slots(t); i++)
        conn_close(t->slots[i].conn);
}

static const char *
pool_version(char *out, size_t cap)
{
    int n = snprintf(out, cap, "transport: hand-written HTTP/1.1\n");

    if (n > 0 && (size_t)n < cap)
        tlsio_version(out + n, cap - (size_t)n);
    return NULL;
}

static const struct transport_vt transport_h1 = {
    .name = "pokefetch",
    .max_pipeline = CONN_MAX_PIPELINE,
    .tls_sessions = 1,
    .early_data = 1,
    .open = pool_open,
    .prepare = pool_prepare,
    .origin = pool_origin,
    .submit = pool_submit,
    .wait = pool_wait,
    .abort = pool_abort,
    .close = pool_close,
    .version = pool_version,
};

const struct transport_vt *const transport_default = &transport_h1;
