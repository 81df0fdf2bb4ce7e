/*
 * fuzz_url.c - libFuzzer harness for the url module (include/url.h).
 *
 * Input: 4 control bytes, then the text. The control bytes give a uint32
 * id (little-endian). The text goes to all three parsers:
 *
 *   url_parse_template: compared with a reference written here from the
 *     header's grammar (IP literals checked with inet_pton), which must
 *     agree on accept/refuse and, on accept, on every field; then the
 *     offsets must tile the template (prefix "{id}" suffix, suffix to
 *     the end), url_target() must give exactly "/"? prefix id suffix for
 *     any id, made of request-line bytes only, url_authority() exactly
 *     host (bracketed for IPv6) and a non-default port, both within cap
 *     and returning 0 one byte short.
 *   url_parse_absolute (a redirect's Location): compared with a
 *     reference (the template's scheme and authority, then a target of
 *     request-line bytes cut at the first "#"), which must agree on
 *     accept/refuse and every field; the target must be a slice of the
 *     input that url_target_ok() passes, followed by nothing or "#",
 *     within URL_MAX_TARGET with the "/" sched.c may put in front;
 *     url_ref_authority() like url_authority(). Every accepted template
 *     must be accepted here too, with the same origin and its path and
 *     query as the target. url_target_ok() is checked on the text.
 *   url_parse_ids: compared with a reference, and round-tripped: the
 *     values printed in decimal parse back to themselves.
 *   url_resolve (a Location against the base target "/b/c/d;p?q", the
 *     scheme from bit 0 of the first control byte): compared with a
 *     reference of RFC 3986 sec. 5.2.2 whose remove_dot_segments is a
 *     segment stack (a different formulation from url.c's in-place
 *     scan of sec. 5.2.4): the same rc, and on success the same target,
 *     and for a Location naming an origin the same origin as
 *     url_parse_absolute gives.
 *
 * The error code of a refused template is not compared: url.h does not
 * say which of several problems wins. Two corners url.h leaves open are
 * settled as url.c documents them (see the reference's comments).
 */
#include "fuzz.h"
#include "url.h"

#include <arpa/inet.h>
#include <inttypes.h>

#define ID_TOKEN "{id}"
#define ID_TOKEN_LEN 4

/* What the reference makes of a template; mirrors struct url_template. */
struct ref_url {
    int tls, port_explicit, host_is_ip, bracket;
    unsigned port;
    size_t host_off, host_len;
    size_t prefix_off, prefix_len, suffix_off, suffix_len;
};

enum { REF_NO, REF_YES, REF_EITHER };

static int
ci_prefix(const char *s, size_t len, const char *word)
{
    size_t i, n = strlen(word);

    if (len < n)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        if (c != (unsigned char)word[i])
            return 0;
    }
    return 1;
}

static int
is_dig(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int
is_name_byte(unsigned char c)
{
    return is_dig(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '-' || c == '.';
}

/* Occurrences of "{id}" in s[0..n), and the offset of the first. */
static size_t
count_ids(const char *s, size_t n, size_t *first)
{
    size_t i, k = 0;

    for (i = 0; i + ID_TOKEN_LEN <= n; i++) {
        if (memcmp(s + i, ID_TOKEN, ID_TOKEN_LEN) == 0) {
            if (k++ == 0)
                *first = i;
            i += ID_TOKEN_LEN - 1;
        }
    }
    return k;
}

/* inet_pton on s[0..n), which it wants NUL-terminated. */
static int
is_ip(int af, const char *s, size_t n)
{
    char z[64];
    unsigned char bin[16];

    if (n >= sizeof z || memchr(s, '\0', n))
        return 0;
    memcpy(z, s, n);
    z[n] = '\0';
    return inet_pton(af, z, bin) == 1;
}

/*
 * Scheme and authority, common to templates and absolute URLs: returns
 * REF_YES with *r's scheme, host and port filled and *auth_end where the
 * authority ends (at the first "/", "?", "#" or the end), or REF_NO.
 * Settled as url.c documents, url.h being silent: a host of digits and
 * dots only must be a dotted quad (url.h's reg-name rule alone would
 * accept "1.2.3" or ".").
 */
static int
ref_origin(const char *s, size_t len, struct ref_url *r, size_t *auth_end)
{
    size_t i, end, k, a;
    const char *close;
    unsigned long port;
    int numeric = 1;

    memset(r, 0, sizeof *r);
    if (ci_prefix(s, len, "https://")) {
        r->tls = 1;
        i = 8;
    } else if (ci_prefix(s, len, "http://")) {
        i = 7;
    } else {
        return REF_NO;
    }
    /* RFC 3986 sec. 3.2: the authority ends at "/", "?", "#" or the end. */
    for (end = i; end < len; end++)
        if (s[end] == '/' || s[end] == '?' || s[end] == '#')
            break;
    if (memchr(s + i, '@', end - i) || count_ids(s + i, end - i, &k) > 0)
        return REF_NO;
    if (i < end && s[i] == '[') {
        close = memchr(s + i, ']', end - i);
        if (!close)
            return REF_NO;
        r->host_off = i + 1;
        r->host_len = (size_t)(close - s) - r->host_off;
        if (!is_ip(AF_INET6, s + r->host_off, r->host_len))
            return REF_NO;
        r->host_is_ip = r->bracket = 1;
        a = (size_t)(close - s) + 1;
    } else {
        for (k = i; k < end && s[k] != ':'; k++) {
            if (!is_name_byte((unsigned char)s[k]))
                return REF_NO;
            if (!is_dig((unsigned char)s[k]) && s[k] != '.')
                numeric = 0;
        }
        r->host_off = i;
        r->host_len = k - i;
        if (r->host_len == 0 || r->host_len > URL_MAX_HOST)
            return REF_NO;
        if (numeric) {
            if (!is_ip(AF_INET, s + i, r->host_len))
                return REF_NO;
            r->host_is_ip = 1;
        }
        a = k;
    }
    r->port = r->tls ? 443 : 80;
    if (a < end) {
        if (s[a] != ':' || end - (a + 1) < 1 || end - (a + 1) > 5)
            return REF_NO;
        port = 0;
        for (k = a + 1; k < end; k++) {
            if (!is_dig((unsigned char)s[k]))
                return REF_NO;
            port = port * 10 + (unsigned long)(s[k] - '0');
        }
        if (port < 1 || port > 65535)
            return REF_NO;
        r->port = (unsigned)port;
        r->port_explicit = 1;
    }
    *auth_end = end;
    return REF_YES;
}

/*
 * The template grammar of url.h, read plainly. Returns REF_YES (and
 * fills *r), REF_NO, or REF_EITHER for the one window url.h leaves open.
 * Settled as url.c documents, url.h being silent: the host as in
 * ref_origin(), and URL_E_TOO_LONG counts 10 id digits (any uint32_t)
 * where ids go up to URL_MAX_ID (9 digits): a target that fits with 9
 * but not 10 may go either way.
 */
static int
ref_template(const char *s, size_t len, struct ref_url *r)
{
    size_t end, k, id_off = 0, need;

    if (ref_origin(s, len, r, &end) != REF_YES)
        return REF_NO;
    /* Path and query: visible ASCII, no "#", "{id}" exactly once. */
    for (k = end; k < len; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c < 0x21 || c > 0x7e || c == '#')
            return REF_NO;
    }
    if (count_ids(s + end, len - end, &id_off) != 1)
        return REF_NO;
    r->prefix_off = end;
    r->prefix_len = id_off;
    r->suffix_off = end + id_off + ID_TOKEN_LEN;
    r->suffix_len = len - r->suffix_off;
    need = (s[end] != '/') + r->prefix_len + r->suffix_len;
    if (need + 10 <= URL_MAX_TARGET)
        return REF_YES;
    return need + 9 <= URL_MAX_TARGET ? REF_EITHER : REF_NO;
}

/*
 * "N" or "A-B" as url.h states it: decimal, leading zeros allowed, each
 * 0..URL_MAX_ID, A <= B. Returns 1 with *a, *b set, or 0.
 */
static int
ref_ids(const char *s, size_t n, uint32_t *a, uint32_t *b)
{
    uint64_t v[2] = {0, 0}, x;
    size_t i = 0, start;
    int k = 0;

    for (;;) {
        start = i;
        x = 0;
        while (i < n && is_dig((unsigned char)s[i])) {
            x = x * 10 + (uint64_t)(s[i] - '0');
            if (x > URL_MAX_ID)
                x = (uint64_t)URL_MAX_ID + 1; /* saturate: stays out */
            i++;
        }
        if (i == start || x > URL_MAX_ID)
            return 0;
        v[k++] = x;
        if (i == n)
            break;
        if (k == 2 || s[i] != '-')
            return 0;
        i++;
    }
    if (k == 1)
        v[1] = v[0];
    if (v[0] > v[1])
        return 0;
    *a = (uint32_t)v[0];
    *b = (uint32_t)v[1];
    return 1;
}

/* strerror must name every code it can be given. */
static void
check_strerror(enum url_rc rc)
{
    const char *m = url_strerror(rc);

    FUZZ_CHECK(m != NULL && m[0] != '\0', "url_strerror(%d)", (int)rc);
}

/* Bytes allowed on a request line in a target: VCHAR, no "#". */
static int
target_byte(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != '#';
}

/* url_target for id, against the expected bytes, at several caps. */
static void
check_target(const struct url_template *u, const char *s, uint32_t id,
             char *want, size_t *want_len)
{
    char digits[16], *out;
    size_t n = 0, nd, got, i;
    int slash = s[u->prefix_off] != '/';

    nd = (size_t)snprintf(digits, sizeof digits, "%" PRIu32, id);
    if (slash)
        want[n++] = '/';
    memcpy(want + n, s + u->prefix_off, u->prefix_len);
    n += u->prefix_len;
    memcpy(want + n, digits, nd);
    n += nd;
    memcpy(want + n, s + u->suffix_off, u->suffix_len);
    n += u->suffix_len;
    *want_len = n;

    FUZZ_CHECK(want[0] == '/', "origin-form target must start with /");
    for (i = 0; i < n; i++)
        FUZZ_CHECK(target_byte((unsigned char)want[i]),
                   "target byte 0x%02x at %zu is not for a request line",
                   (unsigned char)want[i], i);
    if (id <= URL_MAX_ID)
        FUZZ_CHECK(n <= URL_MAX_TARGET,
                   "accepted template makes a %zu-byte target", n);

    /* Exact cap: fits. The block is exactly cap bytes, for ASan. */
    out = fuzz_alloc(n);
    got = url_target(u, s, id, out, n);
    FUZZ_CHECK(got == n, "url_target gave %zu, want %zu", got, n);
    FUZZ_CHECK(memcmp(out, want, n) == 0, "url_target bytes differ");
    free(out);
    /* One short: 0, and nothing written past cap. */
    out = fuzz_alloc(n - 1);
    got = url_target(u, s, id, out, n - 1);
    FUZZ_CHECK(got == 0, "url_target into cap %zu gave %zu", n - 1, got);
    free(out);
    if (id <= URL_MAX_ID) {
        out = fuzz_alloc(URL_MAX_TARGET);
        got = url_target(u, s, id, out, URL_MAX_TARGET);
        FUZZ_CHECK(got == n, "url_target with URL_MAX_TARGET gave %zu", got);
        free(out);
    }
}

/* url_authority against the expected bytes; returns them in want. */

/* The authority a request carries for host (brackets for an IPv6
   literal) and port (left out when it is the scheme's default), written
   to want; returns its length. */
static size_t
want_authority(const char *host, size_t host_len, int bracket, int tls,
               unsigned port, char *want)
{
    size_t n = 0;

    if (bracket)
        want[n++] = '[';
    memcpy(want + n, host, host_len);
    n += host_len;
    if (bracket)
        want[n++] = ']';
    if (port != (tls ? 443u : 80u))
        n += (size_t)snprintf(want + n, 8, ":%u", port);
    return n;
}
static void
check_authority(const struct url_template *u, const struct ref_url *r,
                const char *s, char *want, size_t *want_len)
{
    char *out;
    size_t n, got;

    n = want_authority(s + u->host_off, u->host_len, r->bracket, u->tls,
                       u->port, want);
    *want_len = n;

    out = fuzz_alloc(n);
    got = url_authority(u, s, out, n);
    FUZZ_CHECK(got == n, "url_authority gave %zu, want %zu", got, n);
    FUZZ_CHECK(memcmp(out, want, n) == 0, "url_authority bytes differ");
    free(out);
    out = fuzz_alloc(n - 1);
    got = url_authority(u, s, out, n - 1);
    FUZZ_CHECK(got == 0, "url_authority into cap %zu gave %zu", n - 1, got);
    free(out);
}

static enum url_rc
fuzz_template(const char *s, size_t len, uint32_t raw_id,
              struct url_template *out)
{
    struct url_template u;
    struct ref_url r;
    enum url_rc rc;
    int want;
    size_t tlen, alen;
    char *target, auth[URL_MAX_HOST + 16];

    rc = url_parse_template(&u, s, len);
    check_strerror(rc);
    want = ref_template(s, len, &r);
    FUZZ_CHECK(rc >= URL_OK && rc <= URL_E_ID, "rc %d out of range",
               (int)rc);
    if (rc != URL_OK) {
        FUZZ_CHECK(want != REF_YES, "refused (%s at %zu), reference accepts",
                   url_strerror(rc), u.error_offset);
        FUZZ_CHECK(u.error_offset <= len, "error_offset %zu past len %zu",
                   u.error_offset, len);
        *out = u;
        return rc;
    }
    FUZZ_CHECK(want != REF_NO, "accepted, reference refuses");
    FUZZ_CHECK(u.tls == r.tls && u.port == r.port &&
                   !u.port_explicit == !r.port_explicit &&
                   !u.host_is_ip == !r.host_is_ip,
               "tls/port/ip differ: got %d/%u/%d/%d want %d/%u/%d/%d",
               u.tls, (unsigned)u.port, u.port_explicit, u.host_is_ip,
               r.tls, r.port, r.port_explicit, r.host_is_ip);
    FUZZ_CHECK(u.host_off == r.host_off && u.host_len == r.host_len,
               "host %zu+%zu, want %zu+%zu", u.host_off, u.host_len,
               r.host_off, r.host_len);
    FUZZ_CHECK(u.prefix_off == r.prefix_off && u.prefix_len == r.prefix_len &&
                   u.suffix_off == r.suffix_off &&
                   u.suffix_len == r.suffix_len,
               "prefix %zu+%zu suffix %zu+%zu, want %zu+%zu %zu+%zu",
               u.prefix_off, u.prefix_len, u.suffix_off, u.suffix_len,
               r.prefix_off, r.prefix_len, r.suffix_off, r.suffix_len);

    /* Offsets inside the input and tiling it (independent of ref). */
    FUZZ_CHECK(u.host_len >= 1 && u.host_len <= URL_MAX_HOST &&
                   u.host_off + u.host_len <= u.prefix_off,
               "host slice out of place");
    FUZZ_CHECK(u.prefix_len >= 1 && u.prefix_off + u.prefix_len <= len &&
                   (s[u.prefix_off] == '/' || s[u.prefix_off] == '?'),
               "prefix must start at the / or ? ending the authority");
    FUZZ_CHECK(u.suffix_off == u.prefix_off + u.prefix_len + ID_TOKEN_LEN &&
                   memcmp(s + u.prefix_off + u.prefix_len, ID_TOKEN,
                          ID_TOKEN_LEN) == 0,
               "{id} is not between prefix and suffix");
    FUZZ_CHECK(u.suffix_off + u.suffix_len == len,
               "suffix does not run to the end");
    FUZZ_CHECK(u.port >= 1 && (u.port_explicit ||
                               u.port == (u.tls ? 443 : 80)),
               "port %u", (unsigned)u.port);

    target = fuzz_alloc(len + 16);
    check_target(&u, s, raw_id % (URL_MAX_ID + 1), target, &tlen);
    check_target(&u, s, raw_id, target, &tlen);
    check_target(&u, s, URL_MAX_ID, target, &tlen);
    check_authority(&u, &r, s, auth, &alen);
    free(target);
    *out = u;
    return rc;
}

/*
 * An absolute URL (url.h's struct url_ref): the origin as in a template,
 * then a target of request-line bytes up to the first "#", where the
 * rest (the fragment) is cut off, unchecked. Returns REF_YES with *r
 * (prefix_off/len: the target), REF_NO, or REF_EITHER for a window
 * url.h leaves open: url.c refuses a target of URL_MAX_TARGET bytes
 * (it keeps one byte for the "/" sched.c puts in front of "?query" or
 * an empty path), which would fit as it is when it starts with "/".
 */
static int
ref_absolute(const char *s, size_t len, struct ref_url *r)
{
    size_t end, stop, k;

    if (ref_origin(s, len, r, &end) != REF_YES)
        return REF_NO;
    for (stop = end; stop < len && s[stop] != '#'; stop++)
        ;
    for (k = end; k < stop; k++)
        if (!target_byte((unsigned char)s[k]))
            return REF_NO;
    r->prefix_off = end;
    r->prefix_len = stop - end;
    if (r->prefix_len < URL_MAX_TARGET)
        return REF_YES;
    return r->prefix_len == URL_MAX_TARGET && s[end] == '/' ? REF_EITHER
                                                            : REF_NO;
}

/* url_ref_authority, as check_authority does url_authority. */
static void
check_ref_authority(const struct url_ref *u, const struct ref_url *r,
                    const char *s)
{
    char want[URL_MAX_HOST + 16], *out;
    size_t n, got;

    n = want_authority(s + u->host_off, u->host_len, r->bracket, u->tls,
                       u->port, want);

    out = fuzz_alloc(n);
    got = url_ref_authority(u, s, out, n);
    FUZZ_CHECK(got == n, "url_ref_authority gave %zu, want %zu", got, n);
    FUZZ_CHECK(memcmp(out, want, n) == 0, "url_ref_authority bytes differ");
    free(out);
    out = fuzz_alloc(n - 1);
    got = url_ref_authority(u, s, out, n - 1);
    FUZZ_CHECK(got == 0, "url_ref_authority into cap %zu gave %zu", n - 1,
               got);
    free(out);
}

/*
 * url_parse_absolute against ref_absolute; an accepted template must be
 * an accepted absolute URL with the same origin, its whole path and
 * query the target (tpl: url_parse_template's result, tpl_rc its rc).
 */
static void
fuzz_absolute(const char *s, size_t len, const struct url_template *tpl,
              enum url_rc tpl_rc)
{
    struct url_ref u;
    struct ref_url r;
    enum url_rc rc;
    int want;

    memset(&u, 0xa5, sizeof u);
    rc = url_parse_absolute(&u, s, len);
    check_strerror(rc);
    FUZZ_CHECK(rc >= URL_OK && rc <= URL_E_ID, "rc %d out of range",
               (int)rc);
    want = ref_absolute(s, len, &r);
    if (tpl_rc == URL_OK)
        FUZZ_CHECK(rc == URL_OK && u.target_off == tpl->prefix_off &&
                       u.target_len == len - tpl->prefix_off,
                   "a template that is not the same absolute URL (%s)",
                   url_strerror(rc));
    if (rc != URL_OK) {
        FUZZ_CHECK(want != REF_YES,
                   "absolute refused (%s at %zu), reference accepts",
                   url_strerror(rc), u.error_offset);
        FUZZ_CHECK(u.error_offset <= len, "error_offset %zu past len %zu",
                   u.error_offset, len);
        FUZZ_CHECK(u.target_off == 0 && u.target_len == 0,
                   "refused, but a target %zu+%zu", u.target_off,
                   u.target_len);
        return;
    }
    FUZZ_CHECK(want != REF_NO, "absolute accepted, reference refuses");
    FUZZ_CHECK(u.tls == r.tls && u.port == r.port &&
                   !u.port_explicit == !r.port_explicit &&
                   !u.host_is_ip == !r.host_is_ip,
               "absolute tls/port/ip differ: got %d/%u/%d/%d want "
               "%d/%u/%d/%d",
               u.tls, (unsigned)u.port, u.port_explicit, u.host_is_ip,
               r.tls, r.port, r.port_explicit, r.host_is_ip);
    FUZZ_CHECK(u.host_off == r.host_off && u.host_len == r.host_len &&
                   u.host_len >= 1 && u.host_len <= URL_MAX_HOST,
               "absolute host %zu+%zu, want %zu+%zu", u.host_off,
               u.host_len, r.host_off, r.host_len);
    FUZZ_CHECK(u.target_off == r.prefix_off && u.target_len == r.prefix_len,
               "target %zu+%zu, want %zu+%zu", u.target_off, u.target_len,
               r.prefix_off, r.prefix_len);
    /* Within the input, sendable, followed by nothing or the fragment;
       the target sched.c makes from it fits URL_MAX_TARGET. */
    FUZZ_CHECK(u.host_off + u.host_len <= u.target_off &&
                   u.target_off + u.target_len <= len &&
                   (u.target_off + u.target_len == len ||
                    s[u.target_off + u.target_len] == '#'),
               "target slice out of place");
    FUZZ_CHECK(url_target_ok(s + u.target_off, u.target_len),
               "target has bytes a request line cannot carry");
    FUZZ_CHECK(u.target_len + (u.target_len == 0 || s[u.target_off] != '/') <=
                   URL_MAX_TARGET,
               "target of %zu bytes", u.target_len);
    if (tpl_rc == URL_OK)
        FUZZ_CHECK(u.tls == tpl->tls && u.port == tpl->port &&
                       u.host_off == tpl->host_off &&
                       u.host_len == tpl->host_len &&
                       !u.host_is_ip == !tpl->host_is_ip &&
                       !u.port_explicit == !tpl->port_explicit,
                   "absolute and template origins differ");
    check_ref_authority(&u, &r, s);
}

/* url_target_ok on the text, byte by byte against target_byte(). */
static void
check_target_ok(const char *s, size_t len)
{
    size_t i;
    int want = 1;

    for (i = 0; i < len; i++)
        want &= target_byte((unsigned char)s[i]);
    FUZZ_CHECK(url_target_ok(s, len) == want, "url_target_ok says %d",
               !want);
}

static void
fuzz_ids(const char *s, size_t len)
{
    uint32_t a = 7, b = 7, ra = 0, rb = 0, a2, b2;
    enum url_rc rc;
    char buf[32];
    int ok, n;

    rc = url_parse_ids(s, len, &a, &b);
    check_strerror(rc);
    ok = ref_ids(s, len, &ra, &rb);
    FUZZ_CHECK((rc == URL_OK) == ok, "url_parse_ids rc %d, reference %d",
               (int)rc, ok);
    if (!ok) {
        FUZZ_CHECK(rc == URL_E_ID, "ids refused with rc %d", (int)rc);
        return;
    }
    FUZZ_CHECK(a == ra && b == rb, "ids %u-%u, want %u-%u", (unsigned)a,
               (unsigned)b, (unsigned)ra, (unsigned)rb);

    /* Round trip, single and range forms, through exact-size copies. */
    n = snprintf(buf, sizeof buf, "%" PRIu32, a);
    {
        char *c = fuzz_dup(buf, (size_t)n);
        FUZZ_CHECK(url_parse_ids(c, (size_t)n, &a2, &b2) == URL_OK &&
                       a2 == a && b2 == a,
                   "\"%s\" does not parse back", buf);
        free(c);
    }
    n = snprintf(buf, sizeof buf, "%" PRIu32 "-%" PRIu32, a, b);
    {
        char *c = fuzz_dup(buf, (size_t)n);
        FUZZ_CHECK(url_parse_ids(c, (size_t)n, &a2, &b2) == URL_OK &&
                       a2 == a && b2 == b,
                   "\"%s\" does not parse back", buf);
        free(c);
    }
}

#define RESOLVE_BASE "/b/c/d;p?q"
#define RESOLVE_DIR 5 /* "/b/c/" */
#define RESOLVE_CAP (URL_MAX_TARGET + 8) /* as sched.c */

/*
 * A path that starts with "/" without its dot segments, by a stack of
 * segments: "." is dropped, ".." drops the last kept one (none above the
 * root), and a final "." or ".." leaves the path ending in "/".
 * Appends to out (at least n + 1 bytes free), returns the bytes added.
 */
static size_t
ref_remove_dots(const char *p, size_t n, char *out)
{
    static size_t seg_at[RESOLVE_CAP];
    size_t depth = 0, len = 0, i = 1, e;

    FUZZ_CHECK(n > 0 && p[0] == '/', "ref_remove_dots on '%.*s'", (int)n, p);
    while (i <= n) {
        for (e = i; e < n && p[e] != '/'; e++)
            ;
        if ((e - i == 1 && p[i] == '.') ||
            (e - i == 2 && p[i] == '.' && p[i + 1] == '.')) {
            if (e - i == 2 && depth > 0)
                len = seg_at[--depth];
            if (e == n)
                out[len++] = '/'; /* the path ends in a directory */
        } else {
            seg_at[depth++] = len;
            out[len++] = '/';
            memcpy(out + len, p + i, e - i);
            len += e - i;
        }
        i = e + 1;
    }
    return len ? len : (out[0] = '/', 1);
}

/* RFC 3986 sec. 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":". */
static int
ref_scheme(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n && s[i] != ':'; i++) {
        unsigned char c = (unsigned char)(s[i] | 0x20);
        int alpha = c >= 'a' && c <= 'z';

        if (!alpha && (i == 0 || !((s[i] >= '0' && s[i] <= '9') ||
                                   s[i] == '+' || s[i] == '-' ||
                                   s[i] == '.')))
            return 0;
    }
    return i > 0 && i < n;
}

/* Appends path (dots removed when it has any bytes) and query. */
static size_t
ref_target(char *out, const char *path, size_t path_len, const char *query,
           size_t query_len)
{
    size_t len = path_len ? ref_remove_dots(path, path_len, out) : 0;

    memcpy(out + len, query, query_len);
    return len + query_len;
}

static void
fuzz_resolve(const char *s, size_t len, int tls)
{
    static char out[RESOLVE_CAP], want[2 * RESOLVE_CAP + 16], buf[RESOLVE_CAP];
    const char *hash = memchr(s, '#', len), *q;
    size_t n = hash ? (size_t)(hash - s) : len, out_len = 7, want_len, t, k;
    size_t path_len;
    struct url_ref ref, raw;
    enum url_rc rc, want_rc = URL_OK;
    int absolute = -1, named;

    rc = url_resolve(tls, RESOLVE_BASE, sizeof RESOLVE_BASE - 1, s, len, out,
                     sizeof out, &out_len, &ref, &absolute);
    check_strerror(rc);
    FUZZ_CHECK(out_len <= sizeof out, "out_len %zu", out_len);
    named = (n >= 2 && s[0] == '/' && s[1] == '/') || ref_scheme(s, n);
    FUZZ_CHECK(rc != URL_OK || absolute == named, "absolute %d, want %d",
               absolute, named);
    if (named) {
        /* The raw URL's own parse decides, then its path loses dots. */
        k = s[0] == '/' ? (tls ? 6 : 5) : 0;
        if (k + n > sizeof out) {
            FUZZ_CHECK(rc == URL_E_TOO_LONG, "long origin form: rc %d",
                       (int)rc);
            return;
        }
        memcpy(buf, tls ? "https:" : "http:", k);
        memcpy(buf + k, s, n);
        want_rc = url_parse_absolute(&raw, buf, k + n);
        FUZZ_CHECK(rc == want_rc, "origin form: rc %d, want %d", (int)rc,
                   (int)want_rc);
        if (rc != URL_OK)
            return;
        q = memchr(buf + raw.target_off, '?', raw.target_len);
        path_len = q ? (size_t)(q - buf) - raw.target_off : raw.target_len;
        want_len = ref_target(want, buf + raw.target_off, path_len,
                              buf + raw.target_off + path_len,
                              raw.target_len - path_len);
        FUZZ_CHECK(ref.tls == raw.tls && ref.port == raw.port &&
                       ref.host_len == raw.host_len &&
                       memcmp(out + ref.host_off, buf + raw.host_off,
                              raw.host_len) == 0,
                   "origin differs from url_parse_absolute's");
        FUZZ_CHECK(ref.target_len == want_len &&
                       memcmp(out + ref.target_off, want, want_len) == 0,
                   "target '%.*s', want '%.*s'", (int)ref.target_len,
                   out + ref.target_off, (int)want_len, want);
        t = url_ref_target(&ref, out, buf, sizeof buf);
        FUZZ_CHECK(t > 0 && buf[0] == '/', "url_ref_target gave %zu", t);
        return;
    }
    /* sec. 5.2.2 with the merge of sec. 5.2.3; k is the merged length,
       which must fit the output before the dots go. */
    q = memchr(s, '?', n);
    path_len = q ? (size_t)(q - s) : n;
    k = n == 0 ? sizeof RESOLVE_BASE - 1
        : path_len == 0 ? 8 + n /* "/b/c/d;p" and the query */
        : s[0] == '/' ? n : RESOLVE_DIR + n;
    want_len = 0;
    if (k > sizeof out) {
        want_rc = URL_E_TOO_LONG;
    } else if (n == 0 || path_len == 0) {
        memcpy(want, RESOLVE_BASE, n == 0 ? k : 8);
        memcpy(want + (n == 0 ? k : 8), s, n);
        want_len = k;
    } else if (s[0] == '/') {
        want_len = ref_target(want, s, path_len, s + path_len, n - path_len);
    } else {
        memcpy(buf, RESOLVE_BASE, RESOLVE_DIR);
        memcpy(buf + RESOLVE_DIR, s, path_len);
        want_len = ref_target(want, buf, RESOLVE_DIR + path_len,
                              s + path_len, n - path_len);
    }
    if (want_rc != URL_OK || want_len > URL_MAX_TARGET - 1)
        want_rc = URL_E_TOO_LONG;
    else if (!url_target_ok(want, want_len))
        want_rc = URL_E_CHAR;
    FUZZ_CHECK(rc == want_rc, "relative: rc %d, want %d", (int)rc,
               (int)want_rc);
    if (rc == URL_OK)
        FUZZ_CHECK(out_len == want_len && memcmp(out, want, want_len) == 0,
                   "target '%.*s', want '%.*s'", (int)out_len, out,
                   (int)want_len, want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t ctl[4] = {0, 0, 0, 0};
    size_t nctl = size < 4 ? size : 4;
    struct url_template u;
    enum url_rc rc;
    uint32_t id;
    char *s;

    memcpy(ctl, data, nctl);
    id = (uint32_t)ctl[0] | (uint32_t)ctl[1] << 8 | (uint32_t)ctl[2] << 16 |
         (uint32_t)ctl[3] << 24;
    s = fuzz_dup(data + nctl, size - nctl);
    rc = fuzz_template(s, size - nctl, id, &u);
    fuzz_absolute(s, size - nctl, &u, rc);
    check_target_ok(s, size - nctl);
    fuzz_ids(s, size - nctl);
    fuzz_resolve(s, size - nctl, ctl[0] & 1);
    free(s);
    return 0;
}
