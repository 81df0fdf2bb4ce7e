/*
 * observe - the run's observers; see include/observe.h.
 */
#include "observe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esc.h"
#include "loop.h"
#include "timeline.h"

/* Longest text of one trace line kept: a head line can be 16 KiB. */
#define FILE_LINE_MAX ((OUT_CAP - 128) / 4)

int
observe_wanted(const struct observe_opts *opts)
{
    return opts->verbose || opts->trace_file;
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

int
observe_start(struct observe *ob, const struct observe_opts *opts,
              struct fetch_config *cfg, trace_write_fn err_write, void *arg,
              char *err, size_t errcap)
{
    struct tl_sink sink;

    memset(ob, 0, sizeof *ob);
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
    sink = trace_sink(&ob->trace);
    tl_add_sink(ob->tl, &sink);
    return 0;
}

void
observe_turn(struct observe *ob)
{
    if (ob->file)
        (void)out_flush(ob->file);
}

int
observe_finish(struct observe *ob, struct fetch_config *cfg, char *err,
               size_t errcap)
{
    int rc = 0;

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
