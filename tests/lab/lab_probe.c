/*
 * lab_probe - measuring tool for tests/lab/test-delayline.
 *
 * Servers (epoll, 127.0.0.1, an ephemeral port written atomically to
 * PORT-FILE; they run until killed):
 *   lab_probe echo PORT-FILE        echo; at the client's EOF, flush, close
 *   lab_probe greet PORT-FILE       "hello\n" on accept, then echo; at EOF
 *                                   "bye\n" (sent after the client's FIN
 *                                   arrived: proves half-close), then close
 *   lab_probe sink PORT-FILE [US]   reads an 8-byte big-endian length, then
 *                                   that many bytes, and answers one line
 *                                   "GOT FIRST_NS LAST_NS FIRST_BYTES\n"
 *                                   (CLOCK_MONOTONIC of the first and last
 *                                   payload reads); sleeps US microseconds
 *                                   after each read of <= 64 KiB (a slow
 *                                   reader) when given
 * Clients:
 *   lab_probe pingpong HOST PORT N  one warm-up round trip, then N times
 *                                   1 byte out and its echo back
 *   lab_probe blast HOST PORT BYTES sends BYTES to a sink; the rate is the
 *                                   sink's arrival rate: bytes after its
 *                                   first read over first-to-last read time
 *   lab_probe connect HOST PORT [send]  time from connect() start to the
 *                                   first byte in (after sending 1 byte)
 *   lab_probe pipe HOST PORT        stdin to the socket (then SHUT_WR), the
 *                                   socket to stdout, until the server's EOF
 * Each client prints one line of key=value pairs; times in ms.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 65536

static _Noreturn void
fail(const char *what)
{
    fprintf(stderr, "lab_probe: %s: %s\n", what, strerror(errno));
    exit(1);
}

static _Noreturn void
usage(void)
{
    fputs("usage: lab_probe echo|greet PORT-FILE\n"
          "       lab_probe sink PORT-FILE [SLEEP-US]\n"
          "       lab_probe pingpong HOST PORT N\n"
          "       lab_probe blast HOST PORT BYTES\n"
          "       lab_probe connect HOST PORT [send]\n"
          "       lab_probe pipe HOST PORT\n",
          stderr);
    exit(2);
}

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double
ms_since(uint64_t t0, uint64_t t1)
{
    return (double)(t1 - t0) / 1e6;
}

static void
nodelay(int fd)
{
    int one = 1;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int
tcp_connect(const char *host, const char *port)
{
    struct addrinfo hints, *res;
    int fd, rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        fprintf(stderr, "lab_probe: %s: %s\n", host, gai_strerror(rc));
        exit(1);
    }
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail("socket");
    if (connect(fd, res->ai_addr, res->ai_addrlen) < 0)
        fail("connect");
    freeaddrinfo(res);
    return fd;
}

static void
send_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;

    while (n) {
        ssize_t r = send(fd, b, n, MSG_NOSIGNAL);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            fail("send");
        }
        b += r;
        n -= (size_t)r;
    }
}

static void
recv_exact(int fd, void *p, size_t n)
{
    unsigned char *b = p;

    while (n) {
        ssize_t r = recv(fd, b, n, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            fail("recv");
        if (r == 0) {
            fputs("lab_probe: recv: unexpected EOF\n", stderr);
            exit(1);
        }
        b += r;
        n -= (size_t)r;
    }
}

/* ---- servers ---------------------------------------------------------- */

enum mode { MODE_ECHO, MODE_GREET, MODE_SINK };

struct peer {
    int fd;
    unsigned char out[BUF_SIZE];   /* echo: bytes not yet written back */
    size_t out_len, out_off;
    int eof, bye;
    unsigned char hdr[8];          /* sink: the length, then the count */
    size_t hdr_len;
    uint64_t want, got, first_ns, last_ns, first_bytes;
    int answered;
};

static unsigned char scratch[4 * BUF_SIZE];

static int
listen_port_file(const char *path)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    char tmp[PATH_MAX];
    FILE *f;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        fail("socket");
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        listen(fd, 128) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
        fail("listen");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        fail(tmp);
    fprintf(f, "%u\n", ntohs(sin.sin_port));
    if (fclose(f) != 0 || rename(tmp, path) < 0)
        fail(path);
    return fd;
}

static void
peer_set(int ep, struct peer *p, uint32_t events)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.ptr = p;
    epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &ev);
}

static void
peer_close(int ep, struct peer *p)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, p->fd, NULL);
    close(p->fd);
    free(p);
}

static void
queue_out(struct peer *p, const void *b, size_t n)
{
    memcpy(p->out + p->out_len, b, n);
    p->out_len += n;
}

/* Echo and greet: write back what is pending; 0 done, -1 close. */
static int
echo_step(int ep, struct peer *p)
{
    while (p->out_off < p->out_len) {
        ssize_t r = send(p->fd, p->out + p->out_off, p->out_len - p->out_off,
                         MSG_NOSIGNAL);

        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            peer_set(ep, p, EPOLLOUT);
            return 0;
        }
        if (r < 0)
            return -1;
        p->out_off += (size_t)r;
    }
    p->out_off = p->out_len = 0;
    if (p->eof)
        return -1;           /* all echoed after the client's EOF: close */
    peer_set(ep, p, EPOLLIN);
    return 0;
}

static int
echo_read(int ep, struct peer *p, enum mode mode)
{
    ssize_t r = recv(p->fd, p->out, sizeof p->out - 8, 0);

    if (r < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    p->out_off = 0;
    p->out_len = (size_t)r;
    if (r == 0) {
        p->eof = 1;
        if (mode == MODE_GREET)
            queue_out(p, "bye\n", 4);
    }
    return echo_step(ep, p);
}

static int
sink_read(struct peer *p, long sleep_us)
{
    size_t cap = sleep_us > 0 ? BUF_SIZE : sizeof scratch;
    ssize_t r = recv(p->fd, scratch, cap, 0);
    size_t n, h = 0;
    uint64_t now = now_ns();

    if (r <= 0)
        return r < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    n = (size_t)r;
    while (p->hdr_len < 8 && h < n)
        p->hdr[p->hdr_len++] = scratch[h++];
    if (p->hdr_len == 8 && !p->want) {
        int i;

        for (i = 0; i < 8; i++)
            p->want = p->want << 8 | p->hdr[i];
    }
    if (n > h) {
        if (!p->got) {
            p->first_ns = now;
            p->first_bytes = n - h;
        }
        p->got += n - h;
        p->last_ns = now;
    }
    if (p->want && p->got >= p->want && !p->answered) {
        char line[128];
        int len = snprintf(line, sizeof line, "%llu %llu %llu %llu\n",
                           (unsigned long long)p->got,
                           (unsigned long long)p->first_ns,
                           (unsigned long long)p->last_ns,
                           (unsigned long long)p->first_bytes);

        p->answered = 1;
        if (send(p->fd, line, (size_t)len, MSG_NOSIGNAL) != len)
            return -1;
    }
    if (sleep_us > 0)
        usleep((useconds_t)sleep_us);
    return 0;
}

static _Noreturn void
serve(enum mode mode, const char *port_file, long sleep_us)
{
    struct epoll_event ev, evs[64];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int lfd = listen_port_file(port_file);

    signal(SIGPIPE, SIG_IGN);
    if (ep < 0)
        fail("epoll_create1");
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = NULL;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1), i;

        if (n < 0 && errno != EINTR)
            fail("epoll_wait");
        for (i = 0; i < n; i++) {
            struct peer *p = evs[i].data.ptr;
            int rc;

            if (!p) {
                int fd = accept(lfd, NULL, NULL);

                if (fd < 0)
                    continue;
                fcntl(fd, F_SETFL, O_NONBLOCK);
                nodelay(fd);
                p = calloc(1, sizeof *p);
                if (!p) {
                    close(fd);
                    continue;
                }
                p->fd = fd;
                ev.events = EPOLLIN;
                ev.data.ptr = p;
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                if (mode == MODE_GREET) {
                    queue_out(p, "hello\n", 6);
                    if (echo_step(ep, p) < 0)
                        peer_close(ep, p);
                }
                continue;
            }
            if (mode == MODE_SINK)
                rc = sink_read(p, sleep_us);
            else if (p->out_len)
                rc = echo_step(ep, p);
            else
                rc = echo_read(ep, p, mode);
            if (rc < 0)
                peer_close(ep, p);
        }
    }
}

/* ---- clients ---------------------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static int
pingpong(const char *host, const char *port, long n)
{
    int fd = tcp_connect(host, port);
    double *rtt = calloc((size_t)n, sizeof *rtt), first;
    unsigned char c = 'x';
    uint64_t t0 = now_ns();
    long i;

    if (!rtt)
        fail("calloc");
    nodelay(fd);
    send_all(fd, &c, 1);
    recv_exact(fd, &c, 1);
    first = ms_since(t0, now_ns());
    for (i = 0; i < n; i++) {
        t0 = now_ns();
        send_all(fd, &c, 1);
        recv_exact(fd, &c, 1);
        rtt[i] = ms_since(t0, now_ns());
    }
    qsort(rtt, (size_t)n, sizeof *rtt, cmp_double);
    printf("first_ms=%.3f median_ms=%.3f min_ms=%.3f p90_ms=%.3f "
           "max_ms=%.3f n=%ld\n",
           first, rtt[n / 2], rtt[0], rtt[n * 9 / 10], rtt[n - 1], n);
    free(rtt);
    close(fd);
    return 0;
}

static int
blast(const char *host, const char *port, unsigned long long bytes)
{
    static unsigned char buf[BUF_SIZE];
    unsigned char hdr[8];
    unsigned long long left = bytes, got, first, last, first_bytes;
    char line[128];
    size_t len = 0;
    uint64_t t0;
    double mbit;
    int fd, i;

    for (i = 0; i < BUF_SIZE; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    for (i = 0; i < 8; i++)
        hdr[i] = (unsigned char)(bytes >> (56 - 8 * i));
    t0 = now_ns();
    fd = tcp_connect(host, port);
    send_all(fd, hdr, sizeof hdr);
    while (left) {
        size_t n = left < sizeof buf ? (size_t)left : sizeof buf;

        send_all(fd, buf, n);
        left -= n;
    }
    while (len < sizeof line - 1) {
        ssize_t r = recv(fd, line + len, 1, 0);

        if (r <= 0)
            fail("recv (sink answer)");
        if (line[len++] == '\n')
            break;
    }
    line[len] = '\0';
    if (sscanf(line, "%llu %llu %llu %llu", &got, &first, &last,
               &first_bytes) != 4 ||
        last <= first) {
        fprintf(stderr, "lab_probe: bad sink answer '%s'\n", line);
        return 1;
    }
    mbit = (double)(got - first_bytes) * 8 / (double)(last - first) * 1e3;
    printf("mbit=%.2f bytes=%llu first_bytes=%llu first_ns=%llu "
           "last_ns=%llu wall_ms=%.1f\n",
           mbit, got, first_bytes, first, last, ms_since(t0, now_ns()));
    close(fd);
    return 0;
}

static int
connect_probe(const char *host, const char *port, int send_first)
{
    uint64_t t0 = now_ns(), t1;
    unsigned char c = 'x';
    int fd = tcp_connect(host, port);

    t1 = now_ns();
    nodelay(fd);
    if (send_first)
        send_all(fd, &c, 1);
    recv_exact(fd, &c, 1);
    printf("connect_ms=%.3f first_byte_ms=%.3f\n", ms_since(t0, t1),
           ms_since(t0, now_ns()));
    close(fd);
    return 0;
}

static int
pipe_through(const char *host, const char *port)
{
    static unsigned char in[BUF_SIZE];
    size_t in_len = 0, in_off = 0;
    int fd = tcp_connect(host, port), in_eof = 0, shut = 0;

    fcntl(fd, F_SETFL, O_NONBLOCK);
    for (;;) {
        struct pollfd pf[2];
        ssize_t r;

        pf[0].fd = in_eof || in_len ? -1 : 0;
        pf[0].events = POLLIN;
        pf[1].fd = fd;
        pf[1].events = POLLIN | (in_len ? POLLOUT : 0);
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            fail("poll");
        }
        if (pf[0].revents) {
            r = read(0, in, sizeof in);
            if (r < 0)
                fail("read stdin");
            in_len = (size_t)r;
            in_off = 0;
            in_eof = r == 0;
        }
        if (in_len) {
            r = send(fd, in + in_off, in_len - in_off, MSG_NOSIGNAL);
            if (r < 0 && errno != EAGAIN)
                fail("send");
            if (r > 0 && (in_off += (size_t)r) == in_len)
                in_len = in_off = 0;
        }
        if (in_eof && !in_len && !shut) {
            shutdown(fd, SHUT_WR);
            shut = 1;
        }
        if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            r = recv(fd, scratch, sizeof scratch, 0);
            if (r < 0 && errno != EAGAIN)
                fail("recv");
            if (r == 0)
                return 0;
            if (r > 0 && fwrite(scratch, 1, (size_t)r, stdout) != (size_t)r)
                fail("write stdout");
            fflush(stdout);
        }
    }
}

static long
num(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);

    if (end == s || *end || v < 0)
        usage();
    return (long)v;
}

int
main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    if (!strcmp(cmd, "echo") && argc == 3)
        serve(MODE_ECHO, argv[2], 0);
    if (!strcmp(cmd, "greet") && argc == 3)
        serve(MODE_GREET, argv[2], 0);
    if (!strcmp(cmd, "sink") && (argc == 3 || argc == 4))
        serve(MODE_SINK, argv[2], argc == 4 ? num(argv[3]) : 0);
    if (!strcmp(cmd, "pingpong") && argc == 5 && num(argv[4]) > 0)
        return pingpong(argv[2], argv[3], num(argv[4]));
    if (!strcmp(cmd, "blast") && argc == 5)
        return blast(argv[2], argv[3], (unsigned long long)num(argv[4]));
    if (!strcmp(cmd, "connect") && (argc == 4 || argc == 5))
        return connect_probe(argv[2], argv[3],
                             argc == 5 && !strcmp(argv[4], "send"));
    if (!strcmp(cmd, "pipe") && argc == 4)
        return pipe_through(argv[2], argv[3]);
    usage();
}
