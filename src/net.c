/*
 * net - resolve, non-blocking connect, socket reads and writes; see
 * include/net.h. It never blocks except in net_resolve, and it keeps no
 * state: the connection that owns an fd decides when to call what.
 */
#include "net.h"
#include "url.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * localhost and names under .localhost are the loopback addresses, never
 * asked of the system (RFC 6761 sec. 6.3): they work with no /etc/hosts,
 * and no resolver can send them elsewhere. The order is the one glibc
 * gives "localhost" from Debian's /etc/hosts with AF_UNSPEC: ::1 first
 * (RFC 6724 ranks it above IPv4), then 127.0.0.1, which a connection
 * falls back to where nothing listens on ::1 or IPv6 is off.
 */
static void
loopback(uint16_t port, struct net_addrs *out)
{
    struct sockaddr_in6 s6;
    struct sockaddr_in s4;

    memset(&s6, 0, sizeof s6);
    s6.sin6_family = AF_INET6;
    s6.sin6_port = htons(port);
    s6.sin6_addr = in6addr_loopback;
    memset(&s4, 0, sizeof s4);
    s4.sin_family = AF_INET;
    s4.sin_port = htons(port);
    s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    memcpy(&out->addr[0], &s6, sizeof s6);
    out->len[0] = sizeof s6;
    memcpy(&out->addr[1], &s4, sizeof s4);
    out->len[1] = sizeof s4;
    out->n = 2;
}

/*
 * The files glibc's resolver reads, those missing as " (no /etc/hosts,
 * ...)" in out, or "" when all are there: in a minimal image a failed
 * lookup is most often one of them missing, and the resolver's own
 * message ("Temporary failure in name resolution") does not say so.
 */
static void
missing_files(char *out, size_t cap)
{
    static const char *const files[] = {"/etc/resolv.conf", "/etc/hosts",
                                        "/etc/nsswitch.conf"};
    struct stat st;
    size_t n = 0, i;

    out[0] = '\0';
    for (i = 0; i < sizeof files / sizeof files[0] && n < cap; i++) {
        if (stat(files[i], &st) == 0 || errno != ENOENT)
            continue;
        n += (size_t)snprintf(out + n, cap - n, "%sno %s", n ? ", " : " (",
                              files[i]);
    }
    if (n && n < cap)
        snprintf(out + n, cap - n, ")");
}

int
net_resolve(const char *host, uint16_t port, struct net_addrs *out, char *err,
            size_t errcap)
{
    struct addrinfo hints, *res = NULL, *ai;
    char missing[80];
    char service[8];
    int rc;

    if (url_host_is_localhost(host, strlen(host))) {
        loopback(port, out);
        return 0;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
    snprintf(service, sizeof service, "%u", (unsigned)port);
    rc = getaddrinfo(host, service, &hints, &res);
    if (rc == EAI_BADFLAGS || rc == EAI_NONAME) {
        /* AI_ADDRCONFIG hides loopback addresses on a machine whose only
           interface is lo; ask again without it before giving up. */
        hints.ai_flags = AI_NUMERICSERV;
        rc = getaddrinfo(host, service, &hints, &res);
    }
    if (rc != 0) {
        const char *why =
            rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc);

        missing_files(missing, sizeof missing);
        snprintf(err, errcap, "cannot resolve %s: %s%s", host, why, missing);
        return -1;
    }
    out->n = 0;
    for (ai = res; ai && out->n < NET_MAX_ADDRS; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof out->addr[0])
            continue;
        memcpy(&out->addr[out->n], ai->ai_addr, ai->ai_addrlen);
        out->len[out->n] = ai->ai_addrlen;
        out->n++;
    }
    freeaddrinfo(res);
    if (!out->n) {
        snprintf(err, errcap, "cannot resolve %s: no usable address", host);
        return -1;
    }
    return 0;
}

int
net_connect_start(const struct sockaddr *sa, socklen_t len, int *fd)
{
    int s, one = 1;

    s = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    /* Requests are small and written whole; Nagle would only hold the
       last segment of a pipelined burst back for an ACK. */
    (void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s, sa, len) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(s);
        return -e;
    }
    *fd = s;
    return 0;
}

int
net_connect_finish(int fd)
{
    int soerr = 0;
    socklen_t len = sizeof soerr;

    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        return -errno;
    return -soerr;
}

enum io_rc
net_read(int fd, char *buf, size_t cap, size_t *n, int *err_no)
{
    ssize_t r;

    do {
        r = read(fd, buf, cap);
    } while (r < 0 && errno == EINTR);
    if (r > 0) {
        *n = (size_t)r;
        return IO_OK;
    }
    *n = 0;
    if (r == 0)
        return IO_EOF;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return IO_WANT_READ;
    *err_no = errno;
    return IO_ERR;
}

enum io_rc
net_write(int fd, const char *buf, size_t len, size_t *n, int *err_no)
{
    ssize_t r;

    do {
        /* MSG_NOSIGNAL: a peer that reset the connection is an error to
           report for this connection, not a SIGPIPE for the process. */
        r = send(fd, buf, len, MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
    if (r >= 0) {
        *n = (size_t)r;
        return IO_OK;
    }
    *n = 0;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return IO_WANT_WRITE;
    *err_no = errno;
    return IO_ERR;
}

void
net_addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";

    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
        snprintf(out, cap, "[%s]:%u", ip, (unsigned)ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const void *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
        snprintf(out, cap, "%s:%u", ip, (unsigned)ntohs(s4->sin_port));
    }
}

void
net_resolved_text(const char *host, const struct net_addrs *a, int64_t us,
                  char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "%s:", host);
    unsigned i;

    for (i = 0; i < a->n && n < cap; i++) {
        char addr[80];

        net_addr_text((const struct sockaddr *)&a->addr[i], addr, sizeof addr);
        n += (size_t)snprintf(out + n, cap - n, "%s %s", i ? "," : "", addr);
    }
    if (n < cap)
        snprintf(out + n, cap - n, " (%.3f ms)", (double)us / 1000);
}
