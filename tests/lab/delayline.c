/*
 * delayline - a user-space latency emulator: a TCP relay on 127.0.0.1.
 *
 *   delayline --to HOST:PORT --delay-ms D [--listen PORT] [--rate-mbit R]
 *             [--port-file FILE] [--max-conns N] [--buf-kib K] [--quiet]
 *             [--reset-pct P [--reset-within-kib K] [--seed S]]
 *
 * The kernel here has no netem, so latency is added in user space: clients
 * connect to the relay, which connects to HOST:PORT (127.0.0.1, [::1] or a
 * name) and forwards each direction late.
 *
 * What it models
 *   A path with a fixed one-way delay D each way (a round trip costs 2D)
 *   and, with --rate-mbit, one bottleneck link of R Mbit/s per direction
 *   shared by every connection through the relay (one home line, not a cap
 *   per connection). A chunk read from one side at time t, of n bytes,
 *       without a cap: reaches the other side at t + D
 *       with a cap:    leaves the link at dep = max(t, link_free) + 8n/R,
 *                      link_free = dep, and arrives at dep + D.
 *   On a capped link a read is at most ~1 ms of link time (at least one
 *   1448-byte segment, at most 16 KiB), so connections take turns on the
 *   link in arrival order and bytes arrive in small bursts, not in one
 *   lump. Order is kept per direction. An EOF travels behind the data and
 *   arrives as shutdown(SHUT_WR) D later; a reset or an error closes both
 *   sides at once with RST.
 *
 * The handshake
 *   The client's kernel finishes connect() against the relay at once,
 *   where a real one returns after a round trip. So the relay reads the
 *   client's first bytes only at accept + 2D (until then they wait in the
 *   kernel, as they would in the client's send buffer; the link is not
 *   used before a real client could send), and connects upstream at
 *   accept + 3D, when a real server would see the final ACK; the client's
 *   bytes are released no earlier than that (t = 0 is connect()):
 *       real:     SYN reaches the server at D, SYN-ACK the client at 2D,
 *                 connect() returns, the request goes out and reaches the
 *                 server at 3D (1.5 RTT); the answer is back at 4D.
 *       relayed:  connect() returns at 0, the request goes out at once, is
 *                 read at 2D and released at 3D; the answer is back at 4D.
 *   A server that speaks first (a greeting on accept) accepts at 3D in
 *   both cases: its first byte reaches the client at 4D. TCP + TLS 1.3 +
 *   one request: ClientHello at the server 3D, its reply at the client 4D
 *   (2 RTT), Finished + request at the server 5D, the response at 6D:
 *   3 RTT, as on a real network. Only the client's own connect() timing
 *   differs (about 0 instead of 2D; curl's time_connect reads ~0).
 *
 * What it does not model
 *   Loss, jitter, reordering, MTU and header overhead (the cap counts
 *   payload bytes), TCP slow start and congestion control over the path
 *   (the loopback TCP underneath has ~0 RTT, so its windows open at once:
 *   a fresh connection gets a 300 KB body in about one RTT, where a real
 *   one needs several), receive windows (the relay's buffer stands in: a
 *   connection has at most one buffer in flight per direction, so alone it
 *   gets at most buffer / D, e.g. 256 KiB at D = 22 ms is 95 Mbit/s), a
 *   router's queue limit (the link queue is bounded only by the buffers:
 *   bufferbloat of up to connections x buffer / R), delayed RSTs, and
 *   upstream refusals (the client sees an RST at 3D, not a failed
 *   connect() at 2D).
 *
 * Faults, for soak tests (--reset-pct): P% of the connections, drawn
 *   with a seeded generator, are reset (RST both ways) once a random
 *   number of bytes, 1 to --reset-within-kib KiB (default 256), has been
 *   written towards the client: a server or middlebox failing mid-stream,
 *   between or inside responses, in front of a real server.
 *
 * Memory is bounded: per connection and direction a fixed ring (--buf-kib;
 * default 256 KiB, or twice the bandwidth-delay product if that is more,
 * so the cap and not the buffer limits one connection) and a fixed queue
 * of chunk stamps; when either is full the relay stops reading that side
 * (EPOLLIN off) until it drains, so a slow reader back-pressures the
 * writer through TCP.
 *
 * Timing: CLOCK_MONOTONIC stamps and one timerfd armed (absolute) for the
 * earliest due chunk, so the resolution is not epoll_wait's millisecond.
 * A timer fires ~0.1 ms late on a VM, so it is armed that much early and
 * the remainder is polled (rationed to 5% CPU; see arm_timer). What is
 * left: a stamp is taken when the relay reads, after its own wake-up, so
 * each hop is late by that (~0.05-0.1 ms idle), and by scheduling noise.
 * Single thread, level-triggered epoll, one read per ready socket per turn
 * (fair between connections).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_MS 1000000.0
#define NEVER UINT64_MAX
#define SEG_MIN 1448         /* a link never delivers less than a segment */
#define CHUNK_MAX 16384      /* largest chunk on a capped link */
#define READ_MAX 65536       /* read size per turn without a cap */
#define EV_BATCH 64
#define LEAD_MAX 300000u     /* ns: the most the timer is armed early */
#define SPIN_SHARE 20        /* spinning may take 1/20 of the time... */
#define SPIN_BURST 2000000   /* ...banked up to 2 ms */

enum tag_kind { TAG_LISTEN, TAG_TIMER, TAG_SIGNAL, TAG_SIDE };

/* epoll's data.ptr points at one of these: a fixed tag or a side's. */
struct tag {
    enum tag_kind kind;
};

struct chunk {
    uint64_t due;            /* when it may be written to the other side */
    size_t len;
};

struct link {
    uint64_t free_at;        /* when the last chunk queued leaves the link */
    double ns_per_byte;
};

/* One direction of one connection: a byte ring and its chunk stamps. */
struct dir {
    unsigned char *buf;
    size_t cap;
    uint64_t rd, wr;         /* bytes taken out / put in, free-running */
    struct chunk *q;
    size_t qcap;
    uint64_t qrd, qwr;
    uint64_t floor;          /* nothing is due before this (handshake) */
    uint64_t eof_due;
    int eof_in, eof_out;     /* EOF read from the source / forwarded */
    int blocked;             /* send() said EAGAIN: wait for EPOLLOUT */
    struct link *link;       /* NULL: no cap */
    uint64_t bytes;
};

struct conn;

struct side {
    struct tag tag;          /* first member: epoll hands back &tag */
    int fd;
    uint32_t events;         /* mask in epoll; 0 = not registered */
    struct conn *conn;
};

enum conn_state { CONN_WAIT, CONN_CONNECTING, CONN_OPEN };

struct conn {
    struct side cl, sv;
    struct dir up, down;     /* up: client to server */
    enum conn_state state;
    uint64_t accepted;
    uint64_t read_at;        /* accept + 2D: the client's connect() returns */
    uint64_t open_at;        /* accept + 3D: the server accepts */
    uint64_t reset_at;       /* --reset-pct: RST once this much went down */
    unsigned long id;
    int dead;
};

static struct {
    int ep, lfd, tfd, sfd;
    struct tag listen_tag, timer_tag, signal_tag;
    uint32_t lfd_events;
    int accept_paused;       /* EMFILE: wait for a connection to close */
    struct conn **conns;
    size_t n_conns, max_conns;
    uint64_t delay;
    size_t buf_cap, qcap, read_max;
    struct link up_link, down_link;
    int capped, quiet, stop;
    struct sockaddr_storage to;
    socklen_t to_len;
    uint64_t timer_at;       /* what the timerfd is armed for; 0: nothing */
    uint64_t lead;           /* wake-up latency estimate: arm this early */
    int64_t spin_ns;         /* spinning allowed now (token bucket) */
    uint64_t spin_clock;     /* when spin_ns was last refilled */
    int spinning;            /* this turn polls with timeout 0 to wait */
    unsigned long next_id;
    uint64_t up_bytes, down_bytes;
    unsigned reset_pct;
    uint64_t reset_within;
    uint64_t rng;            /* xorshift64 state, from --seed */
    unsigned long n_resets;
} g;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
note(const char *fmt, ...)
{
    va_list ap;

    if (g.quiet)
        return;
    va_start(ap, fmt);
    fputs("delayline: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("delayline: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static _Noreturn void
usage(void)
{
    fputs("usage: delayline --to HOST:PORT --delay-ms D [--listen PORT]\n"
          "                 [--rate-mbit R] [--port-file FILE]"
          " [--max-conns N]\n"
          "                 [--buf-kib K] [--quiet]\n"
          "                 [--reset-pct P [--reset-within-kib K]"
          " [--seed S]]\n",
          stderr);
    exit(2);
}

/* xorshift64: reproducible with --seed, good enough to pick victims. */
static uint64_t
rng_next(void)
{
    g.rng ^= g.rng << 13;
    g.rng ^= g.rng >> 7;
    g.rng ^= g.rng << 17;
    return g.rng;
}

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* ---- epoll interest --------------------------------------------------- */

/*
 * A socket with no interest leaves epoll altogether: epoll reports
 * EPOLLHUP whatever the mask, and a paused reader whose peer has hung up
 * would otherwise wake us in a loop.
 */
static int
watch(int fd, struct tag *tag, uint32_t *cur, uint32_t want)
{
    struct epoll_event ev;
    int op;

    if (fd < 0 || want == *cur)
        return 0;
    if (!want) {
        epoll_ctl(g.ep, EPOLL_CTL_DEL, fd, NULL);
        *cur = 0;
        return 0;
    }
    memset(&ev, 0, sizeof ev);
    ev.events = want;
    ev.data.ptr = tag;
    op = *cur ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(g.ep, op, fd, &ev) < 0)
        return -1;
    *cur = want;
    return 0;
}

/* ---- one direction ---------------------------------------------------- */

static int
dir_init(struct dir *d, struct link *link, uint64_t floor)
{
    memset(d, 0, sizeof *d);
    d->cap = g.buf_cap;
    d->qcap = g.qcap;
    d->buf = malloc(d->cap);
    d->q = malloc(d->qcap * sizeof *d->q);
    d->link = link;
    d->floor = floor;
    return d->buf && d->q ? 0 : -1;
}

static void
dir_free(struct dir *d)
{
    free(d->buf);
    free(d->q);
    d->buf = NULL;
    d->q = NULL;
}

/* Contiguous free room for the next read; 0 when ring or queue is full. */
static size_t
dir_room(const struct dir *d)
{
    size_t used = (size_t)(d->wr - d->rd);
    size_t off = (size_t)(d->wr % d->cap);
    size_t n;

    if (used == d->cap || d->qwr - d->qrd == d->qcap)
        return 0;
    n = d->cap - used;
    if (n > d->cap - off)
        n = d->cap - off;
    return n;
}

static uint64_t
dir_last_due(const struct dir *d)
{
    if (d->qrd == d->qwr)
        return 0;
    return d->q[(d->qwr - 1) % d->qcap].due;
}

/* When this direction next needs the clock; NEVER if it waits on I/O. */
static uint64_t
dir_next(const struct dir *d)
{
    if (d->blocked)
        return NEVER;
    if (d->qrd != d->qwr)
        return d->q[d->qrd % d->qcap].due;
    if (d->eof_in && !d->eof_out)
        return d->eof_due;
    return NEVER;
}

/* Stamp n bytes just put in the ring, arrived at now. */
static void
dir_stamp(struct dir *d, size_t n, uint64_t now)
{
    struct chunk *ch;
    uint64_t dep = now;

    if (d->link) {
        dep = max_u64(now, d->link->free_at) +
              (uint64_t)((double)n * d->link->ns_per_byte + 0.5);
        d->link->free_at = dep;
    }
    ch = &d->q[d->qwr % d->qcap];
    ch->due = max_u64(max_u64(dep + g.delay, d->floor), dir_last_due(d));
    ch->len = n;
    d->qwr++;
    d->wr += n;
    d->bytes += n;
}

/* One read from src into d: 0 done (or EAGAIN), -1 error or reset. */
static int
dir_read(struct dir *d, int src)
{
    size_t room = dir_room(d);
    uint64_t now, dep;
    ssize_t r;

    if (!room || d->eof_in)
        return 0;
    if (room > g.read_max)
        room = g.read_max;
    r = recv(src, d->buf + d->wr % d->cap, room, 0);
    if (r < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
                   ? 0
                   : -1;
    now = now_ns();
    if (r > 0) {
        dir_stamp(d, (size_t)r, now);
        return 0;
    }
    /* The FIN queues behind the data on the link but costs no link time. */
    dep = d->link ? max_u64(now, d->link->free_at) : now;
    d->eof_in = 1;
    d->eof_due = max_u64(max_u64(dep + g.delay, d->floor), dir_last_due(d));
    return 0;
}

/* Write whatever is due to dst: 0 fine (maybe blocked), -1 error. */
static int
dir_flush(struct dir *d, int dst, uint64_t now)
{
    while (d->qrd != d->qwr) {
        struct chunk *ch = &d->q[d->qrd % d->qcap];
        size_t off = (size_t)(d->rd % d->cap);
        size_t n = ch->len;
        ssize_t r;

        if (ch->due > now)
            return 0;
        if (n > d->cap - off)
            n = d->cap - off;
        r = send(dst, d->buf + off, n, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                d->blocked = 1;
                return 0;
            }
            return -1;
        }
        d->rd += (uint64_t)r;
        ch->len -= (size_t)r;
        if (!ch->len)
            d->qrd++;
    }
    d->blocked = 0;
    if (d->eof_in && !d->eof_out && d->eof_due <= now) {
        if (shutdown(dst, SHUT_WR) < 0 && errno != ENOTCONN)
            return -1;
        d->eof_out = 1;
    }
    return 0;
}

/* ---- connections ------------------------------------------------------ */

static void
close_fd(int fd, int reset)
{
    if (fd < 0)
        return;
    if (reset) {
        /* Linger 0: close() sends an RST, as the peer's failure did. */
        struct linger lg = {1, 0};

        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(fd);
}

static void
conn_close(struct conn *c, int reset, const char *why)
{
    if (c->dead)
        return;
    close_fd(c->cl.fd, reset);
    close_fd(c->sv.fd, reset);
    c->cl.fd = c->sv.fd = -1;
    c->dead = 1;
    g.up_bytes += c->up.bytes;
    g.down_bytes += c->down.bytes;
    note("conn %lu %s: up %llu B, down %llu B, %.1f ms", c->id, why,
         (unsigned long long)c->up.bytes, (unsigned long long)c->down.bytes,
         (double)(now_ns() - c->accepted) / NS_PER_MS);
}

static void
set_nodelay(int fd)
{
    int one = 1;

    /* Chunks leave when due, not when Nagle lets them. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The upstream connect, at accept + 3D (see the header). */
static int
conn_connect(struct conn *c)
{
    int fd = socket(g.to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    0);

    if (fd < 0)
        return -1;
    set_nodelay(fd);
    c->sv.fd = fd;
    if (connect(fd, (struct sockaddr *)&g.to, g.to_len) == 0) {
        c->state = CONN_OPEN;
        return 0;
    }
    if (errno != EINPROGRESS)
        return -1;
    c->state = CONN_CONNECTING;
    return 0;
}

static void
conn_watch(struct conn *c, uint64_t now)
{
    uint32_t cl = 0, sv = 0;

    if (c->dead)
        return;
    if (now >= c->read_at && !c->up.eof_in && dir_room(&c->up))
        cl |= EPOLLIN;
    if (c->down.blocked)
        cl |= EPOLLOUT;
    if (c->state == CONN_CONNECTING) {
        sv = EPOLLOUT;
    } else if (c->state == CONN_OPEN) {
        if (!c->down.eof_in && dir_room(&c->down))
            sv |= EPOLLIN;
        if (c->up.blocked)
            sv |= EPOLLOUT;
    }
    if (watch(c->cl.fd, &c->cl.tag, &c->cl.events, cl) < 0 ||
        watch(c->sv.fd, &c->sv.tag, &c->sv.events, sv) < 0)
        conn_close(c, 1, "failed (epoll_ctl)");
}

/* Everything due by now: the upstream connect, data, EOFs, the end. */
static void
conn_service(struct conn *c, uint64_t now)
{
    if (c->dead)
        return;
    if (c->state == CONN_WAIT && now >= c->open_at && conn_connect(c) < 0) {
        conn_close(c, 1, "failed (upstream connect)");
        return;
    }
    if (c->state == CONN_OPEN && !c->up.blocked &&
        dir_flush(&c->up, c->sv.fd, now) < 0) {
        conn_close(c, 1, "reset (server side)");
        return;
    }
    if (!c->down.blocked && dir_flush(&c->down, c->cl.fd, now) < 0) {
        conn_close(c, 1, "reset (client side)");
        return;
    }
    if (c->reset_at && c->down.rd >= c->reset_at) {
        g.n_resets++;
        conn_close(c, 1, "reset (injected)");
        return;
    }
    if (c->up.eof_out && c->down.eof_out) {
        conn_close(c, 0, "closed");
        return;
    }
    conn_watch(c, now);
}

static uint64_t
conn_next(const struct conn *c, uint64_t now)
{
    uint64_t a, b;

    if (c->dead)
        return NEVER;
    if (c->state == CONN_WAIT)
        return now < c->read_at ? c->read_at : c->open_at;
    a = c->state == CONN_OPEN ? dir_next(&c->up) : NEVER;
    b = dir_next(&c->down);
    return a < b ? a : b;
}

static void
conn_event(struct side *s, uint32_t ev)
{
    struct conn *c = s->conn;
    int is_cl = s == &c->cl;
    struct dir *in = is_cl ? &c->up : &c->down;   /* read from s */
    struct dir *out = is_cl ? &c->down : &c->up;  /* written to s */
    uint64_t now;

    if (c->dead)
        return;
    if (!is_cl && c->state == CONN_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;

        if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || (ev & EPOLLERR)) {
            note("conn %lu: upstream: %s", c->id, strerror(err ? err : EIO));
            conn_close(c, 1, "failed (upstream connect)");
            return;
        }
        c->state = CONN_OPEN;
        ev &= ~(uint32_t)EPOLLOUT;
        out->blocked = 0;
    }
    if (ev & EPOLLERR) {
        conn_close(c, 1, is_cl ? "reset (client side)" : "reset (server side)");
        return;
    }
    if ((ev & (EPOLLIN | EPOLLHUP)) && (s->events & EPOLLIN) &&
        dir_read(in, s->fd) < 0) {
        conn_close(c, 1, is_cl ? "reset (client side)" : "reset (server side)");
        return;
    }
    if (ev & EPOLLOUT)
        out->blocked = 0;
    /* Flush at once: with D = 0 the bytes are due already. */
    now = now_ns();
    conn_service(c, now);
}

static void
accept_all(void)
{
    while (g.n_conns < g.max_conns) {
        struct conn *c;
        uint64_t now;
        int fd = accept(g.lfd, NULL, NULL);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                note("accept: %s; pausing until a connection closes",
                     strerror(errno));
                g.accept_paused = 1;
            }
            return;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        set_nodelay(fd);
        now = now_ns();
        c = calloc(1, sizeof *c);
        if (!c || dir_init(&c->up, g.capped ? &g.up_link : NULL,
                           now + 3 * g.delay) < 0 ||
            dir_init(&c->down, g.capped ? &g.down_link : NULL, 0) < 0) {
            if (c) {
                dir_free(&c->up);
                dir_free(&c->down);
            }
            free(c);
            close_fd(fd, 1);
            note("accept: out of memory");
            continue;
        }
        c->cl.tag.kind = c->sv.tag.kind = TAG_SIDE;
        c->cl.conn = c->sv.conn = c;
        c->cl.fd = fd;
        c->sv.fd = -1;
        c->state = CONN_WAIT;
        c->accepted = now;
        c->read_at = now + 2 * g.delay;
        c->open_at = now + 3 * g.delay;
        c->id = ++g.next_id;
        if (g.reset_pct && rng_next() % 100 < g.reset_pct)
            c->reset_at = 1 + rng_next() % g.reset_within;
        g.conns[g.n_conns++] = c;
        note("conn %lu open", c->id);
        conn_service(c, now);
    }
}

/* Free connections closed this turn, after their stale events passed. */
static void
reap(void)
{
    size_t i = 0;

    while (i < g.n_conns) {
        struct conn *c = g.conns[i];

        if (!c->dead) {
            i++;
            continue;
        }
        dir_free(&c->up);
        dir_free(&c->down);
        free(c);
        g.conns[i] = g.conns[--g.n_conns];
        g.accept_paused = 0;
    }
}

/* ---- setup ------------------------------------------------------------ */

static double
parse_num(const char *opt, const char *s, double lo, double hi)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "delayline: bad %s '%s'\n", opt, s);
        usage();
    }
    return v;
}

/* HOST:PORT or [V6]:PORT to a socket address (the first getaddrinfo gives). */
static void
parse_to(const char *arg)
{
    char host[256];
    const char *colon = strrchr(arg, ':');
    struct addrinfo hints, *res;
    size_t hl;
    int rc;

    if (!colon || colon == arg || !colon[1])
        usage();
    hl = (size_t)(colon - arg);
    if (arg[0] == '[' && colon[-1] == ']') {
        arg++;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof host)
        usage();
    memcpy(host, arg, hl);
    host[hl] = '\0';
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc)
        die("--to %s: %s", host, gai_strerror(rc));
    memcpy(&g.to, res->ai_addr, res->ai_addrlen);
    g.to_len = res->ai_addrlen;
    freeaddrinfo(res);
}

static void
write_port_file(const char *path, unsigned port)
{
    char tmp[PATH_MAX];
    FILE *f;

    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path,
                         (long)getpid()) >= sizeof tmp)
        die("--port-file: path too long");
    f = fopen(tmp, "w");
    if (!f)
        die("%s: %s", tmp, strerror(errno));
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0 || rename(tmp, path) < 0) {
        unlink(tmp);
        die("%s: %s", path, strerror(errno));
    }
}

static unsigned
listen_on(unsigned port)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    int one = 1;

    g.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (g.lfd < 0)
        die("socket: %s", strerror(errno));
    setsockopt(g.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t)port);
    if (bind(g.lfd, (struct sockaddr *)&sin, sizeof sin) < 0)
        die("bind 127.0.0.1:%u: %s", port, strerror(errno));
    if (listen(g.lfd, 512) < 0)
        die("listen: %s", strerror(errno));
    if (getsockname(g.lfd, (struct sockaddr *)&sin, &len) < 0)
        die("getsockname: %s", strerror(errno));
    return ntohs(sin.sin_port);
}

/* Two descriptors per connection: raise the soft limit if it is short. */
static void
raise_nofile(size_t need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
        return;
    rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
    setrlimit(RLIMIT_NOFILE, &rl);
}

static void
setup_events(void)
{
    sigset_t set;

    g.ep = epoll_create1(EPOLL_CLOEXEC);
    g.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    g.sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    signal(SIGPIPE, SIG_IGN);
    if (g.ep < 0 || g.tfd < 0 || g.sfd < 0)
        die("epoll/timerfd/signalfd: %s", strerror(errno));
    g.listen_tag.kind = TAG_LISTEN;
    g.timer_tag.kind = TAG_TIMER;
    g.signal_tag.kind = TAG_SIGNAL;
    {
        uint32_t t = 0, s = 0;

        if (watch(g.tfd, &g.timer_tag, &t, EPOLLIN) < 0 ||
            watch(g.sfd, &g.signal_tag, &s, EPOLLIN) < 0)
            die("epoll_ctl: %s", strerror(errno));
    }
}

/*
 * Arm the timerfd for deadline; returns the epoll_wait timeout to use.
 * A timer fires ~0.1 ms late on a VM, so it is armed that much early
 * (g.lead, learnt from how late it fires) and the rest is polled with
 * timeout 0. Spinning is rationed to 5% of the time: a rate-capped bulk
 * transfer releases a chunk every few hundred microseconds and would
 * otherwise spin a core; there the timer's lateness is harmless (link
 * times are computed, not measured) and only the latency of small
 * exchanges, which spin rarely, gains from it.
 */
static int
arm_timer(uint64_t deadline)
{
    struct itimerspec its;
    uint64_t at, now = now_ns();

    g.spin_ns += (int64_t)((now - g.spin_clock) / SPIN_SHARE);
    if (g.spin_ns > SPIN_BURST)
        g.spin_ns = SPIN_BURST;
    g.spin_clock = now;
    g.spinning = 0;
    if (deadline == NEVER)
        return -1;
    if (deadline <= now)
        return 0;
    at = deadline;
    if (g.spin_ns > 0 && deadline > g.lead)
        at = deadline - g.lead;
    if (at <= now) {
        g.spinning = 1;
        return 0;
    }
    if (at == g.timer_at)
        return -1;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = (time_t)(at / 1000000000u);
    its.it_value.tv_nsec = (long)(at % 1000000000u);
    if (timerfd_settime(g.tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
        die("timerfd_settime: %s", strerror(errno));
    g.timer_at = at;
    return -1;
}

/* The timer fired: fold its lateness into the lead (EWMA, 1/8). */
static void
timer_fired(void)
{
    uint64_t ticks, late, now = now_ns();
    ssize_t r = read(g.tfd, &ticks, sizeof ticks);

    if (r == (ssize_t)sizeof ticks && g.timer_at && now > g.timer_at) {
        late = now - g.timer_at;
        if (late > LEAD_MAX)
            late = LEAD_MAX;
        g.lead = g.lead - g.lead / 8 + late / 8;
    }
    g.timer_at = 0;          /* one-shot: fired means disarmed */
}

static void
run(void)
{
    struct epoll_event evs[EV_BATCH];

    while (!g.stop) {
        uint64_t now = now_ns(), next = NEVER;
        int n, i, timeout;
        size_t k;

        for (k = 0; k < g.n_conns; k++)
            conn_service(g.conns[k], now);
        reap();
        for (k = 0; k < g.n_conns; k++) {
            uint64_t t = conn_next(g.conns[k], now);

            if (t < next)
                next = t;
        }
        if (watch(g.lfd, &g.listen_tag, &g.lfd_events,
                  g.n_conns < g.max_conns && !g.accept_paused ? EPOLLIN
                                                              : 0) < 0)
            die("epoll_ctl: %s", strerror(errno));
        timeout = arm_timer(next);
        n = epoll_wait(g.ep, evs, EV_BATCH, timeout);
        if (g.spinning)
            g.spin_ns -= (int64_t)(now_ns() - g.spin_clock);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait: %s", strerror(errno));
        }
        for (i = 0; i < n; i++) {
            struct tag *t = evs[i].data.ptr;

            switch (t->kind) {
            case TAG_LISTEN:
                accept_all();
                break;
            case TAG_TIMER:
                timer_fired();
                break;
            case TAG_SIGNAL: {
                struct signalfd_siginfo si;

                if (read(g.sfd, &si, sizeof si) == (ssize_t)sizeof si)
                    note("signal %u: shutting down", si.ssi_signo);
                g.stop = 1;
                break;
            }
            case TAG_SIDE:
                conn_event((struct side *)(void *)t, evs[i].events);
                break;
            }
        }
        reap();
    }
}

int
main(int argc, char **argv)
{
    const char *to = NULL, *port_file = NULL;
    double delay_ms = -1, rate = 0;
    unsigned listen_port = 0, port;
    size_t k;
    int i;

    g.max_conns = 1000;
    g.lead = 50000;
    g.reset_within = 256 * 1024;
    g.rng = 0x9e3779b97f4a7c15u;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!strcmp(a, "--quiet")) {
            g.quiet = 1;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--to"))
            to = v;
        else if (!strcmp(a, "--delay-ms"))
            delay_ms = parse_num(a, v, 0, 60000);
        else if (!strcmp(a, "--listen"))
            listen_port = (unsigned)parse_num(a, v, 0, 65535);
        else if (!strcmp(a, "--rate-mbit"))
            rate = parse_num(a, v, 0, 1e6);
        else if (!strcmp(a, "--port-file"))
            port_file = v;
        else if (!strcmp(a, "--max-conns"))
            g.max_conns = (size_t)parse_num(a, v, 1, 100000);
        else if (!strcmp(a, "--buf-kib"))
            g.buf_cap = (size_t)parse_num(a, v, 4, 1 << 20) * 1024;
        else if (!strcmp(a, "--reset-pct"))
            g.reset_pct = (unsigned)parse_num(a, v, 0, 100);
        else if (!strcmp(a, "--reset-within-kib"))
            g.reset_within = (uint64_t)parse_num(a, v, 1, 1 << 20) * 1024;
        else if (!strcmp(a, "--seed"))
            g.rng = (uint64_t)parse_num(a, v, 1, 4e9) * 0x9e3779b97f4a7c15u;
        else
            usage();
    }
    if (!to || delay_ms < 0)
        usage();
    parse_to(to);
    g.delay = (uint64_t)(delay_ms * NS_PER_MS + 0.5);
    if (!g.buf_cap) {
        /*
         * A connection has at most one buffer in flight per direction, so
         * alone it gets buffer / D: on a capped link make that twice the
         * cap, so that the link, not the relay, is the bottleneck.
         */
        double bdp = rate * 1e6 / 8 * delay_ms / 1000;

        g.buf_cap = 256 * 1024;
        if (2 * bdp > (double)g.buf_cap)
            g.buf_cap = ((size_t)(2 * bdp) + 4095) / 4096 * 4096;
    }
    /* Stamps for ~256-byte reads on average before the queue limits. */
    g.qcap = g.buf_cap / 256 < 64 ? 64 : g.buf_cap / 256;
    g.read_max = READ_MAX;
    if (rate > 0) {
        double per_ms = rate * 1e6 / 8 / 1000;

        g.capped = 1;
        g.up_link.ns_per_byte = g.down_link.ns_per_byte = 8e3 / rate;
        g.read_max = per_ms < SEG_MIN     ? SEG_MIN
                     : per_ms > CHUNK_MAX ? CHUNK_MAX
                                          : (size_t)per_ms;
    }
    g.conns = calloc(g.max_conns, sizeof *g.conns);
    if (!g.conns)
        die("out of memory");
    raise_nofile(2 * g.max_conns + 16);
    setup_events();
    port = listen_on(listen_port);
    if (port_file)
        write_port_file(port_file, port);
    printf("%u\n", port);
    fflush(stdout);
    if (rate > 0)
        note("127.0.0.1:%u -> %s, delay %.3f ms each way, %.3f Mbit/s each "
             "way shared, buffers %zu KiB",
             port, to, delay_ms, rate, g.buf_cap / 1024);
    else
        note("127.0.0.1:%u -> %s, delay %.3f ms each way, no rate cap, "
             "buffers %zu KiB",
             port, to, delay_ms, g.buf_cap / 1024);
    run();
    for (k = 0; k < g.n_conns; k++)
        conn_close(g.conns[k], 0, "closed (shutdown)");
    reap();
    close(g.lfd);
    close(g.tfd);
    close(g.sfd);
    close(g.ep);
    note("done: %lu connections, up %llu B, down %llu B, %lu reset", g.next_id,
         (unsigned long long)g.up_bytes, (unsigned long long)g.down_bytes,
         g.n_resets);
    free(g.conns);
    return 0;
}
