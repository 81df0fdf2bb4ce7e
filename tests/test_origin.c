/*
 * test_origin - the rule for connection attempts both transports follow,
 * and how a redirect's URL is matched to an origin (include/origin.h).
 */
#include <string.h>

#include "check.h"
#include "origin.h"

static struct origin o;

static void
set(const char *url)
{
    struct url_template u;

    CHECK(url_parse_template(&u, url, strlen(url)) == URL_OK);
    CHECK(origin_set_template(&o, &u, url) == 0);
}

/* ref (an absolute URL) names o? */
static int
names(const char *abs)
{
    struct url_ref ref;

    CHECK(url_parse_absolute(&ref, abs, strlen(abs)) == URL_OK);
    return origin_is(&o, &ref, abs);
}

static void
test_named_after_the_template(void)
{
    set("https://Example.COM:8443/p/{id}");
    CHECK(o.tls == 1 && o.port == 8443 && !o.host_is_ip);
    CHECK(strcmp(o.host, "Example.COM") == 0);
    CHECK(o.authority_len == strlen("Example.COM:8443") &&
          memcmp(o.authority, "Example.COM:8443", o.authority_len) == 0);
    CHECK(!o.ready && !o.unreachable && o.failures_in_row == 0);
}

static void
test_matching_a_redirect(void)
{
    set("https://example.com/p/{id}");
    CHECK(names("https://EXAMPLE.com/x"));     /* host names without case */
    CHECK(names("https://example.com:443/x")); /* the default port */
    CHECK(!names("http://example.com/x"));     /* another scheme */
    CHECK(!names("https://example.com:444/x"));
    CHECK(!names("https://example.co/x")); /* a prefix is not the host */
    CHECK(!names("https://example.com.evil/x"));
}

static void
test_set_from_a_redirect(void)
{
    const char *abs = "http://[::1]:8080/r/p/7";
    struct url_ref ref;

    CHECK(url_parse_absolute(&ref, abs, strlen(abs)) == URL_OK);
    CHECK(origin_set_ref(&o, &ref, abs) == 0);
    CHECK(o.tls == 0 && o.port == 8080 && o.host_is_ip);
    CHECK(strcmp(o.host, "::1") == 0);
    CHECK(origin_is(&o, &ref, abs));
}

static void
test_attempts_in_a_row(void)
{
    set("https://example.com/p/{id}");
    /* 1 + --retries 3 = 4: unreachable at the fourth failure, not before. */
    CHECK(origin_connect_failed(&o, 4, "connect to x: refused") == 0);
    CHECK(origin_connect_failed(&o, 4, "connect to x: refused") == 0);
    CHECK(origin_connect_failed(&o, 4, "connect to x: refused") == 0);
    CHECK(!o.unreachable);
    CHECK(origin_connect_failed(&o, 4, "connect to x: refused") == 1);
    CHECK(o.unreachable);
    CHECK(strcmp(o.why, "connect to x: refused (4 attempts)") == 0);
    /* Once unreachable it stays so, with the same reason. */
    CHECK(origin_connect_failed(&o, 4, "something else") == 1);
    origin_answered(&o);
    CHECK(o.unreachable);
    CHECK(strcmp(o.why, "connect to x: refused (4 attempts)") == 0);
}

static void
test_an_answer_starts_the_count_again(void)
{
    set("https://example.com/p/{id}");
    CHECK(origin_connect_failed(&o, 2, "a") == 0);
    origin_answered(&o);
    CHECK(origin_connect_failed(&o, 2, "b") == 0);
    CHECK(origin_connect_failed(&o, 2, "c") == 1);
    CHECK(strcmp(o.why, "c (2 attempts)") == 0);
}

static void
test_one_attempt(void)
{
    set("https://example.com/p/{id}");
    CHECK(origin_connect_failed(&o, 1, "connect timeout after 1 s") == 1);
    CHECK(strcmp(o.why, "connect timeout after 1 s (1 attempt)") == 0);
}

static void
test_failed_setup(void)
{
    set("https://example.com/p/{id}");
    origin_fail(&o, "cannot resolve example.com: no such host");
    CHECK(o.unreachable);
    CHECK(strcmp(o.why, "cannot resolve example.com: no such host") == 0);
    CHECK(origin_connect_failed(&o, 4, "x") == 1);
}

static void
test_reason_cut_to_its_room(void)
{
    char err[2 * ORIGIN_WHY_LEN];

    set("https://example.com/p/{id}");
    memset(err, 'e', sizeof err - 1);
    err[sizeof err - 1] = '\0';
    CHECK(origin_connect_failed(&o, 1, err) == 1);
    CHECK(strlen(o.why) == ORIGIN_WHY_LEN - 1);
}

int
main(void)
{
    RUN(test_named_after_the_template);
    RUN(test_matching_a_redirect);
    RUN(test_set_from_a_redirect);
    RUN(test_attempts_in_a_row);
    RUN(test_an_answer_starts_the_count_again);
    RUN(test_one_attempt);
    RUN(test_failed_setup);
    RUN(test_reason_cut_to_its_room);
    return CHECK_REPORT();
}
