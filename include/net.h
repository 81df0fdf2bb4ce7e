/*
 * net - name resolution, non-blocking TCP connect, and plain socket I/O.
 *
 * Resolution is the one blocking step (getaddrinfo has no non-blocking
 * form in libc); it runs once, before the event loop starts. Everything
 * else is non-blocking and never waits: the event loop does that.
 *
 * I/O calls return enum io_rc, shared with tlsio: EINTR is retried inside
 * and never returned; EAGAIN becomes IO_WANT_READ / IO_WANT_WRITE.
 */
#ifndef POKEFETCH_NET_H
#define POKEFETCH_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum io_rc {
    IO_OK = 0,
    IO_WANT_READ,  /* try again when the fd is readable */
    IO_WANT_WRITE, /* try again when the fd is writable */
    IO_EOF,        /* the peer closed its side */
    IO_ERR,        /* a hard error; the caller's err text says which */
};

#define NET_MAX_ADDRS 8

struct net_addrs {
    struct sockaddr_storage addr[NET_MAX_ADDRS];
    socklen_t len[NET_MAX_ADDRS];
    unsigned n;
};

/*
 * Resolve host (NUL-terminated; a name or an IP literal) and port into up
 * to NET_MAX_ADDRS addresses, in getaddrinfo's order. Blocks. "localhost"
 * and names under ".localhost" (url_host_is_localhost) are ::1 and
 * 127.0.0.1 without asking the system. Returns 0, or -1 with a reason in
 * err: getaddrinfo's, followed by "(no /etc/resolv.conf, ...)" naming the
 * resolver's files that do not exist, if any.
 */
int net_resolve(const char *host, uint16_t port, struct net_addrs *out,
                char *err, size_t errcap);

/*
 * Start a non-blocking connect to one address. On 0, *fd is a new socket
 * (close-on-exec, TCP_NODELAY) whose connect is in progress or done: wait
 * for writability, then call net_connect_finish. On failure returns a
 * negative errno and no fd is left open.
 */
int net_connect_start(const struct sockaddr *sa, socklen_t len, int *fd);

/* After writability: 0 if connected, else the negative errno of the
   failed connect. */
int net_connect_finish(int fd);

/* read/send on a non-blocking socket; *n is the byte count on IO_OK.
   On IO_ERR, *err_no holds errno. */
enum io_rc net_read(int fd, char *buf, size_t cap, size_t *n, int *err_no);
enum io_rc net_write(int fd, const char *buf, size_t len, size_t *n,
                     int *err_no);

/* "127.0.0.1:8443" or "[::1]:8443" for messages. */
void net_addr_text(const struct sockaddr *sa, char *out, size_t cap);

/* What resolving host gave, for -v: "host: addr, addr (0.754 ms)", the
   resolution having taken us microseconds. */
void net_resolved_text(const char *host, const struct net_addrs *a, int64_t us,
                       char *out, size_t cap);

#endif
