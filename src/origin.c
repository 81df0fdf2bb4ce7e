/*
 * origin - naming origins and counting connection attempts; see
 * include/origin.h for the rule. Both transports keep a table of these,
 * each beside what only it needs (addresses and a TLS context, or a URL
 * prefix for libcurl), so the rule is written once.
 */
#include "origin.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static void
start(struct origin *o, int tls, int host_is_ip, uint16_t port,
      const char *host, size_t host_len)
{
    memset(o, 0, sizeof *o);
    o->tls = tls;
    o->host_is_ip = host_is_ip;
    o->port = port;
    memcpy(o->host, host, host_len);
    o->host[host_len] = '\0';
}

int
origin_set_template(struct origin *o, const struct url_template *u,
                    const char *url)
{
    start(o, u->tls, u->host_is_ip, u->port, url + u->host_off, u->host_len);
    o->authority_len =
        url_authority(u, url, o->authority, sizeof o->authority);
    return o->authority_len ? 0 : -1;
}

int
origin_set_ref(struct origin *o, const struct url_ref *ref, const char *s)
{
    start(o, ref->tls, ref->host_is_ip, ref->port, s + ref->host_off,
          ref->host_len);
    o->authority_len =
        url_ref_authority(ref, s, o->authority, sizeof o->authority);
    return o->authority_len ? 0 : -1;
}

int
origin_is(const struct origin *o, const struct url_ref *ref, const char *s)
{
    return o->tls == ref->tls && o->port == ref->port &&
           strlen(o->host) == ref->host_len &&
           strncasecmp(o->host, s + ref->host_off, ref->host_len) == 0;
}

int
origin_connect_failed(struct origin *o, unsigned attempts, const char *err)
{
    if (o->unreachable)
        return 1;
    if (++o->failures_in_row < attempts)
        return 0;
    o->unreachable = 1;
    snprintf(o->why, sizeof o->why, "%s (%u attempt%s)", err, attempts,
             attempts == 1 ? "" : "s");
    return 1;
}

void
origin_answered(struct origin *o)
{
    o->failures_in_row = 0;
}

void
origin_fail(struct origin *o, const char *why)
{
    o->unreachable = 1;
    snprintf(o->why, sizeof o->why, "%s", why);
}
