/*
 * transport - how requests reach the server and results come back, as
 * one small interface with two implementations:
 *
 *   transport_h1.c    the hand-written one: an epoll loop, a pool of conn
 *                     (socket + OpenSSL + h1 + jfield), pipelining, and the
 *                     connection policy (below);
 *   transport_curl.c  libcurl's multi interface with the same extractor
 *                     (build: make pokefetch-curl).
 *
 * The scheduler above (sched) owns the jobs: which id goes next, the
 * result window, retry budgets, the run's deadline. A transport owns
 * connections: it takes a request-target for a job, and reports exactly
 * one of these per submitted job, through the callbacks:
 *   on_result      a complete response: the value, or a final error for
 *                  this id (HTTP status, invalid JSON, missing key...);
 *   on_unanswered  the job was not answered and may be sent again;
 *                  `charge` says whether it may have caused the failure
 *                  (counts against its retry budget) or was merely
 *                  caught in it (free, e.g. after "Connection: close").
 * on_fatal says that no job can succeed (untrusted certificate, every
 * connect refused): the scheduler then fails every job left.
 *
 * Connection attempts, one rule for both transports: an origin gets
 * 1 + max_retries attempts to connect (TCP, then TLS) that fail in a row,
 * counting a connect() that fails at once, a refusal, a connect timeout
 * and a failed handshake alike; one response from the origin starts the
 * count again. Jobs waiting on a failed attempt go back free. After the
 * last attempt the origin is unreachable: for the template's origin that
 * is on_fatal; for an origin a redirect named, the jobs sent there fail
 * with the reason and "(N attempts)", and so does every later job
 * submitted to it. An untrusted certificate is not retried.
 *
 * The promise that keeps a run from hanging: whenever submit() says "not
 * now" (-EAGAIN), the transport has something that will wake wait() and
 * change that: a connection in flight or being opened for the work, or a
 * deadline. A connection that can no longer take work (it has carried as
 * many requests as the server allows and answered them) is closed and
 * its slot used for a new one.
 *
 * Which transport a binary has is decided at link time: each
 * implementation defines transport_default. No #ifdef anywhere.
 */
#ifndef POKEFETCH_TRANSPORT_H
#define POKEFETCH_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fetch.h"
#include "result.h"
#include "url.h"

struct transport_events {
    void (*on_result)(void *owner, uint32_t job, const struct fetch_result *r);
    void (*on_unanswered)(void *owner, uint32_t job, int charge,
                          const char *err);
    void (*on_fatal)(void *owner, const char *err);
    void (*on_warning)(void *owner, const char *msg);
    void *owner;
};

struct transport;

/* Origins one run may reach: the template's and those redirects name.
   Each origin after the first has one connection of its own, beyond -c:
   a redirect to another host must not wait for the main pool. */
#define TRANSPORT_MAX_ORIGINS 8

struct transport_vt {
    const char *name;      /* "pokefetch" / "libcurl" for messages */
    unsigned max_pipeline; /* deepest -p it can honour */
    int tls_sessions;      /* it can use --tls-sessions' store */
    int early_data;        /* it can send TLS early data (--early-data) */
    int http2;             /* it can speak HTTP/2 (--http2) */
    /* For an option above it cannot honour ("--tls-sessions"): what it
       runs with and what the option would need, for the usage error. */
    void (*lacks)(const char *option, char *out, size_t cap);

    /* Set up for cfg's jobs (resolve, TLS context, memory). cfg and st
       must outlive the transport: it reads cfg and adds to st (bytes,
       connections, handshakes, pipeline depth, a learned limit) as it
       goes. Returns NULL with the reason in err. No request is sent
       yet. */
    struct transport *(*open)(const struct fetch_config *cfg,
                              const struct transport_events *ev,
                              struct fetch_stats *st, char *err,
                              size_t errcap);

    /* `queued` jobs are waiting: open connections for them if allowed. */
    void (*prepare)(struct transport *t, size_t queued);

    /*
     * The origin (scheme, host, port) of ref, an absolute URL in s that a
     * redirect named: its number for submit(), the same number for the
     * same origin; 0 is the template's. Called from inside the event
     * callbacks, so it never waits: a new origin is only named here, and
     * resolved (its TLS context built) when a job is first submitted to
     * it; if that fails, the origin is unreachable and its jobs fail with
     * the reason. Returns -1 with the reason in err (more than
     * TRANSPORT_MAX_ORIGINS origins in one run, a host name too long).
     */
    int (*origin)(struct transport *t, const struct url_ref *ref,
                  const char *s, char *err, size_t errcap);

    /* Take job now, for target on origin? 0 yes: it is in flight, or it
       has already ended through the callbacks (its origin is unreachable:
       on_result with the reason, during this call). -EAGAIN not now
       (connections full: wait for events; see the promise above). Other
       negative errno: never. */
    int (*submit)(struct transport *t, uint32_t job, int origin,
                  const char *target, size_t target_len);

    /* Wait for events until deadline_ms (loop_now_ms clock, -1: none) and
       process them; results arrive through the callbacks. Returns 0, or a
       negative errno if waiting itself failed. */
    int (*wait)(struct transport *t, int64_t deadline_ms);

    /* Drop every connection; jobs in flight come back through
       on_unanswered with charge 0. */
    void (*abort)(struct transport *t);

    /* Release everything (after abort, if jobs were in flight). */
    void (*close)(struct transport *t);

    /* For --version: lines saying what this transport is and which
       libraries it was built with and runs with, into out (cap bytes);
       returns a word for the features line ("libcurl"), or NULL. */
    const char *(*version)(char *out, size_t cap);
};

extern const struct transport_vt *const transport_default;

/* For both implementations: job ends for good with the reason err
   (NUL-terminated), through ev->on_result. */
static inline void
transport_fail_job(const struct transport_events *ev, uint32_t job,
                   const char *err)
{
    struct fetch_result r;

    memset(&r, 0, sizeof r);
    r.text = err;
    r.len = strlen(err);
    r.retry_after_s = -1;
    ev->on_result(ev->owner, job, &r);
}

#endif
