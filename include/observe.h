/*
 * observe - the outputs that show what a run did, beside its names: -v
 * and --trace (lines as it goes; include/trace.h), --har (an HTTP
 * Archive streamed as requests end; include/har.h) and --stats json (at
 * the end; include/statsjson.h) and --waterfall (an SVG picture drawn
 * at the end; include/waterfall.h), all from the same records. cli parses the options into struct
 * observe_opts; observe_start makes the run's timeline (only if some
 * output asks for it: otherwise fetch_config.timeline stays NULL and the
 * run records nothing), opens the files and adds the sinks;
 * observe_turn writes out what a turn of the loop produced;
 * observe_finish writes what is made at the end and closes everything.
 */
#ifndef POKEFETCH_OBSERVE_H
#define POKEFETCH_OBSERVE_H

#include <stddef.h>

#include "fetch.h"
#include "out.h"
#include "trace.h"

struct observe_opts {
    int verbose;                /* -v: event lines on stderr */
    const char *trace_file;     /* --trace FILE: with the heads; "-": stderr */
    const char *har_file;       /* --har FILE: HTTP Archive 1.2 */
    int stats_json;             /* --stats json: the summary as JSON */
    const char *stats_file;     /* --stats-file FILE: the summary there */
    const char *waterfall_file; /* --waterfall FILE.svg */
};

struct har;

struct observe {
    struct timeline *tl;
    struct trace trace;
    struct out *file; /* --trace FILE's stream, NULL for stderr */
    struct har *har;
    int har_fd;
    int waterfall_fd; /* created at start, drawn at the end */
};

/* Whether any output asks for the timeline. */
int observe_wanted(const struct observe_opts *opts);

/*
 * Set up the outputs opts asks for, for cfg's run: cfg->timeline is set
 * (NULL if nothing is asked). Lines meant for stderr go to err_write.
 * Returns 0, or -1 with the reason in err (a file that cannot be
 * created, out of memory).
 */
int observe_start(struct observe *ob, const struct observe_opts *opts,
                  struct fetch_config *cfg, trace_write_fn err_write,
                  void *arg, char *err, size_t errcap);

/* After each turn of the loop: what the turn wrote leaves. */
void observe_turn(struct observe *ob);

/* The picture --waterfall asks for, from the run's records; argv is the
   command line for its title. Returns 0, or -1 with the reason in err. */
int observe_waterfall(struct observe *ob, const struct fetch_stats *st,
                      int argc, char *const *argv, char *err, size_t errcap);

/* The summary of the run as --stats json asks, into o (stderr's stream
   or --stats-file's). */
void observe_stats_json(struct observe *ob, const struct fetch_config *cfg,
                        const struct fetch_stats *st, struct out *o);

/* The end of the run: finish and close every output. Returns 0, or -1
   with the reason in err if one could not be written. */
int observe_finish(struct observe *ob, struct fetch_config *cfg, char *err,
                   size_t errcap);

#endif
