/*
 * har - a timeline sink that writes the run as an HTTP Archive (HAR 1.2,
 * http://www.softwareishard.com/blog/har-12-spec/), streamed: the log's
 * head when it opens, one entry per request as the request ends (its
 * response complete, TL_EV_DONE, or its connection gone first,
 * TL_EV_LOST), and the closing brackets at har_finish. The writer's
 * memory does not grow with the number of requests, only with the
 * number in flight.
 *
 * One entry per request record of the timeline, i.e. per attempt: a
 * request sent again after its connection closed has two entries (the
 * first with status 0 and `_error`), a redirect's request its own.
 * Entries come in the order requests end, not by startedDateTime (HAR
 * 1.2 leaves the sorting to the reader).
 *
 * What an entry says, and where it comes from:
 *   startedDateTime  the wall clock at the run's start (given) + the
 *                    request's queued offset, UTC, milliseconds
 *   time, timings    tl_phases(), printed in ms with 3 decimals: exact
 *                    (the clock counts microseconds), so `time` is the
 *                    sum of the printed timings that are not -1, ssl
 *                    excluded (it is part of connect, as HAR 1.2 says)
 *   request          GET, url = origin name + target, the request head's
 *                    fields as TL_EV_QUEUED handed them over (kept while
 *                    the request is in flight: see below), queryString
 *                    from the target's query (split at & and =, not
 *                    percent-decoded), headersSize = the head's bytes
 *   response         status, reason phrase, version and fields of the
 *                    head as received (of the final response, after
 *                    any 1xx ones); content.size = body bytes after
 *                    Content-Encoding, compression = content.size -
 *                    bodySize when the body was encoded, mimeType from
 *                    Content-Type (""), redirectURL from Location (""),
 *                    headersSize = the head's bytes (1xx ones
 *                    included), bodySize = the rest of the bytes
 *                    received (chunk framing included); -1 for both
 *                    when the head is unknown or was cut at
 *                    TL_MAX_HEAD. Status 0 for a request that got no
 *                    response.
 *   serverIPAddress  the connection's peer address, port dropped
 *   connection       the timeline's connection number, as a string
 *   _id, _attempt, _pipelinePosition  the id, attempt (1 the first time)
 *                    and requests ahead of it on its connection when it
 *                    was queued; _error why there was no response
 *                    (TL_EV_LOST's text, or "the run ended first" for a
 *                    request still in flight at har_finish)
 * Every string goes through esc_json: a server's bytes cannot break the
 * file or reach a terminal that shows it.
 *
 * Request heads: the only part of a request the timeline does not keep
 * is its head, so the writer copies it at TL_EV_QUEUED and drops it when
 * the entry is written: a table of copies for the requests in flight,
 * whose slots (and their buffers) are reused, so its size follows the
 * most requests ever in flight at once (connections x pipeline depth:
 * 192 with the defaults, about 200 bytes each), not the run's total.
 * Copying what was sent, rather than writing the head again from the
 * configuration, keeps the archive true for any transport (the libcurl
 * build's requests are libcurl's) and for any origin (a redirect's Host).
 *
 * The file is written through a struct out (64 KiB, written when full):
 * a write error is kept and reported by har_finish.
 */
#ifndef POKEFETCH_HAR_H
#define POKEFETCH_HAR_H

#include <stddef.h>
#include <stdint.h>

#include "timeline.h"

/* HAR's timings in the order HAR 1.2 lists them, each with its place in
   struct tl_phases (--stats json reports the same phases). */
struct har_phase {
    const char *name; /* "blocked" */
    size_t off;       /* offsetof(struct tl_phases, blocked) */
};

#define HAR_N_PHASES 7
extern const struct har_phase har_phases[HAR_N_PHASES];

/* The value of phase ph in p (microseconds, -1 where it does not
   apply). */
int64_t har_phase_us(const struct tl_phases *p, const struct har_phase *ph);

struct har;

/*
 * Start an archive on fd (open for writing; never closed here) for the
 * run that tl records. wall_start_us: the wall clock (CLOCK_REALTIME, in
 * microseconds since 1970) at the moment tl_new was called, the zero of
 * the timeline's clock. version: the creator's version ("0.1.0").
 * Writes the log's head. NULL if out of memory.
 */
struct har *har_open(int fd, const struct timeline *tl, int64_t wall_start_us,
                     const char *version);

/* The sink to hand to tl_add_sink: entries are written from its events. */
struct tl_sink har_sink(struct har *h);

/*
 * End the archive: an entry for each request still in flight (now being
 * the end of the run on the timeline's clock), the closing brackets,
 * everything written out; then h is freed. Returns 0, or -errno of the
 * first write that failed.
 */
int har_finish(struct har *h);

#endif
