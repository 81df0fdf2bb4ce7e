/*
 * origin - a place one run's requests go (scheme, host, port), and the
 * one rule both transports follow for connecting to it. Pure
 * bookkeeping: no I/O, no allocation. The transport resolves, connects
 * and loads trust stores; this names the origin, matches a redirect's
 * Location to it, and counts failed connection attempts.
 *
 * The rule (include/transport.h says it to the scheduler): an origin gets
 * `attempts` connection attempts in a row that fail before it is
 * unreachable: 1 + --retries, and at least one for each address its name
 * resolves to (the transport passes the larger). Any answer from it
 * starts the count again. Once unreachable it stays so, with the reason
 * of its last failure and "(N attempts)"; every job sent there then
 * fails with that reason. A name that cannot be resolved, or a trust
 * store that cannot be loaded, makes it unreachable at once.
 *
 * An origin is named (origin_set) inside an event callback when a
 * redirect names it; it is set up (resolved, TLS context) when the first
 * job is submitted to it, outside any callback: `ready` says whether that
 * was done.
 */
#ifndef POKEFETCH_ORIGIN_H
#define POKEFETCH_ORIGIN_H

#include <stddef.h>
#include <stdint.h>

#include "url.h"

#define ORIGIN_WHY_LEN 256

struct origin {
    int tls;
    int host_is_ip;
    uint16_t port;
    char host[URL_MAX_HOST + 1];       /* NUL-terminated: SNI, resolution */
    char authority[URL_MAX_HOST + 16]; /* the Host header: host[:port] */
    size_t authority_len;
    unsigned failures_in_row; /* failed connects since an answer */
    int ready;                /* resolved, TLS context built */
    int unreachable;
    char why[ORIGIN_WHY_LEN]; /* when unreachable: the reason */
};

/*
 * Name o after the template u (in url) or after a redirect's absolute URL
 * ref (in s): scheme, host, port, authority; counts zeroed, not ready.
 * Returns 0, or -1 if the authority does not fit.
 */
int origin_set_template(struct origin *o, const struct url_template *u,
                        const char *url);
int origin_set_ref(struct origin *o, const struct url_ref *ref, const char *s);

/* Whether ref (in s) names o: same scheme and port, and the same host
   name compared without case (RFC 9110 sec. 4.2.3). */
int origin_is(const struct origin *o, const struct url_ref *ref,
              const char *s);

/*
 * A connection attempt to o failed with err (NUL-terminated). Returns 1
 * if that makes o unreachable (or it was already): attempts failures in
 * a row. Its reason is then err and "(N attempts)".
 */
int origin_connect_failed(struct origin *o, unsigned attempts,
                          const char *err);

/* o answered a request: the count of failures starts again. */
void origin_answered(struct origin *o);

/* o cannot be set up (its name does not resolve, ...): unreachable now,
   with why. */
void origin_fail(struct origin *o, const char *why);

#endif
