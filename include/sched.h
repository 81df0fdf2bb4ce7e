/*
 * sched - decides which request goes on which connection, how deep to
 * pipeline, when to open or replace connections, and what to do with
 * requests a connection did not answer. It never touches a byte of the
 * protocol; it hands request-targets to conn and takes results back.
 *
 * Every job (one requested id) ends in exactly one result, delivered once
 * through the output callback: a value, or an error with its reason.
 *
 * Policy, in one place:
 *  - Connections: up to `connections`, never more than jobs left.
 *    Requests go to the open connection with the fewest in flight, so the
 *    ids spread evenly and the first flight leaves at once.
 *  - Pipelining: up to `pipeline` requests in flight per connection,
 *    written as soon as the connection can take them. Brand-new
 *    connections at the start pipeline at once (nothing has failed yet);
 *    a connection that replaces one that died unannounced sends one
 *    request and waits for its answer first (RFC 9112 sec. 9.3.2).
 *  - Server limits: when a server announces "Connection: close" after k
 *    responses, later connections carry at most k requests each, so no
 *    request is sent only to be refused. A server that answers one
 *    request per connection thus gets no pipelining.
 *  - Retries: requests the server never processed (sent after a close
 *    announcement) are re-queued at the front, free. When a connection
 *    dies unannounced, the oldest request in flight is charged one
 *    attempt (it may be the cause); after `max_retries` extra attempts
 *    it fails with the reason. Two such deaths with requests pipelined
 *    set the depth to 1 for the rest of the run.
 *  - Fatal: a certificate that is not trusted fails every job at once;
 *    so do `max_connect_failures` failed connects in a row.
 *  - Memory: with id order, results wait in a window of slots until
 *    every earlier job has a result; a job is not sent until it falls
 *    inside that window, so memory does not grow with the number of ids.
 */
#ifndef POKEFETCH_SCHED_H
#define POKEFETCH_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "url.h"

struct sched_options {
    const char *url;              /* the template, NUL-terminated */
    struct url_template tmpl;     /* parsed from url */
    const uint32_t *ids;          /* the jobs, in output order */
    size_t n_ids;
    unsigned connections;         /* 1..SCHED_MAX_CONNECTIONS */
    unsigned pipeline;            /* 1..CONN_MAX_PIPELINE */
    int keep_alive;
    const char *field;            /* NUL-terminated */
    const char *cafile;           /* NULL: default trust store */
    int insecure;
    int64_t connect_timeout_ms;   /* 0: none */
    int64_t idle_timeout_ms;      /* 0: none */
    int64_t max_time_ms;          /* 0: none */
    unsigned max_retries;         /* extra attempts per job */
    int arrival_order;            /* results as they come, not by index */
    const char *user_agent;
};

#define SCHED_MAX_CONNECTIONS 1024
#define SCHED_MAX_CONNECT_FAILURES 3

struct sched_stats {
    unsigned ok, failed;
    unsigned retries;             /* requests sent again */
    uint64_t bytes_rx;
    unsigned conns_opened;
    unsigned handshakes_full, handshakes_resumed;
    unsigned deepest_pipeline;
    unsigned learned_max_requests; /* per connection, 0 if none learned */
    int64_t elapsed_ms;
};

/* One job's result; text is not NUL-terminated and lives until the
   callback returns. */
struct sched_result {
    size_t index;     /* position in options.ids */
    uint32_t id;
    int ok;
    const char *text; /* value (ok) or reason */
    size_t len;
};

typedef void (*sched_output_fn)(void *arg, const struct sched_result *r);

/*
 * Run every job to its result. Returns 0 when every job has a result
 * (failed ones included: see stats), or -1 if the run could not start
 * (bad CA file, unresolvable host, no memory...) with the reason in err.
 * Warnings (e.g. insecure mode) go to warn, if given, before any request.
 */
int sched_run(const struct sched_options *o, sched_output_fn out, void *arg,
              void (*warn)(void *arg, const char *msg),
              struct sched_stats *stats, char *err, size_t errcap);

#endif
