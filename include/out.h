/*
 * out - one output stream (stdout or stderr) as a fixed buffer written
 * with write(2). Bytes leave when the buffer is full or when the owner
 * calls out_flush, which cli does once per turn of the event loop: a
 * reader of a pipe or a file gets each turn's lines in one write, as soon
 * as the turn is over, and memory does not grow with the output. No
 * stdio: the write errors are the caller's to see (out_flush) and a
 * closed pipe is seen at the first write after it closed.
 *
 * After a failed write the stream keeps the error (err) and drops what it
 * is given: one report, no retry loop against a full disk.
 */
#ifndef POKEFETCH_OUT_H
#define POKEFETCH_OUT_H

#include <stddef.h>

#define OUT_CAP 65536

struct out {
    int fd;
    int err;    /* 0, or the errno of the first failed write */
    size_t len; /* bytes waiting in buf */
    char buf[OUT_CAP];
};

void out_init(struct out *o, int fd);

/* Room for n more bytes (n <= OUT_CAP), writing the buffer out first if
   it has less; then out_commit(o, k) for the k <= n bytes put there. */
char *out_room(struct out *o, size_t n);
void out_commit(struct out *o, size_t k);

/* Append n bytes (any n), writing out full buffers as they fill. */
void out_put(struct out *o, const void *s, size_t n);

/* Write what is waiting. Returns 0, or -errno of the first write that
   failed (then and ever after). */
int out_flush(struct out *o);

#endif
