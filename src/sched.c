/*
 * sched - the jobs of a run; see include/sched.h for the policy. This file
 * holds the job table, the queue of jobs waiting to be sent, the result
 * window, and the main loop:
 *
 *     while some job has no result:
 *         let the transport open connections for the queued jobs
 *         hand it queued jobs until it is full (or the window is)
 *         wait in the transport until an event or the run's deadline
 *
 * All memory is taken before the first request: per-job tables of a few
 * bytes each, and a window of at most `window` results of at most
 * JF_MAX_VALUE bytes.
 */
#include "sched.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jfield.h"
#include "loop.h"

#define SLOT_CAP JF_MAX_VALUE

/* Results kept waiting in id order: twice what can be in flight at once,
   so one slow response does not stall every connection at once. */
#define WINDOW_MIN 64

enum slot_state { SLOT_EMPTY = 0, SLOT_OK, SLOT_FAILED };

struct sched {
    const struct sched_options *o;
    const struct transport_vt *vt;
    struct transport *tr;
    struct transport_config tcfg;
    struct transport_events ev;
    sched_output_fn out;
    void *out_arg;
    void (*warn)(void *arg, const char *msg);
    struct sched_stats *st;

    /* Per job. */
    unsigned char *attempts; /* charged failures */
    unsigned char *sent;     /* times sent, saturating */
    unsigned char *done;
    size_t n_done;

    /* Jobs waiting to be sent: a ring, front = next to send. */
    uint32_t *queue;
    size_t q_head, q_len;

    /* Results waiting for every earlier one (id order only). */
    size_t window;
    unsigned char *slot_state;
    uint16_t *slot_len;
    char *slot_text;
    size_t next_print;

    int fatal;
    char fatal_err[256];
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
on_fatal(void *owner, const char *err)
{
    struct sched *s = owner;

    if (s->fatal)
        return;
    s->fatal = 1;
    snprintf(s->fatal_err, sizeof s->fatal_err, "%s", err);
}

static void
on_warning(void *owner, const char *msg)
{
    struct sched *s = owner;

    if (s->warn)
        s->warn(s->out_arg, msg);
}

static void
on_result(void *owner, uint32_t job, const struct fetch_result *r)
{
    finish(owner, job, r->ok, r->text, r->len);
}

static void
on_unanswered(void *owner, uint32_t job, int charge, const char *err)
{
    struct sched *s = owner;

    if (charge && ++s->attempts[job] > s->o->max_retries) {
        char msg[320];
        int len = snprintf(msg, sizeof msg, "%s (%u attempt%s)", err,
                           s->o->max_retries + 1,
                           s->o->max_retries ? "s" : "");

        finish(s, job, 0, msg,
               len < 0                          ? 0
               : (size_t)len >= sizeof msg ? sizeof msg - 1
                                                : (size_t)len);
        return;
    }
    queue_push_front(s, job);
}

static void
dispatch(struct sched *s)
{
    char target[URL_MAX_TARGET];

    while (s->q_len > 0 && !s->fatal) {
        uint32_t job = s->queue[s->q_head];
        size_t len;
        int rc;

        if (!s->o->arrival_order && job >= s->next_print + s->window)
            break;
        len = url_target(&s->o->tmpl, s->o->url, s->o->ids[job], target,
                         sizeof target);
        rc = s->vt->submit(s->tr, job, target, len);
        if (rc == -EAGAIN)
            break;
        if (rc < 0) {
            on_fatal(s, strerror(-rc));
            break;
        }
        (void)queue_pop_front(s);
        if (s->sent[job])
            s->st->retries++;
        if (s->sent[job] < 255)
            s->sent[job]++;
    }
}

/* Fail every job that has no result yet with the fatal reason. */
static void
fail_all(struct sched *s)
{
    s->vt->abort(s->tr); /* jobs in flight come back to the queue */
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

    s->window = (size_t)o->connections * o->pipeline * 2;
    if (s->window < WINDOW_MIN)
        s->window = WINDOW_MIN;
    if (s->window > n)
        s->window = n;
    s->attempts = calloc(n, 1);
    s->sent = calloc(n, 1);
    s->done = calloc(n, 1);
    s->queue = calloc(n, sizeof *s->queue);
    s->slot_state = calloc(s->window, 1);
    s->slot_len = calloc(s->window, sizeof *s->slot_len);
    s->slot_text = malloc(s->window * SLOT_CAP);
    if (!s->attempts || !s->sent || !s->done || !s->queue ||
        !s->slot_state || !s->slot_len || !s->slot_text) {
        snprintf(err, errcap, "out of memory for %zu ids", n);
        return -1;
    }
    for (i = 0; i < n; i++)
        queue_push_back(s, (uint32_t)i);

    s->tcfg.url = o->url;
    s->tcfg.tmpl = &o->tmpl;
    s->tcfg.connections = o->connections;
    s->tcfg.pipeline = o->pipeline;
    s->tcfg.keep_alive = o->keep_alive;
    s->tcfg.cafile = o->cafile;
    s->tcfg.insecure = o->insecure;
    s->tcfg.connect_timeout_ms = o->connect_timeout_ms;
    s->tcfg.idle_timeout_ms = o->idle_timeout_ms;
    s->tcfg.user_agent = o->user_agent;
    s->tcfg.field = o->field;
    s->tcfg.compressed = o->compressed;
    s->tcfg.max_body = o->max_body;
    s->ev.on_result = on_result;
    s->ev.on_unanswered = on_unanswered;
    s->ev.on_fatal = on_fatal;
    s->ev.on_warning = on_warning;
    s->ev.owner = s;
    s->tr = s->vt->open(&s->tcfg, &s->ev, n, err, errcap);
    return s->tr ? 0 : -1;
}

static void
teardown(struct sched *s)
{
    if (s->tr)
        s->vt->close(s->tr);
    free(s->attempts);
    free(s->sent);
    free(s->done);
    free(s->queue);
    free(s->slot_state);
    free(s->slot_len);
    free(s->slot_text);
}

int
sched_run(const struct transport_vt *vt, const struct sched_options *o,
          sched_output_fn out, void *arg,
          void (*warn)(void *arg, const char *msg), struct sched_stats *st,
          char *err, size_t errcap)
{
    struct sched s;
    struct transport_stats ts;
    int64_t start = loop_now_ms(), run_deadline = -1;
    int rc = 0;

    memset(&s, 0, sizeof s);
    memset(st, 0, sizeof *st);
    memset(&ts, 0, sizeof ts);
    s.o = o;
    s.vt = vt;
    s.out = out;
    s.out_arg = arg;
    s.warn = warn;
    s.st = st;
    if (o->n_ids == 0)
        return 0;
    if (setup(&s, err, errcap) < 0) {
        rc = -1;
        goto out;
    }
    if (o->max_time_ms > 0)
        run_deadline = start + o->max_time_ms;

    while (s.n_done < o->n_ids) {
        int wrc;

        if (s.fatal) {
            fail_all(&s);
            break;
        }
        vt->prepare(s.tr, s.q_len);
        dispatch(&s);
        if (s.fatal)
            continue;
        wrc = vt->wait(s.tr, run_deadline);
        if (wrc < 0) {
            char msg[96];
            snprintf(msg, sizeof msg, "waiting for events: %s",
                     strerror(-wrc));
            on_fatal(&s, msg);
        }
        if (run_deadline >= 0 && loop_now_ms() >= run_deadline) {
            char msg[64];
            snprintf(msg, sizeof msg, "timed out: --max-time %.3g s reached",
                     (double)o->max_time_ms / 1000);
            on_fatal(&s, msg);
        }
    }
    vt->stats(s.tr, &ts);
out:
    teardown(&s);
    st->bytes_rx = ts.bytes_rx;
    st->bytes_decoded = ts.bytes_decoded;
    st->conns_opened = ts.conns_opened;
    st->handshakes_full = ts.handshakes_full;
    st->handshakes_resumed = ts.handshakes_resumed;
    st->handshakes_unknown = ts.handshakes_unknown;
    st->deepest_pipeline = ts.deepest_pipeline;
    st->learned_max_requests = ts.learned_max_requests;
    st->elapsed_ms = loop_now_ms() - start;
    return rc;
}
