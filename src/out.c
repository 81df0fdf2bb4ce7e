/*
 * out - buffered output on a file descriptor; see include/out.h.
 *
 * A descriptor someone left non-blocking (a terminal or pipe shared with
 * another program) may answer EAGAIN: then poll() waits until it takes
 * bytes again, as a blocking write would have.
 */
#include "out.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

void
out_init(struct out *o, int fd)
{
    o->fd = fd;
    o->err = 0;
    o->len = 0;
}

int
out_flush(struct out *o)
{
    size_t done = 0;
    ssize_t w;

    while (done < o->len && !o->err) {
        w = write(o->fd, o->buf + done, o->len - done);
        if (w > 0) {
            done += (size_t)w;
        } else if (w == 0) {
            o->err = EIO; /* no progress: never loop on it */
        } else if (errno == EAGAIN) {
            struct pollfd p = {o->fd, POLLOUT, 0};
            (void)poll(&p, 1, -1);
        } else if (errno != EINTR) {
            o->err = errno;
        }
    }
    o->len = 0;
    return o->err ? -o->err : 0;
}

char *
out_room(struct out *o, size_t n)
{
    if (OUT_CAP - o->len < n)
        (void)out_flush(o);
    return o->buf + o->len;
}

void
out_commit(struct out *o, size_t k)
{
    o->len += k;
    if (o->err)
        o->len = 0; /* a stream that failed drops what it is given */
}

void
out_put(struct out *o, const void *s, size_t n)
{
    const char *p = s;
    size_t k;

    while (n > 0) {
        k = n < OUT_CAP ? n : OUT_CAP;
        memcpy(out_room(o, k), p, k);
        out_commit(o, k);
        p += k;
        n -= k;
    }
}
