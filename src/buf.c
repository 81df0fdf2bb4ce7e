/*
 * buf - fixed-capacity byte buffer; see include/buf.h for the contract.
 * Kept apart from its users so that the one place bytes are moved is easy
 * to find (buf_compact) and the invariant is checked in one place.
 */
#include "buf.h"

#include <assert.h>
#include <string.h>

void
buf_init(struct buf *b, char *mem, size_t cap)
{
    b->base = mem;
    b->cap = cap;
    b->rd = 0;
    b->wr = 0;
}

void
buf_reset(struct buf *b)
{
    b->rd = 0;
    b->wr = 0;
}

void
buf_compact(struct buf *b)
{
    size_t n = buf_unread(b);

    assert(b->rd <= b->wr && b->wr <= b->cap);
    if (b->rd == 0)
        return;
    if (n)
        memmove(b->base, b->base + b->rd, n);
    b->rd = 0;
    b->wr = n;
}
