/*
 * test_pool - the scheduler and the hand-written transport's connection
 * pool, run over a simulated network. Thousands of seeded runs, each with
 * its own mix of what servers do: announce a per-connection limit or
 * close without a word, ignore "Connection: close", answer the first
 * request of the first connection with "Connection: close", reset, send
 * garbage, stall, close idle connections, answer 404 or 429 (or 425 Too
 * Early to a connection's first requests, as if they came in TLS early
 * data), redirect to
 * hosts that refuse, that never answer a SYN, or whose connect() fails at
 * once; and connects that fail, at once or later. Every run must
 *
 *   - end: the transport never waits with nothing that can wake it (the
 *     simulated wait with no event and no deadline is a hang, reported
 *     with the run's seed), and within a bound of virtual time;
 *   - account for every id: printed or named exactly once;
 *   - never print a wrong value.
 *
 * What runs for real: src/sched.c, src/transport_h1.c, src/url.c. What is
 * simulated here, to the same contracts (include/conn.h, include/loop.h,
 * include/net.h, include/tlsio.h): the connections, the clock and the
 * wait, name resolution and the TLS context. Time is virtual: the wait
 * jumps to the next simulated event or to the deadline it was given, so a
 * run that covers minutes of timeouts takes microseconds.
 *
 * POOL_RUNS sets the number of runs (default 5000; make soak runs 200 000
 * more), POOL_SEED the first seed, POOL_VERBOSE=1 prints each run's world.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rng.h"
#include "conn.h"
#include "jfield.h"
#include "loop.h"
#include "net.h"
#include "sched.h"
#include "tlsio.h"
#include "transport.h"

#define MAX_IDS 80
#define MAX_SLOTS (SCHED_MAX_CONNECTIONS + TRANSPORT_MAX_ORIGINS)
#define NEVER INT64_MAX
#define MAX_EVENTS 200000
#define MAX_VIRTUAL_MS (6 * 3600 * 1000LL)
#define UNSENT_CAP 40          /* requests one output buffer holds */
#define VALUE_CAP JF_MAX_VALUE /* the longest value a result has */

/* ---- the world of one run ---- */

/* The value id's answer carries: "v<id>", padded to a length that
   depends on the id, so that results waiting in id order are short, just
   under and just over the scheduler's 64 bytes of a short place, and as
   long as a value may be. Returns its length. */
static size_t
value_of(uint32_t id, char *buf, size_t cap)
{
    static const size_t lens[] = {0, 63, 64, 65, VALUE_CAP};
    int n = snprintf(buf, cap, "v%u", (unsigned)id);
    size_t len = lens[id % 5];

    if (len <= (size_t)n || len >= cap)
        return (size_t)n;
    memset(buf + n, '.', len - (size_t)n);
    buf[len] = 0;
    return len;
}

enum limit_mode { LIMIT_ANNOUNCED, LIMIT_SILENT };

struct world {
    uint64_t seed;
    unsigned limit; /* responses per connection, 0: none */
    enum limit_mode limit_mode;
    int ignores_close;   /* keeps "Connection: close" ones open */
    int close_first;     /* connection 1's first answer closes */
    int first_addr_dead; /* main.test's first address refuses */
    /* Per mille, per response or per connection. */
    unsigned p_redirect, p_404, p_429, p_reset, p_garbage, p_stall;
    unsigned p_idle_close, p_sync_fail, p_refuse, p_write_reset;
    unsigned p_untrusted;
    unsigned p_425;       /* per mille of answers to early requests */
    unsigned early_first; /* a connection's first requests "went early" */
};

static struct world w;
static int64_t now_ms;
static long n_events;
static int hung, ran_away;
static unsigned answered_425; /* 425s sent to early requests */
static unsigned conns_ever, open_now, open_max;

static unsigned
below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static int
chance(unsigned per_mille)
{
    return below(1000) < per_mille;
}

/* ---- simulated hosts ---- */

enum host { H_MAIN, H_OTHER, H_DEAD, H_REFUSE, H_HOLE, N_HOSTS };

static const char *const host_names[N_HOSTS] = {
    "main.test", "other.test", "dead.test", "refuse.test", "hole.test",
};

/* 10.H.0.A: host H's address A. */
static enum host
host_of(const struct sockaddr *sa, unsigned *addr_index)
{
    const struct sockaddr_in *in = (const void *)sa;
    uint32_t a = ntohl(in->sin_addr.s_addr);

    *addr_index = (a & 0xff) - 1;
    return (enum host)((a >> 16) & 0xff);
}

int
net_resolve(const char *host, uint16_t port, struct net_addrs *out, char *err,
            size_t errcap)
{
    unsigned h, i;

    memset(out, 0, sizeof *out);
    for (h = 0; h < N_HOSTS; h++) {
        if (strcmp(host, host_names[h]) != 0)
            continue;
        out->n = h == H_MAIN ? 2 : 1;
        for (i = 0; i < out->n; i++) {
            struct sockaddr_in *in = (void *)&out->addr[i];

            in->sin_family = AF_INET;
            in->sin_port = htons(port);
            in->sin_addr.s_addr = htonl(0x0a000000u | h << 16 | (i + 1));
            out->len[i] = sizeof *in;
        }
        return 0;
    }
    snprintf(err, errcap, "%s: unknown host", host);
    return -1;
}

void
net_addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
    unsigned a;
    enum host h = host_of(sa, &a);

    snprintf(out, cap, "10.%u.0.%u:443", (unsigned)h, a + 1);
}

/* The simulated runs are not observed: -v's text is never asked for. */
void
net_resolved_text(const char *host, const struct net_addrs *a, int64_t us,
                  char *out, size_t cap)
{
    (void)a;
    (void)us;
    snprintf(out, cap, "%s", host);
}

int
tlsio_ctx_open(struct tlsio_ctx *t, const char *cafile, int insecure,
               char *err, size_t errcap)
{
    (void)cafile, (void)err, (void)errcap;
    memset(t, 0, sizeof *t);
    t->insecure = insecure;
    return 0;
}

void
tlsio_ctx_close(struct tlsio_ctx *t)
{
    (void)t;
}

/* No session store in the simulation: connections do no TLS. */
void
tlsio_ctx_origin(struct tlsio_ctx *t, const char *host, unsigned port,
                 int host_is_ip)
{
    (void)host, (void)port, (void)host_is_ip;
    t->key[0] = '\0';
}

void
tlsio_version(char *out, size_t cap)
{
    snprintf(out, cap, "simulated\n");
}

/* ---- the clock and the wait ---- */

int
loop_open(struct loop *l)
{
    l->epfd = 1;
    return 0;
}

void
loop_close(struct loop *l)
{
    l->epfd = -1;
}

int64_t
loop_now_ms(void)
{
    return now_ms;
}

int64_t
loop_now_us(void)
{
    return now_ms * 1000;
}

/* ---- simulated connections (include/conn.h's contract) ---- */

enum ev { EV_NONE, EV_CONNECT, EV_RESPONSE, EV_IDLE_CLOSE };

struct request {
    uint32_t job;
    unsigned id;    /* from the target's digits */
    int redirected; /* the target is a redirect's: /r/... */
    int64_t due;    /* when its answer comes, NEVER if unsent */
};

/* What the simulation keeps beside each struct conn. */
struct sim {
    enum host host;
    int refuses, hole, untrusted;
    int64_t connect_at;
    struct request fifo[CONN_MAX_PIPELINE];
    unsigned head, n, n_unsent;
    int64_t last_due;
    int stalled;
    int64_t idle_close_at;
    int saw_close;   /* a request asked "Connection: close" */
    unsigned serial; /* 1 for the first connection of the run */
};

enum conn_state { CONN_CLOSED = 0, CONN_CONNECTING, CONN_OPEN };

/* struct conn is opaque to the transport: this is the simulation's. */
struct conn {
    const struct conn_config *cfg;
    unsigned index;
    enum conn_state state;
    unsigned n_submitted, n_responses;
    int closing;
    const struct sockaddr *peer;
    int64_t opened_at, last_rx;
    struct sim sim;
};

/* Every connection the transport set up, found through conn_new: the
   wait looks at each of them for its next event. */
static struct conn *slots[MAX_SLOTS];
static unsigned n_slots;

static struct sim *
sim_of(const struct conn *c)
{
    return (struct sim *)&c->sim;
}

struct conn *
conn_new(const struct conn_config *cfg, unsigned index,
         struct decode_arenas *arenas)
{
    struct conn *c;

    (void)arenas; /* no bodies here */
    if (index >= MAX_SLOTS || !(c = calloc(1, sizeof *c)))
        return NULL;
    c->cfg = cfg;
    c->index = index;
    slots[index] = c;
    if (index + 1 > n_slots)
        n_slots = index + 1;
    return c;
}

unsigned
conn_index(const struct conn *c)
{
    return c->index;
}

int
conn_closed(const struct conn *c)
{
    return c->state == CONN_CLOSED;
}

int
conn_established(const struct conn *c)
{
    return c->state == CONN_OPEN;
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

const struct sockaddr *
conn_peer(const struct conn *c)
{
    return c->peer;
}

/* The simulated connections send no early data: no ticket to await. */
int64_t
conn_ticket_due(const struct conn *c)
{
    (void)c;
    return -1;
}

/* The simulated runs are not observed. */
uint32_t
conn_record(const struct conn *c)
{
    (void)c;
    return UINT32_MAX;
}

/* The single exit, as conn.c's end(). */
static void
end(struct conn *c, enum conn_end why, const char *err)
{
    if (c->state == CONN_CLOSED)
        return;
    c->state = CONN_CLOSED;
    open_now--;
    c->cfg->ops->on_close(c->cfg->owner, c, why, err);
    sim_of(c)->n = 0;
    sim_of(c)->n_unsent = 0;
    c->closing = 0;
}

void
conn_free(struct conn *c)
{
    if (!c)
        return;
    conn_close(c);
    slots[c->index] = NULL;
    free(c);
}

void
conn_close(struct conn *c)
{
    end(c, CONN_END_LOCAL, "closed by pokefetch");
}

int
conn_open(struct conn *c, const struct sockaddr *addr, socklen_t len)
{
    struct sim *s = sim_of(c);
    unsigned a;

    (void)len;
    CHECK(c->state == CONN_CLOSED);
    memset(s, 0, sizeof *s);
    s->host = host_of(addr, &a);
    if (s->host == H_DEAD)
        return -ENETUNREACH;
    if (chance(w.p_sync_fail))
        return chance(500) ? -EMFILE : -ENETUNREACH;
    c->peer = addr;
    c->state = CONN_CONNECTING;
    c->n_submitted = c->n_responses = 0;
    c->closing = 0;
    c->opened_at = c->last_rx = now_ms;
    s->refuses = s->host == H_REFUSE ||
                 (s->host == H_MAIN && a == 0 && w.first_addr_dead) ||
                 chance(w.p_refuse);
    s->hole = s->host == H_HOLE;
    s->untrusted = chance(w.p_untrusted);
    s->connect_at = s->hole ? NEVER : now_ms + 1 + below(10);
    s->idle_close_at = NEVER;
    c->cfg->stats->conns_opened++;
    s->serial = ++conns_ever;
    if (++open_now > open_max)
        open_max = open_now;
    return 0;
}

unsigned
conn_inflight(const struct conn *c)
{
    return sim_of(c)->n;
}

uint32_t
conn_inflight_job(const struct conn *c, unsigned i)
{
    const struct sim *s = sim_of(c);

    return s->fifo[(s->head + i) % CONN_MAX_PIPELINE].job;
}

int
conn_can_take(const struct conn *c, size_t target_len)
{
    (void)target_len;
    return c->state != CONN_CLOSED && !c->closing &&
           sim_of(c)->n < CONN_MAX_PIPELINE &&
           sim_of(c)->n_unsent < UNSENT_CAP;
}

/* "/p/17", "/r/p/17": the id is the last digits. */
static unsigned
target_id(const char *target, size_t len)
{
    unsigned id = 0, mul = 1;

    while (len > 0 && target[len - 1] >= '0' && target[len - 1] <= '9') {
        id += (unsigned)(target[len - 1] - '0') * mul;
        mul *= 10;
        len--;
    }
    return id;
}

int
conn_submit(struct conn *c, uint32_t job, const char *target,
            size_t target_len)
{
    struct sim *s = sim_of(c);
    struct request *r;

    if (c->state == CONN_CLOSED || c->closing)
        return -EPIPE;
    if (!conn_can_take(c, target_len))
        return -ENOBUFS;
    if (s->n == 0)
        c->last_rx = now_ms; /* the idle clock starts now */
    r = &s->fifo[(s->head + s->n) % CONN_MAX_PIPELINE];
    r->job = job;
    r->id = target_id(target, target_len);
    r->redirected = target_len > 3 && memcmp(target, "/r/", 3) == 0;
    r->due = NEVER;
    s->n++;
    s->n_unsent++;
    c->n_submitted++;
    if (!c->cfg->run->keep_alive)
        s->saw_close = 1;
    if (s->n > c->cfg->stats->deepest_pipeline)
        c->cfg->stats->deepest_pipeline = s->n;
    return 0;
}

/* The unsent requests leave; each gets the time its answer comes. */
static void
send_unsent(struct conn *c)
{
    struct sim *s = sim_of(c);
    unsigned i;

    for (i = s->n - s->n_unsent; i < s->n; i++) {
        struct request *r = &s->fifo[(s->head + i) % CONN_MAX_PIPELINE];
        int64_t from = s->last_due > now_ms ? s->last_due : now_ms;

        r->due = from + 1 + below(20);
        s->last_due = r->due;
    }
    s->n_unsent = 0;
    s->idle_close_at = NEVER;
}

void
conn_flush(struct conn *c)
{
    if (c->state != CONN_OPEN || !sim_of(c)->n_unsent)
        return;
    if (chance(w.p_write_reset)) {
        end(c, CONN_END_ERROR, "send: Connection reset by peer");
        return;
    }
    send_unsent(c);
}

int
conn_service_buffered(struct conn *c)
{
    (void)c;
    return 0;
}

/* conn.c's rule, on the simulated FIFO: the transport arms its waits
   by it. */
int64_t
conn_deadline(const struct conn *c)
{
    switch (c->state) {
    case CONN_CLOSED:
        return -1;
    case CONN_CONNECTING:
        return c->cfg->run->connect_timeout_ms > 0
                   ? c->opened_at + c->cfg->run->connect_timeout_ms
                   : -1;
    case CONN_OPEN:
        if (!sim_of(c)->n || c->cfg->run->idle_timeout_ms <= 0)
            return -1;
        return c->last_rx + c->cfg->run->idle_timeout_ms;
    }
    return -1;
}

void
conn_expire(struct conn *c, int64_t now)
{
    int64_t d = conn_deadline(c);

    if (d < 0 || now < d)
        return;
    end(c, c->state == CONN_OPEN ? CONN_END_TIMEOUT : CONN_END_CONNECT,
        c->state == CONN_OPEN ? "idle timeout" : "connect timeout");
}

/* The next thing that happens on c, and when. */
static int64_t
next_event(const struct conn *c, enum ev *ev)
{
    const struct sim *s = sim_of(c);

    *ev = EV_NONE;
    if (c->state == CONN_CONNECTING) {
        *ev = EV_CONNECT;
        return s->connect_at;
    }
    if (c->state != CONN_OPEN)
        return NEVER;
    if (s->n > 0 && !s->stalled && s->fifo[s->head].due != NEVER) {
        *ev = EV_RESPONSE;
        return s->fifo[s->head].due;
    }
    if (s->idle_close_at != NEVER)
        *ev = EV_IDLE_CLOSE;
    return s->idle_close_at;
}

static void
connected(struct conn *c)
{
    struct sim *s = sim_of(c);

    if (s->refuses) {
        end(c, CONN_END_CONNECT, "connect: Connection refused");
        return;
    }
    if (s->untrusted) {
        end(c, CONN_END_VERIFY, "certificate verify failed");
        return;
    }
    c->state = CONN_OPEN;
    c->cfg->stats->handshakes_full++;
    send_unsent(c);
    if (s->n == 0 && chance(w.p_idle_close))
        s->idle_close_at = now_ms + 1 + below(50);
}

/* The Location of a redirect for request r. */
static void
location(const struct request *r, char *out, size_t cap)
{
    static const char *const to[] = {
        "", "https://other.test", "https://dead.test", "https://refuse.test",
        "https://hole.test"};

    if (chance(20))
        snprintf(out, cap, "/p/%u", r->id); /* the URL itself: a loop */
    else
        snprintf(out, cap, "%s/r/p/%u", to[below(5)], r->id);
}

/* The head request's answer. */
static void
respond(struct conn *c)
{
    struct sim *s = sim_of(c);
    struct request r = s->fifo[s->head];
    struct fetch_result res;
    char text[VALUE_CAP + 1], loc[64];
    int close_after, silent_end;

    if (chance(w.p_stall)) {
        s->stalled = 1; /* answers nothing more: an idle timeout ends it */
        return;
    }
    if (chance(w.p_reset)) {
        end(c, CONN_END_ERROR, "read: Connection reset by peer");
        return;
    }
    if (chance(w.p_garbage)) {
        end(c, CONN_END_ERROR, "malformed response: invalid status line");
        return;
    }
    memset(&res, 0, sizeof res);
    res.retry_after_s = -1;
    if (!r.redirected && chance(w.p_redirect)) {
        res.status = 301 + 6 * (int)below(2);
        location(&r, loc, sizeof loc);
        res.location = loc;
        res.location_len = strlen(loc);
        snprintf(text, sizeof text, "HTTP status %d", res.status);
    } else if (c->n_responses < w.early_first && chance(w.p_425)) {
        res.status = 425;
        res.early = 1;
        answered_425++;
        snprintf(text, sizeof text, "HTTP status 425");
    } else if (chance(w.p_404)) {
        res.status = 404;
        snprintf(text, sizeof text, "HTTP status 404");
    } else if (chance(w.p_429)) {
        res.status = 429;
        res.retry_after_s = below(3) - 1; /* none, 0 or 1 s */
        snprintf(text, sizeof text, "HTTP status 429");
    } else {
        res.status = 200;
        res.ok = 1;
        (void)value_of(r.id, text, sizeof text);
    }
    res.text = text;
    res.len = strlen(text);

    s->head = (s->head + 1) % CONN_MAX_PIPELINE;
    s->n--;
    c->n_responses++;
    c->last_rx = now_ms;
    close_after = (w.limit && c->n_responses == w.limit &&
                   w.limit_mode == LIMIT_ANNOUNCED) ||
                  (w.close_first && s->serial == 1 && c->n_responses == 1) ||
                  (s->saw_close && !w.ignores_close);
    silent_end =
        w.limit && c->n_responses >= w.limit && w.limit_mode == LIMIT_SILENT;
    c->cfg->ops->on_result(c->cfg->owner, c, r.job, &res);
    if (c->state == CONN_CLOSED)
        return;
    if (close_after) {
        c->closing = 1;
        end(c, CONN_END_ANNOUNCED, "server closed the connection");
    } else if (silent_end) {
        end(c, CONN_END_EOF,
            s->n ? "connection closed before the response"
                 : "connection closed by server while "
                   "idle");
    } else if (s->n == 0 && chance(w.p_idle_close)) {
        s->idle_close_at = now_ms + 1 + below(50);
    }
}

int
loop_run_once(struct loop *l, int64_t deadline_ms)
{
    int64_t best = NEVER;
    struct conn *bc = NULL;
    enum ev bev = EV_NONE;
    unsigned i;

    (void)l;
    for (i = 0; i < n_slots; i++) {
        enum ev ev;
        int64_t t;

        if (!slots[i])
            continue;
        t = next_event(slots[i], &ev);
        if (ev != EV_NONE && t < best) {
            best = t;
            bc = slots[i];
            bev = ev;
        }
    }
    if (++n_events > MAX_EVENTS || now_ms > MAX_VIRTUAL_MS) {
        ran_away = 1;
        return -ELOOP;
    }
    if (!bc && deadline_ms < 0) {
        hung = 1; /* nothing can ever wake this wait */
        return -EDEADLK;
    }
    if (!bc || (deadline_ms >= 0 && best > deadline_ms)) {
        if (deadline_ms > now_ms)
            now_ms = deadline_ms;
        return 0;
    }
    if (best > now_ms)
        now_ms = best;
    switch (bev) {
    case EV_CONNECT:
        connected(bc);
        break;
    case EV_RESPONSE:
        respond(bc);
        break;
    case EV_IDLE_CLOSE:
        end(bc, CONN_END_EOF,
            sim_of(bc)->n ? "connection closed before the response"
                          : "connection closed by server while "
                            "idle");
        break;
    case EV_NONE:
        break;
    }
    return 1;
}

/* ---- one run ---- */

struct outcome {
    unsigned seen[MAX_IDS];
    int wrong;
};

static struct outcome got;
static uint32_t ids[MAX_IDS];

static void
on_output(void *arg, const struct sched_result *r)
{
    char want[VALUE_CAP + 1];
    size_t len;

    (void)arg;
    if (r->index >= MAX_IDS) {
        got.wrong = 1;
        return;
    }
    got.seen[r->index]++;
    if (r->ok) {
        len = value_of(r->id, want, sizeof want);
        if (r->id != ids[r->index] || r->len != len ||
            memcmp(r->text, want, r->len) != 0)
            got.wrong = 1;
    }
}

static void
on_warning(void *arg, const char *msg)
{
    (void)arg, (void)msg;
}

static unsigned
pick(const unsigned *choices, unsigned n)
{
    return choices[below(n)];
}

static void
make_world(uint64_t seed, struct fetch_config *o, size_t *n)
{
    static const unsigned conns[] = {1, 2, 3, 6};
    static const unsigned depths[] = {1, 2, 4, 32, 256};
    static const unsigned limits[] = {0, 0, 1, 2, 5};
    static const unsigned retries[] = {0, 1, 3};
    size_t i;

    memset(&w, 0, sizeof w);
    w.seed = seed;
    rng = seed * 0x9e3779b97f4a7c15u + 0x632be59bd9b4e019u;
    if (!rng)
        rng = 1;
    w.limit = pick(limits, 5);
    w.limit_mode = chance(500) ? LIMIT_ANNOUNCED : LIMIT_SILENT;
    w.ignores_close = chance(300);
    w.close_first = chance(300);
    w.first_addr_dead = chance(150);
    w.p_redirect = chance(400) ? 100 : 0;
    w.p_404 = chance(300) ? 50 : 0;
    w.p_429 = chance(200) ? 30 : 0;
    w.p_reset = chance(300) ? 40 : 0;
    w.p_garbage = chance(200) ? 20 : 0;
    w.p_stall = chance(150) ? 15 : 0;
    w.p_idle_close = chance(300) ? 200 : 0;
    w.p_sync_fail = chance(150) ? 100 : 0;
    w.p_refuse = chance(200) ? 150 : 0;
    w.p_write_reset = chance(150) ? 50 : 0;
    w.p_untrusted = chance(30) ? 20 : 0;
    w.p_425 = chance(200) ? (chance(300) ? 1000 : 300) : 0;
    w.early_first = 1 + below(4);

    memset(o, 0, sizeof *o);
    o->url = "https://main.test/p/{id}";
    *n = 1 + below(MAX_IDS);
    for (i = 0; i < *n; i++)
        ids[i] = chance(100) ? 1 + below(5) : (uint32_t)(i + 1);
    o->ids = ids;
    o->n_ids = *n;
    o->connections = pick(conns, 4);
    o->pipeline = pick(depths, 5);
    o->keep_alive = !chance(150);
    if (!o->keep_alive)
        o->pipeline = 1;
    o->field = "name";
    o->field_len = 4;
    o->connect_timeout_ms = 1000 + below(9000);
    /* Without an idle timeout a stalled server is the user's choice to
       wait for; such worlds do not stall. */
    o->idle_timeout_ms = chance(100) ? 0 : 500 + below(5000);
    if (!o->idle_timeout_ms)
        w.p_stall = 0;
    o->max_time_ms = chance(100) ? 2000 + below(60000) : 0;
    o->max_retries = pick(retries, 3);
    o->arrival_order = chance(500);
    o->user_agent = "test";
    o->max_body = 1 << 20;
    o->max_redirects = below(4);
}

/* A fresh simulation, then sched_run over it. */
static int
run(struct fetch_config *o, struct fetch_stats *st, char *err, size_t errcap)
{
    memset(&got, 0, sizeof got);
    memset(slots, 0, sizeof slots);
    n_slots = 0;
    now_ms = 1000;
    n_events = 0;
    hung = ran_away = 0;
    answered_425 = 0;
    conns_ever = open_now = open_max = 0;
    if (url_parse_template(&o->tmpl, o->url, strlen(o->url)) != URL_OK) {
        snprintf(err, errcap, "bad template");
        return -1;
    }
    return sched_run(transport_default, o, on_output, NULL, NULL, on_warning,
                     st, err, errcap);
}

static void
print_world(const struct fetch_config *o)
{
    fprintf(stderr,
            "  seed %llu: %zu ids, -c %u -p %u%s --retries %u "
            "--max-redirs %u idle %lld max-time %lld %s; server: limit %u "
            "(%s)%s%s%s; per mille: redirect %u 404 %u 429 %u reset %u "
            "garbage %u stall %u idle-close %u sync-fail %u refuse %u "
            "write-reset %u untrusted %u 425 %u (first %u)\n",
            (unsigned long long)w.seed, o->n_ids, o->connections, o->pipeline,
            o->keep_alive ? "" : " --no-keepalive", o->max_retries,
            o->max_redirects, (long long)o->idle_timeout_ms,
            (long long)o->max_time_ms, o->arrival_order ? "arrival" : "id",
            w.limit, w.limit_mode == LIMIT_ANNOUNCED ? "announced" : "silent",
            w.ignores_close ? ", ignores close" : "",
            w.close_first ? ", first answer closes" : "",
            w.first_addr_dead ? ", first address dead" : "", w.p_redirect,
            w.p_404, w.p_429, w.p_reset, w.p_garbage, w.p_stall,
            w.p_idle_close, w.p_sync_fail, w.p_refuse, w.p_write_reset,
            w.p_untrusted, w.p_425, w.early_first);
}

/* Runs one seeded world; returns 0 if every property held. */
static int
run_world(uint64_t seed, int verbose)
{
    struct fetch_config o;
    struct fetch_stats st;
    char err[256];
    size_t n, i;
    int rc, bad = 0;

    make_world(seed, &o, &n);
    if (verbose)
        print_world(&o);
    rc = run(&o, &st, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "  seed %llu: sched_run failed: %s\n",
                (unsigned long long)seed, err);
        bad = 1;
    }
    if (hung || ran_away) {
        fprintf(stderr, "  seed %llu: %s at %lld ms virtual\n",
                (unsigned long long)seed,
                hung ? "HANG: waited with nothing to wake the wait"
                     : "ran away (too many events or too long)",
                (long long)now_ms);
        bad = 1;
    }
    for (i = 0; i < n; i++) {
        if (got.seen[i] != 1) {
            fprintf(stderr, "  seed %llu: id index %zu ended %u times\n",
                    (unsigned long long)seed, i, got.seen[i]);
            bad = 1;
            break;
        }
    }
    if (got.wrong) {
        fprintf(stderr, "  seed %llu: a wrong value was printed\n",
                (unsigned long long)seed);
        bad = 1;
    }
    if (st.too_early != answered_425) {
        fprintf(stderr, "  seed %llu: %u answered 425 counted, %u sent\n",
                (unsigned long long)seed, st.too_early, answered_425);
        bad = 1;
    }
    if (st.ok + st.failed != n) {
        fprintf(stderr, "  seed %llu: %u ok + %u failed != %zu ids\n",
                (unsigned long long)seed, st.ok, st.failed, n);
        bad = 1;
    }
    if (open_max > o.connections + TRANSPORT_MAX_ORIGINS - 1) {
        fprintf(stderr, "  seed %llu: %u connections open at once\n",
                (unsigned long long)seed, open_max);
        bad = 1;
    }
    if (open_now != 0) {
        fprintf(stderr, "  seed %llu: %u connections left open\n",
                (unsigned long long)seed, open_now);
        bad = 1;
    }
    if (bad && !verbose)
        print_world(&o);
    return bad;
}

static unsigned long runs = 5000;
static uint64_t first_seed = 1;
static int verbose;

static void
test_random_worlds(void)
{
    unsigned long i, failed = 0;

    for (i = 0; i < runs; i++) {
        if (run_world(first_seed + i, verbose)) {
            failed++;
            CHECKF(0, "seed %llu", (unsigned long long)(first_seed + i));
            if (failed >= 10)
                break;
        }
    }
    printf("pool: %lu seeded runs from seed %llu, %lu failed\n", i,
           (unsigned long long)first_seed, failed);
}

/* The two hangs this test was written for, as fixed worlds. */
static int
run_fixed(void (*set)(struct fetch_config *o))
{
    struct fetch_config o;
    struct fetch_stats st;
    char err[256];
    size_t n = 40, i;
    int bad = 0;

    memset(&w, 0, sizeof w);
    rng = 42;
    memset(&o, 0, sizeof o);
    o.url = "https://main.test/p/{id}";
    for (i = 0; i < n; i++)
        ids[i] = (uint32_t)(i + 1);
    o.ids = ids;
    o.n_ids = n;
    o.connections = 6;
    o.pipeline = 32;
    o.keep_alive = 1;
    o.field = "name";
    o.field_len = 4;
    o.connect_timeout_ms = 10000;
    o.idle_timeout_ms = 0; /* as bad as it gets: no deadline at all */
    o.max_retries = 3;
    o.user_agent = "test";
    o.max_body = 1 << 20;
    o.max_redirects = 5;
    set(&o);
    (void)run(&o, &st, err, sizeof err);
    CHECK(!hung && !ran_away);
    for (i = 0; i < n; i++)
        bad |= got.seen[i] != 1;
    CHECK(!bad);
    CHECK(!got.wrong);
    return (int)st.ok;
}

static void
set_close_first(struct fetch_config *o)
{
    (void)o;
    w.close_first = 1;
}

static void
set_close_first_c2p4(struct fetch_config *o)
{
    w.close_first = 1;
    o->connections = 2;
    o->pipeline = 4;
}

static void
set_ignores_close(struct fetch_config *o)
{
    w.ignores_close = 1;
    o->keep_alive = 0;
    o->pipeline = 1;
}

static void
set_redirect_dead(struct fetch_config *o)
{
    (void)o;
    w.p_redirect = 1000; /* every id redirects; some to dead.test */
}

static void
test_learned_limit_close_first(void)
{
    CHECK(run_fixed(set_close_first) == 40);
    CHECK(run_fixed(set_close_first_c2p4) == 40);
}

static void
test_no_keepalive_server_ignores_close(void)
{
    CHECK(run_fixed(set_ignores_close) == 40);
}

static void
test_redirects_to_unreachable_hosts(void)
{
    (void)run_fixed(set_redirect_dead);
}

int
main(void)
{
    const char *e;

    if ((e = getenv("POOL_RUNS")))
        runs = strtoul(e, NULL, 10);
    if ((e = getenv("POOL_SEED")))
        first_seed = strtoull(e, NULL, 10);
    verbose = (e = getenv("POOL_VERBOSE")) && *e == '1';
    RUN(test_learned_limit_close_first);
    RUN(test_no_keepalive_server_ignores_close);
    RUN(test_redirects_to_unreachable_hosts);
    RUN(test_random_worlds);
    return CHECK_REPORT();
}
