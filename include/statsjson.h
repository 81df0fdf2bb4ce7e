/*
 * statsjson - the end-of-run summary as one JSON object (--stats json),
 * for programs: the text summary's figures (struct fetch_stats, the same
 * numbers cli's summary prints) and what the timeline adds.
 *
 *   {"elapsed_ms":208,"ok":150,"failed":0,"bytes_received":1155874,
 *    "bytes_decoded":40412345,"connections":6,"tls":true,
 *    "handshakes_full":6,"handshakes_resumed":0,"retries":0,
 *    "redirects":0,"pauses":0,"deepest_pipeline":25,"server_limit":0,
 *    "timeline":{...}}
 *
 * server_limit is the server's per-connection limit when one was
 * learned, else 0; handshakes are 0 with "tls":false (plain http). The
 * "timeline" object is there when the run was recorded (tl not NULL):
 *
 *   "requests"        requests sent: every attempt, as the HAR's entries
 *   "answered"        of those, the ones a response came back to
 *   "connections", "handshakes_full", "handshakes_resumed"
 *                     counted from the connection records
 *   "requests_per_s"  requests / elapsed; "ids_per_s" (ok + failed) /
 *                     elapsed; "bytes_per_s" bytes_received / elapsed
 *                     (null when elapsed is 0)
 *   "latency_ms"      for each of HAR's phases (blocked, dns, connect,
 *                     ssl, send, wait, receive; tl_phases) and the
 *                     total: {"n":N,"p50":..,"p90":..,"p99":..,"max":..}
 *                     over the answered requests the phase applies to
 *                     (connect and ssl: the requests that opened their
 *                     connection; dns never: names are resolved before
 *                     the first connection, so its n is 0 and its
 *                     figures null). Percentiles by nearest rank: the
 *                     value at rank ceil(p/100 * n) of the n sorted.
 *   "pipeline_depth"  the depth histogram: element i counts the requests
 *                     that had i requests ahead of them on their
 *                     connection when they were queued, i.e. went out
 *                     at depth i + 1 (element 0: at the head); its
 *                     length is the deepest depth seen
 *
 * Cost, once at the end of the run: the percentiles sort a copy of one
 * phase at a time, 8 bytes per request (one array, reused for each phase
 * and freed before return), 8 sorts of n values, O(n log n). Measured
 * with qsort on the shared 2-core machine: 2 ms for 1351 requests, 80
 * ms for 100 000, 0.9-1.1 s and 8 MB for 1 000 000.
 */
#ifndef POKEFETCH_STATSJSON_H
#define POKEFETCH_STATSJSON_H

#include "fetch.h"
#include "out.h"

struct timeline;

/*
 * Write the object and a newline to o (not flushed: the caller does).
 * cfg says whether the run was https; tl may be NULL. Returns 0, or -1
 * when the percentiles' copy or the histogram could not be allocated
 * (the object is complete all the same, with null in their place).
 */
int statsjson_write(struct out *o, const struct fetch_config *cfg,
                    const struct fetch_stats *st, const struct timeline *tl);

#endif
