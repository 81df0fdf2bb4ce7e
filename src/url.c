/*
 * url.c - split the URL template into host, port and request-target
 * slices, and parse the id arguments. The contract is in url.h.
 *
 * Accepted template grammar, a subset of RFC 3986:
 *
 *   template    = scheme "://" authority path-abempty [ "?" query ]
 *   scheme      = "http" / "https"                  ; sec. 3.1, any case
 *   authority   = host [ ":" port ]                 ; sec. 3.2
 *   host        = "[" IPv6address "]"               ; sec. 3.2.2
 *               / IPv4address / reg-name            ; sec. 3.2.2
 *   IPv6address = 1*4HEXDIG groups split by ":", at most one "::",
 *                 optionally ending in a dotted IPv4address that stands
 *                 for the last two groups (RFC 4291 sec. 2.2)
 *   IPv4address = dec-octet 3( "." dec-octet )
 *   dec-octet   = "0" / %x31-39 0*2DIGIT, at most 255 (no leading zeros)
 *   reg-name    = 1*( ALPHA / DIGIT / "-" / "." ), not only DIGIT and "."
 *   port        = 1*5DIGIT, 1..65535                ; sec. 3.2.3
 *   path-abempty, query = *( %x21-22 / %x24-7E )    ; sec. 3.3, 3.4
 *
 * and "{id}" exactly once in path-abempty or query. The path and query
 * rule is wider than sec. 3.3/3.4 (it lets "{", "|", "^" and the like
 * through) and exactly as narrow as a request line needs (RFC 9112
 * sec. 3): nothing that could end or split it. The authority ends at
 * the first "/", "?" or "#", or at the end (sec. 3.2); a "#" there is
 * then reported as a fragment. Hosts (IP literals included) are at most
 * URL_MAX_HOST bytes.
 *
 * Refused, each with its own rc: userinfo (sec. 3.2.1), a fragment
 * (sec. 3.5), "{id}" in the authority. Refused as a bad host: IPvFuture,
 * zone ids (RFC 6874), percent-encoded or non-ASCII names, and names made
 * of digits and dots that are not a dotted quad ("1.2.3", "256.1.1.1",
 * "01.2.3.4"), because resolvers disagree on what those mean.
 *
 * Not done here: percent-decoding, case normalisation, dot-segment
 * removal in the template (it is sent as typed), IDNA, DNS label rules,
 * name resolution. Offsets point at the caller's bytes, so the host keeps
 * the case it was typed in.
 *
 * Redirects (url_resolve): a Location is resolved against the request it
 * answers as RFC 3986 sec. 5.2.2 says, with sec. 5.2.3's merge and sec.
 * 5.2.4's remove_dot_segments on every path the reference supplies, so
 * "../ok/7" from "/a/b/7" asks for "/a/ok/7": a server need not
 * normalise what we send. A reference with no path ("", "?q") keeps the
 * current path as it is, as sec. 5.2.2 says.
 *
 * Request-target (RFC 9112 sec. 3.2.1, origin-form): prefix "{id}" suffix.
 * The prefix always starts at the "/" or "?" that ended the authority and
 * is never empty. When the path is empty ("http://h?id={id}") there is no
 * "/" in the template to point at, so prefix starts at the "?" and
 * url_target() writes the "/" that sec. 3.2.1 requires in front of it.
 * A caller that builds the target itself must do the same.
 *
 * Host header (RFC 9110 sec. 7.2): the host as typed, in brackets for
 * IPv6, and ":port" only if the template named a port other than the
 * scheme's default (RFC 3986 sec. 3.2.3 says to omit the default).
 *
 * On error only error_offset is meaningful (every other field is zero):
 * it is the offending byte, or len when something is missing at the end
 * (an unfinished scheme, no "{id}"). For a bad IP literal it is the first
 * byte of the host; for a host or port out of range, the first byte past
 * the limit or the start of the port; for URL_E_TOO_LONG, prefix_off.
 */
#include "url.h"

#include <string.h>

#define ID_TOKEN "{id}"
#define ID_TOKEN_LEN 4
#define ID_DIGITS_MAX 10 /* any uint32_t, which url_target() accepts */
#define PORT_DIGITS_MAX 5

/* Character classes by hand: <ctype.h> depends on the locale. */
static int
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static unsigned char
to_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

static int
is_alpha(unsigned char c)
{
    c = to_lower(c);
    return c >= 'a' && c <= 'z';
}

static int
is_hex(unsigned char c)
{
    c = to_lower(c);
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

static enum url_rc
fail(struct url_template *u, enum url_rc rc, size_t off)
{
    u->error_offset = off;
    return rc;
}

/* Whether "{id}" starts at s[i], without reading past s[len - 1]. */
static int
id_at(const char *s, size_t len, size_t i)
{
    return len - i >= ID_TOKEN_LEN &&
           memcmp(s + i, ID_TOKEN, ID_TOKEN_LEN) == 0;
}

/*
 * Whether p[0..n) is a dotted quad. Leading zeros are refused: RFC 3986
 * has no such dec-octet, and inet_aton() would read "010" as octal 8.
 */
static int
ipv4_valid(const char *p, size_t n)
{
    size_t i = 0, start;
    unsigned v;
    int octets = 0;

    for (;;) {
        start = i;
        v = 0;
        while (i < n && i - start < 3 && is_digit((unsigned char)p[i]))
            v = v * 10 + (unsigned)(p[i++] - '0');
        if (i == start || v > 255 || (i - start > 1 && p[start] == '0'))
            return 0;
        if (++octets == 4)
            return i == n;
        if (i == n || p[i] != '.')
            return 0;
        i++;
    }
}

/*
 * Whether p[0..n) is an IPv6 address in RFC 4291 sec. 2.2 text form.
 * Each loop turn takes one group and the ":" or "::" after it. Without
 * "::" there must be exactly 8 groups; "::" stands for at least one zero
 * group, so with it there may be at most 7. A dotted IPv4 tail counts as
 * two groups and must be last.
 */
static int
ipv6_valid(const char *p, size_t n)
{
    size_t i = 0, end, k;
    int groups = 0, elided = 0;

    if (n >= 2 && p[0] == ':' && p[1] == ':') {
        elided = 1;
        i = 2;
    }
    while (i < n) {
        for (end = i; end < n && p[end] != ':'; end++)
            ;
        if (end > i && memchr(p + i, '.', end - i)) {
            if (end != n || !ipv4_valid(p + i, end - i))
                return 0;
            groups += 2;
            break;
        }
        for (k = i; k < end && is_hex((unsigned char)p[k]); k++)
            ;
        if (k != end || end == i || end - i > 4)
            return 0;
        groups++;
        i = end;
        if (i == n)
            break;
        i++;
        if (i < n && p[i] == ':') {
            if (elided)
                return 0;
            elided = 1;
            i++;
        } else if (i == n) {
            return 0; /* a single ":" at the end */
        }
    }
    return elided ? groups <= 7 : groups == 8;
}

/* "http://" or "https://" in any case; *pos is set past it. */
static enum url_rc
parse_scheme(struct url_template *u, const char *s, size_t len, size_t *pos)
{
    static const char http[] = "http", sep[] = "://";
    size_t i, k;

    for (i = 0; i < 4; i++)
        if (i == len || to_lower((unsigned char)s[i]) != http[i])
            return fail(u, URL_E_SCHEME, i);
    if (i < len && to_lower((unsigned char)s[i]) == 's') {
        u->tls = 1;
        i++;
    }
    for (k = 0; k < 3; k++, i++)
        if (i == len || s[i] != sep[k])
            return fail(u, URL_E_SCHEME, i);
    *pos = i;
    return URL_OK;
}

/* s[off..end) is what follows the ":" after the host. */
static enum url_rc
parse_port(struct url_template *u, const char *s, size_t off, size_t end)
{
    uint32_t v = 0;
    size_t i;

    if (off == end)
        return fail(u, URL_E_PORT, off);
    for (i = off; i < end; i++) {
        if (!is_digit((unsigned char)s[i]) || i - off == PORT_DIGITS_MAX)
            return fail(u, URL_E_PORT, i);
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return fail(u, URL_E_PORT, off);
    u->port = (uint16_t)v;
    u->port_explicit = 1;
    return URL_OK;
}

/* A bracketed IPv6 literal; s[off] is "[". *pos is set past "]". */
static enum url_rc
parse_ip_literal(struct url_template *u, const char *s, size_t off, size_t end,
                 size_t *pos)
{
    const char *close;

    close = memchr(s + off, ']', end - off);
    if (!close)
        return fail(u, URL_E_HOST, off);
    u->host_off = off + 1;
    u->host_len = (size_t)(close - s) - u->host_off;
    if (u->host_len > URL_MAX_HOST)
        return fail(u, URL_E_HOST, u->host_off + URL_MAX_HOST);
    /* "%" (a zone id) and "v1.x" (IPvFuture) fail here too. */
    if (!ipv6_valid(s + u->host_off, u->host_len))
        return fail(u, URL_E_HOST, u->host_off);
    u->host_is_ip = 1;
    *pos = (size_t)(close - s) + 1;
    return URL_OK;
}

/* A reg-name or IPv4 literal, up to ":" or end; *pos is set past it. */
static enum url_rc
parse_name(struct url_template *u, const char *s, size_t off, size_t end,
           size_t *pos)
{
    size_t i;
    unsigned char c;
    int numeric = 1;

    for (i = off; i < end && s[i] != ':'; i++) {
        c = (unsigned char)s[i];
        if (is_alpha(c) || c == '-')
            numeric = 0;
        else if (!is_digit(c) && c != '.')
            return fail(u, URL_E_HOST, i);
    }
    u->host_off = off;
    u->host_len = i - off;
    if (u->host_len == 0)
        return fail(u, URL_E_HOST, off);
    if (u->host_len > URL_MAX_HOST)
        return fail(u, URL_E_HOST, off + URL_MAX_HOST);
    /* Digits and dots only: an IPv4 literal or nothing. */
    if (numeric) {
        if (!ipv4_valid(s + off, u->host_len))
            return fail(u, URL_E_HOST, off);
        u->host_is_ip = 1;
    }
    *pos = i;
    return URL_OK;
}

/* s[off..end) is the authority: host [ ":" port ]. */
static enum url_rc
parse_authority(struct url_template *u, const char *s, size_t off, size_t end)
{
    enum url_rc rc;
    size_t i;

    /*
     * Look for the two likely mistakes first so they get their own rc
     * rather than "bad host character".
     */
    for (i = off; i < end; i++) {
        if (s[i] == '@')
            return fail(u, URL_E_USERINFO, i);
        if (id_at(s, end, i))
            return fail(u, URL_E_ID_IN_HOST, i);
    }
    if (off < end && s[off] == '[')
        rc = parse_ip_literal(u, s, off, end, &i);
    else
        rc = parse_name(u, s, off, end, &i);
    if (rc != URL_OK)
        return rc;
    u->port = u->tls ? 443 : 80;
    if (i == end)
        return URL_OK;
    if (s[i] != ':')
        return fail(u, URL_E_HOST, i); /* after "]" */
    return parse_port(u, s, i + 1, end);
}

/*
 * s[off..len) is path-abempty [ "?" query ]; s[off] is "/", "?" or "#" if
 * it is not empty. One pass, so the first offending byte is the one
 * reported, whatever its kind.
 */
static enum url_rc
parse_target(struct url_template *u, const char *s, size_t off, size_t len)
{
    size_t i, id_off = 0, need;
    unsigned char c;
    int n_id = 0;

    for (i = off; i < len; i++) {
        c = (unsigned char)s[i];
        if (c == '#')
            return fail(u, URL_E_FRAGMENT, i);
        /* CR, LF or space would end or split the request line. */
        if (c < 0x21 || c > 0x7e)
            return fail(u, URL_E_CHAR, i);
        if (id_at(s, len, i)) {
            if (n_id++ > 0)
                return fail(u, URL_E_MANY_ID, i);
            id_off = i;
            i += ID_TOKEN_LEN - 1; /* "{id}" is all visible ASCII */
        }
    }
    if (n_id == 0)
        return fail(u, URL_E_NO_ID, len);
    u->prefix_off = off;
    u->prefix_len = id_off - off;
    u->suffix_off = id_off + ID_TOKEN_LEN;
    u->suffix_len = len - u->suffix_off;
    need = (s[off] != '/') + u->prefix_len + ID_DIGITS_MAX + u->suffix_len;
    if (need > URL_MAX_TARGET)
        return fail(u, URL_E_TOO_LONG, off);
    return URL_OK;
}

enum url_rc
url_parse_template(struct url_template *u, const char *s, size_t len)
{
    enum url_rc rc;
    size_t off = 0, end;

    memset(u, 0, sizeof *u);
    rc = parse_scheme(u, s, len, &off);
    if (rc == URL_OK) {
        for (end = off; end < len; end++)
            if (s[end] == '/' || s[end] == '?' || s[end] == '#')
                break;
        rc = parse_authority(u, s, off, end);
        if (rc == URL_OK)
            rc = parse_target(u, s, end, len);
    }
    if (rc != URL_OK) {
        /* Half-filled slices must not be mistaken for a result. */
        off = u->error_offset;
        memset(u, 0, sizeof *u);
        u->error_offset = off;
    }
    return rc;
}

int
url_target_ok(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e || c == '#')
            return 0;
    }
    return 1;
}

enum url_rc
url_parse_absolute(struct url_ref *r, const char *s, size_t len)
{
    struct url_template u;
    enum url_rc rc;
    size_t off = 0, end, stop;

    memset(r, 0, sizeof *r);
    memset(&u, 0, sizeof u);
    rc = parse_scheme(&u, s, len, &off);
    if (rc == URL_OK) {
        for (end = off; end < len; end++)
            if (s[end] == '/' || s[end] == '?' || s[end] == '#')
                break;
        rc = parse_authority(&u, s, off, end);
        if (rc == URL_OK) {
            for (stop = end; stop < len && s[stop] != '#'; stop++)
                if (!url_target_ok(s + stop, 1)) {
                    rc = fail(&u, URL_E_CHAR, stop);
                    break;
                }
            if (rc == URL_OK && stop - end > URL_MAX_TARGET - 1)
                rc = fail(&u, URL_E_TOO_LONG, end);
            r->target_off = end;
            r->target_len = stop - end;
        }
    }
    if (rc != URL_OK) {
        r->target_off = r->target_len = 0;
        r->error_offset = u.error_offset;
        return rc;
    }
    r->tls = u.tls;
    r->port = u.port;
    r->port_explicit = u.port_explicit;
    r->host_is_ip = u.host_is_ip;
    r->host_off = u.host_off;
    r->host_len = u.host_len;
    return URL_OK;
}

size_t
url_ref_authority(const struct url_ref *r, const char *s, char *out,
                  size_t cap)
{
    struct url_template u;

    memset(&u, 0, sizeof u);
    u.tls = r->tls;
    u.port = r->port;
    u.port_explicit = r->port_explicit;
    u.host_off = r->host_off;
    u.host_len = r->host_len;
    return url_authority(&u, s, out, cap);
}

size_t
url_ref_target(const struct url_ref *r, const char *s, char *out, size_t cap)
{
    /* "http://h" and "http://h?q" ask for "/" and "/?q" (RFC 9112
       sec. 3.2.1: an empty path is sent as "/"). */
    size_t slash = r->target_len == 0 || s[r->target_off] != '/';

    if (slash + r->target_len > cap)
        return 0;
    out[0] = '/';
    memcpy(out + slash, s + r->target_off, r->target_len);
    return slash + r->target_len;
}

/*
 * RFC 3986 sec. 5.2.4 on the path s[0..len), in place; returns the new
 * length. The input is read at r and the output written at w <= r, so
 * one buffer serves as both: rule B and C's "replace with /" moves r
 * onto a "/" (writing one where "/." or "/.." ends the path, over a byte
 * already read), never w past r.
 */
static size_t
remove_dot_segments(char *s, size_t len)
{
    size_t r = 0, w = 0, left;

    while (r < len) {
        left = len - r;
        if (left >= 3 && memcmp(s + r, "../", 3) == 0) {
            r += 3; /* A */
        } else if (left >= 2 && memcmp(s + r, "./", 2) == 0) {
            r += 2; /* A */
        } else if (left >= 3 && memcmp(s + r, "/./", 3) == 0) {
            r += 2; /* B */
        } else if (left == 2 && memcmp(s + r, "/.", 2) == 0) {
            s[++r] = '/'; /* B, at the end */
        } else if ((left >= 4 && memcmp(s + r, "/../", 4) == 0) ||
                   (left == 3 && memcmp(s + r, "/..", 3) == 0)) {
            r += left == 3 ? 2 : 3; /* C */
            s[r] = '/';
            while (w > 0 && s[--w] != '/')
                ; /* drop the last output segment and its "/" */
        } else if ((left == 1 && s[r] == '.') ||
                   (left == 2 && memcmp(s + r, "..", 2) == 0)) {
            r = len; /* D */
        } else {
            do { /* E: the first segment, with its leading "/" */
                s[w++] = s[r++];
            } while (r < len && s[r] != '/');
        }
    }
    return w;
}

/* In s[0..len), remove the dot segments of the path that starts at off
   and ends at "?" or the end; returns the new length. */
static size_t
normalise_path(char *s, size_t off, size_t len)
{
    const char *q = memchr(s + off, '?', len - off);
    size_t end = q ? (size_t)(q - s) : len;
    size_t path = remove_dot_segments(s + off, end - off);

    memmove(s + off + path, s + end, len - end);
    return len - (end - off - path);
}

/* An RFC 3986 scheme followed by ":" at the start of p[0..n). */
static int
has_scheme(const char *p, size_t n)
{
    size_t i;

    if (!n || !is_alpha((unsigned char)p[0]))
        return 0;
    for (i = 1; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == ':')
            return 1;
        if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' &&
            c != '.')
            return 0;
    }
    return 0;
}

enum url_rc
url_resolve(int cur_tls, const char *cur, size_t cur_len, const char *loc,
            size_t n, char *out, size_t cap, size_t *out_len,
            struct url_ref *ref, int *absolute)
{
    const char *hash = memchr(loc, '#', n);
    enum url_rc rc;
    size_t dir, k, len;
    int has_path;

    *out_len = 0;
    *absolute = 0;
    if (hash)
        n = (size_t)(hash - loc); /* a fragment is never sent */
    if (has_scheme(loc, n) || (n >= 2 && loc[0] == '/' && loc[1] == '/')) {
        /* It names an origin: parse it whole ("//host" keeps the scheme),
           then again once its path has lost its dot segments. */
        k = has_scheme(loc, n) ? 0 : (cur_tls ? 6 : 5);
        if (k + n > cap)
            return URL_E_TOO_LONG;
        memcpy(out, cur_tls ? "https:" : "http:", k);
        memcpy(out + k, loc, n);
        *absolute = 1;
        rc = url_parse_absolute(ref, out, k + n);
        if (rc != URL_OK)
            return rc;
        *out_len = normalise_path(out, ref->target_off, k + n);
        return url_parse_absolute(ref, out, *out_len);
    }
    /* sec. 5.2.2: "" and "?q" keep the current path as it is; "/p" is
       its own path; any other path is merged with the current one, up
       to its last "/" (sec. 5.2.3: our target's path is never empty). */
    has_path = n > 0 && loc[0] != '?';
    if (n > 0 && loc[0] == '/') {
        dir = 0;
    } else {
        const char *q = memchr(cur, '?', cur_len);
        size_t path_len = q ? (size_t)(q - cur) : cur_len;

        for (dir = path_len; dir > 0 && cur[dir - 1] != '/'; dir--)
            ;
        if (n == 0)
            dir = cur_len;
        else if (loc[0] == '?')
            dir = path_len;
    }
    if (dir + n > cap)
        return URL_E_TOO_LONG;
    memcpy(out, cur, dir);
    memcpy(out + dir, loc, n);
    len = has_path ? normalise_path(out, 0, dir + n) : dir + n;
    if (len > URL_MAX_TARGET - 1)
        return URL_E_TOO_LONG;
    *out_len = len;
    return url_target_ok(out, len) ? URL_OK : URL_E_CHAR;
}

/*
 * Write v in decimal at the end of buf[ID_DIGITS_MAX]; return the number
 * of digits, which start at buf + ID_DIGITS_MAX - that number.
 */
static size_t
decimal(char *buf, uint32_t v)
{
    size_t n = 0;

    do {
        buf[ID_DIGITS_MAX - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    return n;
}

/* Writes no NUL: the result is out[0..returned length). */
size_t
url_target(const struct url_template *u, const char *s, uint32_t id, char *out,
           size_t cap)
{
    char digits[ID_DIGITS_MAX];
    size_t n_digits, slash, len;

    n_digits = decimal(digits, id);
    /* See the header comment: an empty path before "?" becomes "/". */
    slash = u->prefix_len == 0 || s[u->prefix_off] != '/';
    len = slash + u->prefix_len + n_digits + u->suffix_len;
    if (len > cap)
        return 0;
    if (slash)
        out[0] = '/';
    memcpy(out + slash, s + u->prefix_off, u->prefix_len);
    memcpy(out + slash + u->prefix_len, digits + ID_DIGITS_MAX - n_digits,
           n_digits);
    memcpy(out + slash + u->prefix_len + n_digits, s + u->suffix_off,
           u->suffix_len);
    return len;
}

/* Writes no NUL: the result is out[0..returned length). */
size_t
url_authority(const struct url_template *u, const char *s, char *out,
              size_t cap)
{
    char digits[ID_DIGITS_MAX];
    size_t n_digits = 0, bracket, len, at;

    /* Of the three host kinds only an IPv6 literal contains ":". */
    bracket = u->host_len > 0 && memchr(s + u->host_off, ':', u->host_len);
    if (u->port_explicit && u->port != (u->tls ? 443 : 80))
        n_digits = decimal(digits, u->port);
    len = 2 * bracket + u->host_len + (n_digits ? 1 + n_digits : 0);
    if (len > cap)
        return 0;
    at = 0;
    if (bracket)
        out[at++] = '[';
    memcpy(out + at, s + u->host_off, u->host_len);
    at += u->host_len;
    if (bracket)
        out[at++] = ']';
    if (n_digits) {
        out[at++] = ':';
        memcpy(out + at, digits + ID_DIGITS_MAX - n_digits, n_digits);
    }
    return len;
}

/*
 * One decimal id at s[*pos], 0..URL_MAX_ID, leading zeros allowed; *pos
 * is set past it. The bound is checked before each digit is added, so a
 * long run of digits cannot wrap around to a small value.
 */
static int
parse_id(const char *s, size_t len, size_t *pos, uint32_t *id)
{
    size_t i = *pos;
    uint32_t v = 0, d;

    if (i == len || !is_digit((unsigned char)s[i]))
        return 0;
    for (; i < len && is_digit((unsigned char)s[i]); i++) {
        d = (uint32_t)(s[i] - '0');
        if (v > (URL_MAX_ID - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *pos = i;
    *id = v;
    return 1;
}

/* *first and *last are written only on URL_OK. */
enum url_rc
url_parse_ids(const char *s, size_t len, uint32_t *first, uint32_t *last)
{
    size_t i = 0;
    uint32_t a, b;

    if (!parse_id(s, len, &i, &a))
        return URL_E_ID;
    b = a;
    if (i < len) {
        if (s[i] != '-')
            return URL_E_ID;
        i++;
        if (!parse_id(s, len, &i, &b) || i != len || a > b)
            return URL_E_ID;
    }
    *first = a;
    *last = b;
    return URL_OK;
}

int
url_host_is_localhost(const char *s, size_t len)
{
    static const char name[] = "localhost";
    const size_t n = sizeof name - 1;
    size_t i;

    if (len > 0 && s[len - 1] == '.')
        len--; /* the root label: "localhost." is the same name */
    if (len < n || (len > n && s[len - n - 1] != '.'))
        return 0;
    for (i = 0; i < n; i++)
        if (to_lower((unsigned char)s[len - n + i]) != name[i])
            return 0;
    /* What is left in front of ".localhost" must be labels: no empty one
       (a resolver would refuse the name; so does this). */
    if (len > n && (s[0] == '.' || len == n + 1))
        return 0;
    for (i = 0; i + 1 < len; i++)
        if (s[i] == '.' && s[i + 1] == '.')
            return 0;
    return 1;
}

const char *
url_strerror(enum url_rc rc)
{
    switch (rc) {
    case URL_OK:
        return "ok";
    case URL_E_SCHEME:
        return "URL does not start with http:// or https://";
    case URL_E_HOST:
        return "bad host: empty, too long, bad character or bad IP literal";
    case URL_E_PORT:
        return "port is not a number in 1..65535";
    case URL_E_USERINFO:
        return "user@ in URL is not supported";
    case URL_E_CHAR:
        return "space, control or non-ASCII byte in URL path or query";
    case URL_E_FRAGMENT:
        return "fragment (#) in URL is not supported";
    case URL_E_NO_ID:
        return "no {id} in URL path or query";
    case URL_E_MANY_ID:
        return "{id} appears more than once in URL";
    case URL_E_ID_IN_HOST:
        return "{id} must be in the URL path or query, not the host";
    case URL_E_TOO_LONG:
        return "URL path and query too long for a request line";
    case URL_E_ID:
        return "bad id: want N or A-B, decimal 0..999999999, A <= B";
    }
    return "unknown URL error";
}
