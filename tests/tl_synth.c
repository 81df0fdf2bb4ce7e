/*
 * tl_synth - made-up runs as timelines; see tests/tl_synth.h.
 *
 * The run is first written as a list of events with their times, one
 * connection after another (each connection's own schedule is easy to
 * compute in order); the list is then sorted by time and replayed
 * through the tl_* calls with the fake clock set to each event's time,
 * so the records are made in the order a real run makes them.
 */
#include "tl_synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum sev_kind {
    S_CONNECT,
    S_TCP,
    S_TLS,
    S_QUEUED,
    S_SENT,
    S_DONE,
    S_LOST,
    S_CLOSE
};

struct sev {
    int64_t t;
    uint32_t seq; /* made in this order: causal within a record */
    uint8_t kind;
    uint8_t resumed;
    int8_t why;
    uint16_t pos;
    int16_t status;
    uint32_t conn, req; /* the model's numbers */
    uint32_t job;
    int64_t first; /* S_DONE: the first byte's time */
};

struct sim {
    const struct synth *s;
    struct sev *ev;
    size_t n, cap;
    uint32_t n_conns, n_reqs;
    int failed; /* out of memory */
};

static int64_t now_us;

int64_t
synth_clock(void)
{
    return now_us;
}

void
synth_set_clock(int64_t us)
{
    now_us = us;
}

static struct sev *
add(struct sim *m, int64_t t, enum sev_kind kind, uint32_t conn)
{
    struct sev *e;

    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 1024;
        struct sev *more = realloc(m->ev, cap * sizeof *more);

        if (!more) {
            m->failed = 1;
            return NULL;
        }
        m->ev = more;
        m->cap = cap;
    }
    e = &m->ev[m->n];
    memset(e, 0, sizeof *e);
    e->t = t;
    e->seq = (uint32_t)m->n++;
    e->kind = (uint8_t)kind;
    e->conn = conn;
    return e;
}

static void
add_req(struct sim *m, int64_t t, enum sev_kind kind, uint32_t conn,
        uint32_t req)
{
    struct sev *e = add(m, t, kind, conn);

    if (e)
        e->req = req;
}

/*
 * One connection from start carrying jobs[0..n): its events; returns
 * when it closed. With reset_after, the server closes it after that
 * many answers: requests queued by then are lost, and the jobs from
 * there on go on a new connection.
 */
static int64_t
serve(struct sim *m, int64_t start, const uint32_t *jobs, unsigned n,
      unsigned reset_after)
{
    const struct synth *s = m->s;
    uint32_t conn = m->n_conns++;
    int64_t ready = start + s->rtt_us * (s->tls ? 2 : 1);
    int64_t *end = malloc((n ? n : 1) * sizeof *end);
    int64_t close_at, prev_end = 0;
    unsigned k, stop = reset_after && reset_after < n ? reset_after : n;
    struct sev *e;

    if (!end) {
        m->failed = 1;
        return start;
    }
    add(m, start, S_CONNECT, conn);
    add(m, start + s->rtt_us, S_TCP, conn);
    if (s->tls && (e = add(m, ready, S_TLS, conn)))
        e->resumed = s->resume && conn > 0;
    for (k = 0; k < n; k++) {
        int64_t queued, sent, first;
        uint32_t req;

        if (k >= s->depth && k - s->depth >= stop)
            break; /* its turn came after the server closed */
        queued = k < s->depth ? start + 2 + k : end[k - s->depth] + 2;
        sent = (queued > ready ? queued : ready) + 5;
        first = sent + s->rtt_us;
        if (k >= stop && queued > end[stop - 1] + 1)
            break; /* not queued before the server closed */
        req = m->n_reqs++;
        if ((e = add(m, queued, S_QUEUED, conn))) {
            e->req = req;
            e->job = jobs[k];
            e->pos = (uint16_t)(k < s->depth ? k : s->depth - 1);
        }
        if (k >= stop) {
            if (sent <= end[stop - 1] + 1)
                add_req(m, sent, S_SENT, conn, req);
            add_req(m, end[stop - 1] + 1, S_LOST, conn, req);
            continue;
        }
        add_req(m, sent, S_SENT, conn, req);
        first = first > prev_end ? first : prev_end;
        end[k] = prev_end = first + s->xfer_us;
        if ((e = add(m, end[k], S_DONE, conn))) {
            e->req = req;
            e->first = first;
            e->status = s->fail_every && (jobs[k] + 1) % s->fail_every == 0
                            ? 404
                            : 200;
        }
    }
    close_at = (stop ? end[stop - 1] : ready) + (stop < n ? 1 : 3);
    if ((e = add(m, close_at, S_CLOSE, conn)))
        e->why = stop < n ? 2 /* the server closed */ : 0;
    free(end);
    if (stop < n)
        close_at = serve(m, close_at + 10, jobs + stop, n - stop, 0);
    return close_at;
}

/* Slot i's jobs: i, i + conns, i + 2 * conns... */
static void
run_slot(struct sim *m, unsigned slot, uint32_t *jobs)
{
    const struct synth *s = m->s;
    unsigned n = 0, k;
    uint32_t j;
    int64_t t = 10 * (int64_t)slot;

    for (j = slot; j < s->ids; j += s->conns)
        jobs[n++] = j;
    if (s->keepalive) {
        serve(m, t, jobs, n, slot == 0 ? s->reset_after : 0);
        return;
    }
    for (k = 0; k < n; k++)
        t = serve(m, t, jobs + k, 1, 0) + 2;
}

static int
by_time(const void *a, const void *b)
{
    const struct sev *x = a, *y = b;

    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
replay_one(struct timeline *tl, const struct synth *s, const struct sev *e,
           uint32_t *conn_no, uint32_t *req_no)
{
    struct tl_tls_info info = {
        "TLSv1.3",  "TLS_AES_256_GCM_SHA384", "X25519",
        "http/1.1", "CN=127.0.0.1",           "CN=lab CA",
        0};
    char target[48];
    int len;

    now_us = e->t;
    switch (e->kind) {
    case S_CONNECT:
        conn_no[e->conn] = tl_connect(tl, 0, s->tls, "127.0.0.1:8443");
        break;
    case S_TCP:
        tl_tcp_up(tl, conn_no[e->conn]);
        break;
    case S_TLS:
        info.resumed = e->resumed;
        tl_tls_up(tl, conn_no[e->conn], &info);
        break;
    case S_QUEUED:
        len =
            snprintf(target, sizeof target, "/api/v2/pokemon/%u", e->job + 1);
        req_no[e->req] = tl_queued(tl, conn_no[e->conn], e->job, e->job + 1,
                                   e->pos, target, (size_t)len, NULL, 0);
        break;
    case S_SENT:
        tl_sent(tl, req_no[e->req]);
        break;
    case S_DONE:
        now_us = e->first;
        tl_first_byte(tl, req_no[e->req]);
        tl_head(tl, req_no[e->req], e->status, "Content-Length", NULL, 0);
        now_us = e->t;
        tl_done(tl, req_no[e->req], e->status == 200 ? TL_OK : TL_FAILED,
                e->status, e->status == 200 ? 8200 : 150,
                e->status == 200 ? 270000 : 0, NULL, 0);
        break;
    case S_LOST:
        tl_lost(tl, req_no[e->req], "connection closed");
        break;
    case S_CLOSE:
        tl_close(tl, conn_no[e->conn], e->why, "");
        break;
    }
}

struct timeline *
synth_timeline(const struct synth *s)
{
    struct sim m = {s, NULL, 0, 0, 0, 0, 0};
    uint32_t *jobs = malloc((s->ids + 1) * sizeof *jobs);
    uint32_t *conn_no = NULL, *req_no = NULL;
    struct timeline *tl = NULL;
    unsigned slot;
    size_t i;

    now_us = 0;
    if (!jobs)
        return NULL;
    for (slot = 0; slot < s->conns && slot < s->ids; slot++)
        run_slot(&m, slot, jobs);
    conn_no = malloc((m.n_conns + 1) * sizeof *conn_no);
    req_no = malloc((m.n_reqs + 1) * sizeof *req_no);
    tl = tl_new(s->ids, synth_clock);
    if (m.failed || !conn_no || !req_no || !tl) {
        tl_free(tl);
        tl = NULL;
        goto out;
    }
    tl_origin(tl, 0,
              s->tls ? "https://127.0.0.1:8443" : "http://127.0.0.1:8080");
    qsort(m.ev, m.n, sizeof *m.ev, by_time);
    for (i = 0; i < m.n; i++)
        replay_one(tl, s, &m.ev[i], conn_no, req_no);
out:
    free(m.ev);
    free(jobs);
    free(conn_no);
    free(req_no);
    return tl;
}
