/*
 * waterfall - the picture of a run (--waterfall FILE.svg): a
 * self-contained SVG drawn from the timeline's records (no library, no
 * font, script or image from outside; any browser shows it).
 *
 * What it shows, top to bottom:
 *   - a title block: the command line, quoted as a shell would take it,
 *     and the run's summary (ids ok and failed, wall time, connections,
 *     TLS handshakes full and resumed, requests sent and sent again,
 *     bytes received);
 *   - a legend of every colour and mark;
 *   - a time axis in milliseconds since the run started, ticks in a
 *     1-2-5 series, gridlines down the plot;
 *   - one lane per connection, in the order they were opened: a light
 *     band for its life, its TCP connect and its TLS handshake in their
 *     own colours (a resumed handshake striped), a tick where it closed
 *     (red when it ended in an error, a timeout or a failed connect);
 *   - one bar per request on its connection's lane, split into its
 *     phases (tl_phases): queued after the connection was up, send,
 *     wait (to the first byte of the answer), receive. The time a
 *     request spent waiting for its connection's handshake is the
 *     handshake drawn on the lane, not the bar. A lane is cut into thin
 *     rows, one per request in flight at once (a row is taken by the
 *     first request that finds it free, top first), so a pipeline is
 *     seen: requests that left together start in one column, and their
 *     answers, which come back one after another, end in a staircase.
 *     A request that got an error answer is outlined in red, one that
 *     got no answer (its connection ended first, or the run did) ends in
 *     a red cross, and one sent again (attempt 2 or more) is outlined
 *     in dashes.
 *
 * Sizes: WF_WIDTH wide; the height grows with the lanes, up to
 * WF_MAX_HEIGHT. Lanes get thinner as they get more numerous, down to
 * one pixel for WF_MAX_LANES of them; past that, lanes are reused: a
 * connection goes on the lowest lane whose connection had closed before
 * it opened, and the legend says so (if more were open at once than
 * there are lanes, neighbours share one). A
 * bar is at least a pixel wide. Up to WF_DETAIL_MAX requests and
 * connections, each bar and each lane carries a tooltip (an SVG
 * <title>: id, target, phases in ms, status, bytes), about 450 bytes a
 * request and 500 a connection: 1351 requests on 6 connections take
 * 0.6 MB, on 1351 connections 1.3 MB. Past that, a lane is one row, at
 * most 200 lanes are drawn (neighbours share when more were open at
 * once), and the plot is drawn in pixels: each pixel takes the colour
 * on top there, and runs of one colour are one rectangle. The file is
 * then bounded by the picture, not by the run (a million requests:
 * under 0.5 MB).
 *
 * Text from outside (the command line, request targets, peers, origins)
 * is escaped twice: as every line on stderr is (esc_line: controls,
 * bidi overrides and ill-formed UTF-8 become \xHH), then for XML.
 *
 * Pure but for its writer: it reads the records (and tl_now for the end
 * of the axis) and writes through the caller's struct out; it allocates
 * working arrays of a few bytes per connection and request, freed
 * before it returns.
 */
#ifndef POKEFETCH_WATERFALL_H
#define POKEFETCH_WATERFALL_H

#include <stdint.h>

#include "out.h"
#include "timeline.h"

#define WF_WIDTH 1200      /* px */
#define WF_MAX_HEIGHT 2000 /* px */
#define WF_PLOT_LEFT 110   /* px: the time axis' 0 (lane labels left of it) */
#define WF_PLOT_RIGHT (WF_WIDTH - 24) /* px: the axis' end */
#define WF_MAX_LANES 1600  /* more connections than this: lanes reused */
#define WF_DETAIL_MAX 2000 /* records drawn one by one, with tooltips */

/* The title block's data, filled by cli at the end of the run. */
struct waterfall_info {
    int argc; /* the command line: argv[0..argc) */
    char *const *argv;
    unsigned ok, failed;  /* ids */
    int64_t elapsed_ms;   /* the run's wall time */
    unsigned connections; /* opened */
    uint64_t bytes_rx;    /* response bytes received (after TLS) */
};

/* Draw tl into o (an out_init'ed stream on the file), then flush it.
   Returns 0, -ENOMEM (nothing written), or the first write's -errno. */
int waterfall_write(struct out *o, const struct timeline *tl,
                    const struct waterfall_info *info);

#endif
