/*
 * tl_synth - timelines of made-up runs, for the waterfall's tests and
 * samples: the records a run of the given shape would leave, made
 * through the tl_* calls on a fake clock, without a network.
 *
 * The model: each of `conns` slots opens a connection (TCP one round
 * trip, TLS one more), queues up to `depth` requests on it at once
 * (they leave together when the handshake is done), and queues the next
 * as each answer completes. The server answers in order: an answer's
 * first byte comes a round trip after its request left, or when the one
 * before it has ended, whichever is later, and takes xfer_us to arrive.
 * Ids go to the slots in turn. Without keep-alive each request has a
 * connection of its own, opened when its slot's previous one closed.
 */
#ifndef POKEFETCH_TL_SYNTH_H
#define POKEFETCH_TL_SYNTH_H

#include <stdint.h>

#include "timeline.h"

struct synth {
    unsigned ids;   /* jobs, ids 1..ids */
    unsigned conns; /* slots: connections at once */
    unsigned depth; /* requests in flight per connection */
    int keepalive;  /* 0: a new connection per request */
    int tls;
    int resume;           /* every handshake after the first resumed */
    int64_t rtt_us;       /* round trip */
    int64_t xfer_us;      /* an answer, first byte to last */
    unsigned fail_every;  /* every Nth id is answered 404 (0: none) */
    unsigned reset_after; /* keep-alive: the first connection is closed
                             by the server after this many answers;
                             those in flight on it are lost and go again
                             on a new connection (0: never) */
};

/* The run's timeline (tl_free it), its clock stopped at the last event;
   NULL out of memory. */
struct timeline *synth_timeline(const struct synth *s);

/* The fake clock synth_timeline's timelines read (µs), and a way to set
   it for timelines made by hand. */
int64_t synth_clock(void);
void synth_set_clock(int64_t us);

#endif
