/*
 * timeline - the records of a run's connections and requests; see
 * include/timeline.h.
 *
 * Storage: three growing tables (connections, requests, target bytes),
 * each a list of fixed chunks, so a record never moves and nothing is
 * copied as the run grows; the chunk lists themselves double (rarely:
 * one pointer per TL_CHUNK records).
 */
#include "timeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_CHUNK 65536 /* bytes of request-targets per chunk */

/* A table of fixed-size records in chunks of TL_CHUNK. */
struct chunked {
    char **chunks;
    size_t n_chunks, cap_chunks;
    size_t rec_size;
    uint32_t count;
};

struct timeline {
    int64_t (*now_us)(void);
    int64_t t0;
    struct chunked conns, reqs;
    /* Targets: appended, never split across chunks. */
    char **targets;
    size_t n_targets, cap_targets;
    size_t target_used; /* in the last chunk */
    uint16_t *attempts; /* per job */
    size_t n_jobs;
    struct tl_sink sinks[TL_MAX_SINKS];
    unsigned n_sinks;
    char origins[TL_MAX_ORIGINS][TL_ORIGIN_LEN];
};

/* Room for one more pointer in *list (cap doubles). Returns 0 or -1. */
static int
grow_list(char ***list, size_t n, size_t *cap)
{
    char **bigger;
    size_t want = *cap ? *cap * 2 : 16;

    if (n < *cap)
        return 0;
    bigger = realloc(*list, want * sizeof *bigger);
    if (!bigger)
        return -1;
    *list = bigger;
    *cap = want;
    return 0;
}

/* A new zeroed record at the end of t: its number, or TL_NONE. */
static uint32_t
chunked_add(struct chunked *t)
{
    size_t in_chunk = t->count % TL_CHUNK;

    if (t->count == TL_NONE - 1)
        return TL_NONE;
    if (in_chunk == 0) {
        char *chunk;

        if (grow_list(&t->chunks, t->n_chunks, &t->cap_chunks) < 0)
            return TL_NONE;
        chunk = malloc(TL_CHUNK * t->rec_size);
        if (!chunk)
            return TL_NONE;
        t->chunks[t->n_chunks++] = chunk;
    }
    memset(t->chunks[t->count / TL_CHUNK] + in_chunk * t->rec_size, 0,
           t->rec_size);
    return t->count++;
}

static void *
chunked_at(const struct chunked *t, uint32_t no)
{
    if (no >= t->count)
        return NULL;
    return t->chunks[no / TL_CHUNK] + (size_t)(no % TL_CHUNK) * t->rec_size;
}

static void
chunked_free(struct chunked *t)
{
    size_t i;

    for (i = 0; i < t->n_chunks; i++)
        free(t->chunks[i]);
    free(t->chunks);
}

struct timeline *
tl_new(size_t n_jobs, int64_t (*now_us)(void))
{
    struct timeline *tl = calloc(1, sizeof *tl);

    if (!tl)
        return NULL;
    tl->attempts = calloc(n_jobs ? n_jobs : 1, sizeof *tl->attempts);
    if (!tl->attempts) {
        free(tl);
        return NULL;
    }
    tl->n_jobs = n_jobs;
    tl->now_us = now_us;
    tl->t0 = now_us();
    tl->conns.rec_size = sizeof(struct tl_conn);
    tl->reqs.rec_size = sizeof(struct tl_request);
    return tl;
}

void
tl_free(struct timeline *tl)
{
    size_t i;

    if (!tl)
        return;
    chunked_free(&tl->conns);
    chunked_free(&tl->reqs);
    for (i = 0; i < tl->n_targets; i++)
        free(tl->targets[i]);
    free(tl->targets);
    free(tl->attempts);
    free(tl);
}

int
tl_add_sink(struct timeline *tl, const struct tl_sink *sink)
{
    if (tl->n_sinks == TL_MAX_SINKS)
        return -1;
    tl->sinks[tl->n_sinks++] = *sink;
    return 0;
}

int64_t
tl_now(const struct timeline *tl)
{
    return tl->now_us() - tl->t0;
}

void
tl_origin(struct timeline *tl, unsigned no, const char *name)
{
    if (no < TL_MAX_ORIGINS)
        snprintf(tl->origins[no], TL_ORIGIN_LEN, "%s", name);
}

const char *
tl_origin_name(const struct timeline *tl, unsigned no)
{
    return no < TL_MAX_ORIGINS ? tl->origins[no] : "";
}

uint32_t
tl_conn_count(const struct timeline *tl)
{
    return tl->conns.count;
}

uint32_t
tl_request_count(const struct timeline *tl)
{
    return tl->reqs.count;
}

const struct tl_conn *
tl_conn_at(const struct timeline *tl, uint32_t no)
{
    return chunked_at(&tl->conns, no);
}

const struct tl_request *
tl_request_at(const struct timeline *tl, uint32_t no)
{
    return chunked_at(&tl->reqs, no);
}

const char *
tl_target(const struct timeline *tl, const struct tl_request *r)
{
    return tl->targets[r->target_off / TARGET_CHUNK] +
           r->target_off % TARGET_CHUNK;
}

/* Keep a copy of target; its place (chunk * TARGET_CHUNK + offset) in
   *off. Returns 0 or -1. */
static int
keep_target(struct timeline *tl, const char *target, size_t len, uint32_t *off)
{
    if (len >= TARGET_CHUNK)
        return -1;
    if (!tl->n_targets || tl->target_used + len > TARGET_CHUNK) {
        char *chunk;

        if (tl->n_targets >= UINT32_MAX / TARGET_CHUNK ||
            grow_list(&tl->targets, tl->n_targets, &tl->cap_targets) < 0)
            return -1;
        chunk = malloc(TARGET_CHUNK);
        if (!chunk)
            return -1;
        tl->targets[tl->n_targets++] = chunk;
        tl->target_used = 0;
    }
    memcpy(tl->targets[tl->n_targets - 1] + tl->target_used, target, len);
    *off = (uint32_t)((tl->n_targets - 1) * TARGET_CHUNK + tl->target_used);
    tl->target_used += len;
    return 0;
}

/* Every sink sees ev, with its time and records filled in here. */
static void
emit(struct timeline *tl, struct tl_event *ev)
{
    unsigned i;

    ev->conn = chunked_at(&tl->conns, ev->conn_no);
    ev->req = chunked_at(&tl->reqs, ev->req_no);
    for (i = 0; i < tl->n_sinks; i++)
        tl->sinks[i].on_event(tl->sinks[i].arg, ev);
}

/* An event of kind at the current time, naming no record yet. */
static struct tl_event
event(struct timeline *tl, enum tl_kind kind)
{
    struct tl_event ev;

    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.t_us = tl_now(tl);
    ev.conn_no = TL_NONE;
    ev.req_no = TL_NONE;
    return ev;
}

void
tl_dns(struct timeline *tl, const char *text)
{
    struct tl_event ev = event(tl, TL_EV_DNS);

    ev.text = text;
    emit(tl, &ev);
}

uint32_t
tl_connect(struct timeline *tl, unsigned origin, int tls, const char *peer)
{
    struct tl_event ev = event(tl, TL_EV_CONNECT);
    uint32_t no = chunked_add(&tl->conns);
    struct tl_conn *c = chunked_at(&tl->conns, no);

    if (!c)
        return TL_NONE;
    c->start_us = ev.t_us;
    c->tcp_us = c->tls_us = c->end_us = -1;
    c->origin = (uint16_t)origin;
    c->tls = tls != 0;
    c->end_why = -1;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    ev.conn_no = no;
    emit(tl, &ev);
    return no;
}

void
tl_tcp_up(struct timeline *tl, uint32_t conn)
{
    struct tl_event ev = event(tl, TL_EV_TCP_UP);
    struct tl_conn *c = chunked_at(&tl->conns, conn);

    if (!c)
        return;
    c->tcp_us = ev.t_us;
    ev.conn_no = conn;
    emit(tl, &ev);
}

void
tl_tls_up(struct timeline *tl, uint32_t conn, const struct tl_tls_info *info)
{
    struct tl_event ev = event(tl, TL_EV_TLS_UP);
    struct tl_conn *c = chunked_at(&tl->conns, conn);

    if (!c)
        return;
    c->tls_us = ev.t_us;
    c->resumed = info->resumed != 0;
    ev.conn_no = conn;
    ev.tls = info;
    emit(tl, &ev);
}

/* The request record of tl_queued and tl_queued_since, queued at
   queued_us (not after ev's time), and its event ev. */
static uint32_t
queue_request(struct timeline *tl, struct tl_event *ev, int64_t queued_us,
              uint32_t conn, uint32_t job, uint32_t id, unsigned pipeline_pos,
              const char *target, size_t target_len, const char *head,
              size_t head_len)
{
    struct tl_conn *c = chunked_at(&tl->conns, conn);
    uint32_t no, off;
    struct tl_request *r;
    int64_t ready;

    if (!c || keep_target(tl, target, target_len, &off) < 0)
        return TL_NONE;
    no = chunked_add(&tl->reqs);
    r = chunked_at(&tl->reqs, no);
    if (!r)
        return TL_NONE;
    r->queued_us = queued_us;
    r->sent_us = r->first_byte_us = r->end_us = -1;
    r->id = id;
    r->conn = conn;
    r->target_off = off;
    r->target_len = (uint16_t)target_len;
    r->pipeline_pos = (uint16_t)pipeline_pos;
    if (job < tl->n_jobs && tl->attempts[job] < UINT16_MAX)
        tl->attempts[job]++;
    r->attempt = job < tl->n_jobs ? tl->attempts[job] : 1;
    ready = c->tls ? c->tls_us : c->tcp_us;
    r->opened_conn = c->requests == 0 && (ready < 0 || ready > queued_us);
    c->requests++;
    ev->conn_no = conn;
    ev->req_no = no;
    ev->bytes = head;
    ev->bytes_len = head_len;
    emit(tl, ev);
    return no;
}

uint32_t
tl_queued(struct timeline *tl, uint32_t conn, uint32_t job, uint32_t id,
          unsigned pipeline_pos, const char *target, size_t target_len,
          const char *head, size_t head_len)
{
    struct tl_event ev = event(tl, TL_EV_QUEUED);

    return queue_request(tl, &ev, ev.t_us, conn, job, id, pipeline_pos, target,
                         target_len, head, head_len);
}

uint32_t
tl_queued_since(struct timeline *tl, int64_t queued_us, uint32_t conn,
                uint32_t job, uint32_t id, unsigned pipeline_pos,
                const char *target, size_t target_len, const char *head,
                size_t head_len)
{
    struct tl_event ev = event(tl, TL_EV_QUEUED);

    return queue_request(tl, &ev, queued_us < ev.t_us ? queued_us : ev.t_us,
                         conn, job, id, pipeline_pos, target, target_len, head,
                         head_len);
}

/* t, but not before lo nor after hi. */
static int64_t
clamp(int64_t t, int64_t lo, int64_t hi)
{
    return t < lo ? lo : t > hi ? hi : t;
}

/* The request no and its event of kind, or NULL if there is none. */
static struct tl_request *
request_event(struct timeline *tl, uint32_t no, enum tl_kind kind,
              struct tl_event *ev)
{
    struct tl_request *r = chunked_at(&tl->reqs, no);

    if (!r)
        return NULL;
    *ev = event(tl, kind);
    ev->req_no = no;
    ev->conn_no = r->conn;
    return r;
}

void
tl_sent(struct timeline *tl, uint32_t req)
{
    struct tl_event ev;
    struct tl_request *r = request_event(tl, req, TL_EV_SENT, &ev);

    if (!r || r->sent_us >= 0)
        return;
    r->sent_us = ev.t_us;
    emit(tl, &ev);
}

void
tl_first_byte(struct timeline *tl, uint32_t req)
{
    struct tl_request *r = chunked_at(&tl->reqs, req);

    if (r && r->first_byte_us < 0)
        r->first_byte_us = tl_now(tl);
}

void
tl_head(struct timeline *tl, uint32_t req, int status, const char *framing,
        const char *head, size_t head_len)
{
    struct tl_event ev;
    struct tl_request *r = request_event(tl, req, TL_EV_HEAD, &ev);

    if (!r)
        return;
    r->status = (int16_t)status;
    ev.text = framing;
    ev.bytes = head;
    ev.bytes_len = head_len < TL_MAX_HEAD ? head_len : TL_MAX_HEAD;
    emit(tl, &ev);
}

void
tl_done(struct timeline *tl, uint32_t req, enum tl_outcome outcome, int status,
        uint64_t wire_bytes, uint64_t body_bytes, const char *head,
        size_t head_len)
{
    tl_done_at(tl, INT64_MAX, req, outcome, status, wire_bytes, body_bytes,
               head, head_len);
}

void
tl_done_at(struct timeline *tl, int64_t end_us, uint32_t req,
           enum tl_outcome outcome, int status, uint64_t wire_bytes,
           uint64_t body_bytes, const char *head, size_t head_len)
{
    struct tl_event ev;
    struct tl_request *r = request_event(tl, req, TL_EV_DONE, &ev);
    struct tl_conn *c;
    int64_t last; /* the latest moment it has: it cannot end before */

    if (!r || r->end_us >= 0)
        return;
    last = r->first_byte_us >= 0 ? r->first_byte_us
           : r->sent_us >= 0     ? r->sent_us
                                 : r->queued_us;
    r->end_us = clamp(end_us, last, ev.t_us);
    if (r->first_byte_us < 0)
        r->first_byte_us = r->end_us;
    r->outcome = (uint8_t)outcome;
    r->status = (int16_t)status;
    r->wire_bytes = wire_bytes;
    r->body_bytes = body_bytes;
    c = chunked_at(&tl->conns, r->conn);
    c->responses++;
    ev.bytes = head;
    ev.bytes_len = head_len < TL_MAX_HEAD ? head_len : TL_MAX_HEAD;
    emit(tl, &ev);
}

void
tl_lost(struct timeline *tl, uint32_t req, const char *why)
{
    struct tl_event ev;
    struct tl_request *r = request_event(tl, req, TL_EV_LOST, &ev);

    if (!r || r->end_us >= 0)
        return;
    r->end_us = ev.t_us;
    r->outcome = TL_UNANSWERED;
    ev.text = why;
    emit(tl, &ev);
}

/* The scheduler's events name an id, not a record. */
static void
id_event(struct timeline *tl, enum tl_kind kind, uint32_t id, const char *text)
{
    struct tl_event ev = event(tl, kind);

    ev.number = id;
    ev.text = text;
    emit(tl, &ev);
}

void
tl_retry(struct timeline *tl, uint32_t id, const char *why)
{
    id_event(tl, TL_EV_RETRY, id, why);
}

void
tl_redirect(struct timeline *tl, uint32_t id, const char *location)
{
    id_event(tl, TL_EV_REDIRECT, id, location);
}

void
tl_limit(struct timeline *tl, uint32_t conn, unsigned requests)
{
    struct tl_event ev = event(tl, TL_EV_LIMIT);

    ev.conn_no = conn;
    ev.number = requests;
    emit(tl, &ev);
}

void
tl_close(struct timeline *tl, uint32_t conn, int why, const char *err)
{
    struct tl_event ev = event(tl, TL_EV_CLOSE);
    struct tl_conn *c = chunked_at(&tl->conns, conn);

    if (!c || c->end_us >= 0)
        return;
    c->end_us = ev.t_us;
    c->end_why = (int8_t)why;
    ev.conn_no = conn;
    ev.text = err;
    emit(tl, &ev);
}

/* Each moment (ready to send, sent, first byte) is clamped between the
   previous one and the end, so the phases are contiguous and never
   negative whatever is missing: a request never written has only
   blocked, one never answered no receive. */
void
tl_phases(const struct timeline *tl, const struct tl_request *r, int64_t now,
          struct tl_phases *p)
{
    const struct tl_conn *c = tl_conn_at(tl, r->conn);
    int64_t end = r->end_us >= 0 ? r->end_us : now;
    int64_t ready = c->tls ? c->tls_us : c->tcp_us;
    int64_t start, sent, first;

    if (end < r->queued_us)
        end = r->queued_us;
    ready = clamp(ready < 0 ? end : ready, r->queued_us, end);
    p->dns = -1;
    p->connect = p->ssl = -1;
    if (r->opened_conn) {
        start = clamp(c->start_us, r->queued_us, ready);
        p->blocked = start - r->queued_us;
        p->connect = ready - start;
        if (c->tls)
            p->ssl =
                ready - clamp(c->tcp_us < 0 ? ready : c->tcp_us, start, ready);
    } else {
        p->blocked = ready - r->queued_us;
    }
    sent = clamp(r->sent_us < 0 ? end : r->sent_us, ready, end);
    first = clamp(r->first_byte_us < 0 ? end : r->first_byte_us, sent, end);
    if (r->sent_us < 0) {
        /* Never written: it waited, all of it. */
        p->blocked += end - ready;
        sent = first = ready = end;
    }
    p->send = sent - ready;
    p->wait = first - sent;
    p->receive = end - first;
    p->total = end - r->queued_us;
}

void
tl_early(struct timeline *tl, uint32_t conn, unsigned requests, size_t bytes)
{
    struct tl_event ev = event(tl, TL_EV_EARLY);

    ev.conn_no = conn;
    ev.number = requests;
    ev.size = bytes;
    emit(tl, &ev);
}

void
tl_early_verdict(struct timeline *tl, uint32_t conn, int accepted,
                 unsigned requests)
{
    struct tl_event ev = event(tl, accepted ? TL_EV_ACCEPTED : TL_EV_REJECTED);

    ev.conn_no = conn;
    ev.number = requests;
    emit(tl, &ev);
}
