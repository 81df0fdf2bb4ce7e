/*
 * test_jfield - unit tests of the streaming extractor (src/jfield.c).
 *
 * Every case runs through three runners that must agree on the verdict,
 * the value and the error offset: the whole body in one jf_feed(), one
 * byte per jf_feed(), and every split into three pieces at two cuts
 * (bodies up to TWO_CUT_MAX bytes) or RANDOM_SPLITS seeded random splits
 * (larger bodies, pieces of 0 to n bytes; HUGE_SPLITS past HUGE bytes, to
 * keep the run short). Every piece is placed flush
 * against a PROT_NONE page (guard.h), so a read past what was fed
 * crashes. Along the way each run checks the contract: jf_feed() never
 * says JF_OK, errors are sticky, consumed counts every byte, jf_finish()
 * says the same thing twice.
 *
 * The table holds hand-made bodies; the test_* functions build the big
 * ones (limits, depth, huge strings). test_real_data runs every PokeAPI
 * body from the archive extract in $POKEFETCH_DATA_DIR or /tmp/pk
 * (tar xJf tests/data/pokeapi-pokemon.tar.xz -C DIR) and is skipped,
 * with a note and not counted as passed, when there is none.
 */
#include "jfield.h"

#include "check.h"
#include "guard.h"
#include "realdata.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TWO_CUT_MAX 256
#define RANDOM_SPLITS 300
#define HUGE (64 * 1024) /* bodies bigger than this get fewer splits */
#define HUGE_SPLITS 50

struct tcase {
    const char *label;
    const char *key; /* NULL: "name" */
    const char *body;
    size_t len;
    enum jf_rc rc;
    const char *val; /* the value, for JF_OK */
    size_t val_len;
    const char *at; /* error offset: the last occurrence of at in body */
    long long off;  /* or this offset if at is NULL; -1: unchecked */
    int json;       /* for JF_OK: the value is JSON text */
};

#define OKK(l, k, b, v)                                                       \
    {                                                                         \
        l, k, b, sizeof(b) - 1, JF_OK, v, sizeof(v) - 1, NULL, -1, 0          \
    }
#define OK(l, b, v) OKK(l, NULL, b, v)
#define OKJ(l, b, v)                                                          \
    {                                                                         \
        l, NULL, b, sizeof(b) - 1, JF_OK, v, sizeof(v) - 1, NULL, -1, 1       \
    }
#define ERR(l, b, rc, at)                                                     \
    {                                                                         \
        l, NULL, b, sizeof(b) - 1, rc, NULL, 0, at, -1, 0                     \
    }
#define ERRK(l, k, b, rc, at)                                                 \
    {                                                                         \
        l, k, b, sizeof(b) - 1, rc, NULL, 0, at, -1, 0                        \
    }
#define ERRO(l, b, rc, off)                                                   \
    {                                                                         \
        l, NULL, b, sizeof(b) - 1, rc, NULL, 0, NULL, off, 0                  \
    }

static const char *const rc_names[] = {
    "JF_OK",          "JF_AGAIN",       "JF_E_SYNTAX",  "JF_E_CONTROL",
    "JF_E_ESCAPE",    "JF_E_SURROGATE", "JF_E_UTF8",    "JF_E_NOT_OBJECT",
    "JF_E_TRUNCATED", "JF_E_NO_KEY",    "JF_E_DUP_KEY", "JF_E_TOO_DEEP",
    "JF_E_TOO_LONG",
};

static const char *
rc_name(enum jf_rc rc)
{
    return (unsigned)rc < sizeof rc_names / sizeof rc_names[0] ? rc_names[rc]
                                                               : "(bad rc)";
}

/* Reproducible splits. */
#define RNG_SEED 0x2545f4914f6cdd1du
#include "rng.h"

struct outcome {
    enum jf_rc rc;
    int json;
    uint64_t off;
    size_t val_len;
    char val[JF_MAX_VALUE];
};

/* Feeds one piece, checking the jf_feed() contract. */
static void
feed(struct jf_extractor *x, const char *s, size_t n, enum jf_rc *sticky)
{
    enum jf_rc rc = jf_feed(x, guard_place(s, n), n);

    CHECKF(rc != JF_OK, "jf_feed returned JF_OK");
    if (*sticky == JF_AGAIN)
        *sticky = rc;
    else
        CHECKF(rc == *sticky, "error not sticky: %s then %s", rc_name(*sticky),
               rc_name(rc));
}

static void
finish(struct jf_extractor *x, size_t len, enum jf_rc sticky,
       struct outcome *o)
{
    char again[JF_MAX_VALUE];
    size_t again_len;
    enum jf_rc rc;

    CHECKF(x->consumed == len, "consumed %llu of %zu",
           (unsigned long long)x->consumed, len);
    o->rc = jf_finish(x, o->val, sizeof o->val, &o->val_len);
    o->json = o->rc == JF_OK && x->value_json;
    o->off = x->error_offset;
    if (sticky != JF_AGAIN)
        CHECKF(o->rc == sticky, "jf_feed said %s, jf_finish %s",
               rc_name(sticky), rc_name(o->rc));
    rc = jf_finish(x, again, sizeof again, &again_len);
    CHECKF(rc == o->rc, "jf_finish said %s, then %s", rc_name(o->rc),
           rc_name(rc));
    if (rc == JF_OK)
        CHECK(again_len == o->val_len &&
              memcmp(again, o->val, again_len) == 0);
}

static void
begin(struct jf_extractor *x, const char *key, size_t key_len)
{
    int rc = jf_begin(x, key, key_len);

    CHECKF(rc == 0, "jf_begin: %d", rc);
}

/* Pieces [0,a) [a,b) [b,len), some of them empty. */
static void
run_cuts(const char *key, size_t key_len, const char *body, size_t len,
         size_t a, size_t b, struct outcome *o)
{
    struct jf_extractor x;
    enum jf_rc sticky = JF_AGAIN;

    begin(&x, key, key_len);
    feed(&x, body, a, &sticky);
    feed(&x, body + a, b - a, &sticky);
    feed(&x, body + b, len - b, &sticky);
    finish(&x, len, sticky, o);
}

static void
run_bytes(const char *key, size_t key_len, const char *body, size_t len,
          struct outcome *o)
{
    struct jf_extractor x;
    enum jf_rc sticky = JF_AGAIN;
    size_t i;

    begin(&x, key, key_len);
    for (i = 0; i < len; i++)
        feed(&x, body + i, 1, &sticky);
    finish(&x, len, sticky, o);
}

/*
 * Random pieces of 0..max bytes, max itself random per run: from 1 up, or
 * with coarse (for big real bodies) from 16 up.
 */
static void
run_random(const char *key, size_t key_len, const char *body, size_t len,
           int coarse, struct outcome *o)
{
    static const size_t maxes[] = {1, 3, 16, 100, 1000, 70000};
    const size_t n_maxes = sizeof maxes / sizeof maxes[0];
    struct jf_extractor x;
    enum jf_rc sticky = JF_AGAIN;
    size_t max =
        coarse ? maxes[2 + rnd() % (n_maxes - 2)] : maxes[rnd() % n_maxes];
    size_t off = 0, n;

    begin(&x, key, key_len);
    while (off < len) {
        n = (size_t)(rnd() % (max + 1));
        if (n > len - off)
            n = len - off;
        feed(&x, body + off, n, &sticky);
        off += n;
    }
    finish(&x, len, sticky, o);
}

/* Last occurrence of at in body as an offset ("" is the end), or off. */
static long long
offset_of(const struct tcase *c)
{
    size_t n, i;

    if (!c->at)
        return c->off;
    n = strlen(c->at);
    if (n > c->len)
        return -2; /* a typo in the table */
    for (i = c->len - n + 1; i > 0; i--)
        if (memcmp(c->body + i - 1, c->at, n) == 0)
            return (long long)(i - 1);
    return -2;
}

/* Does outcome o match case c? Says why not. */
static int
expect(const struct tcase *c, const struct outcome *o, const char *how)
{
    long long want_off = offset_of(c);

    if (o->rc != c->rc) {
        CHECKF(o->rc == c->rc, "%s [%s]: got %s, want %s", c->label, how,
               rc_name(o->rc), rc_name(c->rc));
        return 0;
    }
    if (c->rc == JF_OK && o->json != c->json) {
        CHECKF(0, "%s [%s]: value_json %d, want %d", c->label, how, o->json,
               c->json);
        return 0;
    }
    if (c->rc == JF_OK &&
        (o->val_len != c->val_len || memcmp(o->val, c->val, o->val_len))) {
        CHECKF(0, "%s [%s]: value \"%.*s\" (%zu bytes), want \"%.*s\"",
               c->label, how, (int)o->val_len, o->val, o->val_len,
               (int)c->val_len, c->val);
        return 0;
    }
    if (c->rc != JF_OK && want_off != -1 && (long long)o->off != want_off) {
        CHECKF(0, "%s [%s]: %s at offset %llu, want %lld", c->label, how,
               rc_name(o->rc), (unsigned long long)o->off, want_off);
        return 0;
    }
    return 1;
}

/* The three runners over one case; stops at its first mismatch. */
static void
check_case(const struct tcase *c)
{
    const char *key = c->key ? c->key : "name";
    size_t key_len = strlen(key), i, j;
    struct outcome o;
    char how[64];

    run_cuts(key, key_len, c->body, c->len, c->len, c->len, &o);
    if (!expect(c, &o, "whole"))
        return;
    run_bytes(key, key_len, c->body, c->len, &o);
    if (!expect(c, &o, "bytes"))
        return;
    if (c->len <= TWO_CUT_MAX) {
        for (i = 0; i <= c->len; i++) {
            for (j = i; j <= c->len; j++) {
                run_cuts(key, key_len, c->body, c->len, i, j, &o);
                snprintf(how, sizeof how, "cuts %zu,%zu", i, j);
                if (!expect(c, &o, how))
                    return;
            }
        }
        return;
    }
    for (i = 0; i < (c->len > HUGE ? HUGE_SPLITS : RANDOM_SPLITS); i++) {
        run_random(key, key_len, c->body, c->len, 0, &o);
        snprintf(how, sizeof how, "random split %zu", i);
        if (!expect(c, &o, how))
            return;
    }
}

static const struct tcase table[] = {
    /* The key found: values, escapes, whitespace. */
    OK("basic", "{\"name\":\"bulbasaur\"}", "bulbasaur"),
    OK("whitespace around everything",
       " \t\r\n{ \t\"name\"\r\n:\n\"x\" \t}\r\n ", "x"),
    OK("empty value", "{\"name\":\"\"}", ""),
    OK("near-miss keys around it",
       "{\"id\":1,\"nam\":\"a\",\"names\":\"b\",\"Name\":\"c\","
       "\"name\":\"d\",\"nAme\":\"e\",\"\":\"f\"}",
       "d"),
    OK("first of many members",
       "{\"name\":\"first\",\"moves\":[{\"name\":\"x\"}],\"n\":1}", "first"),
    OK("value is the key's name", "{\"name\":\"name\"}", "name"),
    OK("value holds JSON punctuation", "{\"name\":\"{}[],:\"}", "{}[],:"),
    OK("value escapes", "{\"name\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}",
       "a\"b\\c/d\b\f\n\r\t"),
    OK("value \\u00e9", "{\"name\":\"caf\\u00e9\"}", "caf\xc3\xa9"),
    OK("value \\u hex case", "{\"name\":\"\\u004a\\u004B\\u00E9\"}",
       "JK\xc3\xa9"),
    OK("value \\u boundaries",
       "{\"name\":\"\\u007f\\u0080\\u07ff\\u0800\\uffff\\u20ac\"}",
       "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xe2\x82\xac"),
    OK("value surrogate pair", "{\"name\":\"\\ud83d\\ude00!\"}",
       "\xf0\x9f\x98\x80!"),
    OK("value surrogate pair upper", "{\"name\":\"\\uD83D\\uDE00\"}",
       "\xf0\x9f\x98\x80"),
    OK("value pair edges", "{\"name\":\"\\ud800\\udc00\\udbff\\udfff\"}",
       "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"),
    OK("value \\u0000", "{\"name\":\"a\\u0000b\"}", "a\0b"),
    OK("value raw UTF-8",
       "{\"name\":\"Flab\xc3\xa9"
       "b\xc3\xa9 \xf0\x9f\x98\x80\"}",
       "Flab\xc3\xa9"
       "b\xc3\xa9 \xf0\x9f\x98\x80"),
    OK("value raw UTF-8 edges",
       "{\"name\":\"\xc2\x80\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
       "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}",
       "\xc2\x80\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
       "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"),
    OK("value raw DEL", "{\"name\":\"a\x7f\"}", "a\x7f"),

    /* The key written with escapes still matches. */
    OK("key n\\u0061me", "{\"n\\u0061me\":\"v\"}", "v"),
    OK("key all escaped", "{\"\\u006e\\u0061\\u006D\\u0065\":\"v\"}", "v"),
    OK("key escape mismatch then match",
       "{\"n\\u0062me\":\"no\",\"na\\u006d\":\"no\",\"name\":\"v\"}", "v"),
    OKK("key with \\/", "a/b", "{\"a\\/b\":\"v\"}", "v"),
    OKK("key with \\\"", "a\"b", "{\"a\\\"b\":\"v\"}", "v"),
    OKK("key with \\n, not \\\\n", "a\nb",
        "{\"a\\\\nb\":\"no\",\"a\\nb\":\"v\"}", "v"),
    OKK("key \\u00e9 for UTF-8", "\xc3\xa9", "{\"\\u00e9\":\"v\"}", "v"),
    OKK("key raw UTF-8", "\xc3\xa9", "{\"e\":1,\"\xc3\xa9\":\"v\"}", "v"),
    OKK("key surrogate pair", "\xf0\x9f\x98\x80", "{\"\\ud83d\\ude00\":\"v\"}",
        "v"),
    OKK("key pair overshoots", "a", "{\"\\ud83d\\ude00\":\"no\",\"a\":\"v\"}",
        "v"),
    OKK("key with all escapes", "\"\\/\b\f\n\r\t",
        "{\"\\\"\\\\\\/\\b\\f\\n\\r\\t\":\"v\"}", "v"),

    /* Decoys: the same key, not at the top level. */
    OK("decoys in objects",
       "{\"x\":{\"name\":\"no\"},\"name\":\"yes\",\"y\":{\"name\":\"no\"}}",
       "yes"),
    OK("decoys in arrays",
       "{\"x\":[{\"name\":\"no\"},[\"name\",\"name\"]],\"name\":\"yes\"}",
       "yes"),
    OK("decoys as values",
       "{\"x\":\"name\",\"y\":\"\\\"name\\\":\\\"no\\\"\",\"name\":\"yes\"}",
       "yes"),
    OK("decoy deep",
       "{\"a\":{\"b\":{\"c\":{\"d\":[[[{\"name\":\"deep\"}]]]}}},"
       "\"name\":\"top\"}",
       "top"),
    OK("decoy escaped in nested key",
       "{\"a\":{\"n\\u0061me\":\"no\"},\"name\":\"top\"}", "top"),

    /* Everything else valid JSON can hold, around the key. */
    OK("numbers",
       "{\"a\":-0,\"b\":1e5,\"c\":1E+5,\"d\":-1.5e-3,\"e\":0.0,\"f\":10,"
       "\"g\":0e0,\"h\":-0.0E-0,\"i\":[0,-1,2.5,3e9],\"name\":\"n\"}",
       "n"),
    OK("literals",
       "{\"a\":true,\"b\":false,\"c\":null,\"d\":[true,false,null],"
       "\"name\":\"n\"}",
       "n"),
    OK("empty containers",
       "{\"a\":{},\"b\":[],\"c\":[{}],\"d\":[[]],\"e\":{\"f\":{}},"
       "\"name\":\"n\"}",
       "n"),
    OK("escapes in other strings",
       "{\"a\\n\":{\"b\\u0041\\\"\":\"c\\\\\\ud83d\\ude00\"},"
       "\"d\":[\"\\t\\u00e9\"],\"name\":\"v\"}",
       "v"),
    OK("whitespace in containers",
       "{ \"a\" : [ 1 , { } , [ ] , \"x\" , null ] , \"name\" : \"v\" }", "v"),
    OK("raw UTF-8 elsewhere is not checked",
       "{\"a\":\"\xff\xfe\",\"\xc0\xaf\":1,\"name\":\"ok\"}", "ok"),
    OK("empty key elsewhere", "{\"\":1,\"name\":\"v\"}", "v"),

    /* JF_E_ESCAPE and JF_E_SURROGATE, anywhere. */
    ERR("bad escape \\x", "{\"name\":\"a\\xb\"}", JF_E_ESCAPE, "xb"),
    ERR("bad escape in nested key", "{\"a\":{\"b\\q\":1}}", JF_E_ESCAPE, "q"),
    ERR("bad escape \\U", "{\"a\":\"\\U0041\"}", JF_E_ESCAPE, "U"),
    ERR("bad escape in top key", "{\"n\\ame\":1}", JF_E_ESCAPE, "ame"),
    ERR("bad hex digit", "{\"a\":\"\\u12G4\"}", JF_E_ESCAPE, "G"),
    ERR("short \\u", "{\"a\":\"\\u12\"}", JF_E_ESCAPE, "\"}"),
    ERR("lone high surrogate", "{\"name\":\"\\ud800\"}", JF_E_SURROGATE,
        "\"}"),
    ERR("high then a byte", "{\"a\":\"\\ud800x\"}", JF_E_SURROGATE, "x"),
    ERR("high then \\n", "{\"a\":\"\\ud800\\n\"}", JF_E_SURROGATE, "n\""),
    ERR("high then high", "{\"a\":\"\\ud800\\ud800\"}", JF_E_SURROGATE, "0\""),
    ERR("high then BMP", "{\"a\":\"\\ud800\\u0041\"}", JF_E_SURROGATE, "1\""),
    ERR("lone low surrogate", "{\"a\":\"\\udc00\"}", JF_E_SURROGATE, "0\""),
    ERR("lone low in top key", "{\"\\udfff\":1}", JF_E_SURROGATE, "f\""),
    ERR("lone high in kept value", "{\"name\":\"\\udbff\"}", JF_E_SURROGATE,
        "\"}"),
    ERR("lone high in nested key", "{\"a\":{\"\\ud800\":1}}", JF_E_SURROGATE,
        "\":1"),

    /* JF_E_CONTROL: raw control bytes in strings. */
    ERR("raw tab in value", "{\"name\":\"a\tb\"}", JF_E_CONTROL, "\t"),
    ERR("raw newline nested", "{\"a\":[\"x\ny\"]}", JF_E_CONTROL, "\n"),
    ERR("raw 0x1f in key", "{\"a\x1f\":1}", JF_E_CONTROL, "\x1f"),
    ERRO("raw NUL in string", "{\"a\":\"\0\"}", JF_E_CONTROL, 6),

    /* JF_E_SYNTAX: numbers. */
    ERR("leading zero", "{\"a\":01}", JF_E_SYNTAX, "1"),
    ERR("negative leading zero", "{\"a\":-01}", JF_E_SYNTAX, "1"),
    ERR("1.", "{\"a\":1.}", JF_E_SYNTAX, "}"),
    ERR(".5", "{\"a\":.5}", JF_E_SYNTAX, "."),
    ERR("-", "{\"a\":-}", JF_E_SYNTAX, "}"),
    ERR("- 1", "{\"a\":- 1}", JF_E_SYNTAX, " "),
    ERR("1e", "{\"a\":1e}", JF_E_SYNTAX, "}"),
    ERR("1e+", "{\"a\":1e+}", JF_E_SYNTAX, "}"),
    ERR("1e-x", "{\"a\":1e-x}", JF_E_SYNTAX, "x"),
    ERR("+1", "{\"a\":+1}", JF_E_SYNTAX, "+"),
    ERR("0x1", "{\"a\":0x1}", JF_E_SYNTAX, "x"),
    ERR("1.2.3", "{\"a\":1.2.3}", JF_E_SYNTAX, "."),
    ERR("1e2e3", "{\"a\":1e2e3}", JF_E_SYNTAX, "e"),
    ERR("1e2.5", "{\"a\":1e2.5}", JF_E_SYNTAX, "."),
    ERR("NaN", "{\"a\":NaN}", JF_E_SYNTAX, "NaN"),
    ERR("-Infinity", "{\"a\":-Infinity}", JF_E_SYNTAX, "I"),
    ERR("00 as the value", "{\"name\":00}", JF_E_SYNTAX, "0"),
    ERR("number then letter", "{\"a\":12a}", JF_E_SYNTAX, "a"),

    /* JF_E_SYNTAX: literals. */
    ERR("tru", "{\"a\":tru}", JF_E_SYNTAX, "}"),
    ERR("nulll", "{\"a\":nulll}", JF_E_SYNTAX, "l"),
    ERR("True", "{\"a\":True}", JF_E_SYNTAX, "T"),
    ERR("falsy", "{\"a\":falsy}", JF_E_SYNTAX, "y"),
    ERR("truex", "{\"a\":truex}", JF_E_SYNTAX, "x"),
    ERR("nul as the value", "{\"name\":nul}", JF_E_SYNTAX, "}"),
    ERR("literal in array", "{\"a\":[true,fals]}", JF_E_SYNTAX, "]"),

    /* JF_E_SYNTAX: structure. */
    ERR("trailing garbage", "{\"name\":\"v\"} x", JF_E_SYNTAX, "x"),
    ERR("two objects", "{\"name\":\"v\"}{}", JF_E_SYNTAX, "{"),
    ERR("extra close", "{\"a\":1}}", JF_E_SYNTAX, "}"),
    ERR("trailing comma in object", "{\"a\":1,}", JF_E_SYNTAX, "}"),
    ERR("trailing comma in array", "{\"a\":[1,]}", JF_E_SYNTAX, "]"),
    ERR("leading comma", "{,\"a\":1}", JF_E_SYNTAX, ","),
    ERR("comma in empty array", "{\"a\":[,]}", JF_E_SYNTAX, ","),
    ERR("missing colon", "{\"a\" 1}", JF_E_SYNTAX, "1"),
    ERR("double colon", "{\"a\"::1}", JF_E_SYNTAX, ":"),
    ERR("missing comma", "{\"a\":1 \"b\":2}", JF_E_SYNTAX, "\"b"),
    ERR("missing value", "{\"a\":}", JF_E_SYNTAX, "}"),
    ERR("key not a string", "{1:2}", JF_E_SYNTAX, "1"),
    ERR("single quotes", "{'a':1}", JF_E_SYNTAX, "'a'"),
    ERR("object as key", "{\"a\":{{}}}", JF_E_SYNTAX, "{}}}"),
    ERR("comma after key", "{\"a\",1}", JF_E_SYNTAX, ","),
    ERR("colon in array", "{\"a\":[1:2]}", JF_E_SYNTAX, ":"),
    ERR("} closes [", "{\"a\":[}", JF_E_SYNTAX, "}"),
    ERR("] closes {", "{\"a\":{]}", JF_E_SYNTAX, "]"),
    ERR("] closes top", "{\"a\":1]", JF_E_SYNTAX, "]"),
    ERR("comment", "{\"a\":1/*c*/}", JF_E_SYNTAX, "/*"),
    ERR("byte order mark", "\xef\xbb\xbf{}", JF_E_SYNTAX, "\xef"),
    ERR("garbage at top", " x", JF_E_SYNTAX, "x"),
    ERR("} at top", "}", JF_E_SYNTAX, "}"),
    ERR("] at top", "]", JF_E_SYNTAX, "]"),
    ERR("other whitespace", "{\"a\":1,\v\"name\":\"v\"}", JF_E_SYNTAX, "\v"),
    ERR("syntax error after the value", "{\"name\":\"v\",\"a\":x}",
        JF_E_SYNTAX, "x"),

    /* JF_E_UTF8: the kept value's raw UTF-8. */
    ERR("kept value 0xff",
        "{\"name\":\"a\xff"
        "b\"}",
        JF_E_UTF8, "\xff"),
    ERR("kept value overlong", "{\"name\":\"\xc0\xaf\"}", JF_E_UTF8, "\xc0"),
    ERR("kept value overlong 3", "{\"name\":\"\xe0\x9f\xbf\"}", JF_E_UTF8,
        "\xe0"),
    ERR("kept value UTF-8 surrogate", "{\"name\":\"\xed\xa0\x80\"}", JF_E_UTF8,
        "\xed"),
    ERR("kept value past U+10FFFF", "{\"name\":\"\xf4\x90\x80\x80\"}",
        JF_E_UTF8, "\xf4"),
    ERR("kept value lone continuation", "{\"name\":\"ab\x80\"}", JF_E_UTF8,
        "\x80"),
    ERR("kept value cut by quote", "{\"name\":\"a\xc3\"}", JF_E_UTF8, "\xc3"),
    ERR("kept value cut by escape", "{\"name\":\"\xe2\x82\\n\"}", JF_E_UTF8,
        "\xe2"),
    ERR("kept value 5-byte form", "{\"name\":\"\xf8\x88\x80\x80\x80\"}",
        JF_E_UTF8, "\xf8"),
    ERR("kept value bad UTF-8 before dup", "{\"name\":\"\xff\",\"name\":1}",
        JF_E_UTF8, "\xff"),

    /* JF_E_NOT_OBJECT. */
    ERR("array", "[]", JF_E_NOT_OBJECT, "["),
    ERR("array holding the key", " [{\"name\":\"x\"}]", JF_E_NOT_OBJECT, "["),
    ERR("string", "\"name\"", JF_E_NOT_OBJECT, "\"name"),
    ERR("number", "12", JF_E_NOT_OBJECT, "12"),
    ERR("negative number", "\n-1", JF_E_NOT_OBJECT, "-"),
    ERR("true", "true", JF_E_NOT_OBJECT, "t"),
    ERR("false", "false", JF_E_NOT_OBJECT, "f"),
    ERR("null", " null", JF_E_NOT_OBJECT, "n"),
    ERR("array then garbage", "[}", JF_E_NOT_OBJECT, "["),

    /* JF_E_TRUNCATED: the end comes inside the text. */
    ERR("empty body", "", JF_E_TRUNCATED, ""),
    ERR("whitespace only", " \r\n\t", JF_E_TRUNCATED, ""),
    ERR("{", "{", JF_E_TRUNCATED, ""),
    ERR("in a key", "{\"na", JF_E_TRUNCATED, ""),
    ERR("after the key", "{\"name\"", JF_E_TRUNCATED, ""),
    ERR("after the colon", "{\"name\": ", JF_E_TRUNCATED, ""),
    ERR("in the value", "{\"name\":\"x", JF_E_TRUNCATED, ""),
    ERR("after the value", "{\"name\":\"x\"", JF_E_TRUNCATED, ""),
    ERR("in an array", "{\"a\":[1,", JF_E_TRUNCATED, ""),
    ERR("in a number", "{\"a\":1", JF_E_TRUNCATED, ""),
    ERR("in a literal", "{\"a\":tr", JF_E_TRUNCATED, ""),
    ERR("in an escape", "{\"a\":\"\\u12", JF_E_TRUNCATED, ""),
    ERR("nested, after a value", "{\"a\":{\"b\":[]}", JF_E_TRUNCATED, ""),

    /* JF_E_NO_KEY. */
    ERR("empty object", "{}", JF_E_NO_KEY, ""),
    ERR("other keys", "{\"a\":1,\"nam\":\"x\",\"names\":\"y\"}", JF_E_NO_KEY,
        ""),
    ERR("only nested", "{\"x\":{\"name\":\"nested\"},\"y\":[{\"name\":1}]}",
        JF_E_NO_KEY, ""),
    ERR("case differs", "{\"Name\":\"x\",\"NAME\":\"y\"}", JF_E_NO_KEY, ""),
    ERR("escaped prefix", "{\"n\\u0061m\":\"x\"}", JF_E_NO_KEY, ""),
    ERR("escaped NUL after", "{\"name\\u0000\":\"x\"}", JF_E_NO_KEY, ""),
    /* Raw keys a byte shorter and longer than a/b, with and without \. */
    ERRK("near lengths", "a/b",
         "{\"a/\":1,\"a/bc\":2,\"a\\/\":3,\"a\\/bc\":4,\"\\/b\":5}",
         JF_E_NO_KEY, ""),
    ERR("key as a value", "{\"a\":\"name\"}", JF_E_NO_KEY, ""),
    ERRK("key wants 4-byte UTF-8", "\xf0\x9f\x98\x81",
         "{\"\\ud83d\\ude00\":\"x\"}", JF_E_NO_KEY, ""),

    /* Values that are not strings: their JSON text, made compact. */
    OKJ("number value", "{\"name\":1}", "1"),
    OKJ("zero value", "{\"name\":0}", "0"),
    OKJ("full number value", "{\"name\" : -1.5e+3 }", "-1.5e+3"),
    OKJ("long number value",
        "{\"name\":123456789012345678901234567890123456789.5e-7}",
        "123456789012345678901234567890123456789.5e-7"),
    OKJ("null value", "{\"name\":null}", "null"),
    OKJ("true value", "{\"name\":true,\"a\":1}", "true"),
    OKJ("false value", "{\"name\":false}", "false"),
    OKJ("number then more", "{\"name\":-0.0E-0,\"a\":[1]}", "-0.0E-0"),
    OKJ("empty object value", "{\"name\":{}}", "{}"),
    OKJ("empty array value", "{\"name\":[]}", "[]"),
    OKJ("object value holding the key", "{\"name\":{\"name\":\"x\"},\"b\":2}",
        "{\"name\":\"x\"}"),
    OKJ("array value of strings", "{\"name\":[\"x\",\"y\"]}", "[\"x\",\"y\"]"),
    OKJ("whitespace dropped, not in strings",
        "{\"name\" :\n [ 1 ,\t{ \"a b\" : \" c\\t \" } ,\r\n[ ] ] }",
        "[1,{\"a b\":\" c\\t \"},[]]"),
    OKJ("braces and quotes in strings",
        "{\"name\":{\"k}\":\"]}{[\\\"\",\"\\\\\":\"\\\\\\\"}\"}}",
        "{\"k}\":\"]}{[\\\"\",\"\\\\\":\"\\\\\\\"}\"}"),
    OKJ("escapes kept as written",
        "{\"name\":[\"\\u00e9\\ud83d\\ude00\\n\\/\"]}",
        "[\"\\u00e9\\ud83d\\ude00\\n\\/\"]"),
    OKJ("raw UTF-8 in a nested string",
        "{\"name\":{\"\xc3\xa9\":[\"\xe2\x80\xa8\xf0\x9f\x98\x80\"]}}",
        "{\"\xc3\xa9\":[\"\xe2\x80\xa8\xf0\x9f\x98\x80\"]}"),
    OKJ("nested decoys inside the value",
        "{\"a\":1,\"name\":[{\"name\":\"x\"},{\"name\":[]}],\"b\":2}",
        "[{\"name\":\"x\"},{\"name\":[]}]"),
    OKJ("deep value", "{\"name\":[[[[{\"a\":[[{}]]}]]]]}",
        "[[[[{\"a\":[[{}]]}]]]]"),

    /* A non-string value's strings: their raw UTF-8 is checked. */
    ERR("bad UTF-8 in the object value", "{\"name\":{\"a\":\"x\xff\"}}",
        JF_E_UTF8, "\xff"),
    ERR("bad UTF-8 in a key of the value", "{\"name\":{\"\xc0\xaf\":1}}",
        JF_E_UTF8, "\xc0"),
    ERR("UTF-8 cut by a quote in the value", "{\"name\":[\"\xe2\x80\"]}",
        JF_E_UTF8, "\xe2"),
    ERR("UTF-8 cut by an escape in the value", "{\"name\":[\"\xc3\\n\"]}",
        JF_E_UTF8, "\xc3"),
    ERR("bad UTF-8 then bad syntax in the value", "{\"name\":[\"\xff\",}",
        JF_E_UTF8, "\xff"),
    ERR("syntax error in the value", "{\"name\":[1,]}", JF_E_SYNTAX, "]"),
    ERR("control byte after a lead byte", "{\"name\":[\"\xc3\x01\"]}",
        JF_E_CONTROL, "\x01"),
    ERR("bad UTF-8 elsewhere is fine, then cut", "{\"a\":\"\xff\",\"name\":[1",
        JF_E_TRUNCATED, ""),
    ERR("bad UTF-8 in the value, then cut", "{\"name\":[\"\xff", JF_E_UTF8,
        "\xff"),
    ERR("value cut", "{\"name\":{\"a\":[1,2", JF_E_TRUNCATED, ""),

    /* JF_E_DUP_KEY: at the second key's closing quote. */
    ERR("twice", "{\"name\":\"a\",\"name\":\"b\"}", JF_E_DUP_KEY, "\":\"b"),
    ERR("twice, same value", "{\"name\":\"a\",\"name\":\"a\"}", JF_E_DUP_KEY,
        "\":\"a\"}"),
    ERR("twice, second escaped", "{\"name\":\"a\",\"n\\u0061me\":\"b\"}",
        JF_E_DUP_KEY, "\":\"b"),
    ERR("twice, first not a string", "{\"name\":1,\"name\":\"b\"}",
        JF_E_DUP_KEY, "\":\"b"),
    ERR("twice, object values", "{\"name\":{},\"x\":[],\"name\":{}}",
        JF_E_DUP_KEY, "\":{}}"),
    ERR("twice, body cut after", "{\"name\":\"a\",\"name\":", JF_E_DUP_KEY,
        "\":"),
    ERR("twice, garbage after", "{\"name\":\"a\",\"name\":x", JF_E_DUP_KEY,
        "\":x"),
};

static const struct tcase *cur;

static void
table_case(void)
{
    check_case(cur);
}

/* Runs a generated case as one case of its own. */
static void
gen_case(const char *label, const char *key, const char *body, size_t len,
         enum jf_rc rc, const char *val, size_t val_len, long long off)
{
    struct tcase c = {label, key, body, len, rc, val, val_len, NULL, off, 0};

    check_case(&c);
}

/* The same for a case whose value is JSON text. */
static void
gen_json_case(const char *label, const char *body, size_t len, enum jf_rc rc,
              const char *val, size_t val_len, long long off)
{
    struct tcase c = {label, NULL, body, len, rc, val, val_len, NULL, off, 1};

    check_case(&c);
}

/* A malloc'd buffer built from pieces: text, or a byte repeated. */
struct sb {
    char *s;
    size_t len, cap;
};

static void
sb_add(struct sb *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->s = realloc(b->s, b->cap);
        if (!b->s)
            abort();
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
}

static void
sb_str(struct sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void
sb_rep(struct sb *b, const char *s, size_t times)
{
    while (times--)
        sb_str(b, s);
}

/* Appends tmpl with each '@' in it replaced by the byte ch. */
static void
sb_with(struct sb *b, const char *tmpl, char ch)
{
    for (; *tmpl; tmpl++)
        sb_add(b, *tmpl == '@' ? &ch : tmpl, 1);
}

static void
test_value_limit(void)
{
    /* {"name":" is 9 bytes: content byte k (from 0) is at 9 + k. */
    struct sb b = {0}, v = {0};
    size_t i;

    sb_str(&b, "{\"name\":\"");
    sb_rep(&b, "a", JF_MAX_VALUE);
    sb_str(&b, "\"}");
    gen_case("value of JF_MAX_VALUE bytes", NULL, b.s, b.len, JF_OK, b.s + 9,
             JF_MAX_VALUE, -1);
    b.len = 9;
    sb_rep(&b, "a", JF_MAX_VALUE + 1);
    sb_str(&b, "\"}");
    gen_case("value of JF_MAX_VALUE + 1 bytes", NULL, b.s, b.len,
             JF_E_TOO_LONG, NULL, 0, 9 + JF_MAX_VALUE);
    b.len = 9;
    sb_rep(&b, "a", 100000);
    gen_case("value far too long, cut", NULL, b.s, b.len, JF_E_TOO_LONG, NULL,
             0, 9 + JF_MAX_VALUE);

    /* The limit counts raw bytes: escapes count as written. */
    b.len = 9;
    sb_rep(&b, "a", JF_MAX_VALUE - 2);
    sb_str(&b, "\\n\"}");
    sb_add(&v, b.s + 9, JF_MAX_VALUE - 2);
    sb_str(&v, "\n");
    gen_case("escape ends at the limit", NULL, b.s, b.len, JF_OK, v.s, v.len,
             -1);
    b.len = 9;
    sb_rep(&b, "a", JF_MAX_VALUE - 1);
    sb_str(&b, "\\n\"}");
    gen_case("escape crosses the limit", NULL, b.s, b.len, JF_E_TOO_LONG, NULL,
             0, 9 + JF_MAX_VALUE);
    b.len = 9;
    v.len = 0;
    for (i = 0; i < JF_MAX_VALUE / 6; i++) {
        sb_str(&b, "\\u00e9");
        sb_str(&v, "\xc3\xa9");
    }
    sb_rep(&b, "z", JF_MAX_VALUE % 6);
    sb_rep(&v, "z", JF_MAX_VALUE % 6);
    sb_str(&b, "\"}");
    gen_case("\\u escapes up to the limit", NULL, b.s, b.len, JF_OK, v.s,
             v.len, -1);
    b.len = 9;
    sb_rep(&b, "a", JF_MAX_VALUE - 10);
    sb_str(&b, "\\ud83d\\ude00\"}");
    gen_case("surrogate pair crosses the limit", NULL, b.s, b.len,
             JF_E_TOO_LONG, NULL, 0, 9 + JF_MAX_VALUE);

    /* A malformed sequence before the limit is the first problem. */
    b.len = 9;
    sb_str(&b, "\xff");
    sb_rep(&b, "a", 2000);
    sb_str(&b, "\"}");
    gen_case("bad UTF-8, then too long", NULL, b.s, b.len, JF_E_UTF8, NULL, 0,
             9);
    b.len = 9;
    sb_rep(&b, "a", JF_MAX_VALUE - 1);
    sb_str(&b, "\xc3"
               "b\"}");
    gen_case("bad UTF-8 just before the limit", NULL, b.s, b.len, JF_E_UTF8,
             NULL, 0, 9 + JF_MAX_VALUE - 1);
    b.len = 9;
    sb_rep(&b, "a", JF_MAX_VALUE - 1);
    sb_str(&b, "\xc3\xa9\"}");
    gen_case("good UTF-8 cut by the limit", NULL, b.s, b.len, JF_E_TOO_LONG,
             NULL, 0, 9 + JF_MAX_VALUE);
    b.len = 9;
    sb_rep(&b, "a", JF_MAX_VALUE + 1);
    sb_str(&b, "\",\"name\":\"x\"}");
    gen_case("too long comes before the dup", NULL, b.s, b.len, JF_E_TOO_LONG,
             NULL, 0, 9 + JF_MAX_VALUE);
    free(b.s);
    free(v.s);
}

static void
test_huge_elsewhere(void)
{
    struct sb b = {0};
    size_t i;

    sb_str(&b, "{\"big\":\"");
    sb_rep(&b, "https://pokeapi.co/api/v2/move/1/", 10000);
    sb_str(&b, "\",\"");
    sb_rep(&b, "k", 50000);
    sb_str(&b, "\":{\"");
    sb_rep(&b, "n", 50000);
    sb_str(&b, "\":[");
    for (i = 0; i < 5000; i++)
        sb_str(&b, "{\"name\":\"x\",\"url\":\"u\",\"n\":-12.5e3},");
    sb_str(&b, "1");
    sb_rep(&b, "7", 100000);
    sb_str(&b, "]},\"name\":\"ok\",\"");
    sb_rep(&b, "nam", 30000);
    sb_str(&b, "\":1}");
    sb_rep(&b, " ", 10000);
    gen_case("huge strings, keys and numbers around the key", NULL, b.s, b.len,
             JF_OK, "ok", 2, -1);

    b.len = 0;
    sb_str(&b, "{\"name\":-");
    sb_rep(&b, "9", 200000);
    sb_str(&b, ".5}");
    gen_case("huge number value", NULL, b.s, b.len, JF_E_TOO_LONG, NULL, 0,
             8 + JF_MAX_VALUE);

    b.len = 0;
    sb_str(&b, "{\"name\":[");
    sb_rep(&b, "\"a\",", 50000);
    sb_str(&b, "\"b\"]}");
    gen_case("huge array value", NULL, b.s, b.len, JF_E_TOO_LONG, NULL, 0,
             8 + JF_MAX_VALUE);

    b.len = 0;
    sb_str(&b, "{\"na");
    sb_rep(&b, "m", 100000);
    sb_str(&b, "e\":\"x\",\"name\":\"y\"}");
    gen_case("huge near-miss top-level key", NULL, b.s, b.len, JF_OK, "y", 1,
             -1);
    free(b.s);
}

/*
 * Non-string values at the cap: JF_MAX_VALUE bytes of compact JSON text
 * pass, one more is JF_E_TOO_LONG at that byte, whitespace between tokens
 * not counted; the cap against other problems in byte order.
 */
static void
test_json_value_limit(void)
{
    /* {"name": is 8 bytes: the value's byte k (from 0) is at 8 + k. */
    struct sb b = {0}, v = {0};
    size_t i;

    /* [1,1,...,1]: 2n + 1 bytes; the cap is even, so end on [...,10]. */
    sb_str(&v, "[");
    for (i = 0; v.len + 2 < JF_MAX_VALUE; i++)
        sb_str(&v, i ? ",1" : "1");
    sb_str(&v, "]");
    CHECK(v.len == JF_MAX_VALUE - 1);
    b.len = 0;
    sb_str(&b, "{\"name\":");
    sb_add(&b, v.s, v.len);
    sb_str(&b, "}");
    gen_json_case("array of JF_MAX_VALUE - 1 bytes", b.s, b.len, JF_OK, v.s,
                  v.len, -1);
    v.len--;
    sb_str(&v, "0]");
    b.len = 8;
    sb_add(&b, v.s, v.len);
    sb_str(&b, "}");
    gen_json_case("array of JF_MAX_VALUE bytes", b.s, b.len, JF_OK, v.s, v.len,
                  -1);
    b.len = 8;
    sb_add(&b, v.s, v.len - 1);
    sb_str(&b, "0]}");
    gen_json_case("array of JF_MAX_VALUE + 1 bytes", b.s, b.len, JF_E_TOO_LONG,
                  NULL, 0, 8 + JF_MAX_VALUE);

    /* The same text with whitespace everywhere it may go. */
    b.len = 8;
    for (i = 0; i < v.len; i++) {
        if (i == 0 || v.s[i] < '0' || v.s[i - 1] < '0')
            sb_str(&b, i % 3 ? " " : "\r\n\t"); /* not inside "10" */
        sb_add(&b, v.s + i, 1);
    }
    sb_str(&b, " }");
    gen_json_case("JF_MAX_VALUE bytes, spaced out", b.s, b.len, JF_OK, v.s,
                  v.len, -1);
    b.len -= 3;                /* back to before the closing ']' */
    sb_str(&b, "\n ,\n 3 ]}"); /* ',' is the cap's last byte, '3' past it */
    gen_json_case("JF_MAX_VALUE + 2 bytes, spaced out", b.s, b.len,
                  JF_E_TOO_LONG, NULL, 0, (long long)b.len - 4);

    /* A number of JF_MAX_VALUE digits, and one more. */
    b.len = 8;
    sb_rep(&b, "7", JF_MAX_VALUE);
    sb_str(&b, "}");
    gen_json_case("number of JF_MAX_VALUE bytes", b.s, b.len, JF_OK, b.s + 8,
                  JF_MAX_VALUE, -1);
    b.len = 8;
    sb_rep(&b, "7", JF_MAX_VALUE + 1);
    sb_str(&b, "}");
    gen_json_case("number of JF_MAX_VALUE + 1 bytes", b.s, b.len,
                  JF_E_TOO_LONG, NULL, 0, 8 + JF_MAX_VALUE);

    /*
     * {"name": + head + rep x times + tail: strings inside count their raw
     * bytes, escapes as written; bad UTF-8 before the cap wins (a
     * sequence that the byte past the cap breaks began before it, as for
     * a string value), a lead byte past the cap is the cap's; syntax
     * errors and the end of the body come after the cap or before it.
     * off -1: the value is JF_OK and is all of it.
     */
    static const struct {
        const char *label, *head, *rep;
        size_t times;
        const char *tail;
        enum jf_rc rc;
        long long off;
    } gen[] = {
        {"escapes up to the cap", "[\"", "\\n", (JF_MAX_VALUE - 4) / 2, "\"]}",
         JF_OK, -1},
        {"a string's closing quote past the cap", "[\"", "\\n",
         (JF_MAX_VALUE - 4) / 2, "x\"]}", JF_E_TOO_LONG, 8 + JF_MAX_VALUE},
        {"bad UTF-8, then too long", "[\"\xff", "a", 2000, "\"]}", JF_E_UTF8,
         10},
        {"good UTF-8 cut by the cap", "[\"", "a", JF_MAX_VALUE - 3,
         "\xc3\xa9\"]}", JF_E_TOO_LONG, 8 + JF_MAX_VALUE},
        {"bad continuation at the cap", "[\"", "a", JF_MAX_VALUE - 3,
         "\xc3\x41\"]}", JF_E_UTF8, 8 + JF_MAX_VALUE - 1},
        {"bad lead byte at the cap", "[\"", "a", JF_MAX_VALUE - 2, "\xff\"]}",
         JF_E_TOO_LONG, 8 + JF_MAX_VALUE},
        {"bad continuation just before the cap", "[\"", "a", JF_MAX_VALUE - 4,
         "\xc3\x41\"]}", JF_E_UTF8, 8 + JF_MAX_VALUE - 2},
        {"too long, then a syntax error", "[", "1,", JF_MAX_VALUE, "]}",
         JF_E_TOO_LONG, 8 + JF_MAX_VALUE},
        {"a syntax error, then too long", "[1,,", "1,", JF_MAX_VALUE, "1]}",
         JF_E_SYNTAX, 11},
        {"too long, then cut", "[", "1,", JF_MAX_VALUE, "", JF_E_TOO_LONG,
         8 + JF_MAX_VALUE},
        {"too deep within the cap", "{\"a\":", "[", JF_MAX_DEPTH, "",
         JF_E_TOO_DEEP, 8 + 5 + JF_MAX_DEPTH - 2},
    };

    for (i = 0; i < sizeof gen / sizeof gen[0]; i++) {
        b.len = 8;
        sb_str(&b, gen[i].head);
        sb_rep(&b, gen[i].rep, gen[i].times);
        sb_str(&b, gen[i].tail);
        if (gen[i].off < 0)
            gen_json_case(gen[i].label, b.s, b.len, gen[i].rc, b.s + 8,
                          b.len - 9, -1);
        else
            gen_json_case(gen[i].label, b.s, b.len, gen[i].rc, NULL, 0,
                          gen[i].off);
    }

    free(b.s);
    free(v.s);
}

static void
test_depth(void)
{
    /* {"a": opens level 1; each [ one more. */
    struct sb b = {0};

    sb_str(&b, "{\"a\":");
    sb_rep(&b, "[", JF_MAX_DEPTH - 1);
    sb_rep(&b, "]", JF_MAX_DEPTH - 1);
    sb_str(&b, ",\"name\":\"x\"}");
    gen_case("arrays JF_MAX_DEPTH deep", NULL, b.s, b.len, JF_OK, "x", 1, -1);

    b.len = 0;
    sb_str(&b, "{\"a\":");
    sb_rep(&b, "[", JF_MAX_DEPTH);
    sb_rep(&b, "]", JF_MAX_DEPTH);
    sb_str(&b, ",\"name\":\"x\"}");
    gen_case("arrays JF_MAX_DEPTH + 1 deep", NULL, b.s, b.len, JF_E_TOO_DEEP,
             NULL, 0, 5 + JF_MAX_DEPTH - 1);

    b.len = 0;
    sb_rep(&b, "{\"name\":", JF_MAX_DEPTH - 1);
    sb_str(&b, "{\"name\":\"deep\"}");
    sb_rep(&b, "}", JF_MAX_DEPTH - 1);
    gen_case("objects JF_MAX_DEPTH deep", NULL, b.s, b.len, JF_E_TOO_LONG,
             NULL, 0, 8 + JF_MAX_VALUE);

    b.len = 0;
    sb_str(&b, "{\"x\":");
    sb_rep(&b, "{\"name\":", JF_MAX_DEPTH - 1);
    sb_str(&b, "{}");
    sb_rep(&b, "}", JF_MAX_DEPTH - 1);
    sb_str(&b, ",\"name\":\"top\"}");
    gen_case("objects JF_MAX_DEPTH + 1 deep", NULL, b.s, b.len, JF_E_TOO_DEEP,
             NULL, 0, 5 + 8 * (JF_MAX_DEPTH - 1));

    b.len = 0;
    sb_str(&b, "{\"a\":");
    sb_rep(&b, "[{\"b\":", (JF_MAX_DEPTH - 1) / 2);
    sb_str(&b, "[\"name\"]");
    sb_rep(&b, "}]", (JF_MAX_DEPTH - 1) / 2);
    sb_str(&b, ",\"name\":\"mixed\"}");
    gen_case("mixed JF_MAX_DEPTH deep", NULL, b.s, b.len, JF_OK, "mixed", 5,
             -1);

    /* The value itself JF_MAX_DEPTH deep (the top level is one). */
    b.len = 0;
    sb_str(&b, "{\"name\":");
    sb_rep(&b, "[", JF_MAX_DEPTH - 1);
    sb_rep(&b, "]", JF_MAX_DEPTH - 1);
    sb_str(&b, "}");
    gen_json_case("value JF_MAX_DEPTH deep", b.s, b.len, JF_OK, b.s + 8,
                  2 * (JF_MAX_DEPTH - 1), -1);
    b.len = 0;
    sb_str(&b, "{\"name\":");
    sb_rep(&b, "[", JF_MAX_DEPTH);
    sb_rep(&b, "]", JF_MAX_DEPTH);
    sb_str(&b, "}");
    gen_json_case("value JF_MAX_DEPTH + 1 deep", b.s, b.len, JF_E_TOO_DEEP,
                  NULL, 0, 8 + JF_MAX_DEPTH - 1);

    b.len = 0;
    sb_str(&b, "{\"a\":");
    sb_rep(&b, "[", 300);
    sb_rep(&b, "]", 299);
    sb_str(&b, "}");
    gen_case("deep, closed wrong", NULL, b.s, b.len, JF_E_SYNTAX, NULL, 0,
             (long long)b.len - 1);
    free(b.s);
}

static void
test_key_limits(void)
{
    struct sb b = {0}, k = {0};
    struct jf_extractor x;
    char key[JF_MAX_KEY + 1];
    size_t i;

    memset(key, 'k', sizeof key);
    CHECK(jf_begin(&x, key, 0) == -EINVAL);
    CHECK(jf_begin(&x, key, JF_MAX_KEY + 1) == -EINVAL);
    CHECK(jf_begin(&x, NULL, 4) == -EINVAL);
    CHECK(jf_begin(NULL, key, 4) == -EINVAL);
    CHECK(jf_begin(&x, key, 1) == 0);
    CHECK(jf_begin(&x, key, JF_MAX_KEY) == 0);

    sb_rep(&k, "k", JF_MAX_KEY);
    sb_add(&k, "", 1);
    sb_str(&b, "{\"");
    sb_rep(&b, "k", JF_MAX_KEY - 1);
    sb_str(&b, "\":\"short\",\"");
    sb_rep(&b, "k", JF_MAX_KEY + 1);
    sb_str(&b, "\":\"long\",\"");
    sb_rep(&b, "k", JF_MAX_KEY);
    sb_str(&b, "\":\"v\"}");
    gen_case("key of JF_MAX_KEY bytes", k.s, b.s, b.len, JF_OK, "v", 1, -1);

    /* The longest raw form of a JF_MAX_KEY key: all \u escapes. */
    b.len = 0;
    sb_str(&b, "{\"");
    sb_rep(&b, "\\u006b", JF_MAX_KEY);
    sb_str(&b, "\":\"v\"}");
    gen_case("key of JF_MAX_KEY \\u escapes", k.s, b.s, b.len, JF_OK, "v", 1,
             -1);

    /* One decoded byte short, then a pair that overshoots by three. */
    b.len = 0;
    sb_str(&b, "{\"");
    sb_rep(&b, "\\u006b", JF_MAX_KEY - 1);
    sb_str(&b, "\\ud83d\\ude00\":\"no\",\"");
    sb_rep(&b, "\\u006b", JF_MAX_KEY + 1);
    sb_str(&b, "\":\"no\"}");
    gen_case("escaped keys just past JF_MAX_KEY", k.s, b.s, b.len, JF_E_NO_KEY,
             NULL, 0, (long long)b.len);

    /* A JF_MAX_KEY key of 2-byte characters, escaped and raw. */
    k.len = 0;
    b.len = 0;
    sb_str(&b, "{\"");
    for (i = 0; i < JF_MAX_KEY / 2; i++) {
        sb_str(&k, "\xc3\xa9");
        sb_str(&b, i % 2 ? "\\u00e9" : "\xc3\xa9");
    }
    sb_add(&k, "", 1);
    sb_str(&b, "\":\"v\"}");
    gen_case("key of JF_MAX_KEY UTF-8 bytes", k.s, b.s, b.len, JF_OK, "v", 1,
             -1);

    /* The key and a value at their limits at once: keep's capacity. */
    k.len = 0;
    sb_rep(&k, "k", JF_MAX_KEY);
    sb_add(&k, "", 1);
    b.len = 0;
    sb_str(&b, "{\"a\":1,\"");
    sb_rep(&b, "\\u006b", JF_MAX_KEY);
    sb_str(&b, "\":\"");
    sb_rep(&b, "\\u00e9", JF_MAX_VALUE / 6);
    sb_rep(&b, "z", JF_MAX_VALUE % 6);
    sb_str(&b, "\",\"b\":2}");
    {
        struct sb v = {0};
        struct tcase c;

        sb_rep(&v, "\xc3\xa9", JF_MAX_VALUE / 6);
        sb_rep(&v, "z", JF_MAX_VALUE % 6);
        gen_case("longest raw key with longest value", k.s, b.s, b.len, JF_OK,
                 v.s, v.len, -1);

        /* The same key with the longest object: JSON text, spaces out. */
        b.len = 8 + 6 * JF_MAX_KEY;
        sb_str(&b, "\": { \"x\" : \"");
        sb_rep(&b, "y", JF_MAX_VALUE - 8);
        sb_str(&b, "\" } ,\"b\":2}");
        v.len = 0;
        sb_str(&v, "{\"x\":\"");
        sb_rep(&v, "y", JF_MAX_VALUE - 8);
        sb_str(&v, "\"}");
        c = (struct tcase){"longest raw key, longest object",
                           k.s,
                           b.s,
                           b.len,
                           JF_OK,
                           v.s,
                           v.len,
                           NULL,
                           -1,
                           1};
        check_case(&c);
        free(v.s);
    }

    /*
     * The longest value kept, then the key again in its longest raw
     * form: both are in keep at once, and the second is the duplicate.
     */
    b.len = 0;
    sb_str(&b, "{\"");
    sb_rep(&b, "\\u006b", JF_MAX_KEY);
    sb_str(&b, "\":\"");
    sb_rep(&b, "y", JF_MAX_VALUE);
    sb_str(&b, "\",\"");
    sb_rep(&b, "\\u006b", JF_MAX_KEY);
    sb_str(&b, "\":1}");
    gen_case("longest value, then the longest key again", k.s, b.s, b.len,
             JF_E_DUP_KEY, NULL, 0, (long long)b.len - 4);
    free(b.s);
    free(k.s);
}

/*
 * Every byte that ends or breaks a run of string bytes, at every offset
 * 0..40 into a long string, in each kind of string: the scan of a string,
 * or the fast path's quote marks, must stop at exactly the right byte.
 */
static void
test_scan_positions(void)
{
    static const char *const pre[] = {
        "{\"a\":\"",
        "{\"a\":{\"",
        "{\"",
        "{\"name\":\"",
    };
    static const char *const post[] = {
        "\",\"name\":\"v\"}",
        "\":1},\"name\":\"v\"}",
        "\":1,\"name\":\"v\"}",
        "\"}",
    };
    static const char *const what[] = {
        "value",
        "nested key",
        "top-level key",
        "kept value",
    };
    struct sb b = {0}, v = {0};
    struct tcase c;
    struct outcome o;
    char label[96];
    size_t ctx, pos, i, n_ok = 0;
    unsigned byte;
    char ch;
    int r;

    for (ctx = 0; ctx < 4; ctx++) {
        for (pos = 0; pos <= 40; pos++) {
            for (byte = 0; byte <= 0x23; byte++) {
                /* 0x20 stands for '\\', 0x21 for é, 0x23 for DEL. */
                b.len = 0;
                v.len = 0;
                sb_str(&b, pre[ctx]);
                sb_rep(&b, "x", pos);
                sb_rep(&v, "x", pos);
                c.rc = JF_OK;
                c.off = -1;
                if (byte < 0x20) {
                    ch = (char)byte;
                    sb_add(&b, &ch, 1);
                    c.rc = JF_E_CONTROL;
                    c.off = (long long)(strlen(pre[ctx]) + pos);
                } else if (byte == 0x20) {
                    sb_str(&b, "\\n");
                    sb_str(&v, "\n");
                } else if (byte == 0x21) {
                    sb_str(&b, "\xc3\xa9");
                    sb_str(&v, "\xc3\xa9");
                } else if (byte == 0x23) {
                    sb_str(&b, "\x7f");
                    sb_str(&v, "\x7f");
                }
                /* 0x22 is '"' itself: the string ends at pos. */
                if (byte != 0x22) {
                    sb_rep(&b, "y", 20);
                    sb_rep(&v, "y", 20);
                }
                sb_str(&b, post[ctx]);
                snprintf(label, sizeof label, "%s, byte 0x%02x at %zu",
                         what[ctx], byte, pos);
                c.label = label;
                c.key = NULL;
                c.body = b.s;
                c.len = b.len;
                c.val = ctx == 3 ? v.s : "v";
                c.val_len = ctx == 3 ? v.len : 1;
                c.at = NULL;
                c.json = 0;
                run_cuts("name", 4, b.s, b.len, b.len, b.len, &o);
                r = expect(&c, &o, "whole");
                for (i = 0; r && i < 2; i++) {
                    run_random("name", 4, b.s, b.len, 0, &o);
                    r = expect(&c, &o, "random split");
                }
                n_ok += (size_t)r;
            }
        }
    }
    CHECK(n_ok == 4 * 41 * 0x24);
    free(b.s);
    free(v.s);
}

/*
 * The fast path (jfield.c: lex_blocks) takes 64 bytes at a time where it
 * can and hands the rest to the lexer's scalar steps; fed one byte at a
 * time, only the scalar steps run. So here the byte-at-a-time run is the
 * reference (the fast path's scalar twin, on the same inputs):
 * it must give the expected verdict (and offset, when the case says),
 * and the whole body, cuts next to multiples of 16 and 64, and random
 * splits must give exactly what it gave. Features are swept over
 * BLK_SWEEP offsets, so each lands on every byte of a block, on its first
 * and last byte and across its end, wherever the blocks start.
 */
#define BLK_SWEEP 140

static int
blk_check(const struct tcase *c)
{
    static const size_t cuts[] = {1,  15, 16, 17,  31,  32,  33,
                                  63, 64, 65, 127, 128, 129, 200};
    const char *key = c->key ? c->key : "name";
    size_t key_len = strlen(key), i;
    struct tcase ref = *c;
    struct outcome o;
    char how[64];

    run_bytes(key, key_len, c->body, c->len, &o);
    if (!expect(c, &o, "bytes"))
        return 0;
    ref.at = NULL;
    ref.off = (long long)o.off;
    run_cuts(key, key_len, c->body, c->len, c->len, c->len, &o);
    if (!expect(&ref, &o, "whole"))
        return 0;
    for (i = 0; i < sizeof cuts / sizeof cuts[0] && cuts[i] < c->len; i++) {
        run_cuts(key, key_len, c->body, c->len, cuts[i],
                 cuts[i] + 64 < c->len ? cuts[i] + 64 : c->len, &o);
        snprintf(how, sizeof how, "cuts %zu,+64", cuts[i]);
        if (!expect(&ref, &o, how))
            return 0;
    }
    for (i = 0; i < 3; i++) {
        run_random(key, key_len, c->body, c->len, 0, &o);
        if (!expect(&ref, &o, "random split"))
            return 0;
    }
    return 1;
}

/* blk_check on a generated body; off -1: the scalar steps' is taken. */
static int
blk_case(const char *label, const struct sb *b, enum jf_rc rc, const char *val,
         size_t val_len, long long off)
{
    struct tcase c = {label, NULL,    b->s, b->len, rc,
                      val,   val_len, NULL, off,    0};

    return blk_check(&c);
}

/*
 * blk_case for a body with byte between tokens: whitespace is fine (the
 * value is "v"), any other byte is JF_E_SYNTAX at its first place, off.
 */
static int
ws_case(const char *label, const struct sb *b, unsigned byte, long long off)
{
    if (byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r')
        return blk_case(label, b, JF_OK, "v", 1, -1);
    return blk_case(label, b, JF_E_SYNTAX, NULL, 0, off);
}

/*
 * Strings around block edges: the closing quote on every byte; every
 * control byte (an error, at its offset) and bytes >= 0x80 (fine outside
 * the kept value) on every byte; escapes, an escaped quote among them,
 * and a bad escape, everywhere, in a skipped string and in the value.
 */
static void
test_block_strings(void)
{
    static const char *const escs[] = {
        "\\\"", "\\\\", "\\/", "\\n", "\\u00e9", "\\ud83d\\ude00", "\\\"\\\"",
    };
    static const char *const decoded[] = {
        "\"", "\\", "/", "\n", "\xc3\xa9", "\xf0\x9f\x98\x80", "\"\"",
    };
    struct sb b = {0}, v = {0};
    char label[96];
    size_t n, i, n_ok = 0, n_cases = 0;
    unsigned byte;
    char ch;

    for (n = 0; n < BLK_SWEEP; n++) {
        /* A string of n bytes in an array: its closing quote at 7 + n. */
        b.len = 0;
        sb_str(&b, "{\"a\":[\"");
        sb_rep(&b, "x", n);
        sb_str(&b, "\",\"s\"],\"name\":\"v\"}");
        snprintf(label, sizeof label, "string of %zu bytes", n);
        n_ok += (size_t)blk_case(label, &b, JF_OK, "v", 1, -1);
        n_cases++;

        /* Every control byte at 7 + n, in a skipped string. */
        for (byte = 0; byte < 0x20; byte++) {
            b.len = 0;
            sb_str(&b, "{\"a\":[\"");
            sb_rep(&b, "x", n);
            ch = (char)byte;
            sb_add(&b, &ch, 1);
            sb_rep(&b, "y", 30);
            sb_str(&b, "\"],\"name\":\"v\"}");
            snprintf(label, sizeof label, "control 0x%02x at %zu", byte,
                     7 + n);
            n_ok += (size_t)blk_case(label, &b, JF_E_CONTROL, NULL, 0,
                                     (long long)(7 + n));
            n_cases++;
        }

        /* Bytes >= 0x80, not UTF-8 at all, in a key and a value. */
        b.len = 0;
        sb_str(&b, "{\"a\":{\"");
        sb_rep(&b, "x", n);
        sb_str(&b, "\xff\x80\xc3\":\"\xe9");
        sb_rep(&b, "\x7f", n % 7);
        sb_str(&b, "\"},\"name\":\"v\"}");
        snprintf(label, sizeof label, "high bytes at %zu", 7 + n);
        n_ok += (size_t)blk_case(label, &b, JF_OK, "v", 1, -1);
        n_cases++;

        for (i = 0; i < sizeof escs / sizeof escs[0]; i++) {
            /* In a skipped string: the escaped quote must not end it. */
            b.len = 0;
            sb_str(&b, "{\"a\":[\"");
            sb_rep(&b, "x", n);
            sb_str(&b, escs[i]);
            sb_str(&b, "\"],\"b\":\"");
            sb_rep(&b, "y", 70);
            sb_str(&b, "\",\"name\":\"v\"}");
            snprintf(label, sizeof label, "escape %s at %zu", escs[i], 7 + n);
            n_ok += (size_t)blk_case(label, &b, JF_OK, "v", 1, -1);
            n_cases++;

            /* In the kept value, decoded. */
            b.len = 0;
            v.len = 0;
            sb_str(&b, "{\"b\":[1],\"name\":\"");
            sb_rep(&b, "x", n);
            sb_rep(&v, "x", n);
            sb_str(&b, escs[i]);
            sb_str(&v, decoded[i]);
            sb_str(&b, "z\",\"c\":[\"");
            sb_str(&v, "z");
            sb_rep(&b, "y", 70);
            sb_str(&b, "\"]}");
            snprintf(label, sizeof label, "value escape %s at %zu", escs[i],
                     17 + n);
            n_ok += (size_t)blk_case(label, &b, JF_OK, v.s, v.len, -1);
            n_cases++;
        }

        /* A bad escape: the byte after the backslash is the error. */
        b.len = 0;
        sb_str(&b, "{\"a\":[\"");
        sb_rep(&b, "x", n);
        sb_str(&b, "\\x\"],\"name\":\"v\"}");
        snprintf(label, sizeof label, "bad escape at %zu", 7 + n);
        n_ok += (size_t)blk_case(label, &b, JF_E_ESCAPE, NULL, 0,
                                 (long long)(8 + n));
        n_cases++;
    }
    CHECK(n_ok == n_cases);
    free(b.s);
    free(v.s);
}

/*
 * Structure around block edges: whitespace and other control bytes
 * between tokens, literals and numbers (whole or cut by a block's end,
 * good or bad), brackets that do not match, top-level keys and the kept
 * value across block ends, nesting around the fast path's 64 levels.
 */
static void
test_block_structure(void)
{
    static const char *const good[] = {
        "null", "true", "false",   "0",  "7",  "123",        "-1",
        "0.5",  "1e3",  "-0.0E+1", "{}", "[]", "{\"k\":[]}", "\"\"",
    };
    static const char *const bad[] = {
        "nul]", "tru ", "fals", "01", "1.]", "-]",      "1e]", "nulll",
        "+1",   ".5",   "0x1",  "[}", "{]",  "{\"k\"}", "{,}", "[1,]",
    };
    /* After a string of n bytes: '@' is a byte between tokens. */
    static const char *const ws_tails[] = {
        "\"@,@{@\"k\"@:@1@}@],\"name\":\"v\"}",
        "\",[@],[@3]],\"name\":\"v\"}", /* in "[ ]" and before a value */
    };
    struct sb b = {0}, v = {0};
    char label[96];
    size_t n, i, at, n_ok = 0, n_cases = 0;
    unsigned byte;

    for (n = 0; n < BLK_SWEEP; n++) {
        for (i = 0; i < sizeof good / sizeof good[0]; i++) {
            b.len = 0;
            sb_str(&b, "{\"a\":[\"");
            sb_rep(&b, "x", n);
            sb_str(&b, "\",");
            sb_str(&b, good[i]);
            sb_str(&b, ",");
            sb_str(&b, good[i]);
            sb_str(&b, "],\"b\":{\"c\":");
            sb_str(&b, good[i]);
            sb_str(&b, "},\"name\":\"v\"}");
            snprintf(label, sizeof label, "%s at %zu", good[i], 9 + n);
            n_ok += (size_t)blk_case(label, &b, JF_OK, "v", 1, -1);
            n_cases++;
        }
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            b.len = 0;
            sb_str(&b, "{\"a\":[\"");
            sb_rep(&b, "x", n);
            sb_str(&b, "\",");
            sb_str(&b, bad[i]);
            sb_str(&b, "],\"name\":\"v\"}");
            snprintf(label, sizeof label, "bad %s at %zu", bad[i], 9 + n);
            n_ok += (size_t)blk_case(label, &b, JF_E_SYNTAX, NULL, 0, -1);
            n_cases++;
        }

        /*
         * Between tokens: whitespace is fine, other control bytes not.
         * A space is the one whitespace byte the fast path sees.
         */
        for (byte = 0; byte <= 0x20; byte++) {
            for (i = 0; i < sizeof ws_tails / sizeof ws_tails[0]; i++) {
                at = 7 + n + (size_t)(strchr(ws_tails[i], '@') - ws_tails[i]);
                b.len = 0;
                sb_str(&b, "{\"a\":[\"");
                sb_rep(&b, "x", n);
                sb_with(&b, ws_tails[i], (char)byte);
                snprintf(label, sizeof label, "0x%02x between tokens at %zu",
                         byte, at);
                n_ok += (size_t)ws_case(label, &b, byte, (long long)at);
                n_cases++;
            }
        }

        /* A top-level key of n bytes; then the key itself after n bytes. */
        b.len = 0;
        sb_str(&b, "{\"");
        sb_rep(&b, "n", n);
        sb_str(&b, "\":[\"name\"],\"name\":\"v\"}");
        snprintf(label, sizeof label, "top-level key of %zu bytes", n);
        n_ok += (size_t)blk_case(label, &b, JF_OK, "v", 1, -1);
        n_cases++;

        /* The kept value of n bytes, after a string that ends anywhere. */
        b.len = 0;
        v.len = 0;
        sb_str(&b, "{\"a\":[\"");
        sb_rep(&b, "x", (n * 37) % 64);
        sb_str(&b, "\"],\"name\":\"");
        sb_rep(&b, "y", n);
        sb_rep(&v, "y", n);
        sb_str(&b, "\",\"z\":\"");
        sb_rep(&b, "z", 80);
        sb_str(&b, "\"}");
        snprintf(label, sizeof label, "value of %zu bytes", n);
        n_ok +=
            (size_t)blk_case(label, &b, JF_OK, v.len ? v.s : "", v.len, -1);
        n_cases++;

        /*
         * Top-level keys that are nearly the wanted key, and the key
         * itself, after a string that ends anywhere: the fast path
         * leaves the top level to the scalar steps and takes over again.
         */
        b.len = 0;
        sb_str(&b, "{\"a\":\"");
        sb_rep(&b, "x", n);
        sb_str(&b, "\",\"nam\":1,\"namf\":[],\"Name\":{},\"\xc3\xa9\":2,"
                   "\"name\":\"v\",\"names\":\"w\",\"\":3,\"nname\":4}");
        snprintf(label, sizeof label, "near-miss keys after %zu bytes", n);
        n_ok += (size_t)blk_case(label, &b, JF_OK, "v", 1, -1);
        n_cases++;

        /* A second "name" deep down and one more at the top. */
        b.len = 0;
        sb_str(&b, "{\"name\":\"v\",\"a\":[{\"name\":\"");
        sb_rep(&b, "x", n);
        sb_str(&b, "\"}],\"name\":\"w\"}");
        snprintf(label, sizeof label, "duplicate after %zu bytes", n);
        n_ok += (size_t)blk_case(label, &b, JF_E_DUP_KEY, NULL, 0, -1);
        n_cases++;

        /* A closing bracket that does not match, at 8 + n. */
        b.len = 0;
        sb_str(&b, "{\"a\":[");
        sb_rep(&b, "0,", n / 2);
        sb_str(&b, n % 2 ? "{\"k\":1]" : "1}");
        sb_str(&b, "],\"name\":\"v\"}");
        snprintf(label, sizeof label, "mismatched bracket after %zu", n);
        n_ok += (size_t)blk_case(label, &b, JF_E_SYNTAX, NULL, 0, -1);
        n_cases++;
    }

    /*
     * A long number or a literal that goes on into a block the fast
     * path will not take (an escape, a control byte in a string).
     */
    for (n = 0; n < BLK_SWEEP; n++) {
        for (i = 0; i < 2; i++) {
            b.len = 0;
            sb_str(&b, "{\"a\":[\"");
            sb_rep(&b, "x", n);
            sb_str(&b, "\",12345678901234567890,null,\"\\n\"");
            sb_str(&b, i ? ",\"\x01\"]}" : ",[true]],\"name\":\"v\"}");
            snprintf(label, sizeof label, "number, then %s, after %zu",
                     i ? "a control byte" : "an escape", n);
            n_ok += (size_t)blk_case(label, &b, i ? JF_E_CONTROL : JF_OK,
                                     i ? NULL : "v", i ? 0 : 1, -1);
            n_cases++;
        }
    }

    /* Nesting around 64 levels, where the fast path hands over. */
    for (n = 56; n <= 72; n++) {
        for (i = 0; i < 2; i++) {
            b.len = 0;
            sb_str(&b, "{\"a\":");
            sb_rep(&b, i ? "{\"k\":[" : "[", n);
            sb_str(&b, "\"deep\"");
            sb_rep(&b, i ? "]}" : "]", n);
            sb_str(&b, ",\"name\":\"v\"}");
            snprintf(label, sizeof label, "%zu levels of %s", n,
                     i ? "{[" : "[");
            n_ok += (size_t)blk_case(label, &b, JF_OK, "v", 1, -1);
            n_cases++;
        }
    }
    CHECK(n_ok == n_cases);
    free(b.s);
    free(v.s);
}

/*
 * Random bodies: JSON-like text from a small grammar (compact or with
 * whitespace), some of it then damaged by a changed byte. Whatever the
 * verdict, every split must agree with the byte-at-a-time run.
 */
static void
gen_json(struct sb *b, int depth)
{
    static const char *const atoms[] = {
        "null",
        "true",
        "false",
        "0",
        "12",
        "-3.5e2",
        "\"\"",
        "\"name\"",
        "\"https://pokeapi.co/api/v2/move/1/\"",
        "\"a\\\"b\\\\\"",
        "\"\\u00e9\\n\"",
        "\"\xc3\xa9t\xc3\xa9\"",
    };
    static const char *const ws[] = {"", "", "", " ", "\n  ", "\t"};
    unsigned k = (unsigned)(rnd() % 10), i, n;

    if (depth > 5 || k < 5) {
        sb_str(b, atoms[rnd() % (sizeof atoms / sizeof atoms[0])]);
        return;
    }
    n = (unsigned)(rnd() % 6);
    sb_str(b, k < 8 ? "{" : "[");
    for (i = 0; i < n; i++) {
        if (i)
            sb_str(b, ",");
        sb_str(b, ws[rnd() % 6]);
        if (k < 8) {
            sb_str(b, rnd() % 4 ? "\"key\"" : "\"name\"");
            sb_str(b, ws[rnd() % 6]);
            sb_str(b, ":");
        }
        gen_json(b, depth + 1);
        sb_str(b, ws[rnd() % 6]);
    }
    sb_str(b, k < 8 ? "}" : "]");
}

static void
test_block_random(void)
{
    static const char damage[] = "\"\\{}[],:0 \x01\x1f\x80n";
    struct sb b = {0};
    struct tcase c;
    struct outcome o;
    size_t i, at, n_ok = 0;
    int rounds = 3000;

    for (i = 0; i < (size_t)rounds; i++) {
        b.len = 0;
        sb_str(&b, "{\"pad\":\"");
        sb_rep(&b, "p", (size_t)(rnd() % 64));
        sb_str(&b, "\",\"a\":");
        while (b.len < 300 + rnd() % 400) {
            sb_str(&b, "[");
            gen_json(&b, 0);
            sb_str(&b, "],\"a\":");
        }
        sb_str(&b, "1,\"name\":\"v\"}");
        if (i % 2) {
            at = (size_t)(rnd() % b.len);
            b.s[at] = damage[rnd() % (sizeof damage - 1)];
        }
        run_bytes("name", 4, b.s, b.len, &o);
        c = (struct tcase){"random body", NULL,      b.s,  b.len, o.rc,
                           o.val,         o.val_len, NULL, -1,    o.json};
        n_ok += (size_t)blk_check(&c);
    }
    CHECK(n_ok == (size_t)rounds);
    free(b.s);
}

/* A key with a NUL byte in it, which the table cannot say. */
static void
test_key_with_nul(void)
{
    static const char body[] = "{\"a\":\"no\",\"a\\u0000b\":\"v\"}";
    struct outcome o;

    run_cuts("a\0b", 3, body, sizeof body - 1, 7, 20, &o);
    CHECKF(o.rc == JF_OK, "%s", rc_name(o.rc));
    CHECK(o.val_len == 1 && o.val[0] == 'v');
    run_bytes("a\0b", 3, body, sizeof body - 1, &o);
    CHECK(o.rc == JF_OK);
}

/*
 * Every proper prefix of a body that passes through every state is
 * JF_E_TRUNCATED at its end; the whole body is not.
 */
static void
test_truncated_everywhere(void)
{
    static const char body[] =
        " \t{\"a\" : [ -0.5e+10, 0, 12, -3E2, 1.25 ,1e-2, true, false, "
        "null, {}, [], {\"q\":[]} ],\"b\\u00e9\\\"\":{\"k\":\"v\\n\\ud83d"
        "\\ude00\"},\"name\" : \"x\\u00e9\\ud83d\\ude00y\\\\z\","
        "\"nam\\u0065x\":1,\"c\":[[{\"d\":\"e\"}]],\"n\":-0}";
    struct tcase c = {
        "truncated prefix", NULL, body, 0, JF_E_TRUNCATED, NULL, 0, "", -1, 0};
    struct outcome o;
    size_t n, i;

    for (n = 0; n < sizeof body - 1; n++) {
        c.len = n;
        run_cuts("name", 4, body, n, n, n, &o);
        if (!expect(&c, &o, "whole"))
            return;
        run_bytes("name", 4, body, n, &o);
        if (!expect(&c, &o, "bytes"))
            return;
        for (i = 0; i < 20; i++) {
            run_random("name", 4, body, n, 0, &o);
            if (!expect(&c, &o, "random split"))
                return;
        }
    }
    run_bytes("name", 4, body, sizeof body - 1, &o);
    CHECKF(o.rc == JF_OK, "whole body: %s", rc_name(o.rc));
    CHECK(o.val_len == 10 &&
          memcmp(o.val, "x\xc3\xa9\xf0\x9f\x98\x80y\\z", 10) == 0);
}

static void
test_sticky(void)
{
    struct jf_extractor x;
    char out[JF_MAX_VALUE];
    size_t out_len = 0;

    CHECK(jf_begin(&x, "name", 4) == 0);
    CHECK(jf_feed(&x, guard_place("{\"a\":", 5), 5) == JF_AGAIN);
    CHECK(jf_feed(&x, guard_place("x}", 2), 2) == JF_E_SYNTAX);
    CHECK(x.error_offset == 5);
    CHECK(jf_feed(&x, guard_place("{}", 2), 2) == JF_E_SYNTAX);
    CHECK(jf_feed(&x, guard_place("", 0), 0) == JF_E_SYNTAX);
    CHECK(jf_feed(&x, NULL, 0) == JF_E_SYNTAX);
    CHECK(x.error_offset == 5);
    CHECK(x.consumed == 9);
    CHECK(jf_finish(&x, out, sizeof out, &out_len) == JF_E_SYNTAX);
    CHECK(jf_finish(&x, out, sizeof out, &out_len) == JF_E_SYNTAX);

    /* A verdict of jf_finish() sticks too. */
    CHECK(jf_begin(&x, "name", 4) == 0);
    CHECK(jf_feed(&x, guard_place("{", 1), 1) == JF_AGAIN);
    CHECK(jf_finish(&x, out, sizeof out, &out_len) == JF_E_TRUNCATED);
    CHECK(jf_feed(&x, guard_place("}", 1), 1) == JF_E_TRUNCATED);
    CHECK(jf_finish(&x, out, sizeof out, &out_len) == JF_E_TRUNCATED);

    /* jf_begin() starts over; an empty feed may pass NULL. */
    CHECK(jf_begin(&x, "name", 4) == 0);
    CHECK(jf_feed(&x, NULL, 0) == JF_AGAIN);
    CHECK(jf_feed(&x, guard_place("{\"name\":\"ab\"}", 13), 13) == JF_AGAIN);
    CHECK(x.consumed == 13);
    CHECK(jf_finish(&x, out, sizeof out, &out_len) == JF_OK);
    CHECK(out_len == 2 && memcmp(out, "ab", 2) == 0);

    /* A buffer too small for the value is the caller's: not sticky. */
    CHECK(jf_finish(&x, out, 1, &out_len) == JF_E_TOO_LONG);
    CHECK(jf_finish(&x, out, sizeof out, &out_len) == JF_OK);
    CHECK(out_len == 2);
}

static void
test_fixed_memory(void)
{
    CHECKF(sizeof(struct jf_extractor) < 8192,
           "struct jf_extractor is %zu bytes", sizeof(struct jf_extractor));
}

static void
test_strerror(void)
{
    size_t i, j;
    const char *s[JF_E_TOO_LONG + 1];

    for (i = 0; i <= JF_E_TOO_LONG; i++) {
        s[i] = jf_strerror((enum jf_rc)i);
        CHECK(s[i] && s[i][0]);
        for (j = 0; j < i; j++)
            CHECKF(strcmp(s[i], s[j]) != 0, "%zu and %zu", i, j);
    }
}

/* jf_explain: what is wrong, and where, for every verdict. */
static void
test_explain(void)
{
    static const struct {
        const char *key, *body, *want;
    } cases[] = {
        {"name", "{\"name\":\"a\tb\"}",
         "invalid JSON body: raw TAB in a "
         "string at byte 10"},
        {"name", "{\"a\":\"\n\"}", "raw LF in a string at byte 6"},
        {"name", "{\"a\r\":1}", "raw CR in a string at byte 3"},
        {"name", "{\"a\":[\"\x01\"]}",
         "raw control byte 0x01 in a string"
         " at byte 7"},
        {"name", "{\"a\":\"\\q\"}",
         "invalid escape: 'q' after a "
         "backslash at byte 7"},
        {"name", "{\"a\":\"\\u12G4\"}",
         "'G' where a \\u escape needs a "
         "hex digit at byte 10"},
        {"name", "{\"a\":\"\\ud800x\"}",
         "lone surrogate \\ud800 (no low "
         "half after it) in a string at "
         "byte 12"},
        {"name", "{\"a\":\"\\ud800\\u0041\"}",
         "lone surrogate \\ud800 (no"
         " low half"},
        {"name", "{\"a\":\"\\udc00\"}",
         "lone surrogate \\udc00 (a low "
         "half alone) in a string at byte 11"},
        {"name", "{\"name\":\"\xc3(\"}",
         "invalid UTF-8 in the value at "
         "byte 9"},
        {"name", "{\"name\":[\"\xff\"]}",
         "invalid UTF-8 in the value at "
         "byte 10"},
        {"name", "{\"a\":1,}", "unexpected '}' at byte 7"},
        {"name", "{\"a\":1\v}", "unexpected byte 0x0b at byte 6"},
        {"name", "{\"name\":1} x",
         "'x' after the end of the JSON text at "
         "byte 11"},
        {"name", "[1]", "top-level value is not an object at byte 0"},
        {"name", "{\"a\":[1,", "JSON text truncated at byte 8"},
        {"name", "{\"a\":[[[[", "JSON text truncated"},
        {"name", "{\"a\":1}", "key \"name\" not found at top level"},
        {"\x1b[31m", "{\"a\":1}", "key \"\x1b[31m\" not found"},
        {"name", "{\"name\":1,\"name\":2}",
         "key \"name\" occurs more than "
         "once at top level, again at "
         "byte 15"},
    };
    struct jf_extractor x;
    char out[JF_MAX_VALUE], msg[256];
    size_t i, n;
    enum jf_rc rc;
    struct sb b = {0};

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        begin(&x, cases[i].key, strlen(cases[i].key));
        (void)jf_feed(&x, cases[i].body, strlen(cases[i].body));
        rc = jf_finish(&x, out, sizeof out, &n);
        CHECK(rc != JF_OK);
        jf_explain(&x, rc, cases[i].key, msg, sizeof msg);
        CHECKF(strstr(msg, cases[i].want) != NULL, "%s: \"%s\", want \"%s\"",
               cases[i].body, msg, cases[i].want);
    }

    /* Too deep and too long name their limits. */
    sb_str(&b, "{\"a\":");
    sb_rep(&b, "[", JF_MAX_DEPTH);
    begin(&x, "name", 4);
    rc = jf_feed(&x, b.s, b.len);
    CHECK(rc == JF_E_TOO_DEEP);
    jf_explain(&x, rc, "name", msg, sizeof msg);
    CHECKF(strstr(msg, "nesting deeper than 512 levels at byte 516"), "%s",
           msg);
    b.len = 0;
    sb_str(&b, "{\"name\":[");
    sb_rep(&b, "1,", JF_MAX_VALUE);
    begin(&x, "name", 4);
    rc = jf_feed(&x, b.s, b.len);
    CHECK(rc == JF_E_TOO_LONG);
    jf_explain(&x, rc, "name", msg, sizeof msg);
    CHECKF(strcmp(msg, "value of \"name\" longer than the 1024-byte cap at "
                       "byte 1032") == 0,
           "%s", msg);
    free(b.s);
}

#define MAX_ID 20000

static void
test_real_data(void)
{
    static const char *names[MAX_ID];
    static size_t name_lens[MAX_ID];
    struct tcase c = {NULL, NULL, NULL, 0, JF_OK, NULL, 0, NULL, -1, 0};
    char path[4400], label[64];
    struct outcome o;
    size_t list_len, len, n_list = 0, n_files = 0;
    char *list, *s, *e, *body;
    unsigned long id;
    DIR *d;
    struct dirent *de;
    int i;

    snprintf(path, sizeof path, "%s/index.json", realdata_dir);
    list = realdata_read(path, &list_len);
    CHECKF(list != NULL, "%s: cannot read", path);
    if (!list)
        return;
    list[list_len] = '\0';
    /* results[i] is {"name":"N","url":".../pokemon/ID/"}. */
    for (s = list; (s = strstr(s, "{\"name\":\"")); s = e) {
        s += 9;
        e = strchr(s, '"');
        CHECK(e && strncmp(e, "\",\"url\":\"", 9) == 0);
        if (!e || !(e = strstr(e, "/pokemon/")))
            break;
        id = strtoul(e + 9, NULL, 10);
        CHECK(id > 0 && id < MAX_ID && !names[id]);
        if (id == 0 || id >= MAX_ID)
            break;
        names[id] = s;
        name_lens[id] = (size_t)(strchr(s, '"') - s);
        n_list++;
    }
    CHECKF(n_list > 1000, "only %zu names in the list", n_list);

    d = opendir(realdata_dir);
    CHECK(d != NULL);
    while (d && (de = readdir(d))) {
        id = strtoul(de->d_name, &e, 10);
        if (*e || id == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s/index.json", realdata_dir,
                 de->d_name);
        body = realdata_read(path, &len);
        CHECKF(body != NULL, "%s: cannot read", path);
        if (!body)
            continue;
        CHECKF(id < MAX_ID && names[id], "id %lu not in the list", id);
        if (id < MAX_ID && names[id]) {
            snprintf(label, sizeof label, "pokemon %lu", id);
            c.label = label;
            c.body = body;
            c.len = len;
            c.val = names[id];
            c.val_len = name_lens[id];
            run_cuts("name", 4, body, len, len, len, &o);
            expect(&c, &o, "whole");
            for (i = 0; i < 3; i++) {
                run_random("name", 4, body, len, 1, &o);
                expect(&c, &o, "random split");
            }
        }
        free(body);
        n_files++;
    }
    if (d)
        closedir(d);
    CHECKF(n_files == n_list, "%zu bodies, %zu names in the list", n_files,
           n_list);
    printf("real data: %zu bodies from %s\n", n_files, realdata_dir);
    free(list);
}

int
main(void)
{
    size_t i;

    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        cur = &table[i];
        RUN(table_case);
        if (check_failures_in_case)
            fprintf(stderr, "  (table case \"%s\")\n", cur->label);
    }
    RUN(test_value_limit);
    RUN(test_huge_elsewhere);
    RUN(test_json_value_limit);
    RUN(test_depth);
    RUN(test_key_limits);
    RUN(test_key_with_nul);
    RUN(test_scan_positions);
    RUN(test_block_strings);
    RUN(test_block_structure);
    RUN(test_block_random);
    RUN(test_truncated_everywhere);
    RUN(test_sticky);
    RUN(test_fixed_memory);
    RUN(test_strerror);
    RUN(test_explain);
    if (realdata_find())
        RUN(test_real_data);
    else
        printf("SKIP test_real_data: no PokeAPI extract in "
               "$POKEFETCH_DATA_DIR or /tmp/pk\n");
    return CHECK_REPORT();
}
