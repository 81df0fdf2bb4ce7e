/*
 * test_url.c - unit tests for url.c: labelled tables for every rc of
 * url_parse_template() and url_parse_ids(), the outputs of url_target()
 * and url_authority() with caps exact and one short, and each limit
 * (host length, port, id, request-target length) just under and just
 * over.
 *
 * Every template and id string is parsed from a copy placed flush against
 * a PROT_NONE page (guard.h): a read past the end crashes, and there is
 * never a NUL after the input to lean on. IP literals are cross-checked
 * against inet_pton(), used here only as a reference oracle.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "guard.h"
#include "url.h"

#define TPL_MAX 8192 /* longest template built by a test */

/* Parse in[0..len) from a guard-placed copy; *sp gets the copy. */
static enum url_rc
parse_guarded(struct url_template *u, const char *in, size_t len,
              const char **sp)
{
    const char *s = guard_place(in, len);

    if (sp)
        *sp = s;
    return url_parse_template(u, s, len);
}

/* Whether s[off..off+len) is exactly the NUL-terminated string want. */
static int
slice_is(const char *s, size_t off, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(s + off, want, len) == 0;
}

struct ok_case {
    const char *label;
    const char *in;
    int tls;
    unsigned port;
    int port_explicit;
    int host_is_ip;
    size_t host_off;
    const char *host;
    size_t prefix_off;
    const char *prefix;
    const char *suffix;
    const char *target; /* url_target() for id 25 */
    const char *authority;
};

static const struct ok_case ok_cases[] = {
    {"pokeapi", "https://pokeapi.co/api/v2/pokemon/{id}", 1, 443, 0, 0, 8,
     "pokeapi.co", 18, "/api/v2/pokemon/", "", "/api/v2/pokemon/25",
     "pokeapi.co"},
    {"ipv4, port, id in query", "http://127.0.0.1:8080/x?id={id}&v=1", 0, 8080,
     1, 1, 7, "127.0.0.1", 21, "/x?id=", "&v=1", "/x?id=25&v=1",
     "127.0.0.1:8080"},
    {"ipv6, port, trailing slash", "https://[::1]:8443/p/{id}/", 1, 8443, 1, 1,
     9, "::1", 18, "/p/", "/", "/p/25/", "[::1]:8443"},
    {"upper-case scheme and host", "HTTP://Example.COM/{id}", 0, 80, 0, 0, 7,
     "Example.COM", 18, "/", "", "/25", "Example.COM"},
    {"mixed-case https", "HtTpS://h/{id}", 1, 443, 0, 0, 8, "h", 9, "/", "",
     "/25", "h"},
    {"empty path, id first in query", "http://h?{id}", 0, 80, 0, 0, 7, "h", 8,
     "?", "", "/?25", "h"},
    {"empty path, id in query", "http://h?x={id}&y=2", 0, 80, 0, 0, 7, "h", 8,
     "?x=", "&y=2", "/?x=25&y=2", "h"},
    {"empty path after port", "https://h:8443?{id}", 1, 8443, 1, 0, 8, "h", 14,
     "?", "", "/?25", "h:8443"},
    {"http explicit 80 is default", "http://h:80/{id}", 0, 80, 1, 0, 7, "h",
     11, "/", "", "/25", "h"},
    {"https explicit 443 is default", "https://h:443/{id}", 1, 443, 1, 0, 8,
     "h", 13, "/", "", "/25", "h"},
    {"https on port 80", "https://h:80/{id}", 1, 80, 1, 0, 8, "h", 12, "/", "",
     "/25", "h:80"},
    {"http on port 443", "http://h:443/{id}", 0, 443, 1, 0, 7, "h", 12, "/",
     "", "/25", "h:443"},
    {"port 1", "http://h:1/{id}", 0, 1, 1, 0, 7, "h", 10, "/", "", "/25",
     "h:1"},
    {"port 65535", "http://h:65535/{id}", 0, 65535, 1, 0, 7, "h", 14, "/", "",
     "/25", "h:65535"},
    {"port 5 digits, leading zeros", "http://h:00080/{id}", 0, 80, 1, 0, 7,
     "h", 14, "/", "", "/25", "h"},
    {"ipv4 all zeros", "http://0.0.0.0/{id}", 0, 80, 0, 1, 7, "0.0.0.0", 14,
     "/", "", "/25", "0.0.0.0"},
    {"ipv4 all 255", "http://255.255.255.255/{id}", 0, 80, 0, 1, 7,
     "255.255.255.255", 22, "/", "", "/25", "255.255.255.255"},
    {"ipv6 with ::", "http://[2001:db8::1]/{id}", 0, 80, 0, 1, 8,
     "2001:db8::1", 20, "/", "", "/25", "[2001:db8::1]"},
    {"ipv6 ipv4 tail, default port", "http://[::ffff:192.0.2.1]:80/{id}", 0,
     80, 1, 1, 8, "::ffff:192.0.2.1", 28, "/", "", "/25",
     "[::ffff:192.0.2.1]"},
    {"ipv6 eight groups", "http://[1:2:3:4:5:6:7:8]/{id}", 0, 80, 0, 1, 8,
     "1:2:3:4:5:6:7:8", 24, "/", "", "/25", "[1:2:3:4:5:6:7:8]"},
    {"ipv6 unspecified", "http://[::]/{id}", 0, 80, 0, 1, 8, "::", 11, "/", "",
     "/25", "[::]"},
    {"ipv6 upper-case hex, port 1", "https://[FE80::A]:1/{id}", 1, 1, 1, 1, 9,
     "FE80::A", 19, "/", "", "/25", "[FE80::A]:1"},
    {"name that starts like ipv4", "http://1.2.3.4a/{id}", 0, 80, 0, 0, 7,
     "1.2.3.4a", 15, "/", "", "/25", "1.2.3.4a"},
    {"name with dash, trailing dot", "http://a-b.example.com./{id}", 0, 80, 0,
     0, 7, "a-b.example.com.", 23, "/", "", "/25", "a-b.example.com."},
    {"id in query after path", "http://h/a/b?c={id}", 0, 80, 0, 0, 7, "h", 8,
     "/a/b?c=", "", "/a/b?c=25", "h"},
    {"every visible byte but #", "http://h/%7B~!$&'()*+,;=:@[]{id}\"<>^`|\\{}",
     0, 80, 0, 0, 7, "h", 8, "/%7B~!$&'()*+,;=:@[]", "\"<>^`|\\{}",
     "/%7B~!$&'()*+,;=:@[]25\"<>^`|\\{}", "h"},
    {"braces around id", "http://h/{{id}}", 0, 80, 0, 0, 7, "h", 8, "/{", "}",
     "/{25}", "h"},
    {"unfinished second id", "http://h/{id}{id", 0, 80, 0, 0, 7, "h", 8, "/",
     "{id", "/25{id", "h"},
    {"id inside a word", "http://h/p{id}.json", 0, 80, 0, 0, 7, "h", 8, "/p",
     ".json", "/p25.json", "h"},
};

static void
test_template_ok(void)
{
    const struct ok_case *c;
    struct url_template u;
    const char *s;
    char out[256];
    size_t i, len, n, k;
    enum url_rc rc;

    for (i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
        c = &ok_cases[i];
        len = strlen(c->in);
        rc = parse_guarded(&u, c->in, len, &s);
        CHECKF(rc == URL_OK, "%s: rc %d at %zu", c->label, (int)rc,
               u.error_offset);
        if (rc != URL_OK)
            continue;
        CHECKF(u.tls == c->tls, "%s: tls %d", c->label, u.tls);
        CHECKF(u.port == c->port, "%s: port %u", c->label, (unsigned)u.port);
        CHECKF(u.port_explicit == c->port_explicit, "%s", c->label);
        CHECKF(u.host_is_ip == c->host_is_ip, "%s", c->label);
        CHECKF(u.host_off == c->host_off, "%s: host_off %zu", c->label,
               u.host_off);
        CHECKF(slice_is(s, u.host_off, u.host_len, c->host), "%s: host %.*s",
               c->label, (int)u.host_len, s + u.host_off);
        CHECKF(u.prefix_off == c->prefix_off, "%s: prefix_off %zu", c->label,
               u.prefix_off);
        CHECKF(slice_is(s, u.prefix_off, u.prefix_len, c->prefix), "%s",
               c->label);
        CHECKF(slice_is(s, u.suffix_off, u.suffix_len, c->suffix), "%s",
               c->label);
        /* Layout: prefix "{id}" suffix, suffix runs to the end. */
        CHECKF(u.suffix_off == u.prefix_off + u.prefix_len + 4, "%s",
               c->label);
        CHECKF(u.suffix_off + u.suffix_len == len, "%s", c->label);
        CHECKF(u.error_offset == 0, "%s", c->label);

        n = strlen(c->target);
        k = url_target(&u, s, 25, out, sizeof out);
        CHECKF(k == n && memcmp(out, c->target, n) == 0, "%s: target %.*s",
               c->label, (int)k, out);
        CHECKF(url_target(&u, s, 25, out, n) == n, "%s: exact cap", c->label);
        memset(out, 'X', sizeof out);
        CHECKF(url_target(&u, s, 25, out, n - 1) == 0, "%s: cap - 1",
               c->label);
        CHECKF(out[0] == 'X', "%s: wrote on failure", c->label);

        n = strlen(c->authority);
        k = url_authority(&u, s, out, sizeof out);
        CHECKF(k == n && memcmp(out, c->authority, n) == 0,
               "%s: authority %.*s", c->label, (int)k, out);
        CHECKF(url_authority(&u, s, out, n) == n, "%s: exact cap", c->label);
        memset(out, 'X', sizeof out);
        CHECKF(url_authority(&u, s, out, n - 1) == 0, "%s: cap - 1", c->label);
        CHECKF(out[0] == 'X', "%s: wrote on failure", c->label);
    }
}

struct err_case {
    const char *label;
    const char *in;
    size_t len; /* 0: strlen(in) */
    enum url_rc rc;
    size_t off;
};

static const struct err_case err_cases[] = {
    {"empty", "", 0, URL_E_SCHEME, 0},
    {"ftp", "ftp://h/{id}", 0, URL_E_SCHEME, 0},
    {"ws", "ws://h/{id}", 0, URL_E_SCHEME, 0},
    {"no scheme", "h/{id}", 0, URL_E_SCHEME, 1},
    {"scheme-relative", "//h/{id}", 0, URL_E_SCHEME, 0},
    {"space before scheme", " http://h/{id}", 0, URL_E_SCHEME, 0},
    {"cut in scheme", "htt", 0, URL_E_SCHEME, 3},
    {"scheme only", "http", 0, URL_E_SCHEME, 4},
    {"httpx", "httpx://h/{id}", 0, URL_E_SCHEME, 4},
    {"httpss", "httpss://h/{id}", 0, URL_E_SCHEME, 5},
    {"no colon", "https//h/{id}", 0, URL_E_SCHEME, 5},
    {"one slash", "http:/h/{id}", 0, URL_E_SCHEME, 6},
    {"cut after colon", "http:", 0, URL_E_SCHEME, 5},
    {"backslashes", "http:\\\\h/{id}", 0, URL_E_SCHEME, 5},

    {"empty host, path", "http:///{id}", 0, URL_E_HOST, 7},
    {"empty host, query", "http://?{id}", 0, URL_E_HOST, 7},
    {"empty host, port", "http://:80/{id}", 0, URL_E_HOST, 7},
    {"empty host, end", "https://", 0, URL_E_HOST, 8},
    {"underscore", "http://ex_ample.com/{id}", 0, URL_E_HOST, 9},
    {"space in host", "http://a b/{id}", 0, URL_E_HOST, 8},
    {"tab in host", "http://a\tb/{id}", 0, URL_E_HOST, 8},
    {"percent in host", "http://a%41/{id}", 0, URL_E_HOST, 8},
    {"utf-8 in host", "http://caf\xc3\xa9/{id}", 0, URL_E_HOST, 10},
    {"brace in host", "http://a{b/{id}", 0, URL_E_HOST, 8},
    {"bracket inside name", "http://a[::1]/{id}", 0, URL_E_HOST, 8},
    {"ipv4 octet 256", "http://256.1.1.1/{id}", 0, URL_E_HOST, 7},
    {"ipv4 last octet 256", "http://1.1.1.256/{id}", 0, URL_E_HOST, 7},
    {"ipv4 three octets", "http://1.2.3/{id}", 0, URL_E_HOST, 7},
    {"ipv4 five octets", "http://1.2.3.4.5/{id}", 0, URL_E_HOST, 7},
    {"ipv4 leading zero", "http://01.2.3.4/{id}", 0, URL_E_HOST, 7},
    {"ipv4 empty octet", "http://1..2.3/{id}", 0, URL_E_HOST, 7},
    {"ipv4 trailing dot", "http://1.2.3.4./{id}", 0, URL_E_HOST, 7},
    {"digits only", "http://123/{id}", 0, URL_E_HOST, 7},
    {"dot only", "http://./{id}", 0, URL_E_HOST, 7},
    {"ipv6 without brackets", "http://::1/{id}", 0, URL_E_HOST, 7},
    {"ipv6 no close", "http://[::1/{id}", 0, URL_E_HOST, 7},
    {"ipv6 no close, end", "http://[::1", 0, URL_E_HOST, 7},
    {"ipv6 empty", "http://[]/{id}", 0, URL_E_HOST, 8},
    {"ipv6 zone id", "http://[fe80::1%25eth0]/{id}", 0, URL_E_HOST, 8},
    {"ipv6 nine groups", "http://[1:2:3:4:5:6:7:8:9]/{id}", 0, URL_E_HOST, 8},
    {"ipvfuture", "http://[v1.x]/{id}", 0, URL_E_HOST, 8},
    {"ipv4 in brackets", "http://[1.2.3.4]/{id}", 0, URL_E_HOST, 8},
    {"junk after ]", "http://[::1]x/{id}", 0, URL_E_HOST, 12},
    {"double ]", "http://[::1]]/{id}", 0, URL_E_HOST, 12},

    {"empty port", "http://h:/{id}", 0, URL_E_PORT, 9},
    {"empty port, end", "http://h:", 0, URL_E_PORT, 9},
    {"empty port, query", "http://h:?{id}", 0, URL_E_PORT, 9},
    {"port 0", "http://h:0/{id}", 0, URL_E_PORT, 9},
    {"port 65536", "http://h:65536/{id}", 0, URL_E_PORT, 9},
    {"port 99999", "http://h:99999/{id}", 0, URL_E_PORT, 9},
    {"port 6 digits", "http://h:000080/{id}", 0, URL_E_PORT, 14},
    {"port letter", "http://h:8a/{id}", 0, URL_E_PORT, 10},
    {"port sign", "http://h:+80/{id}", 0, URL_E_PORT, 9},
    {"port negative", "http://h:-1/{id}", 0, URL_E_PORT, 9},
    {"second colon", "http://h:1:2/{id}", 0, URL_E_PORT, 10},
    {"ipv6 empty port", "http://[::1]:/{id}", 0, URL_E_PORT, 13},
    {"ipv6 port 0", "http://[::1]:0/{id}", 0, URL_E_PORT, 13},

    {"user", "http://u@h/{id}", 0, URL_E_USERINFO, 8},
    {"user and password", "http://u:p@h/{id}", 0, URL_E_USERINFO, 10},
    {"empty user", "http://@h/{id}", 0, URL_E_USERINFO, 7},
    {"@ after ipv6", "http://[::1]@h/{id}", 0, URL_E_USERINFO, 12},

    {"id as host", "http://{id}/x", 0, URL_E_ID_IN_HOST, 7},
    {"id as host, end", "http://{id}", 0, URL_E_ID_IN_HOST, 7},
    {"id in name", "http://p{id}.example/x", 0, URL_E_ID_IN_HOST, 8},
    {"id as port", "http://h:{id}/x", 0, URL_E_ID_IN_HOST, 9},
    {"id in brackets", "http://[{id}]/x", 0, URL_E_ID_IN_HOST, 8},
    {"id in host and path", "http://{id}.x/{id}", 0, URL_E_ID_IN_HOST, 7},

    {"space in path", "http://h/a b/{id}", 0, URL_E_CHAR, 10},
    {"request line smuggled", "http://h/{id} HTTP/1.1", 0, URL_E_CHAR, 13},
    {"CR", "http://h/{id}\r", 0, URL_E_CHAR, 13},
    {"LF", "http://h/\n{id}", 0, URL_E_CHAR, 9},
    {"CRLF header injection", "http://h/{id}\r\nX: y", 0, URL_E_CHAR, 13},
    {"tab", "http://h/\t{id}", 0, URL_E_CHAR, 9},
    {"NUL", "http://h/\0{id}", 14, URL_E_CHAR, 9},
    {"0x01", "http://h/\x01{id}", 0, URL_E_CHAR, 9},
    {"DEL", "http://h/\x7f{id}", 0, URL_E_CHAR, 9},
    {"0x80", "http://h/\x80{id}", 0, URL_E_CHAR, 9},
    {"0xff in query", "http://h/?q=\xff{id}", 0, URL_E_CHAR, 12},
    {"space in query", "http://h/?a b={id}", 0, URL_E_CHAR, 11},
    {"space in empty-path query", "http://h? {id}", 0, URL_E_CHAR, 9},
    {"bad byte before 2nd id", "http://h/{id} {id}", 0, URL_E_CHAR, 13},

    {"fragment after id", "http://h/{id}#x", 0, URL_E_FRAGMENT, 13},
    {"empty fragment", "http://h/{id}#", 0, URL_E_FRAGMENT, 13},
    {"id in fragment", "http://h/#{id}", 0, URL_E_FRAGMENT, 9},
    {"fragment ends authority", "http://h#{id}", 0, URL_E_FRAGMENT, 8},
    {"fragment before bad byte", "http://h/#\x01", 0, URL_E_FRAGMENT, 9},

    {"no id", "http://h/", 0, URL_E_NO_ID, 9},
    {"no path", "http://h", 0, URL_E_NO_ID, 8},
    {"no path, port", "http://h:81", 0, URL_E_NO_ID, 11},
    {"empty query", "http://h?", 0, URL_E_NO_ID, 9},
    {"upper-case ID", "http://h/{ID}", 0, URL_E_NO_ID, 13},
    {"unclosed", "http://h/{id", 0, URL_E_NO_ID, 12},
    {"unopened", "http://h/id}", 0, URL_E_NO_ID, 12},
    {"percent-encoded braces", "http://h/%7Bid%7D", 0, URL_E_NO_ID, 17},

    {"two in path", "http://h/{id}/{id}", 0, URL_E_MANY_ID, 14},
    {"path and query", "http://h/{id}?x={id}", 0, URL_E_MANY_ID, 16},
    {"adjacent", "http://h/{id}{id}", 0, URL_E_MANY_ID, 13},
    {"three", "http://h/{id}{id}{id}", 0, URL_E_MANY_ID, 13},
};

/* After an error only error_offset may be set. */
static int
cleared(const struct url_template *u)
{
    struct url_template z;

    memset(&z, 0, sizeof z);
    z.error_offset = u->error_offset;
    return memcmp(&z, u, sizeof z) == 0;
}

static void
test_template_errors(void)
{
    const struct err_case *c;
    struct url_template u;
    size_t i, len;
    enum url_rc rc;

    for (i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        c = &err_cases[i];
        len = c->len ? c->len : strlen(c->in);
        rc = parse_guarded(&u, c->in, len, NULL);
        CHECKF(rc == c->rc, "%s: rc %d, want %d", c->label, (int)rc,
               (int)c->rc);
        CHECKF(u.error_offset == c->off, "%s: offset %zu, want %zu", c->label,
               u.error_offset, c->off);
        CHECKF(cleared(&u), "%s: fields left set", c->label);
    }
}

/* Every rc but URL_E_TOO_LONG (see test_target_limit) and URL_E_ID. */
static void
test_every_rc_covered(void)
{
    int seen[URL_E_ID + 1] = {0};
    size_t i;

    seen[URL_OK] = seen[URL_E_TOO_LONG] = seen[URL_E_ID] = 1;
    for (i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++)
        seen[err_cases[i].rc] = 1;
    for (i = 0; i <= URL_E_ID; i++)
        CHECKF(seen[i], "no error case for rc %zu", i);
}

/* Each row: an address and whether it is valid (checked against libc). */
struct ip_case {
    const char *addr;
    int valid;
};

static const struct ip_case ipv6_cases[] = {
    {"::", 1},
    {"::1", 1},
    {"1::", 1},
    {"1::2", 1},
    {"1::8", 1},
    {"2001:db8::1", 1},
    {"2001:0db8:0000:0000:0000:ff00:0042:8329", 1},
    {"1:2:3:4:5:6:7:8", 1},
    {"1:2:3:4:5:6:7::", 1},
    {"::2:3:4:5:6:7:8", 1},
    {"1:2:3:4:5:6::8", 1},
    {"FFFF:ffff:FfFf::", 1},
    {"0:0:0:0:0:0:0:0", 1},
    {"fe80::", 1},
    {"::ffff:192.0.2.1", 1},
    {"::192.0.2.1", 1},
    {"::0.0.0.0", 1},
    {"1:2:3:4:5:6:1.2.3.4", 1},
    {"1::1.2.3.4", 1},
    {"1:2:3:4:5::1.2.3.4", 1},
    {"64:ff9b::255.255.255.255", 1},
    {"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 1},
    {"", 0},
    {":", 0},
    {":::", 0},
    {"1", 0},
    {"1:", 0},
    {":1", 0},
    {"1:2", 0},
    {"1:2:3:4:5:6:7", 0},
    {"1:2:3:4:5:6:7:8:9", 0},
    {"1:2:3:4:5:6:7:8::", 0},
    {"::1:2:3:4:5:6:7:8", 0},
    {"1:2:3:4:5:6:7:8:", 0},
    {":1:2:3:4:5:6:7:8", 0},
    {"1::2::3", 0},
    {"::1::", 0},
    {"1:::2", 0},
    {"::1:", 0},
    {"12345::", 0},
    {"00000::", 0},
    {"::12345", 0},
    {"g::", 0},
    {"::g", 0},
    {"::-1", 0},
    {"0x1::", 0},
    {"::ffff:1.2.3", 0},
    {"::ffff:256.1.1.1", 0},
    {"::ffff:01.2.3.4", 0},
    {"::ffff:1.2.3.04", 0},
    {"::ffff:1.2.3.4.", 0},
    {"::ffff:.1.2.3.4", 0},
    {"::ffff:1a.2.3.4", 0},
    {"::1.2.3.4:1", 0},
    {"1.2.3.4", 0},
    {"1.2.3.4::", 0},
    {"1:2:3:4:5:6:7:1.2.3.4", 0},
    {"::1:2:3:4:5:6:1.2.3.4", 0},
    {"1:2:3:4:5:6:7:8:1.2.3.4", 0},
    {"fe80::1%eth0", 0},
    {"fe80::1%25eth0", 0},
    {" ::1", 0},
    {"::1 ", 0},
    {"v1.x", 0},
};

static void
test_ipv6_literals(void)
{
    char tpl[128];
    unsigned char bin[16];
    struct url_template u;
    size_t i, n;
    enum url_rc rc;
    int oracle;

    for (i = 0; i < sizeof ipv6_cases / sizeof ipv6_cases[0]; i++) {
        n = strlen(ipv6_cases[i].addr);
        memcpy(tpl, "http://[", 8);
        memcpy(tpl + 8, ipv6_cases[i].addr, n);
        memcpy(tpl + 8 + n, "]/{id}", 6);
        oracle = inet_pton(AF_INET6, ipv6_cases[i].addr, bin) == 1;
        CHECKF(oracle == ipv6_cases[i].valid, "[%s]: inet_pton says %d",
               ipv6_cases[i].addr, oracle);
        rc = parse_guarded(&u, tpl, 8 + n + 6, NULL);
        if (ipv6_cases[i].valid) {
            CHECKF(rc == URL_OK, "[%s]: rc %d", ipv6_cases[i].addr, (int)rc);
            CHECKF(u.host_is_ip && u.host_off == 8 && u.host_len == n, "[%s]",
                   ipv6_cases[i].addr);
        } else {
            CHECKF(rc == URL_E_HOST && u.error_offset == 8, "[%s]: rc %d",
                   ipv6_cases[i].addr, (int)rc);
        }
    }
}

/* Hosts made of digits and dots only: valid iff a dotted quad. */
static const struct ip_case ipv4_cases[] = {
    {"0.0.0.0", 1},
    {"1.2.3.4", 1},
    {"10.0.0.1", 1},
    {"192.168.100.200", 1},
    {"255.255.255.255", 1},
    {"9.99.199.249", 1},
    {"256.0.0.0", 0},
    {"1.2.3.256", 0},
    {"999.1.1.1", 0},
    {"1234.1.1.1", 0},
    {"1.2.3", 0},
    {"1.2.3.4.5", 0},
    {"01.2.3.4", 0},
    {"00.0.0.0", 0},
    {"1.2.3.00", 0},
    {"1..2.3", 0},
    {"1.2.3.4.", 0},
    {".1.2.3", 0},
    {"0", 0},
    {"4294967295", 0},
    {"...", 0},
};

static void
test_ipv4_literals(void)
{
    char tpl[64];
    unsigned char bin[4];
    struct url_template u;
    size_t i, n;
    enum url_rc rc;
    int oracle;

    for (i = 0; i < sizeof ipv4_cases / sizeof ipv4_cases[0]; i++) {
        n = strlen(ipv4_cases[i].addr);
        memcpy(tpl, "http://", 7);
        memcpy(tpl + 7, ipv4_cases[i].addr, n);
        memcpy(tpl + 7 + n, "/{id}", 5);
        oracle = inet_pton(AF_INET, ipv4_cases[i].addr, bin) == 1;
        CHECKF(oracle == ipv4_cases[i].valid, "%s: inet_pton says %d",
               ipv4_cases[i].addr, oracle);
        rc = parse_guarded(&u, tpl, 7 + n + 5, NULL);
        if (ipv4_cases[i].valid)
            CHECKF(rc == URL_OK && u.host_is_ip && u.host_len == n, "%s",
                   ipv4_cases[i].addr);
        else
            CHECKF(rc == URL_E_HOST && u.error_offset == 7, "%s: rc %d",
                   ipv4_cases[i].addr, (int)rc);
    }
}

/* Fill tpl with "http://" host_len bytes of name "/{id}"; return length. */
static size_t
make_host(char *tpl, size_t host_len, const char *after)
{
    size_t i, n = strlen(after);

    memcpy(tpl, "http://", 7);
    /* 63-byte labels, as DNS would want, though url.c does not check. */
    for (i = 0; i < host_len; i++)
        tpl[7 + i] = i % 64 == 63 ? '.' : (char)('a' + i % 26);
    memcpy(tpl + 7 + host_len, after, n);
    return 7 + host_len + n;
}

static void
test_host_limit(void)
{
    static char tpl[TPL_MAX];
    char out[URL_MAX_HOST + 16];
    struct url_template u;
    const char *s;
    size_t len;
    enum url_rc rc;

    len = make_host(tpl, URL_MAX_HOST, ":65535/{id}");
    rc = parse_guarded(&u, tpl, len, &s);
    CHECKF(rc == URL_OK && u.host_len == URL_MAX_HOST, "253: rc %d", (int)rc);
    CHECK(url_authority(&u, s, out, sizeof out) == URL_MAX_HOST + 6);
    CHECK(url_authority(&u, s, out, URL_MAX_HOST + 5) == 0);

    len = make_host(tpl, URL_MAX_HOST + 1, "/{id}");
    rc = parse_guarded(&u, tpl, len, NULL);
    CHECKF(rc == URL_E_HOST && u.error_offset == 7 + URL_MAX_HOST,
           "254: rc %d at %zu", (int)rc, u.error_offset);

    /* An over-long bracketed host is refused by length, not content. */
    memcpy(tpl, "http://[", 8);
    memset(tpl + 8, '1', URL_MAX_HOST + 1);
    memcpy(tpl + 8 + URL_MAX_HOST + 1, "]/{id}", 6);
    rc = parse_guarded(&u, tpl, 8 + URL_MAX_HOST + 1 + 6, NULL);
    CHECKF(rc == URL_E_HOST && u.error_offset == 8 + URL_MAX_HOST,
           "[254]: rc %d at %zu", (int)rc, u.error_offset);
}

/*
 * Request-target limit: prefix + suffix + 10 digits (+ 1 for the "/" put
 * before an empty path) must fit in URL_MAX_TARGET.
 */
static size_t
make_long(char *tpl, const char *head, size_t n_pre, size_t n_suf)
{
    size_t len = strlen(head);

    memcpy(tpl, head, len);
    memset(tpl + len, 'a', n_pre);
    len += n_pre;
    memcpy(tpl + len, "{id}", 4);
    len += 4;
    memset(tpl + len, 'b', n_suf);
    return len + n_suf;
}

static void
test_target_limit(void)
{
    static char tpl[TPL_MAX], zeros[URL_MAX_TARGET];
    static char copy[TPL_MAX];
    struct url_template u;
    const char *s;
    char *out;
    size_t len;
    enum url_rc rc;

    /* "/" + 4085 + 10 digits = 4096. */
    len = make_long(tpl, "http://h/", URL_MAX_TARGET - 11, 0);
    rc = parse_guarded(&u, tpl, len, &s);
    CHECKF(rc == URL_OK, "prefix at limit: rc %d", (int)rc);
    memcpy(copy, s, len);
    /* Output flush against the guard page: a write past cap crashes. */
    out = guard_place(zeros, URL_MAX_TARGET);
    CHECK(url_target(&u, copy, UINT32_MAX, out, URL_MAX_TARGET) ==
          URL_MAX_TARGET);
    CHECK(memcmp(out + URL_MAX_TARGET - 10, "4294967295", 10) == 0);
    out = guard_place(zeros, URL_MAX_TARGET - 1);
    CHECK(url_target(&u, copy, UINT32_MAX, out, URL_MAX_TARGET - 1) == 0);
    CHECK(url_target(&u, copy, URL_MAX_ID, out, URL_MAX_TARGET - 1) ==
          URL_MAX_TARGET - 1);

    len = make_long(tpl, "http://h/", URL_MAX_TARGET - 10, 0);
    rc = parse_guarded(&u, tpl, len, NULL);
    CHECKF(rc == URL_E_TOO_LONG && u.error_offset == 8, "prefix over: rc %d",
           (int)rc);
    CHECK(cleared(&u));

    /* The same with the length in the suffix. */
    len = make_long(tpl, "http://h/", 0, URL_MAX_TARGET - 11);
    CHECK(parse_guarded(&u, tpl, len, NULL) == URL_OK);
    len = make_long(tpl, "http://h/", 0, URL_MAX_TARGET - 10);
    CHECK(parse_guarded(&u, tpl, len, NULL) == URL_E_TOO_LONG);

    /* Empty path: "?" + 4084 + the "/" url_target adds + 10 = 4096. */
    len = make_long(tpl, "http://h?", URL_MAX_TARGET - 12, 0);
    rc = parse_guarded(&u, tpl, len, &s);
    CHECKF(rc == URL_OK, "query at limit: rc %d", (int)rc);
    memcpy(copy, s, len);
    out = guard_place(zeros, URL_MAX_TARGET);
    CHECK(url_target(&u, copy, UINT32_MAX, out, URL_MAX_TARGET) ==
          URL_MAX_TARGET);
    CHECK(out[0] == '/' && out[1] == '?');
    len = make_long(tpl, "http://h?", URL_MAX_TARGET - 11, 0);
    rc = parse_guarded(&u, tpl, len, NULL);
    CHECKF(rc == URL_E_TOO_LONG && u.error_offset == 8, "query over: rc %d",
           (int)rc);
}

static void
test_target_output(void)
{
    static const char tpl[] = "http://h?x={id}&y";
    static char zeros[64];
    struct url_template u;
    char *out;

    CHECK(url_parse_template(&u, tpl, sizeof tpl - 1) == URL_OK);
    out = guard_place(zeros, 8);
    CHECK(url_target(&u, tpl, 0, out, 8) == 7 &&
          memcmp(out, "/?x=0&y", 7) == 0);
    out = guard_place(zeros, 16);
    CHECK(url_target(&u, tpl, UINT32_MAX, out, 16) == 16 &&
          memcmp(out, "/?x=4294967295&y", 16) == 0);
    out = guard_place(zeros, 15);
    CHECK(url_target(&u, tpl, UINT32_MAX, out, 15) == 0);
    out = guard_place(zeros, 0);
    CHECK(url_target(&u, tpl, 1, out, 0) == 0);
    CHECK(url_target(&u, tpl, 1, NULL, 0) == 0);
    CHECK(url_authority(&u, tpl, NULL, 0) == 0);
    out = guard_place(zeros, 1);
    CHECK(url_authority(&u, tpl, out, 1) == 1 && out[0] == 'h');
}

/*
 * Each byte value in the path: visible ASCII but "#" is fine, "#" is a
 * fragment, anything else is URL_E_CHAR at exactly that byte.
 */
static void
test_path_bytes(void)
{
    char tpl[] = "http://h/a{id}?b=c";
    size_t len = sizeof tpl - 1, pos;
    struct url_template u;
    enum url_rc rc;
    unsigned b;

    for (pos = 9; pos < len; pos++) {
        if (pos >= 10 && pos < 14)
            continue; /* "{id}" itself */
        for (b = 0; b < 256; b++) {
            tpl[pos] = (char)b;
            rc = parse_guarded(&u, tpl, len, NULL);
            if (b == '#')
                CHECKF(rc == URL_E_FRAGMENT && u.error_offset == pos,
                       "byte 0x%02x at %zu: rc %d", b, pos, (int)rc);
            else if (b < 0x21 || b > 0x7e)
                CHECKF(rc == URL_E_CHAR && u.error_offset == pos,
                       "byte 0x%02x at %zu: rc %d", b, pos, (int)rc);
            else
                CHECKF(rc == URL_OK, "byte 0x%02x at %zu: rc %d", b, pos,
                       (int)rc);
        }
        tpl[pos] = "http://h/a{id}?b=c"[pos];
    }
}

/* Each byte value in the middle of a host name. */
static void
test_host_bytes(void)
{
    char tpl[] = "http://xay.com/{id}";
    size_t len = sizeof tpl - 1;
    struct url_template u;
    enum url_rc rc, want;
    size_t want_off;
    unsigned b;

    for (b = 0; b < 256; b++) {
        tpl[8] = (char)b;
        want = URL_E_HOST;
        want_off = 8;
        if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
            (b >= '0' && b <= '9') || b == '-' || b == '.' || b == '/' ||
            b == '?')
            want = URL_OK; /* "/" and "?" end the authority at "x" */
        else if (b == '@')
            want = URL_E_USERINFO;
        else if (b == '#')
            want = URL_E_FRAGMENT;
        else if (b == ':') {
            want = URL_E_PORT; /* the port "y.com" */
            want_off = 9;
        }
        rc = parse_guarded(&u, tpl, len, NULL);
        CHECKF(rc == want, "byte 0x%02x: rc %d, want %d", b, (int)rc,
               (int)want);
        if (want != URL_OK)
            CHECKF(u.error_offset == want_off, "byte 0x%02x: offset %zu", b,
                   u.error_offset);
    }
}

/*
 * Every prefix of every good template, each flush against the guard page:
 * no crash, and the result is self-consistent.
 */
static void
test_truncations(void)
{
    struct url_template u;
    const char *in;
    size_t i, n, len;
    enum url_rc rc;

    for (i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
        in = ok_cases[i].in;
        len = strlen(in);
        for (n = 0; n <= len; n++) {
            rc = parse_guarded(&u, in, n, NULL);
            if (rc == URL_OK)
                CHECKF(u.suffix_off + u.suffix_len == n, "%s cut at %zu",
                       ok_cases[i].label, n);
            else
                CHECKF(u.error_offset <= n, "%s cut at %zu", ok_cases[i].label,
                       n);
            if (n < len && strstr(in, "{id}") + 4 > in + n)
                CHECKF(rc != URL_OK, "%s cut at %zu", ok_cases[i].label, n);
        }
    }
}

struct id_case {
    const char *label;
    const char *in;
    size_t len; /* 0: strlen(in) */
    enum url_rc rc;
    uint32_t first, last;
};

static const struct id_case id_cases[] = {
    {"single", "25", 0, URL_OK, 25, 25},
    {"range", "150-151", 0, URL_OK, 150, 151},
    {"leading zeros", "007", 0, URL_OK, 7, 7},
    {"zero", "0", 0, URL_OK, 0, 0},
    {"zeros", "000", 0, URL_OK, 0, 0},
    {"zero range", "0-0", 0, URL_OK, 0, 0},
    {"equal ends", "5-5", 0, URL_OK, 5, 5},
    {"max", "999999999", 0, URL_OK, URL_MAX_ID, URL_MAX_ID},
    {"whole range", "0-999999999", 0, URL_OK, 0, URL_MAX_ID},
    {"max, zero-padded", "0999999999", 0, URL_OK, URL_MAX_ID, URL_MAX_ID},
    {"many leading zeros", "000000000000000000000000001", 0, URL_OK, 1, 1},
    {"leading zeros both ends", "01-02", 0, URL_OK, 1, 2},
    {"empty", "", 0, URL_E_ID, 0, 0},
    {"dash", "-", 0, URL_E_ID, 0, 0},
    {"open end", "1-", 0, URL_E_ID, 0, 0},
    {"open start", "-5", 0, URL_E_ID, 0, 0},
    {"reversed", "5-3", 0, URL_E_ID, 0, 0},
    {"plus", "+5", 0, URL_E_ID, 0, 0},
    {"leading space", " 5", 0, URL_E_ID, 0, 0},
    {"trailing space", "5 ", 0, URL_E_ID, 0, 0},
    {"spaced range", "1 - 2", 0, URL_E_ID, 0, 0},
    {"three parts", "1-2-3", 0, URL_E_ID, 0, 0},
    {"double dash", "1--2", 0, URL_E_ID, 0, 0},
    {"max + 1", "1000000000", 0, URL_E_ID, 0, 0},
    {"range end max + 1", "1-1000000000", 0, URL_E_ID, 0, 0},
    {"uint32 max", "4294967295", 0, URL_E_ID, 0, 0},
    {"wraps to 0 in 32 bits", "4294967296", 0, URL_E_ID, 0, 0},
    {"wraps to 1 in 32 bits", "4294967297", 0, URL_E_ID, 0, 0},
    {"wraps in 64 bits", "18446744073709551617", 0, URL_E_ID, 0, 0},
    {"twenty nines", "99999999999999999999", 0, URL_E_ID, 0, 0},
    {"hex", "0x10", 0, URL_E_ID, 0, 0},
    {"exponent", "1e3", 0, URL_E_ID, 0, 0},
    {"decimal point", "5.0", 0, URL_E_ID, 0, 0},
    {"comma", "1,2", 0, URL_E_ID, 0, 0},
    {"letter", "a", 0, URL_E_ID, 0, 0},
    {"letter end", "1-a", 0, URL_E_ID, 0, 0},
    {"fullwidth digit", "\xef\xbc\x91", 0, URL_E_ID, 0, 0},
    {"NUL after digit", "5\0", 2, URL_E_ID, 0, 0},
    {"NUL", "\0", 1, URL_E_ID, 0, 0},
};

static void
test_ids(void)
{
    const struct id_case *c;
    uint32_t first, last;
    size_t i, len;
    enum url_rc rc;

    for (i = 0; i < sizeof id_cases / sizeof id_cases[0]; i++) {
        c = &id_cases[i];
        len = c->len ? c->len : strlen(c->in);
        first = last = 0xdeadbeef;
        rc = url_parse_ids(guard_place(c->in, len), len, &first, &last);
        CHECKF(rc == c->rc, "%s: rc %d", c->label, (int)rc);
        if (c->rc == URL_OK)
            CHECKF(first == c->first && last == c->last, "%s: %u-%u", c->label,
                   (unsigned)first, (unsigned)last);
        else
            CHECKF(first == 0xdeadbeef && last == 0xdeadbeef,
                   "%s: outputs written on error", c->label);
    }
}

/* RFC 6761 sec. 6.3 names: localhost and under .localhost, nothing
   around them. */
static void
test_localhost_names(void)
{
    static const char *const yes[] = {
        "localhost",           "LOCALHOST",    "LocalHost.",
        "a.localhost",         "A.LOCALHOST.", "x-1.y.localhost",
        "localhost.localhost",
    };
    static const char *const no[] = {
        "",
        ".",
        "localhos",
        "ocalhost",
        "xlocalhost",
        "localhostx",
        "localhost.com",
        "localhost..",
        ".localhost",
        ".localhost.",
        "..localhost",
        "a..localhost",
        ".a.localhost",
        "a.localhost..",
        "a-localhost",
        "localhost.x",
    };
    size_t i;

    for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
        CHECKF(url_host_is_localhost(yes[i], strlen(yes[i])) == 1, "%s",
               yes[i]);
    for (i = 0; i < sizeof no / sizeof no[0]; i++)
        CHECKF(url_host_is_localhost(no[i], strlen(no[i])) == 0, "%s", no[i]);
    /* The length counts, not a NUL: "localhost" cut one short, and a
       name with more after it. */
    CHECK(url_host_is_localhost("localhost", 8) == 0);
    CHECK(url_host_is_localhost("localhost.com", 9) == 1);
    CHECK(url_host_is_localhost("localhost.com", 10) == 1);
    CHECK(url_host_is_localhost("localhost.com", 11) == 0);
}

static void
test_strerror(void)
{
    const char *msg[URL_E_ID + 1];
    int i, j;

    for (i = 0; i <= URL_E_ID; i++) {
        msg[i] = url_strerror((enum url_rc)i);
        CHECKF(msg[i] && msg[i][0], "rc %d", i);
        for (j = 0; j < i; j++)
            CHECKF(strcmp(msg[i], msg[j]) != 0, "rc %d and %d", i, j);
    }
    CHECK(url_strerror((enum url_rc)99) != NULL);
}

/* Redirect targets: absolute URLs without {id}. */
static void
test_parse_absolute(void)
{
    static const struct {
        const char *s;
        enum url_rc rc;
        int tls;
        unsigned port;
        const char *host, *target;
    } abs_cases[] = {
        {"https://pokeapi.co/api/v2/pokemon/1/", URL_OK, 1, 443, "pokeapi.co",
         "/api/v2/pokemon/1/"},
        {"http://127.0.0.1:8080/r/x?y=1#frag", URL_OK, 0, 8080, "127.0.0.1",
         "/r/x?y=1"},
        {"HTTPS://[::1]:8443", URL_OK, 1, 8443, "::1", ""},
        {"http://h?q", URL_OK, 0, 80, "h", "?q"},
        {"ftp://h/x", URL_E_SCHEME, 0, 0, "", ""},
        {"http://u@h/x", URL_E_USERINFO, 0, 0, "", ""},
        {"http://h/a b", URL_E_CHAR, 0, 0, "", ""},
        {"http://h/a\r\nX: y", URL_E_CHAR, 0, 0, "", ""},
        {"http://h:0/", URL_E_PORT, 0, 0, "", ""},
        {"http:///x", URL_E_HOST, 0, 0, "", ""},
    };
    size_t i;

    for (i = 0; i < sizeof abs_cases / sizeof abs_cases[0]; i++) {
        size_t n = strlen(abs_cases[i].s);
        const char *g = guard_place(abs_cases[i].s, n);
        struct url_ref r;
        enum url_rc rc = url_parse_absolute(&r, g, n);

        CHECKF(rc == abs_cases[i].rc, "'%s': rc %d", abs_cases[i].s, rc);
        if (rc != URL_OK)
            continue;
        CHECK(r.tls == abs_cases[i].tls && r.port == abs_cases[i].port);
        CHECK(r.host_len == strlen(abs_cases[i].host) &&
              memcmp(g + r.host_off, abs_cases[i].host, r.host_len) == 0);
        CHECKF(r.target_len == strlen(abs_cases[i].target) &&
                   memcmp(g + r.target_off, abs_cases[i].target,
                          r.target_len) == 0,
               "'%s': target '%.*s'", abs_cases[i].s, (int)r.target_len,
               g + r.target_off);
    }
    CHECK(url_target_ok("/a?b=c", 6));
    CHECK(!url_target_ok("/a b", 4));
    CHECK(!url_target_ok("/a#b", 4));
    CHECK(!url_target_ok("/\x80", 2));
    CHECK(url_target_ok("", 0));
}

/* A Location against the request it answers: every form servers send. */
static void
test_resolve(void)
{
    static const struct {
        int tls;
        const char *cur, *loc;
        enum url_rc rc;
        int absolute;
        const char *out;    /* the absolute URL, or the new target */
        const char *target; /* absolute: url_ref_target's answer */
    } cases[] = {
        {1, "/api/v2/pokemon/1", "https://h:8443/x?y#f", URL_OK, 1,
         "https://h:8443/x?y", "/x?y"},
        {1, "/a", "HTTP://h", URL_OK, 1, "HTTP://h", "/"},
        {1, "/a", "http://h?q", URL_OK, 1, "http://h?q", "/?q"},
        {1, "/a/b", "//other/c", URL_OK, 1, "https://other/c", "/c"},
        {0, "/a/b", "//other", URL_OK, 1, "http://other", "/"},
        {1, "/a/b?q", "/r/x", URL_OK, 0, "/r/x", NULL},
        {1, "/a/b?q=/z", "c?d", URL_OK, 0, "/a/c?d", NULL},
        {1, "/a/b?q", "?p", URL_OK, 0, "/a/b?p", NULL},
        {1, "/a/b?q", "", URL_OK, 0, "/a/b?q", NULL},
        {1, "/a/b?q", "#top", URL_OK, 0, "/a/b?q", NULL},
        {1, "/a/b", "../c", URL_OK, 0, "/c", NULL},
        {1, "/a/b/7", "../ok/7", URL_OK, 0, "/a/ok/7", NULL},
        {1, "/v2/pokemon/7", "../../v2/pokemon/../pokemon/./7?x=/../y", URL_OK,
         0, "/v2/pokemon/7?x=/../y", NULL},
        {1, "/a/b", "/./x/../../y/.", URL_OK, 0, "/y/", NULL},
        {0, "/a/b", "http://h/a/./b/../c?x/../y#z", URL_OK, 1,
         "http://h/a/c?x/../y", "/a/c?x/../y"},
        {0, "/a/b", "//h:81/..", URL_OK, 1, "http://h:81/", "/"},
        {1, "/a/b", "https://h/../../x/..", URL_OK, 1, "https://h/", "/"},
        {1, "/a/b", "https://h?/../x", URL_OK, 1, "https://h?/../x",
         "/?/../x"},
        {1, "/a/..", "?q", URL_OK, 0, "/a/..?q", NULL},
        {1, "/a", "/x y", URL_E_CHAR, 0, NULL, NULL},
        {1, "/a", "ftp://h/x", URL_E_SCHEME, 1, NULL, NULL},
        {1, "/a", "https://u@h/x", URL_E_USERINFO, 1, NULL, NULL},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[URL_MAX_TARGET + 8], target[URL_MAX_TARGET];
        struct url_ref ref;
        size_t len, n = strlen(cases[i].loc);
        int absolute;
        enum url_rc rc =
            url_resolve(cases[i].tls, cases[i].cur, strlen(cases[i].cur),
                        guard_place(cases[i].loc, n), n, out, sizeof out, &len,
                        &ref, &absolute);

        CHECKF(rc == cases[i].rc, "'%s': rc %d", cases[i].loc, rc);
        if (rc != URL_OK)
            continue;
        CHECKF(absolute == cases[i].absolute && len == strlen(cases[i].out) &&
                   memcmp(out, cases[i].out, len) == 0,
               "'%s': '%.*s'", cases[i].loc, (int)len, out);
        if (absolute) {
            size_t t = url_ref_target(&ref, out, target, sizeof target);
            CHECKF(t == strlen(cases[i].target) &&
                       memcmp(target, cases[i].target, t) == 0,
                   "'%s': target '%.*s'", cases[i].loc, (int)t, target);
        }
    }
    /* Limits: a relative target one byte too long, an output too small. */
    {
        static char loc[URL_MAX_TARGET + 1];
        char out[URL_MAX_TARGET + 8];
        struct url_ref ref;
        size_t len;
        int absolute;

        memset(loc, 'a', URL_MAX_TARGET - 1);
        loc[0] = '/';
        CHECK(url_resolve(1, "/", 1, loc, URL_MAX_TARGET - 1, out, sizeof out,
                          &len, &ref, &absolute) == URL_OK &&
              len == URL_MAX_TARGET - 1);
        CHECK(url_resolve(1, "/", 1, loc, URL_MAX_TARGET, out, sizeof out,
                          &len, &ref, &absolute) == URL_E_TOO_LONG);
        CHECK(url_resolve(1, "/", 1, "//h/x", 5, out, 8, &len, &ref,
                          &absolute) == URL_E_TOO_LONG);
        /* The request line limit applies to the target as sent, after
           the dot segments are gone; the merged path must fit out. */
        memset(loc, '.', URL_MAX_TARGET + 1);
        for (len = 1; len < URL_MAX_TARGET; len += 2)
            loc[len] = '/'; /* "./././..." */
        loc[URL_MAX_TARGET] = 'y';
        CHECK(url_resolve(1, "/a/b", 4, loc, URL_MAX_TARGET + 1, out,
                          sizeof out, &len, &ref, &absolute) == URL_OK &&
              len == 4 && memcmp(out, "/a/y", 4) == 0 && !absolute);
        CHECK(url_resolve(1, "/a/b", 4, loc, URL_MAX_TARGET + 1, out,
                          URL_MAX_TARGET + 2, &len, &ref,
                          &absolute) == URL_E_TOO_LONG);
    }
}

/*
 * RFC 3986 sec. 5.4: every normal (5.4.1) and abnormal (5.4.2) example,
 * base "http://a/b/c/d;p?q", with the RFC's result as written there. The
 * request-target expected is that result's path and query (the fragment
 * is never sent) and the origin its host; a result on another host than
 * "a" must come back as an absolute URL naming it. "g:h" and "http:g"
 * name no host we can fetch, so they are errors here (the strict reading
 * of "http:g", sec. 5.4.2).
 */
static const struct {
    const char *ref, *result;
} rfc3986_examples[] = {
    /* 5.4.1 */
    {"g:h", NULL},
    {"g", "http://a/b/c/g"},
    {"./g", "http://a/b/c/g"},
    {"g/", "http://a/b/c/g/"},
    {"/g", "http://a/g"},
    {"//g", "http://g"},
    {"?y", "http://a/b/c/d;p?y"},
    {"g?y", "http://a/b/c/g?y"},
    {"#s", "http://a/b/c/d;p?q#s"},
    {"g#s", "http://a/b/c/g#s"},
    {"g?y#s", "http://a/b/c/g?y#s"},
    {";x", "http://a/b/c/;x"},
    {"g;x", "http://a/b/c/g;x"},
    {"g;x?y#s", "http://a/b/c/g;x?y#s"},
    {"", "http://a/b/c/d;p?q"},
    {".", "http://a/b/c/"},
    {"./", "http://a/b/c/"},
    {"..", "http://a/b/"},
    {"../", "http://a/b/"},
    {"../g", "http://a/b/g"},
    {"../..", "http://a/"},
    {"../../", "http://a/"},
    {"../../g", "http://a/g"},
    /* 5.4.2 */
    {"../../../g", "http://a/g"},
    {"../../../../g", "http://a/g"},
    {"/./g", "http://a/g"},
    {"/../g", "http://a/g"},
    {"g.", "http://a/b/c/g."},
    {".g", "http://a/b/c/.g"},
    {"g..", "http://a/b/c/g.."},
    {"..g", "http://a/b/c/..g"},
    {"./../g", "http://a/b/g"},
    {"./g/.", "http://a/b/c/g/"},
    {"g/./h", "http://a/b/c/g/h"},
    {"g/../h", "http://a/b/c/h"},
    {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
    {"g;x=1/../y", "http://a/b/c/y"},
    {"g?y/./x", "http://a/b/c/g?y/./x"},
    {"g?y/../x", "http://a/b/c/g?y/../x"},
    {"g#s/./x", "http://a/b/c/g#s/./x"},
    {"g#s/../x", "http://a/b/c/g#s/../x"},
    {"http:g", NULL},
};

static void
test_resolve_rfc3986(void)
{
    static const char base[] = "/b/c/d;p?q";
    size_t i;

    for (i = 0; i < sizeof rfc3986_examples / sizeof rfc3986_examples[0];
         i++) {
        const char *ref = rfc3986_examples[i].ref;
        const char *want = rfc3986_examples[i].result, *host, *path, *end;
        char out[URL_MAX_TARGET + 8], target[URL_MAX_TARGET];
        size_t len, t, n = strlen(ref), host_len, want_len;
        struct url_ref r;
        int absolute = -1;
        enum url_rc rc =
            url_resolve(0, base, strlen(base), guard_place(ref, n), n, out,
                        sizeof out, &len, &r, &absolute);

        if (!want) {
            CHECKF(rc == URL_E_SCHEME, "'%s': rc %d", ref, rc);
            continue;
        }
        /* "http://" host [path-abempty ["?" query]] ["#" fragment] */
        host = want + 7;
        path = host + strcspn(host, "/?#");
        host_len = (size_t)(path - host);
        end = path + strcspn(path, "#");
        want_len = (size_t)(end - path);
        CHECKF(rc == URL_OK, "'%s': rc %d", ref, rc);
        if (rc != URL_OK)
            continue;
        CHECKF(absolute == !(host_len == 1 && host[0] == 'a'),
               "'%s': absolute %d", ref, absolute);
        if (absolute) {
            CHECKF(!r.tls && r.port == 80 && r.host_len == host_len &&
                       memcmp(out + r.host_off, host, host_len) == 0,
                   "'%s': origin '%.*s'", ref, (int)r.host_len,
                   out + r.host_off);
            t = url_ref_target(&r, out, target, sizeof target);
        } else {
            t = len;
            memcpy(target, out, len);
        }
        /* An empty path is sent as "/" (RFC 9112 sec. 3.2.1). */
        CHECKF(want_len == 0 ? t == 1 && target[0] == '/'
                             : t == want_len && memcmp(target, path, t) == 0,
               "'%s': target '%.*s', want '%.*s'", ref, (int)t, target,
               (int)want_len, path);
    }
}

int
main(void)
{
    RUN(test_template_ok);
    RUN(test_template_errors);
    RUN(test_every_rc_covered);
    RUN(test_ipv6_literals);
    RUN(test_ipv4_literals);
    RUN(test_host_limit);
    RUN(test_target_limit);
    RUN(test_target_output);
    RUN(test_path_bytes);
    RUN(test_host_bytes);
    RUN(test_truncations);
    RUN(test_ids);
    RUN(test_localhost_names);
    RUN(test_strerror);
    RUN(test_parse_absolute);
    RUN(test_resolve);
    RUN(test_resolve_rfc3986);
    return CHECK_REPORT();
}
