/*
 * buf - a byte buffer with a fixed capacity, given its memory once.
 *
 *     base                rd              wr                cap
 *     |  consumed         |  unread bytes |  free space      |
 *
 * Invariant: 0 <= rd <= wr <= cap. Bytes in [rd, wr) are unread; the
 * buffer never grows, never allocates, and never moves bytes except in
 * buf_compact(). Anything that holds an offset into the buffer must not
 * keep it across buf_compact().
 */
#ifndef POKEFETCH_BUF_H
#define POKEFETCH_BUF_H

#include <stddef.h>

struct buf {
    char *base;
    size_t cap, rd, wr;
};

/* Use mem (cap bytes, owned by the caller) as an empty buffer. */
void buf_init(struct buf *b, char *mem, size_t cap);

/* Forget every byte, keep the memory. */
void buf_reset(struct buf *b);

/* Move the unread bytes to the start, so that free space is contiguous. */
void buf_compact(struct buf *b);

static inline size_t
buf_unread(const struct buf *b)
{
    return b->wr - b->rd;
}

static inline size_t
buf_space(const struct buf *b)
{
    return b->cap - b->wr;
}

#endif
