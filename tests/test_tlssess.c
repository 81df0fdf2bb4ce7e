/*
 * test_tlssess - the lines of a --tls-sessions file (include/tlssess.h):
 * what tlssess_format writes, tlssess_parse reads back exactly; anything
 * else, damaged or foreign, is not an entry.
 */
#include <string.h>

#include "check.h"
#include "tlssess.h"

static char line[TLSSESS_LINE_MAX + 64];
static unsigned char der[TLSSESS_DER_MAX];
static unsigned char in[TLSSESS_DER_MAX + 1];

static const char trust[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* The line for n bytes of in under key, or 0. */
static size_t
make(const char *key, size_t n)
{
    return tlssess_format(line, sizeof line, 1790000000, key, strlen(key), in,
                          n);
}

/* Whether line, as it stands, parses. */
static int
parses(void)
{
    struct tlssess_entry e;

    return tlssess_parse(line, strlen(line), &e, der) == 0;
}

static void
test_key(void)
{
    char k[TLSSESS_KEY_MAX + 1], name[TLSSESS_NAME_MAX + 2];

    CHECK(tlssess_key(k, sizeof k, "pokeapi.co", 443, "pokeapi.co",
                      "default") > 0);
    CHECK(strcmp(k, "pokeapi.co 443 pokeapi.co peer default") == 0);
    CHECK(tlssess_key(k, sizeof k, "127.0.0.1", 8443, NULL, trust) > 0);
    CHECK(strncmp(k, "127.0.0.1 8443 - peer 0123", 26) == 0);
    CHECK(tlssess_key(k, sizeof k, "a b", 443, NULL, "default") == 0);
    CHECK(tlssess_key(k, sizeof k, "", 443, NULL, "default") == 0);
    CHECK(tlssess_key(k, sizeof k, "h", 0, NULL, "default") == 0);
    CHECK(tlssess_key(k, sizeof k, "h", 65536, NULL, "default") == 0);
    CHECK(tlssess_key(k, sizeof k, "h", 1, NULL, "DEFAULT") == 0);
    CHECK(tlssess_key(k, 10, "pokeapi.co", 443, NULL, "default") == 0);
    /* Names of 256 bytes: longer than DNS allows, not a key. */
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    CHECK(tlssess_key(k, sizeof k, name, 443, NULL, "default") == 0);
    CHECK(tlssess_key(k, sizeof k, "h", 443, name, "default") == 0);
    name[sizeof name - 2] = '\0';
    CHECK(tlssess_key(k, sizeof k, name, 443, name, "default") > 0);
}

/* Every length round-trips (the three paddings), byte for byte. */
static void
test_round_trip(void)
{
    const char *key = "h.example 443 h.example peer default";
    struct tlssess_entry e;
    size_t n, i;

    for (i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)(i * 7 + 3);
    for (n = 1; n <= 40; n++) {
        CHECK(make(key, n) > 0);
        CHECK(tlssess_parse(line, strlen(line), &e, der) == 0);
        CHECK(e.expires == 1790000000 && e.der_len == n);
        CHECK(e.key_len == strlen(key) && memcmp(e.key, key, e.key_len) == 0);
        CHECK(memcmp(der, in, n) == 0);
    }
}

/* The largest session fits in a line just under the limit; one byte
   more is refused by both sides. */
static void
test_limits(void)
{
    char key[TLSSESS_KEY_MAX + 1], host[TLSSESS_NAME_MAX + 1];
    struct tlssess_entry e;
    size_t n;

    /* The longest key: host and SNI of 255 bytes, a 5-digit port. */
    memset(host, 'h', sizeof host - 1);
    host[sizeof host - 1] = '\0';
    CHECK(tlssess_key(key, sizeof key, host, 65535, host, trust) ==
          TLSSESS_KEY_MAX);
    n = make(key, TLSSESS_DER_MAX);
    CHECK(n > 0 && n <= TLSSESS_LINE_MAX);
    CHECK(tlssess_parse(line, n, &e, der) == 0);
    CHECK(e.der_len == TLSSESS_DER_MAX && e.key_len == TLSSESS_KEY_MAX);
    CHECK(make(key, TLSSESS_DER_MAX + 1) == 0);
    /* A session one byte too long, written by hand: not an entry. */
    CHECK(make("h 1 - peer default", TLSSESS_DER_MAX - 2) > 0);
    n = strlen(line);
    memcpy(line + n, "AAAA", 5);
    CHECK(!parses());
    memcpy(line + n, "AA==", 5);
    CHECK(parses());
}

/* Each field damaged in turn, or a foreign mode: not an entry. */
static void
test_rejects(void)
{
    static const char *const bad[] = {
        "",
        "1790000000",
        "1790000000 h 443 h peer default",
        "-1 h 443 h peer default AAAA",
        "x1 h 443 h peer default AAAA",
        "01 h 443 h peer default AAAA",
        "99999999999999999999 h 443 h peer default AAAA",
        "1 h 0 h peer default AAAA",
        "1 h 65536 h peer default AAAA",
        "1 h 0443 h peer default AAAA",
        "1 h 443 h none default AAAA",
        "1 h 443 h peer Default AAAA",
        "1 h 443 h peer 0123 AAAA",
        "1 h 443 h peer default AAA",
        "1 h 443 h peer default AA=A",
        "1 h 443 h peer default A===",
        "1 h 443 h peer default AA*A",
        "1 h 443 h peer default AAAA ",
        "1 h 443 h peer default AAAA x",
        "1  h 443 h peer default AAAA",
        "1 h\t443 h peer default AAAA",
    };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        strcpy(line, bad[i]);
        CHECKF(!parses(), "'%s' parsed", bad[i]);
    }
    strcpy(line, "1 h 443 h peer default AAAA");
    CHECK(parses());
    strcpy(line, "0 h 65535 - peer default AA==");
    CHECK(parses());
}

int
main(void)
{
    RUN(test_key);
    RUN(test_round_trip);
    RUN(test_limits);
    RUN(test_rejects);
    return CHECK_REPORT();
}
