/*
 * fetch - what one run is asked to do, and what it counts. Two plain
 * structs and no code:
 *
 *   struct fetch_config  built once by cli from argv, then read through a
 *                        const pointer by every layer below it (sched, the
 *                        transport, each connection): nobody copies it
 *                        field by field into a config of its own;
 *   struct fetch_stats   one set of counters: each layer increments its
 *                        own fields in place (sched the results, retries
 *                        and pauses; the transport and its connections
 *                        the bytes, connections and handshakes), and cli
 *                        prints the summary from it.
 */
#ifndef POKEFETCH_FETCH_H
#define POKEFETCH_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "url.h"

struct timeline;

struct fetch_config {
    const char *url;          /* the template, NUL-terminated */
    struct url_template tmpl; /* parsed from url */
    const uint32_t *ids;      /* the jobs, in output order */
    size_t n_ids;
    unsigned connections; /* at most this many at once */
    unsigned pipeline;    /* requests in flight per connection */
    int keep_alive;       /* 0: a connection per request */
    const char *field;    /* top-level key to extract */
    size_t field_len;
    const char *cafile; /* NULL: default trust store */
    int insecure;
    int64_t connect_timeout_ms; /* per attempt, TCP + TLS; 0: none */
    int64_t idle_timeout_ms;    /* no byte while awaiting; 0: none */
    int64_t max_time_ms;        /* the whole run; 0: none */
    unsigned max_retries;       /* extra attempts per job; connect
                                     attempts per origin: 1 + this */
    int arrival_order;          /* results as they come, not by index */
    const char *user_agent;
    int compressed;          /* ask for gzip/deflate */
    uint64_t max_body;       /* largest body, decoded and as sent */
    unsigned max_redirects;  /* redirects followed per id */
    int allow_http_redirect; /* follow https -> http redirects */
    int early_data;          /* send a resumed connection's first
                                requests as TLS early data */
    int http2;               /* HTTP/2 by ALPN, requests multiplexed
                                (the libcurl build only) */
    /* Where the run's connections and requests are recorded, for -v,
       --trace, --har, --waterfall and --stats json; NULL when no output
       asks for them, and then nothing is recorded (include/timeline.h). */
    struct timeline *timeline;
    int64_t turn_every_ms; /* > 0: a turn at least this often, events
                                or not (cli's progress line); 0: a turn
                                after events only */
};

struct fetch_stats {
    /* sched */
    unsigned ok, failed;
    unsigned retries;   /* requests sent again */
    unsigned redirects; /* redirects followed */
    unsigned pauses;    /* 429/503 answers waited out */
    int64_t elapsed_ms;
    /* the transport and its connections */
    uint64_t bytes_rx;      /* response bytes received (after TLS) */
    uint64_t bytes_decoded; /* bodies after Content-Encoding */
    unsigned conns_opened;
    unsigned handshakes_full, handshakes_resumed;
    unsigned deepest_pipeline;     /* most requests in flight on one conn */
    unsigned learned_max_requests; /* the server's per-connection limit,
                                      0 if none was learned */
    /* --early-data: requests written as early data, those the server
       accepted, those it rejected (sent again after the handshake), and
       those answered 425 Too Early (sent again by sched) */
    unsigned early_sent, early_accepted, early_resent, too_early;
};

#endif
