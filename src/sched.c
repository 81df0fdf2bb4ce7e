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
#include "timeline.h"

#define SLOT_CAP JF_MAX_VALUE

/* A waiting result of at most SLOT_SHORT bytes (a name) is kept in a
   small place of its own; a longer one in a SLOT_CAP place. Memory is
   touched only where results are written, so a window as large as the
   run (every request in flight at once) costs SLOT_SHORT bytes a job,
   not a page for every four. */
#define SLOT_SHORT 64

/* Results kept waiting in id order: twice what can be in flight at once,
   so one slow response does not stall every connection at once. */
#define WINDOW_MIN 64

/* A slot holds SLOT_EMPTY, or SLOT_FULL + its result's ok. */
enum slot_state { SLOT_EMPTY = 0, SLOT_FULL };

/* Back-off for 429/503 without Retry-After: base doubling up to the cap,
   times a random factor in [0.5, 1.5) so clients do not pulse together. */
#define BACKOFF_BASE_MS 250
#define BACKOFF_MAX_MS 30000

/* Where a redirected job goes now. Slots are indexed like the result
   window (job % window): a job is inside the window while it is being
   fetched, so the slot is its own until it finishes. Taken at start-up,
   as calloc's untouched pages: no memory until a redirect uses it. */
struct redirect {
    int origin;
    size_t len;
    char target[URL_MAX_TARGET];
};

struct sched {
    const struct fetch_config *cfg;
    const struct transport_vt *vt;
    struct transport *tr;
    struct transport_events ev;
    sched_output_fn out;
    void *out_arg;
    void (*warn)(void *arg, const char *msg);
    struct fetch_stats *st;

    /* Per job. */
    unsigned char *attempts; /* charged failures */
    unsigned char *sent;     /* times sent, saturating */
    unsigned char *early425; /* answered 425 for early data before */
    unsigned char *done;
    size_t n_done;

    /* Jobs waiting to be sent: a ring, front = next to send. */
    uint32_t *queue;
    size_t q_head, q_len;

    /* Results waiting for every earlier one (id order only). */
    size_t window;
    unsigned char *slot_state;
    uint16_t *slot_len;
    char *slot_short; /* window x SLOT_SHORT */
    char *slot_long;  /* window x SLOT_CAP, untouched until needed */
    size_t next_print;

    /* Redirects: hops per job, a slot per window place. Each
       origin's "scheme://authority", for messages. */
    unsigned char *hops;
    struct redirect *redirs;
    int origin_tls[TRANSPORT_MAX_ORIGINS];
    char origin_base[TRANSPORT_MAX_ORIGINS][URL_MAX_HOST + 24];

    /* 429/503: no request leaves before paused_until. */
    int64_t paused_until;
    unsigned busy_streak;
    uint64_t rng;

    int fatal;
    char fatal_err[256];
};

static void
queue_push_back(struct sched *s, uint32_t job)
{
    s->queue[(s->q_head + s->q_len) % s->cfg->n_ids] = job;
    s->q_len++;
}

static void
queue_push_front(struct sched *s, uint32_t job)
{
    s->q_head = (s->q_head + s->cfg->n_ids - 1) % s->cfg->n_ids;
    s->queue[s->q_head] = job;
    s->q_len++;
}

static uint32_t
queue_pop_front(struct sched *s)
{
    uint32_t job = s->queue[s->q_head];

    s->q_head = (s->q_head + 1) % s->cfg->n_ids;
    s->q_len--;
    return job;
}

static void
emit(struct sched *s, size_t job, int ok, const char *text, size_t len)
{
    struct sched_result r;

    r.index = job;
    r.id = s->cfg->ids[job];
    r.ok = ok;
    r.text = text;
    r.len = len;
    s->out(s->out_arg, &r);
}

/* Where a result of len bytes waits in slot. */
static char *
slot_text(struct sched *s, size_t slot, size_t len)
{
    if (len <= SLOT_SHORT)
        return s->slot_short + slot * SLOT_SHORT;
    return s->slot_long + slot * SLOT_CAP;
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
    if (s->cfg->arrival_order) {
        emit(s, job, ok, text, len);
        /* Nothing waits to be printed, but the window still slides on
           the lowest job without a result (redirect slots use it). */
        while (s->next_print < s->cfg->n_ids && s->done[s->next_print])
            s->next_print++;
        return;
    }
    if (len > SLOT_CAP)
        len = SLOT_CAP;
    if (job == s->next_print) {
        /* Its turn already (every job at --max-time): out at once, not
           copied through a slot first. */
        emit(s, job, ok, text, len);
        s->next_print++;
    } else {
        slot = job % s->window;
        memcpy(slot_text(s, slot, len), text, len);
        s->slot_len[slot] = (uint16_t)len;
        s->slot_state[slot] = (unsigned char)(SLOT_FULL + ok);
    }
    while (s->next_print < s->cfg->n_ids) {
        slot = s->next_print % s->window;
        if (s->slot_state[slot] == SLOT_EMPTY)
            break;
        emit(s, s->next_print, s->slot_state[slot] - SLOT_FULL,
             slot_text(s, slot, s->slot_len[slot]), s->slot_len[slot]);
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

/* Charge job one attempt; if that was its last, it fails with why.
   Returns 1 if the job may go again. */
static int
charge(struct sched *s, uint32_t job, const char *why)
{
    char msg[320];
    int len;

    if (++s->attempts[job] <= s->cfg->max_retries)
        return 1;
    len = snprintf(msg, sizeof msg, "%s (%u attempt%s)", why,
                   s->cfg->max_retries + 1, s->cfg->max_retries ? "s" : "");
    finish(s, job, 0, msg,
           len < 0                     ? 0
           : (size_t)len >= sizeof msg ? sizeof msg - 1
                                       : (size_t)len);
    return 0;
}

/* job goes again, first in line (why: for -v). */
static void
again(struct sched *s, uint32_t job, const char *why)
{
    if (s->cfg->timeline)
        tl_retry(s->cfg->timeline, s->cfg->ids[job], why);
    queue_push_front(s, job);
}

static void
fail_job(struct sched *s, uint32_t job, const char *msg)
{
    finish(s, job, 0, msg, strlen(msg));
}

/* The origin and request-target job goes to now. */
static int
job_target(struct sched *s, uint32_t job, char *out, size_t cap, size_t *len)
{
    if (s->hops[job]) {
        const struct redirect *r = &s->redirs[job % s->window];
        memcpy(out, r->target, r->len);
        *len = r->len;
        return r->origin;
    }
    *len = url_target(&s->cfg->tmpl, s->cfg->url, s->cfg->ids[job], out, cap);
    return 0;
}

static uint64_t
next_random(struct sched *s)
{
    /* xorshift64: jitter needs spread, not secrecy. */
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng;
}

/* 429 or 503: wait as asked (or back off), then send the id again. */
static void
busy(struct sched *s, uint32_t job, const struct fetch_result *r)
{
    char why[160];
    int64_t delay_ms;

    if (r->retry_after_s >= 0) {
        if (r->retry_after_s > SCHED_MAX_PAUSE_S) {
            snprintf(why, sizeof why,
                     "HTTP status %d: the server asks to wait %lld s, longer "
                     "than pokefetch waits (%d s)",
                     r->status, (long long)r->retry_after_s,
                     SCHED_MAX_PAUSE_S);
            fail_job(s, job, why);
            return;
        }
        delay_ms = r->retry_after_s * 1000;
    } else {
        unsigned k = s->busy_streak < 7 ? s->busy_streak : 7;
        int64_t base = (int64_t)BACKOFF_BASE_MS << k;

        if (base > BACKOFF_MAX_MS)
            base = BACKOFF_MAX_MS;
        delay_ms = base / 2 + (int64_t)(next_random(s) % (uint64_t)base);
    }
    s->busy_streak++;
    s->st->pauses++;
    if (loop_now_ms() + delay_ms > s->paused_until)
        s->paused_until = loop_now_ms() + delay_ms;
    snprintf(why, sizeof why, "HTTP status %d (server busy)", r->status);
    if (charge(s, job, why)) {
        snprintf(why, sizeof why,
                 "HTTP status %d (server busy): sending pauses %lld ms",
                 r->status, (long long)delay_ms);
        again(s, job, why);
    }
}

/* Remember origin o's scheme and authority (of the URL in s). */
static void
set_origin(struct sched *s, int o, int tls, const char *str,
           const struct url_ref *ref)
{
    char auth[URL_MAX_HOST + 16];
    size_t n = ref ? url_ref_authority(ref, str, auth, sizeof auth)
                   : url_authority(&s->cfg->tmpl, str, auth, sizeof auth);

    s->origin_tls[o] = tls;
    snprintf(s->origin_base[o], sizeof s->origin_base[o], "%s://%.*s",
             tls ? "https" : "http", (int)n, auth);
}

/*
 * Where a Location sends the job: url_resolve() works out the URL, and
 * the transport the origin when the Location names one. Returns the
 * origin and the request-target in out, or -1 with why, or -2 for a
 * refused downgrade to plain http with both URLs in why.
 */
static int
resolve(struct sched *s, int cur_origin, const char *cur, size_t cur_len,
        const char *loc, size_t n, char *out, size_t *out_len, char *why,
        size_t whycap)
{
    char buf[URL_MAX_TARGET + 8];
    struct url_ref ref;
    size_t len;
    int absolute, origin;
    enum url_rc rc;

    rc = url_resolve(s->origin_tls[cur_origin], cur, cur_len, loc, n, buf,
                     sizeof buf, &len, &ref, &absolute);
    if (rc != URL_OK) {
        snprintf(why, whycap, "%s", url_strerror(rc));
        return -1;
    }
    if (!absolute) {
        memcpy(out, buf, len);
        *out_len = len;
        return cur_origin;
    }
    if (s->origin_tls[cur_origin] && !ref.tls &&
        !s->cfg->allow_http_redirect) {
        snprintf(why, whycap, "%s%.*s -> %.*s", s->origin_base[cur_origin],
                 (int)cur_len, cur, (int)len, buf);
        return -2;
    }
    *out_len = url_ref_target(&ref, buf, out, URL_MAX_TARGET);
    if (!*out_len) {
        snprintf(why, whycap, "%s", url_strerror(URL_E_TOO_LONG));
        return -1;
    }
    origin = s->vt->origin(s->tr, &ref, buf, why, whycap);
    if (origin >= 0)
        set_origin(s, origin, ref.tls, buf, &ref);
    return origin;
}

static void
redirect(struct sched *s, uint32_t job, const struct fetch_result *r)
{
    char cur[URL_MAX_TARGET], next[URL_MAX_TARGET], why[400], msg[600];
    size_t cur_len, next_len;
    int cur_origin, origin;
    struct redirect *slot;

    if (s->hops[job] >= s->cfg->max_redirects) {
        snprintf(msg, sizeof msg,
                 s->cfg->max_redirects
                     ? "HTTP status %d: too many redirects (more than %u)"
                     : "HTTP status %d: a redirect (--max-redirs %u)",
                 r->status, s->cfg->max_redirects);
        fail_job(s, job, msg);
        return;
    }
    if (!r->location) {
        snprintf(msg, sizeof msg, "HTTP status %d: redirect %s", r->status,
                 r->location_bad ? "with an unusable Location (repeated or "
                                   "too long)"
                                 : "without a Location");
        fail_job(s, job, msg);
        return;
    }
    cur_origin = job_target(s, job, cur, sizeof cur, &cur_len);
    origin = resolve(s, cur_origin, cur, cur_len, r->location, r->location_len,
                     next, &next_len, why, sizeof why);
    if (origin == -2) {
        snprintf(msg, sizeof msg,
                 "HTTP status %d: redirect from https to plain http refused: "
                 "%.400s (--allow-http-redirect follows it)",
                 r->status, why);
        fail_job(s, job, msg);
        return;
    }
    if (origin < 0) {
        snprintf(msg, sizeof msg,
                 "HTTP status %d: cannot follow Location "
                 "'%.*s': %.400s",
                 r->status,
                 (int)(r->location_len < 100 ? r->location_len : 100),
                 r->location, why);
        fail_job(s, job, msg);
        return;
    }
    if (origin == cur_origin && next_len == cur_len &&
        memcmp(next, cur, cur_len) == 0) {
        snprintf(msg, sizeof msg,
                 "HTTP status %d: redirect loop (Location is the URL "
                 "itself)",
                 r->status);
        fail_job(s, job, msg);
        return;
    }
    slot = &s->redirs[job % s->window];
    slot->origin = origin;
    memcpy(slot->target, next, next_len);
    slot->len = next_len;
    s->hops[job]++;
    s->st->redirects++;
    s->sent[job] = 0; /* the next request is a new one, not a retry */
    if (s->cfg->timeline) {
        snprintf(msg, sizeof msg, "HTTP status %d, Location: %.*s", r->status,
                 (int)(r->location_len < 1024 ? r->location_len : 1024),
                 r->location);
        tl_redirect(s->cfg->timeline, s->cfg->ids[job], msg);
    }
    queue_push_front(s, job);
}

/*
 * 425 Too Early for a request that went as early data (RFC 8470 sec.
 * 5.2): the server wants it after the handshake. It goes again, counted
 * on its own, neither a failure nor a retry. Connections still
 * connecting may send it early again; only such a second 425 is charged,
 * so a server that answers nothing else cannot keep it going forever.
 */
static void
too_early(struct sched *s, uint32_t job)
{
    const char *why = "HTTP status 425 (Too Early) for a request sent as "
                      "TLS early data: sent again after the handshake";

    s->st->too_early++;
    if (s->early425[job] && !charge(s, job, "HTTP status 425 (Too Early)"))
        return;
    s->early425[job] = 1;
    s->sent[job] = 0; /* not a retry: the server asked for it again */
    again(s, job, why);
}

static int
is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 ||
           status == 308;
}

static void
on_result(void *owner, uint32_t job, const struct fetch_result *r)
{
    struct sched *s = owner;

    if (is_redirect(r->status)) {
        redirect(s, job, r);
        return;
    }
    if (r->status == 429 || r->status == 503) {
        busy(s, job, r);
        return;
    }
    if (r->status == 425 && r->early) {
        too_early(s, job);
        return;
    }
    if (r->ok)
        s->busy_streak = 0;
    finish(s, job, r->ok, r->text, r->len);
}

static void
on_unanswered(void *owner, uint32_t job, int charged, const char *err)
{
    struct sched *s = owner;

    if (!charged || charge(s, job, err))
        again(s, job, err);
}

static void
dispatch(struct sched *s)
{
    char target[URL_MAX_TARGET];

    if (s->paused_until && loop_now_ms() < s->paused_until)
        return;
    while (s->q_len > 0 && !s->fatal) {
        uint32_t job = s->queue[s->q_head];
        size_t len;
        int rc, origin;

        /* The window holds for both orders: redirect slots use it. */
        if (job >= s->next_print + s->window)
            break;
        origin = job_target(s, job, target, sizeof target, &len);
        /* Off the queue before submit(): the transport may end the job
           during the call (an unreachable origin), through callbacks that
           finish it or put it back at the front. */
        (void)queue_pop_front(s);
        rc = s->vt->submit(s->tr, job, origin, target, len);
        if (rc < 0) {
            queue_push_front(s, job);
            if (rc != -EAGAIN)
                on_fatal(s, strerror(-rc));
            break;
        }
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
    const struct fetch_config *o = s->cfg;
    size_t n = o->n_ids, i;

    s->window = (size_t)o->connections * o->pipeline * 2;
    if (s->window < WINDOW_MIN)
        s->window = WINDOW_MIN;
    if (s->window > n)
        s->window = n;
    s->attempts = calloc(n, 1);
    s->hops = calloc(n, 1);
    s->sent = calloc(n, 1);
    s->done = calloc(n, 1);
    s->early425 = calloc(n, 1);
    s->queue = calloc(n, sizeof *s->queue);
    s->slot_state = calloc(s->window, 1);
    s->slot_len = calloc(s->window, sizeof *s->slot_len);
    s->slot_short = malloc(s->window * SLOT_SHORT);
    s->slot_long = malloc(s->window * SLOT_CAP);
    /* Zeroed pages: a run without redirects never touches them. */
    s->redirs = calloc(s->window, sizeof *s->redirs);
    if (!s->redirs || !s->attempts || !s->hops || !s->sent || !s->done ||
        !s->early425 || !s->queue || !s->slot_state || !s->slot_len ||
        !s->slot_short || !s->slot_long) {
        snprintf(err, errcap, "out of memory for %zu ids", n);
        return -1;
    }
    for (i = 0; i < n; i++)
        queue_push_back(s, (uint32_t)i);

    s->ev.on_result = on_result;
    s->ev.on_unanswered = on_unanswered;
    s->ev.on_fatal = on_fatal;
    s->ev.on_warning = on_warning;
    s->ev.owner = s;
    set_origin(s, 0, o->tmpl.tls, o->url, NULL);
    s->rng = (uint64_t)loop_now_ms() * 0x9e3779b97f4a7c15ull | 1;
    s->tr = s->vt->open(o, &s->ev, s->st, err, errcap);
    return s->tr ? 0 : -1;
}

static void
teardown(struct sched *s)
{
    if (s->tr)
        s->vt->close(s->tr);
    free(s->attempts);
    free(s->hops);
    free(s->redirs);
    free(s->sent);
    free(s->done);
    free(s->early425);
    free(s->queue);
    free(s->slot_state);
    free(s->slot_len);
    free(s->slot_short);
    free(s->slot_long);
}

/* The run's deadline, or the end of a pause if that comes first and
   there is something to send then. */
static int64_t
next_wake(const struct sched *s, int64_t run_deadline)
{
    if (s->q_len == 0 || s->paused_until <= loop_now_ms())
        return run_deadline;
    if (run_deadline < 0 || s->paused_until < run_deadline)
        return s->paused_until;
    return run_deadline;
}

/* wake, or sooner if the caller asked for a turn at least every
   turn_every_ms: a progress line must move while nothing arrives. */
static int64_t
bound_wake(const struct fetch_config *o, int64_t wake)
{
    int64_t limit;

    if (o->turn_every_ms <= 0)
        return wake;
    limit = loop_now_ms() + o->turn_every_ms;
    return wake < 0 || limit < wake ? limit : wake;
}

int
sched_run(const struct transport_vt *vt, const struct fetch_config *o,
          sched_output_fn out, sched_turn_fn turn, void *arg,
          void (*warn)(void *arg, const char *msg), struct fetch_stats *st,
          char *err, size_t errcap)
{
    struct sched s;
    int64_t start = loop_now_ms(), run_deadline = -1;
    int rc = 0;

    memset(&s, 0, sizeof s);
    memset(st, 0, sizeof *st);
    s.cfg = o;
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
        /* submit() may have ended the last jobs: nothing to wait for. */
        if (s.fatal || s.n_done == o->n_ids)
            continue;
        wrc = vt->wait(s.tr, bound_wake(o, next_wake(&s, run_deadline)));
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
        if (turn && turn(arg) != 0) {
            vt->abort(s.tr); /* the output is gone: stop asking */
            rc = 1;
            break;
        }
    }
out:
    teardown(&s);
    st->elapsed_ms = loop_now_ms() - start;
    return rc;
}
