/*
 * trace - -v and --trace: a timeline sink (include/timeline.h) that says
 * what happens as it happens, one line per event, the way curl -v does:
 *
 *   [   3.201 ms] c0 * TLS handshake done in 2.590 ms: TLSv1.3, ...
 *   [   3.214 ms] c0 > GET /api/v2/pokemon/1 (id 1, pipeline 0, try 1)
 *   [   4.020 ms] c0 < HTTP 200: chunked, Content-Encoding gzip
 *
 * The time is since the run started; "c0" the connection (numbered in
 * the order they were opened); "*" something that happened, ">" a
 * request, "<" a response, "!" a request that was not answered. With
 * bytes (--trace), the request and response heads follow in full, each
 * line marked "> " or "< ", and a body is one line with its byte count.
 *
 * It writes nothing itself: each line goes to the writer as a prefix
 * (ours, ASCII) and a text that may hold the server's bytes, which the
 * writer escapes (cli's err_line, or its --trace file's twin), so no
 * server can drive the terminal through it.
 */
#ifndef POKEFETCH_TRACE_H
#define POKEFETCH_TRACE_H

#include <stddef.h>

#include "timeline.h"

typedef void (*trace_write_fn)(void *arg, const char *prefix, size_t plen,
                               const char *text, size_t n);

struct trace {
    const struct timeline *tl;
    int with_bytes; /* --trace: the heads too */
    trace_write_fn write;
    void *arg;
};

/* A sink for tl_add_sink that prints through tr (which must outlive the
   timeline's events). */
struct tl_sink trace_sink(struct trace *tr);

#endif
