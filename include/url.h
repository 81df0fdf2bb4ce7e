/*
 * url - the two things a user types: the URL template and the ids.
 *
 * A template is an absolute http or https URL with "{id}" somewhere in its
 * path or query (RFC 3986 sec. 3, restricted):
 *
 *     scheme "://" host [ ":" port ] path-abempty [ "?" query ]
 *     scheme = "http" / "https"            (case-insensitive)
 *     host   = reg-name / IPv4address / "[" IPv6address "]"
 *              (reg-name: letters, digits, "-", "."; no userinfo)
 *     port   = 1*5DIGIT, 1..65535          (default 80 / 443)
 *
 * "{id}" must occur exactly once, after the authority. The path may be
 * empty before it only if "{id}" is in the query (the target then starts
 * with "/"). No fragment. Every byte of path and query must be allowed on
 * a request line: visible ASCII except space, and no "#"; CR, LF, space,
 * DEL, other control bytes and bytes >= 0x80 are refused here, before
 * anything is sent.
 *
 * Ids are decimal integers 0..URL_MAX_ID, given as "N" or "A-B" (A <= B).
 *
 * Pure: no resolving, no allocation, no I/O. Results are offsets into the
 * caller's template string, valid as long as that string is.
 */
#ifndef POKEFETCH_URL_H
#define POKEFETCH_URL_H

#include <stddef.h>
#include <stdint.h>

#define URL_MAX_ID 999999999u
#define URL_MAX_HOST 253 /* DNS name limit; also bounds IP literals */
#define URL_MAX_TARGET 4096

enum url_rc {
    URL_OK = 0,
    URL_E_SCHEME,     /* not http:// or https:// */
    URL_E_HOST,       /* empty, too long, bad character, bad IP literal */
    URL_E_PORT,       /* not a number in 1..65535 */
    URL_E_USERINFO,   /* user:pass@ is not supported */
    URL_E_CHAR,       /* a byte that cannot go on a request line */
    URL_E_FRAGMENT,   /* "#" */
    URL_E_NO_ID,      /* no "{id}" in path or query */
    URL_E_MANY_ID,    /* "{id}" more than once */
    URL_E_ID_IN_HOST, /* "{id}" before the path */
    URL_E_TOO_LONG,   /* request-target could exceed URL_MAX_TARGET */
    URL_E_ID,         /* ids: not a number, out of range, bad range */
};

struct url_template {
    int tls;           /* 1 for https */
    uint16_t port;     /* explicit or default */
    int port_explicit; /* the template named a port */
    int host_is_ip;    /* IPv4 or IPv6 literal: no SNI, check IP SAN */
    /* Offsets into the template string. For an IPv6 literal, host is
       without the brackets. */
    size_t host_off, host_len;
    /* The request-target before "{id}". With an empty path before "?"
       it starts at the "?", and url_target() writes the "/" itself. */
    size_t prefix_off, prefix_len;
    size_t suffix_off, suffix_len; /* request-target after "{id}" */
    size_t error_offset;           /* on error: offending byte */
};

/*
 * Parse a URL template of len bytes (need not be NUL-terminated).
 * Returns URL_OK and fills *u, or an error with u->error_offset set.
 */
enum url_rc url_parse_template(struct url_template *u, const char *s,
                               size_t len);

/*
 * Write the request-target for id into out: prefix, decimal id, suffix.
 * Returns the length, or 0 if it does not fit in cap.
 */
size_t url_target(const struct url_template *u, const char *s, uint32_t id,
                  char *out, size_t cap);

/*
 * Write the Host header value into out: host, with brackets for IPv6,
 * and ":port" only when the port is not the scheme's default.
 * Returns the length, or 0 if it does not fit in cap.
 */
size_t url_authority(const struct url_template *u, const char *s, char *out,
                     size_t cap);

/*
 * Parse one id argument: "25" or "150-151". Leading zeros are allowed,
 * signs, spaces and anything else are not. Returns URL_OK with *first and
 * *last set (equal for a single id), or URL_E_ID.
 */
enum url_rc url_parse_ids(const char *s, size_t len, uint32_t *first,
                          uint32_t *last);

/*
 * An absolute URL with no "{id}", as a redirect gives one: scheme, host
 * and port as in a template (same grammar, same checks); the target is
 * the path and query, empty meaning "/"; a fragment ("#...") is cut off,
 * since it is never sent (RFC 9110 sec. 10.2.2). Offsets into the string.
 */
struct url_ref {
    int tls;
    uint16_t port;
    int port_explicit;
    int host_is_ip;
    size_t host_off, host_len;
    size_t target_off, target_len;
    size_t error_offset;
};

enum url_rc url_parse_absolute(struct url_ref *r, const char *s, size_t len);

/* url_authority() for a url_ref. */
size_t url_ref_authority(const struct url_ref *r, const char *s, char *out,
                         size_t cap);

/* The request-target of r (path and query; an empty path is "/") into
   out; returns its length, or 0 if it does not fit in cap. */
size_t url_ref_target(const struct url_ref *r, const char *s, char *out,
                      size_t cap);

/*
 * Resolve a redirect's Location (loc, n bytes) against the request it
 * answers: cur_tls, and cur, that request's target. The forms servers
 * send (RFC 9110 sec. 10.2.2, RFC 3986 sec. 5.2): an absolute URL,
 * "//host/path" (scheme kept), "/path", "?query" (same path), a relative
 * path (against cur's directory), and "" (cur itself). A fragment is cut
 * off. Every path the Location gives loses its dot segments (RFC 3986
 * sec. 5.2.4: "../ok/7" from "/a/b/7" is "/a/ok/7"; never above "/");
 * the query is left as it is, and so is cur's path when the Location
 * has none ("", "?q"). Writes into out[cap]:
 *   - a form naming an origin: the absolute URL, parsed into *ref (its
 *     offsets point into out), *absolute = 1;
 *   - any other: the new request-target on the same origin, *absolute = 0.
 * *out_len is what was written. URL_E_TOO_LONG if it does not fit (or the
 * target would not fit a request line: measured after the dot segments
 * are gone, but the merged path must fit in cap before), URL_E_CHAR for
 * a byte that cannot be sent, or url_parse_absolute's error (also for a
 * scheme other than http and https, and "http:g", which names no host).
 */
enum url_rc url_resolve(int cur_tls, const char *cur, size_t cur_len,
                        const char *loc, size_t n, char *out, size_t cap,
                        size_t *out_len, struct url_ref *ref, int *absolute);

/* Whether s[0..len) can be sent as a request-target: visible ASCII, no
   "#", no space or control byte. Returns 1 or 0. */
int url_target_ok(const char *s, size_t len);

/*
 * Whether the host name s[0..len) is "localhost" or a name under
 * ".localhost" (RFC 6761 sec. 6.3), in any case and with or without one
 * trailing dot: such names are the loopback addresses, never asked of a
 * resolver. A name with an empty label ("..", a leading ".", ".localhost"
 * alone) is not one. Returns 1 or 0.
 */
int url_host_is_localhost(const char *s, size_t len);

/* A short English description of an rc, e.g. "port out of range". */
const char *url_strerror(enum url_rc rc);

#endif
