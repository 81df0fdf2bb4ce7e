/*
 * sched - the policy of a run; see include/sched.h for what it decides
 * and why. This file holds the job table, the queue of jobs waiting for a
 * connection, the result window, and the main loop:
 *
 *     while some job has no result:
 *         open connections (up to the limit, never more than jobs left)
 *         dispatch queued jobs to the least-loaded connections
 *         wait in the event loop until an event or the nearest deadline
 *         expire connections whose deadline passed
 *
 * All memory is taken in sched_run() before the first connection opens:
 * the connections and their buffers, and per-job tables sized by the
 * number of ids (a few bytes each). The result window holds at most
 * `window` results of at most JF_MAX_VALUE bytes.
 */
#include "sched.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "loop.h"
#include "net.h"
#include "tlsio.h"

#define SLOT_CAP JF_MAX_VALUE

/* Pending results kept in id order: enough for every request that can
   be in flight at once, twice over, so a slow head does not stall the
   rest at once. */
#define WINDOW_MIN 64

enum slot_state { SLOT_EMPTY = 0, SLOT_OK, SLOT_FAILED };

struct sched {
    const struct sched_options *o;
    sched_output_fn out;
    void *out_arg;
    struct sched_stats *st;

    struct loop loop;
    struct tlsio_ctx tls;
    int use_tls;
    struct net_addrs addrs;
    unsigned addr_next;
    char host[URL_MAX_HOST + 1];
    char authority[URL_MAX_HOST + 16];
    struct conn_config cfg;
    struct conn_stats cstats;

    struct conn *conns;
    unsigned char *probe;   /* per connection: answer once before pipelining */
    char *conn_mem;
    unsigned n_conns;       /* allocated */
    unsigned max_open;      /* may drop below n_conns on EMFILE */
    unsigned n_open;

    /* Per job. */
    unsigned char *attempts; /* charged failures */
    unsigned char *sent;     /* times sent, saturating */
    unsigned char *done;
    size_t n_done;

    /* Jobs waiting for a connection: a ring, front = next to send. */
    uint32_t *queue;
    size_t q_head, q_len;

    /* Results waiting for every earlier one (id order only). */
    size_t window;
    unsigned char *slot_state;
    uint16_t *slot_len;
    char *slot_text;
    size_t next_print;

    /* Learned about the server. */
    unsigned depth;          /* pipeline depth now */
    unsigned max_per_conn;   /* 0: no limit known */
    int probe_next;
    unsigned pipelined_deaths;
    unsigned connect_failures_in_row;
    int last_status;

    int fatal;
    char fatal_err[CONN_ERR_LEN + 64];
};

static void
queue_push_back(struct sched *s, uint32_t job)
{
    s->queue[(s->q_head + s->q_len) % s->o->n_ids] = job;
    s->q_len++;
}

static void
queue_push_front(struct sched *s, uint32_t job)
{
    s->q_head = (s->q_head + s->o->n_ids - 1) % s->o->n_ids;
    s->queue[s->q_head] = job;
    s->q_len++;
}

static uint32_t
queue_pop_front(struct sched *s)
{
    uint32_t job = s->queue[s->q_head];

    s->q_head = (s->q_head + 1) % s->o->n_ids;
    s->q_len--;
    return job;
}

static void
emit(struct sched *s, size_t job, int ok, const char *text, size_t len)
{
    struct sched_result r;

    r.index = job;
    r.id = s->o->ids[job];
    r.ok = ok;
    r.text = text;
    r.len = len;
    s->out(s->out_arg, &r);
}

/* Give job its one result. */
static void
finish(struct sched *s, uint32_t job, int ok, const char *text, size_t len)
{
    size_t slot;

    if (s->done[job])
        return; /* cannot happen: a job is in one place at a time */
    s->done[job] = 1;
    s->n_done++;
    if (ok)
        s->st->ok++;
    else
        s->st->failed++;
    if (s->o->arrival_order) {
        emit(s, job, ok, text, len);
        return;
    }
    slot = job % s->window;
    if (len > SLOT_CAP)
        len = SLOT_CAP;
    memcpy(s->slot_text + slot * SLOT_CAP, text, len);
    s->slot_len[slot] = (uint16_t)len;
    s->slot_state[slot] = ok ? SLOT_OK : SLOT_FAILED;
    while (s->next_print < s->o->n_ids) {
        slot = s->next_print % s->window;
        if (s->slot_state[slot] == SLOT_EMPTY)
            break;
        emit(s, s->next_print, s->slot_state[slot] == SLOT_OK,
             s->slot_text + slot * SLOT_CAP, s->slot_len[slot]);
        s->slot_state[slot] = SLOT_EMPTY;
        s->next_print++;
    }
}

static void
set_fatal(struct sched *s, const char *err)
{
    if (s->fatal)
        return;
    s->fatal = 1;
    snprintf(s->fatal_err, sizeof s->fatal_err, "%s", err);
}

static void
on_result(void *owner, struct conn *c, uint32_t job,
          const struct conn_result *r)
{
    struct sched *s = owner;

    (void)c;
    s->last_status = r->status;
    s->connect_failures_in_row = 0;
    finish(s, job, r->ok, r->text, r->len);
}

/* Put a closing connection's unanswered jobs back at the front, oldest
   first, charging the oldest one attempt if charge is set. */
static void
requeue(struct sched *s, struct conn *c, int charge, const char *err)
{
    unsigned n = conn_inflight(c);
    unsigned i;

    for (i = n; i-- > 0;) {
        uint32_t job = conn_inflight_job(c, i);

        if (i == 0 && charge && ++s->attempts[job] > s->o->max_retries) {
            char msg[CONN_ERR_LEN + 48];
            int len = snprintf(msg, sizeof msg, "%s (%u attempt%s)", err,
                               s->o->max_retries + 1,
                               s->o->max_retries ? "s" : "");
            finish(s, job, 0, msg,
                   len < 0 ? 0
                   : (size_t)len >= sizeof msg ? sizeof msg - 1
                                               : (size_t)len);
            continue;
        }
        queue_push_front(s, job);
    }
}

static void
on_close(void *owner, struct conn *c, enum conn_end why, const char *err)
{
    struct sched *s = owner;
    unsigned k = conn_inflight(c);

    s->n_open--;
    switch (why) {
    case CONN_END_LOCAL:
        requeue(s, c, 0, err);
        break;
    case CONN_END_ANNOUNCED:
        /* The server's limit of requests per connection: send no more
           than that on later connections (unless it was an error status
           that closed it, which says nothing about a limit). */
        if (k > 0 && c->n_responses > 0 && s->last_status < 400 &&
            (!s->max_per_conn || c->n_responses < s->max_per_conn))
            s->max_per_conn = c->n_responses;
        requeue(s, c, 0, err);
        break;
    case CONN_END_EOF:
    case CONN_END_ERROR:
    case CONN_END_TIMEOUT:
        if (k > 0) {
            requeue(s, c, 1, err);
            s->probe_next = 1;
            if (k > 1 && ++s->pipelined_deaths >= 2)
                s->depth = 1;
        }
        if (c->n_responses > 0)
            s->connect_failures_in_row = 0;
        break;
    case CONN_END_CONNECT:
        requeue(s, c, 0, err);
        if (s->addrs.n > 1)
            s->addr_next = (s->addr_next + 1) % s->addrs.n;
        if (++s->connect_failures_in_row >= SCHED_MAX_CONNECT_FAILURES)
            set_fatal(s, err);
        break;
    case CONN_END_VERIFY:
        requeue(s, c, 0, err);
        set_fatal(s, err);
        break;
    }
}

static const struct conn_ops sched_conn_ops = {on_result, on_close};

/* Open connections while there is queued work and room for one. */
static void
open_more(struct sched *s, void (*warn)(void *, const char *))
{
    size_t unfinished = s->o->n_ids - s->n_done;
    unsigned i;

    for (i = 0; i < s->n_conns && s->q_len > 0 && s->n_open < s->max_open &&
                s->n_open < unfinished;
         i++) {
        struct conn *c = &s->conns[i];
        int rc;

        if (c->state != CONN_CLOSED)
            continue;
        rc = conn_open(c, (const struct sockaddr *)&s->addrs.addr[s->addr_next],
                       s->addrs.len[s->addr_next]);
        if (rc == -EMFILE || rc == -ENFILE) {
            if (s->n_open > 0) {
                char msg[128];
                snprintf(msg, sizeof msg,
                         "out of file descriptors: going on with %u "
                         "connections",
                         s->n_open);
                if (warn)
                    warn(s->out_arg, msg);
                s->max_open = s->n_open;
                return;
            }
        }
        if (rc < 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "cannot open a socket: %s",
                     strerror(-rc));
            set_fatal(s, msg);
            return;
        }
        s->probe[i] = (unsigned char)s->probe_next;
        s->probe_next = 0;
        s->n_open++;
    }
}

/* The open connection that can take a request now with the fewest in
   flight, or NULL. */
static struct conn *
pick(struct sched *s, size_t target_len)
{
    struct conn *best = NULL;
    unsigned i;

    for (i = 0; i < s->n_conns; i++) {
        struct conn *c = &s->conns[i];
        unsigned limit = s->depth;

        if (c->state == CONN_CLOSED || !conn_can_take(c, target_len))
            continue;
        if (s->probe[i] && c->n_responses == 0)
            limit = 1;
        if (conn_inflight(c) >= limit)
            continue;
        if (s->max_per_conn && c->n_submitted >= s->max_per_conn)
            continue;
        if (!best || conn_inflight(c) < conn_inflight(best))
            best = c;
    }
    return best;
}

static void
dispatch(struct sched *s)
{
    char target[URL_MAX_TARGET];
    unsigned i;

    while (s->q_len > 0) {
        uint32_t job = s->queue[s->q_head];
        struct conn *c;
        size_t len;

        if (!s->o->arrival_order && job >= s->next_print + s->window)
            break;
        len = url_target(&s->o->tmpl, s->o->url, s->o->ids[job], target,
                         sizeof target);
        c = pick(s, len);
        if (!c)
            break;
        if (conn_submit(c, job, target, len) < 0)
            break; /* cannot happen after pick(); try next turn */
        (void)queue_pop_front(s);
        if (s->sent[job]) {
            s->st->retries++;
        }
        if (s->sent[job] < 255)
            s->sent[job]++;
    }
    for (i = 0; i < s->n_conns; i++)
        conn_flush(&s->conns[i]);
}

/* Fail every job that has no result yet with the fatal reason. */
static void
fail_all(struct sched *s)
{
    unsigned i;

    for (i = 0; i < s->n_conns; i++)
        conn_close(&s->conns[i]); /* in-flight jobs come back to the queue */
    while (s->q_len > 0) {
        uint32_t job = queue_pop_front(s);
        finish(s, job, 0, s->fatal_err, strlen(s->fatal_err));
    }
}

static int
setup(struct sched *s, char *err, size_t errcap)
{
    const struct sched_options *o = s->o;
    size_t n = o->n_ids, i;
    int len;

    memcpy(s->host, o->url + o->tmpl.host_off, o->tmpl.host_len);
    s->host[o->tmpl.host_len] = '\0';
    len = (int)url_authority(&o->tmpl, o->url, s->authority,
                             sizeof s->authority);
    if (len <= 0) {
        snprintf(err, errcap, "host name too long");
        return -1;
    }
    s->use_tls = o->tmpl.tls;
    if (s->use_tls &&
        tlsio_ctx_open(&s->tls, o->cafile, o->insecure, err, errcap) < 0)
        return -1;
    if (net_resolve(s->host, o->tmpl.port, &s->addrs, err, errcap) < 0)
        return -1;
    if (loop_open(&s->loop) < 0) {
        snprintf(err, errcap, "epoll_create1: %s", strerror(errno));
        return -1;
    }

    s->n_conns = o->connections;
    if (s->n_conns > n)
        s->n_conns = (unsigned)n;
    s->max_open = s->n_conns;
    s->depth = o->pipeline;
    s->window = (size_t)s->n_conns * o->pipeline * 2;
    if (s->window < WINDOW_MIN)
        s->window = WINDOW_MIN;
    if (s->window > n)
        s->window = n;

    s->conns = calloc(s->n_conns, sizeof *s->conns);
    s->probe = calloc(s->n_conns, 1);
    s->conn_mem = malloc((size_t)s->n_conns * (CONN_IN_CAP + CONN_OUT_CAP));
    s->attempts = calloc(n, 1);
    s->sent = calloc(n, 1);
    s->done = calloc(n, 1);
    s->queue = calloc(n, sizeof *s->queue);
    s->slot_state = calloc(s->window, 1);
    s->slot_len = calloc(s->window, sizeof *s->slot_len);
    s->slot_text = malloc(s->window * SLOT_CAP);
    if (!s->conns || !s->probe || !s->conn_mem || !s->attempts ||
        !s->sent || !s->done || !s->queue || !s->slot_state ||
        !s->slot_len || !s->slot_text) {
        snprintf(err, errcap, "out of memory for %zu ids", n);
        return -1;
    }

    s->cfg.loop = &s->loop;
    s->cfg.tls = s->use_tls ? &s->tls : NULL;
    s->cfg.host = s->host;
    s->cfg.host_is_ip = o->tmpl.host_is_ip;
    s->cfg.authority = s->authority;
    s->cfg.authority_len = (size_t)len;
    s->cfg.user_agent = o->user_agent;
    s->cfg.field = o->field;
    s->cfg.field_len = strlen(o->field);
    s->cfg.keep_alive = o->keep_alive;
    s->cfg.connect_timeout_ms = o->connect_timeout_ms;
    s->cfg.idle_timeout_ms = o->idle_timeout_ms;
    s->cfg.ops = &sched_conn_ops;
    s->cfg.owner = s;
    s->cfg.stats = &s->cstats;
    if (!o->keep_alive)
        s->max_per_conn = 1;
    for (i = 0; i < s->n_conns; i++) {
        char *mem = s->conn_mem + i * (CONN_IN_CAP + CONN_OUT_CAP);
        conn_init(&s->conns[i], &s->cfg, (unsigned)i, mem, mem + CONN_IN_CAP);
    }
    for (i = 0; i < n; i++)
        queue_push_back(s, (uint32_t)i);
    return 0;
}

static void
teardown(struct sched *s)
{
    unsigned i;

    if (s->conns)
        for (i = 0; i < s->n_conns; i++)
            conn_close(&s->conns[i]);
    if (s->loop.epfd >= 0)
        loop_close(&s->loop);
    if (s->use_tls)
        tlsio_ctx_close(&s->tls);
    free(s->conns);
    free(s->probe);
    free(s->conn_mem);
    free(s->attempts);
    free(s->sent);
    free(s->done);
    free(s->queue);
    free(s->slot_state);
    free(s->slot_len);
    free(s->slot_text);
}

static int64_t
nearest_deadline(struct sched *s, int64_t run_deadline)
{
    int64_t best = run_deadline;
    unsigned i;

    for (i = 0; i < s->n_conns; i++) {
        int64_t d = conn_deadline(&s->conns[i]);

        if (s->conns[i].buffered)
            return 0;
        if (d >= 0 && (best < 0 || d < best))
            best = d;
    }
    return best;
}

int
sched_run(const struct sched_options *o, sched_output_fn out, void *arg,
          void (*warn)(void *arg, const char *msg), struct sched_stats *st,
          char *err, size_t errcap)
{
    struct sched s;
    int64_t start = loop_now_ms(), run_deadline = -1;
    int rc = 0;

    memset(&s, 0, sizeof s);
    memset(st, 0, sizeof *st);
    s.loop.epfd = -1;
    s.o = o;
    s.out = out;
    s.out_arg = arg;
    s.st = st;
    if (o->n_ids == 0)
        return 0;
    if (setup(&s, err, errcap) < 0) {
        rc = -1;
        goto out;
    }
    if (o->insecure && s.use_tls && warn)
        warn(arg, "warning: --insecure: the server's certificate is not "
                  "verified");
    if (o->max_time_ms > 0)
        run_deadline = start + o->max_time_ms;

    while (s.n_done < o->n_ids) {
        int64_t now;
        unsigned i;

        if (s.fatal) {
            fail_all(&s);
            break;
        }
        open_more(&s, warn);
        dispatch(&s);
        if (s.fatal)
            continue;
        if (s.n_open == 0 && s.q_len > 0 && !s.fatal) {
            /* Nothing open and nothing could be opened: should not
               happen, but never spin. */
            set_fatal(&s, "no connection could be opened");
            continue;
        }
        if (loop_run_once(&s.loop, nearest_deadline(&s, run_deadline)) < 0) {
            snprintf(err, errcap, "epoll_wait: %s", strerror(errno));
            set_fatal(&s, err);
            continue;
        }
        for (i = 0; i < s.n_conns; i++)
            conn_service_buffered(&s.conns[i]);
        now = loop_now_ms();
        for (i = 0; i < s.n_conns; i++)
            conn_expire(&s.conns[i], now);
        if (run_deadline >= 0 && now >= run_deadline) {
            char msg[64];
            snprintf(msg, sizeof msg, "timed out: --max-time %.3g s reached",
                     (double)o->max_time_ms / 1000);
            set_fatal(&s, msg);
        }
    }
out:
    teardown(&s);
    st->bytes_rx = s.cstats.bytes_rx;
    st->conns_opened = s.cstats.conns_opened;
    st->handshakes_full = s.cstats.handshakes_full;
    st->handshakes_resumed = s.cstats.handshakes_resumed;
    st->deepest_pipeline = s.cstats.deepest_pipeline;
    st->learned_max_requests = o->keep_alive ? s.max_per_conn : 0;
    st->elapsed_ms = loop_now_ms() - start;
    return rc;
}
