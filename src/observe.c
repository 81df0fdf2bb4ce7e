/*
 * observe - the run's observers; see include/observe.h.
 */
#include "observe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "esc.h"
#include "har.h"
#include "loop.h"
#include "statsjson.h"
#include "timeline.h"
#include "waterfall.h"

/* Longest text of one trace line kept: a head line can be 16 KiB. */
#define FILE_LINE_MAX ((OUT_CAP - 128) / 4)

int
observe_wanted(const struct observe_opts *opts)
{
    return opts->verbose || opts->trace_file || opts->har_file ||
           opts->stats_json || opts->waterfall_file;
}

/* A --trace file's line: prefix as it is, text escaped as on stderr. */
static void
file_line(void *arg, const char *prefix, size_t plen, const char *text,
          size_t n)
{
    struct out *o = arg;
    char *p;

    if (n > FILE_LINE_MAX)
        n = FILE_LINE_MAX;
    p = out_room(o, plen + ESC_LINE_MAX(n) + 1);
    memcpy(p, prefix, plen);
    plen += esc_line(p + plen, text, n);
    p[plen++] = '\n';
    out_commit(o, plen);
}

/* A file of ours to write: created or truncated, not inherited by
   anything. Returns its stream, or NULL with err. */
static struct out *
open_file(const char *what, const char *path, char *err, size_t errcap)
{
    struct out *o;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0) {
        snprintf(err, errcap, "%s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    o = malloc(sizeof *o);
    if (!o) {
        close(fd);
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    out_init(o, fd);
    return o;
}

/* Microseconds since 1970 now: where the HAR's times start. */
static int64_t
wall_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* --har FILE: the archive's head now, an entry as each request ends. */
static int
start_har(struct observe *ob, const char *path, char *err, size_t errcap)
{
    struct tl_sink sink;

    ob->har_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (ob->har_fd < 0) {
        snprintf(err, errcap, "--har %s: %s", path, strerror(errno));
        return -1;
    }
    ob->har = har_open(ob->har_fd, ob->tl, wall_now_us(), POKEFETCH_VERSION);
    if (!ob->har) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    sink = har_sink(ob->har);
    tl_add_sink(ob->tl, &sink);
    return 0;
}

int
observe_start(struct observe *ob, const struct observe_opts *opts,
              struct fetch_config *cfg, trace_write_fn err_write, void *arg,
              char *err, size_t errcap)
{
    struct tl_sink sink;

    memset(ob, 0, sizeof *ob);
    ob->har_fd = -1;
    ob->waterfall_fd = -1;
    cfg->timeline = NULL;
    if (!observe_wanted(opts))
        return 0;
    ob->tl = tl_new(cfg->n_ids, loop_now_us);
    if (!ob->tl) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    cfg->timeline = ob->tl;
    ob->trace.tl = ob->tl;
    ob->trace.write = err_write;
    ob->trace.arg = arg;
    if (opts->trace_file) {
        ob->trace.with_bytes = 1;
        if (strcmp(opts->trace_file, "-") != 0) {
            ob->file = open_file("--trace", opts->trace_file, err, errcap);
            if (!ob->file)
                return -1;
            ob->trace.write = file_line;
            ob->trace.arg = ob->file;
        }
    }
    if (opts->verbose || opts->trace_file) {
        sink = trace_sink(&ob->trace);
        tl_add_sink(ob->tl, &sink);
    }
    if (opts->har_file && start_har(ob, opts->har_file, err, errcap) < 0)
        return -1;
    if (opts->waterfall_file) {
        /* Created now: a path that cannot be written ends the run before
           it starts, not after. */
        ob->waterfall_fd =
            open(opts->waterfall_file,
                 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (ob->waterfall_fd < 0) {
            snprintf(err, errcap, "--waterfall %s: %s", opts->waterfall_file,
                     strerror(errno));
            return -1;
        }
    }
    return 0;
}

void
observe_turn(struct observe *ob)
{
    if (ob->file)
        (void)out_flush(ob->file);
}

int
observe_waterfall(struct observe *ob, const struct fetch_stats *st, int argc,
                  char *const *argv, char *err, size_t errcap)
{
    struct waterfall_info info;
    struct out *o;
    int e;

    if (ob->waterfall_fd < 0)
        return 0;
    o = malloc(sizeof *o);
    if (!o) {
        snprintf(err, errcap, "--waterfall: out of memory");
        return -1;
    }
    out_init(o, ob->waterfall_fd);
    info.argc = argc;
    info.argv = argv;
    info.ok = st->ok;
    info.failed = st->failed;
    info.elapsed_ms = st->elapsed_ms;
    info.connections = st->conns_opened;
    info.bytes_rx = st->bytes_rx;
    e = waterfall_write(o, ob->tl, &info);
    free(o);
    if (close(ob->waterfall_fd) < 0 && !e)
        e = -errno;
    ob->waterfall_fd = -1;
    if (!e)
        return 0;
    snprintf(err, errcap, "--waterfall: %s", strerror(-e));
    return -1;
}

void
observe_stats_json(struct observe *ob, const struct fetch_config *cfg,
                   const struct fetch_stats *st, struct out *o)
{
    (void)statsjson_write(o, cfg, st, ob->tl);
}

/* Finish the archive (requests still in flight get an entry saying the
   run ended first) and close it. Returns 0 or -1 with err. */
static int
finish_har(struct observe *ob, char *err, size_t errcap)
{
    int e = ob->har ? har_finish(ob->har) : 0;

    ob->har = NULL;
    if (ob->har_fd < 0)
        return 0;
    if (close(ob->har_fd) < 0 && !e)
        e = -errno;
    ob->har_fd = -1;
    if (!e)
        return 0;
    snprintf(err, errcap, "--har: %s", strerror(-e));
    return -1;
}

int
observe_finish(struct observe *ob, struct fetch_config *cfg, char *err,
               size_t errcap)
{
    int rc = finish_har(ob, err, errcap);

    if (ob->waterfall_fd >= 0) /* the run could not start: no picture */
        close(ob->waterfall_fd);

    if (ob->file) {
        int e = out_flush(ob->file);

        if (e < 0 || close(ob->file->fd) < 0) {
            snprintf(err, errcap, "--trace: %s", strerror(e < 0 ? -e : errno));
            rc = -1;
        }
        free(ob->file);
    }
    tl_free(ob->tl);
    cfg->timeline = NULL;
    memset(ob, 0, sizeof *ob);
    return rc;
}
