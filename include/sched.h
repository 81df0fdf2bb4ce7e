/*
 * sched - the jobs of a run: which id is sent next, which results may be
 * printed, which unanswered requests are sent again and which give up,
 * and when the run as a whole is out of time. It never touches a byte of
 * the protocol and never sees a connection: it hands request-targets to
 * a transport (include/transport.h) and takes results back.
 *
 * Every job (one requested id) ends in exactly one result, delivered once
 * through the output callback: a value, or an error with its reason.
 *
 * Policy, in one place (the connection policy is the transport's):
 *  - Order: jobs are sent in the order given. A job the transport hands
 *    back unanswered goes to the front of the queue, so it is the next
 *    one sent.
 *  - Retries: a job handed back with `charge` set uses one attempt of
 *    its budget; after `max_retries` extra attempts it fails with the
 *    reason. Jobs handed back uncharged (caught in someone else's
 *    failure, or never processed by the server) go again for free.
 *  - Redirects (301, 302, 303, 307, 308): followed for GET, at most
 *    `max_redirects` per id, to the same or another origin; a Location
 *    that is missing, unusable or points at the URL itself, and one hop
 *    too many, are errors for that id. A redirect from https to plain
 *    http is refused (an error naming both URLs) unless
 *    allow_http_redirect: what comes over plain http can be written by
 *    anyone on the path, and it would be printed as if fetched over TLS.
 *  - Busy servers (429, 503): sending pauses for the Retry-After the
 *    server gave (at most SCHED_MAX_PAUSE_S; a longer wait fails the id
 *    at once), or without one for an exponential back-off with jitter
 *    (250 ms doubling, up to 30 s); the id goes again, charged one
 *    attempt. --max-time still bounds the whole run.
 *  - Fatal: when the transport says no job can succeed (an untrusted
 *    certificate, connects refused again and again), or the run's
 *    --max-time passes, every job without a result fails with that
 *    reason.
 *  - Memory: with id order, results wait in a window of slots until
 *    every earlier job has a result; a job is not sent until it falls
 *    inside that window, so memory does not grow with the number of ids.
 */
#ifndef POKEFETCH_SCHED_H
#define POKEFETCH_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "fetch.h"
#include "transport.h"

#define SCHED_MAX_CONNECTIONS 1024
#define SCHED_MAX_PAUSE_S 300

/* One job's result; text is not NUL-terminated and lives until the
   callback returns. */
struct sched_result {
    size_t index; /* position in cfg->ids */
    uint32_t id;
    int ok;           /* enum fetch_ok (result.h) */
    const char *text; /* value (ok) or reason */
    size_t len;
};

typedef void (*sched_output_fn)(void *arg, const struct sched_result *r);

/*
 * Called after each turn of the loop (one round of the transport's
 * events), once the results of that turn have gone to the output
 * callback: the output can leave in one write per turn. With
 * cfg->turn_every_ms set, a wait ends after that long even without an
 * event, so there is a turn at least that often. Returns 0 to go on,
 * nonzero to end the run at once (jobs without a result get none).
 */
typedef int (*sched_turn_fn)(void *arg);

/*
 * Run every job to its result over the transport vt. Returns 0 when every
 * job has a result (failed ones included: see stats, which it zeroes
 * first and which the transport adds to as well), 1 if turn (may be
 * NULL) ended the run, or -1 if the run could not start (bad CA file,
 * unresolvable host, no memory...) with the reason in err. Warnings
 * (e.g. insecure mode) go to warn.
 */
int sched_run(const struct transport_vt *vt, const struct fetch_config *cfg,
              sched_output_fn out, sched_turn_fn turn, void *arg,
              void (*warn)(void *arg, const char *msg),
              struct fetch_stats *stats, char *err, size_t errcap);

#endif
