/*
 * test_decode - unit tests of the Content-Encoding decoder (decode.h:
 * src/decode_common.c with src/decode_zlib.c, or with src/decode_none.c
 * in the nozlib flavor, build/nozlib/test_decode).
 *
 * The compressed fixtures are made here, with zlib itself (deflateInit2:
 * windowBits 31 gzip, 15 zlib-wrapped deflate, -15 raw deflate), so the
 * test links zlib in every flavor; the cases that need a decoding build
 * check decode_available at run time and are skipped, with a note,
 * without it.
 *
 * Every case goes through the house runners (as in test_jfield): the
 * whole body in one decode_feed(), one byte per feed, and every split
 * into three pieces at two cuts (bodies up to TWO_CUT_MAX bytes) or
 * seeded random splits (bigger ones). Every piece is placed flush
 * against a PROT_NONE page (guard.h), so reading past what was fed
 * crashes. Each run checks the decode.h contract as it goes: *in and
 * *in_len stay consistent, DECODE_AGAIN means the piece is used up,
 * chunks are 1..DECODE_OUT_CAP bytes, produced counts what was handed
 * on, errors are sticky in decode_feed and decode_finish, decode_feed
 * never says DECODE_END. The verdict and the output are then compared
 * with what the case wants: the output handed on must always be a prefix
 * of the expected bytes, and all of them for DECODE_END and
 * DECODE_E_TRAILING.
 *
 * Broken streams get their expected output and verdict from an oracle,
 * a one-shot zlib inflate over the same bytes, so a flip that zlib
 * happens to read as a shorter stream is judged the same way on both
 * sides and the test does not depend on the zlib version.
 *
 * test_reuse runs 1000 responses through one decoder and checks that
 * its arena stops growing once zlib has its window: no allocation after
 * start-up. (The decoder's speed is bench/inflate-extract's.)
 *
 * test_real_data compresses a few PokeAPI bodies from the archive
 * extract in $POKEFETCH_DATA_DIR or /tmp/pk (tar xJf
 * tests/data/pokeapi-pokemon.tar.xz -C DIR) and is skipped, with a note
 * and not counted as passed, when there is none.
 */
#include "decode.h"

#include "check.h"
#include "guard.h"
#include "realdata.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define TWO_CUT_MAX 128       /* bodies up to this get every two-cut split */
#define TWO_CUT_OUT_MAX 4096  /* if they inflate to no more than this */
#define BYTES_MAX (96 * 1024) /* bodies up to this get a byte-by-byte run */
#define RANDOM_SPLITS 40      /* for the others, random splits */
#define UNLIMITED UINT64_MAX
#define MIB (1024 * 1024)

static const char *const rc_names[] = {
    "DECODE_AGAIN",         "DECODE_OUTPUT",    "DECODE_END",
    "DECODE_E_UNSUPPORTED", "DECODE_E_CORRUPT", "DECODE_E_TRAILING",
    "DECODE_E_TRUNCATED",   "DECODE_E_TOO_BIG", "DECODE_E_NOMEM",
};
#define N_RC (sizeof rc_names / sizeof rc_names[0])

static const char *
rc_name(enum decode_rc rc)
{
    return (unsigned)rc < N_RC ? rc_names[rc] : "(bad rc)";
}

static int
is_error(enum decode_rc rc)
{
    return rc >= DECODE_E_UNSUPPORTED && rc <= DECODE_E_NOMEM;
}

/* Reproducible splits and fixtures. */
#include "rng.h"

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* ---- fixtures --------------------------------------------------------- */

/* Compresses src with zlib: wbits 31 gzip, 15 zlib, -15 raw. */
static unsigned char *
zpack(const void *src, size_t len, int wbits, int level, int strategy,
      size_t *out_len)
{
    z_stream zs;
    unsigned char *buf;
    uLong cap;
    int r;

    memset(&zs, 0, sizeof zs);
    r = deflateInit2(&zs, level, Z_DEFLATED, wbits, 8, strategy);
    if (r != Z_OK) {
        fprintf(stderr, "deflateInit2: %d\n", r);
        exit(2);
    }
    cap = deflateBound(&zs, (uLong)len);
    buf = xmalloc(cap);
    zs.next_in = (Bytef *)(uintptr_t)src;
    zs.avail_in = (uInt)len;
    zs.next_out = buf;
    zs.avail_out = (uInt)cap;
    r = deflate(&zs, Z_FINISH);
    if (r != Z_STREAM_END) {
        fprintf(stderr, "deflate: %d\n", r);
        exit(2);
    }
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return buf;
}

static unsigned char *
zpack_level(const void *src, size_t len, int wbits, int level, size_t *out_len)
{
    return zpack(src, len, wbits, level, Z_DEFAULT_STRATEGY, out_len);
}

/*
 * JSON-ish text: repeated keys and URLs (so it compresses, with matches
 * and dynamic Huffman blocks) with random numbers and names in between
 * (so it does not compress to nothing).
 */
static unsigned char *
make_text(size_t len)
{
    static const char *const words[] = {
        "{\"name\":\"",
        "\",\"url\":\"https://pokeapi.co/api/v2/",
        "move/",
        "ability/",
        "\"},",
        "{\"base_stat\":",
        ",\"effort\":0,",
        "\"is_hidden\":false,",
        "\"slot\":",
        "null",
        "true",
        "[",
        "]",
        "\n",
        "  ",
        "\"version_group_details\":[",
    };
    unsigned char *s = xmalloc(len);
    size_t i = 0;

    while (i < len) {
        uint64_t r = rnd();
        char tmp[64];
        size_t n;

        if (r % 4 == 0) {
            n = (size_t)snprintf(tmp, sizeof tmp, "%u",
                                 (unsigned)(r >> 20) % 100000);
        } else if (r % 4 == 1) {
            size_t k;

            n = 3 + (size_t)(r >> 8) % 9;
            for (k = 0; k < n; k++)
                tmp[k] = (char)('a' + (rnd() >> 30) % 26);
        } else {
            const char *w =
                words[(r >> 16) % (sizeof words / sizeof words[0])];
            n = strlen(w);
            memcpy(tmp, w, n);
        }
        if (n > len - i)
            n = len - i;
        memcpy(s + i, tmp, n);
        i += n;
    }
    return s;
}

/* A copy of a and b one after the other. */
static unsigned char *
concat(const void *a, size_t a_len, const void *b, size_t b_len)
{
    unsigned char *s = xmalloc(a_len + b_len);

    memcpy(s, a, a_len);
    if (b_len)
        memcpy(s + a_len, b, b_len);
    return s;
}

/*
 * The oracle: one-shot zlib inflate over body (wbits as for zpack),
 * giving the verdict the decoder must reach for any split and the output
 * it may hand on (all of it if the verdict is END or TRAILING).
 */
static enum decode_rc
oracle(const unsigned char *body, size_t len, int wbits, unsigned char **out,
       size_t *out_len)
{
    z_stream zs;
    size_t cap = 4096;
    enum decode_rc rc;
    int r;

    *out = xmalloc(cap);
    *out_len = 0;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, wbits) != Z_OK)
        exit(2);
    zs.next_in = (Bytef *)(uintptr_t)body;
    zs.avail_in = (uInt)len;
    for (;;) {
        if (*out_len == cap) {
            cap *= 2;
            *out = realloc(*out, cap);
            if (!*out)
                exit(2);
        }
        zs.next_out = *out + *out_len;
        zs.avail_out = (uInt)(cap - *out_len);
        r = inflate(&zs, Z_NO_FLUSH);
        *out_len = cap - zs.avail_out;
        if (r == Z_STREAM_END) {
            rc = zs.avail_in ? DECODE_E_TRAILING : DECODE_END;
            break;
        }
        if (r == Z_DATA_ERROR || r == Z_NEED_DICT) {
            rc = DECODE_E_CORRUPT;
            break;
        }
        if (r == Z_BUF_ERROR || (r == Z_OK && zs.avail_out)) {
            rc = DECODE_E_TRUNCATED;
            break;
        }
        if (r != Z_OK)
            exit(2);
    }
    inflateEnd(&zs);
    return rc;
}

/* ---- the runners ------------------------------------------------------ */

struct tcase {
    const char *label;
    const char *coding;
    uint64_t limit;
    const unsigned char *body;
    size_t len;
    enum decode_rc rc;         /* the verdict */
    const unsigned char *want; /* what may be handed on (a prefix of) */
    size_t want_len;
};

enum split_kind { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_CUTS, SPLIT_RANDOM };

struct split {
    enum split_kind kind;
    size_t a, b;   /* SPLIT_CUTS: pieces [0,a) [a,b) [b,len) */
    size_t max;    /* SPLIT_RANDOM: pieces of 0..max bytes */
    unsigned step; /* pieces given so far */
};

struct res {
    enum decode_rc feed_rc; /* the first error decode_feed gave, or AGAIN */
    enum decode_rc fin_rc;
    uint64_t produced;
    size_t got; /* bytes handed on */
    size_t chunks;
    size_t max_chunk;
    int diverged; /* the output left the expected bytes */
    int identity; /* decode_begin chose pass-through */
};

/* Reused by every run as a connection would, on a set of one arena. */
static struct decode_arenas arenas;
static struct decoder dec;

/* One contract failure per run is enough to read; the rest is noise. */
static int run_bad;

#define CONTRACT(cond, ...)                                                   \
    do {                                                                      \
        if (!run_bad && !(cond)) {                                            \
            run_bad = 1;                                                      \
            CHECKF(cond, __VA_ARGS__);                                        \
        }                                                                     \
    } while (0)

/* The next piece's length, or 0 with *done set when there are no more.
   Empty pieces are given too: feeding nothing must be harmless. */
static size_t
next_piece(struct split *sp, size_t off, size_t len, int *done)
{
    size_t n = 0;

    *done = 0;
    switch (sp->kind) {
    case SPLIT_WHOLE:
        *done = sp->step > 0;
        n = len;
        break;
    case SPLIT_BYTES:
        *done = off == len && (len > 0 || sp->step > 0);
        n = 1;
        break;
    case SPLIT_CUTS:
        *done = sp->step > 2;
        n = sp->step == 0   ? sp->a
            : sp->step == 1 ? sp->b - sp->a
                            : len - sp->b;
        break;
    case SPLIT_RANDOM:
        *done = off == len && sp->step > 0;
        n = (size_t)(rnd() % (sp->max + 1));
        break;
    }
    if (n > len - off)
        n = len - off;
    sp->step++;
    return *done ? 0 : n;
}

static void
take_output(const struct tcase *c, struct res *r, const char *out, size_t n)
{
    if (c->want && !r->diverged &&
        (r->got + n > c->want_len || memcmp(c->want + r->got, out, n)))
        r->diverged = 1;
    r->got += n;
    r->chunks++;
    if (n > r->max_chunk)
        r->max_chunk = n;
}

/* Feeds one piece until the decoder wants more or fails. */
static void
feed_piece(struct decoder *d, const struct tcase *c, struct res *r,
           const unsigned char *p, size_t n)
{
    const char *in = guard_place(p, n), *end = in + n, *out;
    size_t in_len = n, out_len, before;
    enum decode_rc rc, again;

    for (;;) {
        before = in_len;
        out = NULL;
        out_len = 0;
        rc = decode_feed(d, &in, &in_len, &out, &out_len);
        CONTRACT(in + in_len == end && in_len <= before,
                 "%s: input pointer and length disagree", c->label);
        if (rc != DECODE_OUTPUT)
            break;
        CONTRACT(out && out_len > 0, "%s: empty DECODE_OUTPUT", c->label);
        CONTRACT(decode_identity(d) || out_len <= DECODE_OUT_CAP,
                 "%s: chunk of %zu bytes", c->label, out_len);
        if (!out)
            return;
        take_output(c, r, out, out_len);
        CONTRACT(d->produced == r->got, "%s: produced %llu, handed on %zu",
                 c->label, (unsigned long long)d->produced, r->got);
    }
    if (rc == DECODE_AGAIN) {
        CONTRACT(in_len == 0, "%s: DECODE_AGAIN with %zu bytes left", c->label,
                 in_len);
        return;
    }
    CONTRACT(is_error(rc), "%s: decode_feed said %s", c->label, rc_name(rc));
    r->feed_rc = rc;
    /* Sticky, with input left or none. */
    again = decode_feed(d, &in, &in_len, &out, &out_len);
    CONTRACT(again == rc, "%s: %s, then %s", c->label, rc_name(rc),
             rc_name(again));
    in_len = 0;
    again = decode_feed(d, &in, &in_len, &out, &out_len);
    CONTRACT(again == rc, "%s: %s, then %s on no input", c->label, rc_name(rc),
             rc_name(again));
}

/* One response, from decode_begin to decode_finish. */
static void
run(struct decoder *d, const struct tcase *c, struct split *sp, struct res *r)
{
    enum decode_rc rc;
    size_t off = 0, n;
    int done;

    memset(r, 0, sizeof *r);
    run_bad = 0;
    r->feed_rc = DECODE_AGAIN;
    rc = decode_begin(d, c->coding, strlen(c->coding), c->limit);
    r->identity = decode_identity(d);
    if (rc != DECODE_AGAIN) {
        r->feed_rc = rc;
    } else {
        for (;;) {
            n = next_piece(sp, off, c->len, &done);
            if (done)
                break;
            feed_piece(d, c, r, c->body + off, n);
            off += n;
            if (r->feed_rc != DECODE_AGAIN)
                break;
        }
    }
    r->fin_rc = decode_finish(d);
    r->produced = d->produced;
    CONTRACT(r->fin_rc == DECODE_END || is_error(r->fin_rc),
             "%s: decode_finish said %s", c->label, rc_name(r->fin_rc));
    CONTRACT(d->arena == NULL, "%s: the arena kept after decode_finish",
             c->label);
    if (r->feed_rc != DECODE_AGAIN)
        CONTRACT(r->fin_rc == r->feed_rc,
                 "%s: decode_feed said %s, "
                 "decode_finish %s",
                 c->label, rc_name(r->feed_rc), rc_name(r->fin_rc));
    rc = decode_finish(d);
    CONTRACT(rc == r->fin_rc, "%s: decode_finish said %s, then %s", c->label,
             rc_name(r->fin_rc), rc_name(rc));
    if (r->fin_rc == DECODE_END)
        CONTRACT(r->produced == r->got,
                 "%s: produced %llu at the end, "
                 "handed on %zu",
                 c->label, (unsigned long long)r->produced, r->got);
}

/* Does run result r match case c? Says why not. */
static int
expect(const struct tcase *c, const struct res *r, const char *how)
{
    enum decode_rc rc = r->feed_rc != DECODE_AGAIN ? r->feed_rc : r->fin_rc;
    int before = check_failures_in_case;

    CHECKF(rc == c->rc, "%s [%s]: got %s, want %s", c->label, how, rc_name(rc),
           rc_name(c->rc));
    if (rc != c->rc)
        return 0;
    CHECKF(!r->diverged, "%s [%s]: wrong output (%zu bytes handed on)",
           c->label, how, r->got);
    if (c->want && (rc == DECODE_END || rc == DECODE_E_TRAILING))
        CHECKF(r->got == c->want_len, "%s [%s]: %zu bytes out, want %zu",
               c->label, how, r->got, c->want_len);
    if (rc == DECODE_E_TOO_BIG) {
        /* Stopped by the chunk that crossed the limit: that one is not
           handed on, and nothing past it was decoded. */
        CHECKF(r->got <= c->limit,
               "%s [%s]: %zu bytes handed on, limit "
               "%llu",
               c->label, how, r->got, (unsigned long long)c->limit);
        CHECKF(r->produced > c->limit &&
                   (r->identity || r->produced - c->limit <= DECODE_OUT_CAP),
               "%s [%s]: produced %llu for limit %llu", c->label, how,
               (unsigned long long)r->produced, (unsigned long long)c->limit);
    }
    return check_failures_in_case == before;
}

/* The runners over one case; stops at its first mismatch. */
static void
check_case(const struct tcase *c, unsigned n_random)
{
    static const size_t maxes[] = {1, 2, 7, 64, 1000, 20000, 70000};
    struct split sp;
    struct res r;
    char how[64];
    size_t i, j;

    memset(&sp, 0, sizeof sp);
    sp.kind = SPLIT_WHOLE;
    run(&dec, c, &sp, &r);
    if (!expect(c, &r, "whole"))
        return;
    if (c->len <= BYTES_MAX) {
        memset(&sp, 0, sizeof sp);
        sp.kind = SPLIT_BYTES;
        run(&dec, c, &sp, &r);
        if (!expect(c, &r, "bytes"))
            return;
    }
    if (c->len <= TWO_CUT_MAX &&
        (!c->want || c->want_len <= TWO_CUT_OUT_MAX)) {
        for (i = 0; i <= c->len; i++) {
            for (j = i; j <= c->len; j++) {
                memset(&sp, 0, sizeof sp);
                sp.kind = SPLIT_CUTS;
                sp.a = i;
                sp.b = j;
                run(&dec, c, &sp, &r);
                snprintf(how, sizeof how, "cuts %zu,%zu", i, j);
                if (!expect(c, &r, how))
                    return;
            }
        }
        return;
    }
    for (i = 0; i < n_random; i++) {
        memset(&sp, 0, sizeof sp);
        sp.kind = SPLIT_RANDOM;
        sp.max = maxes[rnd() % (sizeof maxes / sizeof maxes[0])];
        run(&dec, c, &sp, &r);
        snprintf(how, sizeof how, "random split %zu (max %zu)", i, sp.max);
        if (!expect(c, &r, how))
            return;
    }
}

/* A case built on the spot. */
static void
gen_case(const char *label, const char *coding, uint64_t limit,
         const void *body, size_t len, enum decode_rc rc, const void *want,
         size_t want_len, unsigned n_random)
{
    struct tcase c = {label, coding, limit, body, len, rc, want, want_len};

    check_case(&c, n_random);
}

/* One run of a case, the whole body in one feed: for the costly ones. */
static void
whole_case(const char *label, const char *coding, uint64_t limit,
           const void *body, size_t len, enum decode_rc rc, const void *want,
           size_t want_len)
{
    struct tcase c = {label, coding, limit, body, len, rc, want, want_len};
    struct split sp;
    struct res r;

    memset(&sp, 0, sizeof sp);
    sp.kind = SPLIT_WHOLE;
    run(&dec, &c, &sp, &r);
    expect(&c, &r, "whole");
}

/* A case whose verdict and output come from the oracle. */
static enum decode_rc
oracle_case(const char *label, const char *coding, int wbits,
            const unsigned char *body, size_t len, unsigned n_random)
{
    unsigned char *want;
    size_t want_len;
    enum decode_rc rc = oracle(body, len, wbits, &want, &want_len);

    gen_case(label, coding, UNLIMITED, body, len, rc, want, want_len,
             n_random);
    free(want);
    return rc;
}

/* The ways to name and wrap a compressed body. */
struct wrapping {
    const char *coding;
    int wbits;
};

static const struct wrapping wrappings[] = {
    {"gzip", 31},
    {"x-gzip", 31},
    {"GZIP", 31},
    {"deflate", 15},
    {"deflate", -15},
    {"Deflate", 15},
    {" identity , X-GZip ", 31},
};
#define N_WRAPPINGS (sizeof wrappings / sizeof wrappings[0])

static const char *
wrap_label(const struct wrapping *w)
{
    return w->wbits == 31 ? "gzip" : w->wbits == 15 ? "zlib" : "raw";
}

/* ---- fixtures shared by the cases -------------------------------------- */

static unsigned char *text; /* TEXT_LEN bytes of make_text() */
#define TEXT_LEN (3 * DECODE_OUT_CAP + 1000) /* test_chunk_multiple takes 3 */
static unsigned char *zeros;                 /* BOMB_LEN zero bytes */
#define BOMB_LEN (10 * MIB)

/* ---- the cases --------------------------------------------------------- */

/* Identity and its spellings: the output is the input, whatever it is
   (compressed bytes included: nothing is sniffed). Both builds. */
static void
test_identity(void)
{
    static const char *const codings[] = {
        "", "identity", "IDENTITY", " identity , identity\t", ",", " , ",
    };
    static const char hello[] = "hello, world\n";
    unsigned char *gz;
    size_t gz_len, i;
    char label[80];

    gz = zpack_level(hello, sizeof hello - 1, 31, 6, &gz_len);
    for (i = 0; i < sizeof codings / sizeof codings[0]; i++) {
        snprintf(label, sizeof label, "identity \"%s\" empty", codings[i]);
        gen_case(label, codings[i], UNLIMITED, "", 0, DECODE_END, "", 0, 0);
        snprintf(label, sizeof label, "identity \"%s\" hello", codings[i]);
        gen_case(label, codings[i], UNLIMITED, hello, sizeof hello - 1,
                 DECODE_END, hello, sizeof hello - 1, 0);
        snprintf(label, sizeof label, "identity \"%s\" gzip bytes",
                 codings[i]);
        gen_case(label, codings[i], UNLIMITED, gz, gz_len, DECODE_END, gz,
                 gz_len, 0);
    }
    gen_case("identity big", "", UNLIMITED, text, TEXT_LEN, DECODE_END, text,
             TEXT_LEN, RANDOM_SPLITS);
    /* The limit applies to identity bodies too. */
    gen_case("identity at the limit", "identity", TEXT_LEN, text, TEXT_LEN,
             DECODE_END, text, TEXT_LEN, 10);
    gen_case("identity over the limit", "identity", TEXT_LEN - 1, text,
             TEXT_LEN, DECODE_E_TOO_BIG, text, TEXT_LEN, 10);
    gen_case("identity empty, limit 0", "", 0, "", 0, DECODE_END, "", 0, 0);
    gen_case("identity 1 byte, limit 0", "", 0, "x", 1, DECODE_E_TOO_BIG, "x",
             1, 0);
    free(gz);
}

/* Small bodies, every wrapping and level, every two-cut split: this is
   where the deflate header's first two bytes get split every way. */
static void
test_small_streams(void)
{
    static const int levels[] = {0, 1, 6, 9};
    struct {
        const char *name;
        const char *s;
        size_t len;
    } inputs[] = {
        {"empty", "", 0},
        {"one byte", "a", 1},
        {"hello", "hello, world\n", 13},
        {"text", (const char *)text, 90},
        {"repeats", "abcabcabcabcabcabcabcabcabcabcabcabcabcabc", 42},
    };
    size_t w, l, i, len;
    unsigned char *z;
    char label[128];

    for (w = 0; w < N_WRAPPINGS; w++) {
        for (l = 0; l < sizeof levels / sizeof levels[0]; l++) {
            for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
                z = zpack_level(inputs[i].s, inputs[i].len, wrappings[w].wbits,
                                levels[l], &len);
                snprintf(label, sizeof label, "%s as \"%s\", level %d, %s",
                         wrap_label(&wrappings[w]), wrappings[w].coding,
                         levels[l], inputs[i].name);
                gen_case(label, wrappings[w].coding, UNLIMITED, z, len,
                         DECODE_END, inputs[i].s, inputs[i].len, 5);
                free(z);
            }
        }
    }
}

/* Bodies inflating to several DECODE_OUT_CAP chunks, with every kind of
   block zlib makes (stored, fixed, dynamic, Huffman-only, RLE). */
static void
test_big_streams(void)
{
    static const struct {
        int level, strategy;
        const char *name;
    } kinds[] = {
        {0, Z_DEFAULT_STRATEGY, "stored"},
        {1, Z_DEFAULT_STRATEGY, "level 1"},
        {6, Z_DEFAULT_STRATEGY, "level 6"},
        {9, Z_DEFAULT_STRATEGY, "level 9"},
        {6, Z_HUFFMAN_ONLY, "huffman only"},
        {6, Z_RLE, "rle"},
        {6, Z_FIXED, "fixed"},
    };
    size_t w, k, len;
    unsigned char *z;
    char label[128];

    for (w = 0; w < N_WRAPPINGS; w++) {
        for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            /* All the wrappings at one kind, all kinds at gzip: the
               wrapping and the block kinds do not interact. */
            if (w > 0 && k != 2)
                continue;
            z = zpack(text, TEXT_LEN, wrappings[w].wbits, kinds[k].level,
                      kinds[k].strategy, &len);
            snprintf(label, sizeof label, "%s as \"%s\", %s, %d KiB",
                     wrap_label(&wrappings[w]), wrappings[w].coding,
                     kinds[k].name, TEXT_LEN / 1024);
            gen_case(label, wrappings[w].coding, UNLIMITED, z, len, DECODE_END,
                     text, TEXT_LEN, RANDOM_SPLITS / 2);
            free(z);
        }
    }
}

/*
 * Output of exactly a multiple of DECODE_OUT_CAP: the last chunk fills
 * out[] to the brim, which is where a decoder can lose the stream's end
 * (inflate stops with a full buffer before it has read the trailer) or
 * hand on an empty chunk. Whole, a full stream in one feed must come out
 * in exactly len / DECODE_OUT_CAP full chunks.
 */
static void
test_chunk_multiple(void)
{
    static const size_t mults[] = {1, 3};
    static const int levels[] = {0, 1, 9};
    static const int wbits[] = {31, 15, -15};
    static const char *const codings[] = {"gzip", "deflate", "deflate"};
    size_t m, l, w, k, len, n;
    const unsigned char *src;
    unsigned char *z;
    char label[128];
    struct tcase c;
    struct split sp;
    struct res r;

    for (m = 0; m < sizeof mults / sizeof mults[0]; m++) {
        n = mults[m] * DECODE_OUT_CAP;
        for (k = 0; k < 2; k++) {
            src = k ? zeros : text;
            for (l = 0; l < sizeof levels / sizeof levels[0]; l++) {
                for (w = 0; w < 3; w++) {
                    z = zpack_level(src, n, wbits[w], levels[l], &len);
                    snprintf(label, sizeof label,
                             "%zu x DECODE_OUT_CAP of %s, %s level %d",
                             mults[m], k ? "zeros" : "text",
                             w == 0   ? "gzip"
                             : w == 1 ? "zlib"
                                      : "raw",
                             levels[l]);
                    gen_case(label, codings[w], UNLIMITED, z, len, DECODE_END,
                             src, n, 8);
                    memset(&sp, 0, sizeof sp);
                    sp.kind = SPLIT_WHOLE;
                    c.label = label;
                    c.coding = codings[w];
                    c.limit = UNLIMITED;
                    c.body = z;
                    c.len = len;
                    c.rc = DECODE_END;
                    c.want = src;
                    c.want_len = n;
                    run(&dec, &c, &sp, &r);
                    CHECKF(r.chunks == mults[m] &&
                               r.max_chunk == DECODE_OUT_CAP,
                           "%s: %zu chunks, the biggest %zu bytes", label,
                           r.chunks, r.max_chunk);
                    /* The exact limit is no error either. */
                    c.limit = n;
                    memset(&sp, 0, sizeof sp);
                    run(&dec, &c, &sp, &r);
                    expect(&c, &r, "whole, limit its size");
                    free(z);
                }
            }
        }
    }
}

/*
 * Output still waiting when the input has run out: inflate filled out[]
 * in the middle of a match, having read every byte it was given (the
 * end-of-block code already sits in its bit buffer). decode_feed must
 * call inflate again with no input instead of saying DECODE_AGAIN, or
 * the rest of the output is lost and the end never seen. Raw deflate of
 * zeros a little over DECODE_OUT_CAP does this (found by probing with
 * zlib itself, so the test knows when it is really exercised).
 */
static void
test_pending_output(void)
{
    static unsigned char buf[DECODE_OUT_CAP];
    size_t n, len, found = 0;
    unsigned char *z;
    char label[96];
    z_stream zs;
    int r;

    for (n = DECODE_OUT_CAP + 1; n <= DECODE_OUT_CAP + 600; n += 7) {
        z = zpack_level(zeros, n, -15, 1, &len);
        memset(&zs, 0, sizeof zs);
        CHECK(inflateInit2(&zs, -15) == Z_OK);
        zs.next_in = z;
        zs.avail_in = (uInt)len;
        zs.next_out = buf;
        zs.avail_out = sizeof buf;
        r = inflate(&zs, Z_NO_FLUSH);
        inflateEnd(&zs);
        if (r == Z_OK && zs.avail_in == 0 && zs.avail_out == 0) {
            found++;
            snprintf(label, sizeof label,
                     "raw zeros, %zu bytes, output left at the end", n);
            gen_case(label, "deflate", UNLIMITED, z, len, DECODE_END, zeros, n,
                     3);
        }
        free(z);
        if (check_failures_in_case)
            break;
    }
    CHECKF(found > 0, "no stream found with output left at the end");
}

/*
 * "deflate": zlib-wrapped or raw, told by the first two bytes however
 * they arrive. Besides the splits above: bodies too short to decide,
 * the shortest raw stream (03 00, empty), raw streams whose first byte
 * looks like a zlib CMF, and a zlib header asking for a dictionary.
 */
static void
test_deflate_detection(void)
{
    /* A raw stored block "hello" whose first byte has CM 8 but the check
       bits fail (0x0805 % 31 != 0), then an empty final fixed block. */
    static const unsigned char raw_cm8[] = {
        0x08, 0x05, 0x00, 0xfa, 0xff, 'h', 'e', 'l', 'l', 'o', 0x03, 0x00,
    };
    /* A raw stored block of 28 bytes whose first two bytes pass the
       check (0x881c % 31 == 0) but with CINFO 8, which zlib forbids. */
    unsigned char raw_cinfo8[5 + 28 + 2] = {0x88, 0x1c, 0x00, 0xe3, 0xff};
    static const unsigned char raw_empty[] = {0x03, 0x00};
    static const unsigned char raw_empty_x[] = {0x03, 0x00, 'x'};
    static const unsigned char bad_type[] = {0x07, 0x00}; /* BTYPE 11 */
    /* 78 bb: a valid zlib header with FDICT set; then a dictionary id. */
    static const unsigned char fdict[] = {0x78, 0xbb, 0, 0, 0, 1, 3, 0};
    const char *in, *out;
    size_t in_len, out_len, z_len;
    unsigned char *z;
    enum decode_rc rc;

    CHECK(0x0805 % 31 != 0 && 0x881c % 31 == 0 && 0x78bb % 31 == 0);
    memcpy(raw_cinfo8 + 5, text, 28);
    raw_cinfo8[33] = 0x03;
    raw_cinfo8[34] = 0x00;

    gen_case("raw, CM 8, bad check bits", "deflate", UNLIMITED, raw_cm8,
             sizeof raw_cm8, DECODE_END, "hello", 5, 0);
    gen_case("raw, CINFO 8", "deflate", UNLIMITED, raw_cinfo8,
             sizeof raw_cinfo8, DECODE_END, text, 28, 0);
    gen_case("raw empty stream 03 00", "deflate", UNLIMITED, raw_empty, 2,
             DECODE_END, "", 0, 0);
    gen_case("raw empty stream, then x", "deflate", UNLIMITED, raw_empty_x, 3,
             DECODE_E_TRAILING, "", 0, 0);
    gen_case("raw 03 alone", "deflate", UNLIMITED, raw_empty, 1,
             DECODE_E_TRUNCATED, "", 0, 0);
    gen_case("raw block type 3", "deflate", UNLIMITED, bad_type, 2,
             DECODE_E_CORRUPT, "", 0, 0);
    gen_case("zlib header with FDICT", "deflate", UNLIMITED, fdict,
             sizeof fdict, DECODE_E_CORRUPT, "", 0, 0);
    gen_case("deflate, empty body", "deflate", UNLIMITED, "", 0,
             DECODE_E_TRUNCATED, "", 0, 0);
    gen_case("deflate, 1-byte body 0x78", "deflate", UNLIMITED, "\x78", 1,
             DECODE_E_TRUNCATED, "", 0, 0);
    gen_case("deflate, 1-byte body 0x4b", "deflate", UNLIMITED, "\x4b", 1,
             DECODE_E_TRUNCATED, "", 0, 0);
    gen_case("gzip, empty body", "gzip", UNLIMITED, "", 0, DECODE_E_TRUNCATED,
             "", 0, 0);

    /* The two bytes one at a time, with an empty feed in between: no
       output and nothing left over until the rest comes. */
    z = zpack_level(text, 1000, 15, 6, &z_len);
    CHECK(decode_begin(&dec, "deflate", 7, UNLIMITED) == DECODE_AGAIN);
    in = guard_place(z, 1);
    in_len = 1;
    rc = decode_feed(&dec, &in, &in_len, &out, &out_len);
    CHECKF(rc == DECODE_AGAIN && in_len == 0, "first byte: %s, %zu left",
           rc_name(rc), in_len);
    in_len = 0;
    rc = decode_feed(&dec, &in, &in_len, &out, &out_len);
    CHECKF(rc == DECODE_AGAIN, "empty feed: %s", rc_name(rc));
    in = guard_place(z + 1, 1);
    in_len = 1;
    rc = decode_feed(&dec, &in, &in_len, &out, &out_len);
    CHECKF(rc == DECODE_AGAIN && in_len == 0, "second byte: %s, %zu left",
           rc_name(rc), in_len);
    in = guard_place(z + 2, z_len - 2);
    in_len = z_len - 2;
    rc = decode_feed(&dec, &in, &in_len, &out, &out_len);
    CHECKF(rc == DECODE_OUTPUT && out_len == 1000 &&
               memcmp(out, text, 1000) == 0,
           "the rest: %s, %zu bytes", rc_name(rc), out_len);
    rc = decode_feed(&dec, &in, &in_len, &out, &out_len);
    CHECKF(rc == DECODE_AGAIN, "after the output: %s", rc_name(rc));
    rc = decode_finish(&dec);
    CHECKF(rc == DECODE_END, "finish: %s", rc_name(rc));
    free(z);
}

/* Broken streams: bad headers, bad check values, flipped bytes. */
static void
test_corrupt(void)
{
    static const struct {
        const char *coding;
        int wbits, level;
    } kinds[] = {
        {"gzip", 31, 6}, {"deflate", 15, 6}, {"deflate", -15, 6},
        {"gzip", 31, 0}, {"deflate", 15, 1},
    };
    unsigned char *gz, *zl, *st, *b;
    size_t gz_len, zl_len, st_len, k, i, len, n_corrupt, n_trunc, n_other;
    enum decode_rc rc;
    char label[128];

    gz = zpack_level(text, 4000, 31, 6, &gz_len);
    zl = zpack_level(text, 4000, 15, 6, &zl_len);
    st = zpack_level(text, 4000, 31, 0, &st_len);
    b = xmalloc(st_len > gz_len ? st_len : gz_len);

#define FLIPPED(src, src_len, at, x) (memcpy(b, src, src_len), b[at] ^= (x), b)

    /* Headers: output is never started, whatever the split. */
    gen_case("gzip bad magic", "gzip", UNLIMITED, FLIPPED(gz, gz_len, 0, 1),
             gz_len, DECODE_E_CORRUPT, "", 0, 3);
    gen_case("gzip bad magic 2", "gzip", UNLIMITED,
             FLIPPED(gz, gz_len, 1, 0x80), gz_len, DECODE_E_CORRUPT, "", 0, 3);
    gen_case("gzip method 9", "gzip", UNLIMITED, FLIPPED(gz, gz_len, 2, 1),
             gz_len, DECODE_E_CORRUPT, "", 0, 3);
    gen_case("gzip reserved flag", "gzip", UNLIMITED,
             FLIPPED(gz, gz_len, 3, 0x80), gz_len, DECODE_E_CORRUPT, "", 0, 3);
    gen_case("zlib stream sent as gzip", "gzip", UNLIMITED, zl, zl_len,
             DECODE_E_CORRUPT, "", 0, 3);
    gen_case("text sent as gzip", "gzip", UNLIMITED, text, 4000,
             DECODE_E_CORRUPT, "", 0, 3);
    /* Check values: all the output goes out first, then the verdict. */
    gen_case("gzip bad CRC", "gzip", UNLIMITED,
             FLIPPED(gz, gz_len, gz_len - 8, 1), gz_len, DECODE_E_CORRUPT,
             text, 4000, 3);
    gen_case("gzip bad ISIZE", "gzip", UNLIMITED,
             FLIPPED(gz, gz_len, gz_len - 1, 1), gz_len, DECODE_E_CORRUPT,
             text, 4000, 3);
    gen_case("zlib bad Adler-32", "deflate", UNLIMITED,
             FLIPPED(zl, zl_len, zl_len - 1, 0x10), zl_len, DECODE_E_CORRUPT,
             text, 4000, 3);
    /* A data byte of a stored block: only the CRC can tell. */
    gen_case("gzip stored, flipped data byte", "gzip", UNLIMITED,
             FLIPPED(st, st_len, st_len / 2, 0x20), st_len, DECODE_E_CORRUPT,
             NULL, 0, 3);
    /* Bytes flipped in the middle of compressed data. */
    memcpy(b, gz, gz_len);
    for (i = 0; i < 8; i++)
        b[gz_len / 2 + i] ^= 0x55;
    rc = oracle_case("gzip, 8 bytes flipped in the middle", "gzip", 31, b,
                     gz_len, 3);
    CHECKF(rc == DECODE_E_CORRUPT, "the oracle says %s", rc_name(rc));
    memcpy(b, zl, zl_len);
    for (i = 0; i < 8; i++)
        b[zl_len / 2 + i] ^= 0xaa;
    rc = oracle_case("zlib, 8 bytes flipped in the middle", "deflate", 15, b,
                     zl_len, 3);
    CHECKF(rc == DECODE_E_CORRUPT, "the oracle says %s", rc_name(rc));

    /* Every single-bit flip past the header (past the deflate header's
       two bytes, so the zlib / raw choice stays; past gzip's ten, whose
       MTIME, XFL and OS no check covers), judged by the oracle. With a
       check value in the stream a flip can only be corrupt or leave the
       stream unfinished. */
    for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        unsigned char *z =
            zpack_level(text, 600, kinds[k].wbits, kinds[k].level, &len);
        size_t from = kinds[k].wbits == 31 ? 10 : 2;

        n_corrupt = n_trunc = n_other = 0;
        for (i = from; i < len; i++) {
            unsigned char *f = concat(z, len, "", 0), *want;
            size_t want_len;

            f[i] ^= (unsigned char)(1u << (i % 8));
            snprintf(label, sizeof label, "%s level %d, bit flipped at %zu",
                     kinds[k].wbits == 31   ? "gzip"
                     : kinds[k].wbits == 15 ? "zlib"
                                            : "raw",
                     kinds[k].level, i);
            rc = oracle(f, len, kinds[k].wbits, &want, &want_len);
            gen_case(label, kinds[k].coding, UNLIMITED, f, len, rc, want,
                     want_len, 1);
            n_corrupt += rc == DECODE_E_CORRUPT;
            n_trunc += rc == DECODE_E_TRUNCATED;
            /* A flip the check value lets through must have been
               harmless (a padding bit after the last block). */
            n_other += rc != DECODE_E_CORRUPT && rc != DECODE_E_TRUNCATED &&
                       (rc != DECODE_END || want_len != 600 ||
                        memcmp(want, text, 600) != 0);
            free(want);
            free(f);
            if (check_failures_in_case)
                break;
        }
        /* Raw deflate has no check value: most flips there just
           decode to something else, and the oracle agreeing is all. */
        if (kinds[k].wbits != -15) {
            CHECKF(n_other == 0,
                   "%s: %zu flips neither corrupt, "
                   "truncated nor harmless",
                   kinds[k].coding, n_other);
            CHECKF(n_corrupt > n_trunc,
                   "%s: only %zu of %zu flips "
                   "corrupt",
                   kinds[k].coding, n_corrupt, len - from);
        }
        free(z);
    }
#undef FLIPPED
    free(b);
    free(st);
    free(zl);
    free(gz);
}

/*
 * A gzip member made by hand (zlib's deflate never writes the optional
 * header fields): 1f 8b 08 FLG, MTIME, XFL, OS, then FEXTRA (5 bytes, a
 * zero among them), FNAME, FCOMMENT, FHCRC as FLG asks, the raw deflate
 * data of src, CRC-32 and ISIZE. The CRCs come from zlib's crc32().
 */
static unsigned char *
gz_member(unsigned flg, const void *src, size_t len, size_t *out_len)
{
    static const unsigned char extra[] = {5, 0, 'A', 'P', 1, 0, 'z'};
    static const char name[] = "pokemon-25.json", comment[] = "a comment";
    unsigned char *raw, *m, *p;
    size_t raw_len;
    uLong crc;

    raw = zpack_level(src, len, -15, 6, &raw_len);
    m = xmalloc(64 + raw_len);
    p = m;
    memcpy(p, "\x1f\x8b\x08", 3);
    p[3] = (unsigned char)flg;
    memcpy(p + 4, "\x01\x02\x03\x04\x00\x03", 6); /* MTIME XFL OS */
    p += 10;
    if (flg & 0x04) {
        memcpy(p, extra, sizeof extra);
        p += sizeof extra;
    }
    if (flg & 0x08) {
        memcpy(p, name, sizeof name); /* the zero included */
        p += sizeof name;
    }
    if (flg & 0x10) {
        memcpy(p, comment, sizeof comment);
        p += sizeof comment;
    }
    if (flg & 0x02) {
        crc = crc32(0, m, (uInt)(p - m));
        p[0] = (unsigned char)crc;
        p[1] = (unsigned char)(crc >> 8);
        p += 2;
    }
    memcpy(p, raw, raw_len);
    p += raw_len;
    crc = crc32(0, src, (uInt)len);
    for (int i = 0; i < 4; i++) {
        p[i] = (unsigned char)(crc >> (8 * i));
        p[4 + i] = (unsigned char)(len >> (8 * i));
    }
    p += 8;
    free(raw);
    *out_len = (size_t)(p - m);
    return m;
}

/*
 * gzip's framing, which decode_zlib.c reads itself: every optional
 * header field, the header CRC, and the trailer's two checks in zlib's
 * order. Each case has its verdict spelled out and must also agree with
 * the oracle (zlib reading the whole member), for every split; then
 * every bit flip of a header with all the fields, and every prefix of
 * it, go by the oracle alone.
 */
static void
test_gzip_framing(void)
{
    unsigned char *m, *b;
    size_t len, hdr_len, i;
    unsigned flg;
    enum decode_rc rc;
    char label[128];

    for (flg = 0; flg < 0x20; flg++) {
        m = gz_member(flg, text, 3000, &len);
        snprintf(label, sizeof label, "gzip FLG 0x%02x", flg);
        gen_case(label, "gzip", UNLIMITED, m, len, DECODE_END, text, 3000, 3);
        rc = oracle_case(label, "gzip", 31, m, len, 0);
        CHECKF(rc == DECODE_END, "%s: the oracle says %s", label, rc_name(rc));
        free(m);
    }

    m = gz_member(0x1e, text, 3000, &len);
    hdr_len = 10 + 7 + sizeof "pokemon-25.json" + sizeof "a comment" + 2;
    b = concat(m, len, "", 0);
    b[hdr_len - 1] ^= 0x40;
    gen_case("gzip header CRC wrong", "gzip", UNLIMITED, b, len,
             DECODE_E_CORRUPT, "", 0, 3);
    CHECK(oracle_case("gzip header CRC wrong", "gzip", 31, b, len, 0) ==
          DECODE_E_CORRUPT);
    free(b);

    /* The trailer: CRC-32 first, then the length; a wrong CRC-32 is
       corrupt as soon as its four bytes are in, the length or not. */
    b = concat(m, len, "", 0);
    b[len - 6] ^= 1;
    gen_case("gzip CRC-32 wrong", "gzip", UNLIMITED, b, len, DECODE_E_CORRUPT,
             text, 3000, 3);
    gen_case("gzip CRC-32 wrong, ISIZE cut", "gzip", UNLIMITED, b, len - 2,
             DECODE_E_CORRUPT, text, 3000, 3);
    CHECK(oracle_case("gzip CRC-32 wrong, ISIZE cut", "gzip", 31, b, len - 2,
                      0) == DECODE_E_CORRUPT);
    free(b);
    gen_case("gzip ISIZE cut", "gzip", UNLIMITED, m, len - 2,
             DECODE_E_TRUNCATED, text, 3000, 3);
    gen_case("gzip CRC-32 cut", "gzip", UNLIMITED, m, len - 6,
             DECODE_E_TRUNCATED, text, 3000, 3);
    b = concat(m, len, "", 0);
    b[len - 4] ^= 0x10;
    gen_case("gzip ISIZE wrong", "gzip", UNLIMITED, b, len, DECODE_E_CORRUPT,
             text, 3000, 3);
    free(b);

    /* Every bit of the header, and every prefix of the member. */
    for (i = 0; i < hdr_len * 8; i++) {
        b = concat(m, len, "", 0);
        b[i / 8] ^= (unsigned char)(1u << (i % 8));
        snprintf(label, sizeof label, "gzip header bit %zu flipped", i);
        oracle_case(label, "gzip", 31, b, len, 1);
        free(b);
        if (check_failures_in_case)
            break;
    }
    for (i = 0; i < len; i++) {
        snprintf(label, sizeof label, "gzip member cut at %zu of %zu", i, len);
        whole_case(label, "gzip", UNLIMITED, m, i, DECODE_E_TRUNCATED, text,
                   3000);
        if (check_failures_in_case)
            break;
    }
    free(m);
}

/* Errors are sticky until decode_begin, which clears them. */
static void
test_sticky(void)
{
    unsigned char *gz, *bad;
    const char *in, *out;
    size_t gz_len, in_len, out_len;
    enum decode_rc rc;

    gz = zpack_level(text, 3000, 31, 6, &gz_len);
    bad = concat(gz, gz_len, "", 0);
    bad[0] = 0;
    CHECK(decode_begin(&dec, "gzip", 4, UNLIMITED) == DECODE_AGAIN);
    in = guard_place(bad, 10);
    in_len = 10;
    rc = decode_feed(&dec, &in, &in_len, &out, &out_len);
    CHECKF(rc == DECODE_E_CORRUPT, "bad header: %s", rc_name(rc));
    /* A valid stream now changes nothing. */
    in = guard_place(gz, gz_len);
    in_len = gz_len;
    rc = decode_feed(&dec, &in, &in_len, &out, &out_len);
    CHECKF(rc == DECODE_E_CORRUPT, "then a valid stream: %s", rc_name(rc));
    CHECK(decode_finish(&dec) == DECODE_E_CORRUPT);
    CHECK(decode_finish(&dec) == DECODE_E_CORRUPT);
    in_len = 0;
    rc = decode_feed(&dec, &in, &in_len, &out, &out_len);
    CHECKF(rc == DECODE_E_CORRUPT, "after finish: %s", rc_name(rc));

    /* A finish too early fails the response for good. */
    CHECK(decode_begin(&dec, "gzip", 4, UNLIMITED) == DECODE_AGAIN);
    in = guard_place(gz, 10);
    in_len = 10;
    rc = decode_feed(&dec, &in, &in_len, &out, &out_len);
    CHECKF(rc == DECODE_AGAIN, "a prefix: %s", rc_name(rc));
    CHECK(decode_finish(&dec) == DECODE_E_TRUNCATED);
    in = guard_place(gz + 10, gz_len - 10);
    in_len = gz_len - 10;
    rc = decode_feed(&dec, &in, &in_len, &out, &out_len);
    CHECKF(rc == DECODE_E_TRUNCATED, "the rest after finish: %s", rc_name(rc));
    CHECK(decode_finish(&dec) == DECODE_E_TRUNCATED);

    /* And the next response is fine. */
    gen_case("after errors", "gzip", UNLIMITED, gz, gz_len, DECODE_END, text,
             3000, 3);
    free(bad);
    free(gz);
}

/* Every prefix of a stream is unfinished: never END, never a crash. */
static void
test_truncated(void)
{
    static const struct {
        const char *coding;
        int wbits, level;
    } kinds[] = {
        {"gzip", 31, 6}, {"deflate", 15, 6},  {"deflate", -15, 6},
        {"gzip", 31, 0}, {"deflate", -15, 0}, {"deflate", -15, 1},
    };
    static const size_t sizes[] = {0, 1, 13, 300, 2000};
    size_t k, s, len, cut;
    unsigned char *z;
    char label[128];

    for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            z = zpack_level(text, sizes[s], kinds[k].wbits, kinds[k].level,
                            &len);
            for (cut = 0; cut < len; cut++) {
                snprintf(label, sizeof label,
                         "%s level %d, %zu bytes, cut at %zu of %zu",
                         kinds[k].coding, kinds[k].level, sizes[s], cut, len);
                /* Small streams: every split of every prefix. Bigger
                   ones (two-cut splits of every prefix would be cubic):
                   every prefix whole, some byte by byte, one random. */
                if (len <= 48) {
                    gen_case(label, kinds[k].coding, UNLIMITED, z, cut,
                             DECODE_E_TRUNCATED, text, sizes[s], 0);
                } else {
                    struct tcase c = {
                        label, kinds[k].coding,    UNLIMITED, z,
                        cut,   DECODE_E_TRUNCATED, text,      sizes[s]};
                    struct split sp;
                    struct res r;

                    memset(&sp, 0, sizeof sp);
                    run(&dec, &c, &sp, &r);
                    if (!expect(&c, &r, "whole"))
                        break;
                    memset(&sp, 0, sizeof sp);
                    sp.kind = cut % 29 ? SPLIT_RANDOM : SPLIT_BYTES;
                    sp.max = 1 + (size_t)(rnd() % 300);
                    run(&dec, &c, &sp, &r);
                    if (!expect(&c, &r, cut % 29 ? "random" : "bytes"))
                        break;
                }
                if (check_failures_in_case)
                    break;
            }
            free(z);
        }
    }
    /* A big one cut in the middle hands on what it had. */
    z = zpack_level(text, TEXT_LEN, 31, 6, &len);
    gen_case("gzip 100 KiB cut in half", "gzip", UNLIMITED, z, len / 2,
             DECODE_E_TRUNCATED, text, TEXT_LEN, 10);
    gen_case("gzip 100 KiB without its last byte", "gzip", UNLIMITED, z,
             len - 1, DECODE_E_TRUNCATED, text, TEXT_LEN, 10);
    free(z);
}

/* Bytes after the end of the stream, in the same feed or a later one
   (the two-cut splits give both), and a second gzip member. */
static void
test_trailing(void)
{
    static const struct {
        const char *tail;
        size_t len;
    } tails[] = {{"x", 1}, {"\0", 1}, {"\n\n", 2}, {"\x1f\x8b", 2}};
    static const int wbits[] = {31, 15, -15};
    static const char *const codings[] = {"gzip", "deflate", "deflate"};
    static const char hello[] = "hello, world\n";
    unsigned char *z, *body;
    size_t w, t, len;
    char label[128];

    for (w = 0; w < 3; w++) {
        z = zpack_level(hello, 13, wbits[w], 6, &len);
        for (t = 0; t < sizeof tails / sizeof tails[0]; t++) {
            body = concat(z, len, tails[t].tail, tails[t].len);
            snprintf(label, sizeof label, "%s + %zu bytes of garbage",
                     w == 0   ? "gzip"
                     : w == 1 ? "zlib"
                              : "raw",
                     tails[t].len);
            gen_case(label, codings[w], UNLIMITED, body, len + tails[t].len,
                     DECODE_E_TRAILING, hello, 13, 0);
            free(body);
        }
        /* The stream twice: a second gzip member is refused (decode.h:
           one stream per body), and so is a second zlib stream. */
        body = concat(z, len, z, len);
        snprintf(label, sizeof label, "%s twice",
                 w == 0   ? "gzip"
                 : w == 1 ? "zlib"
                          : "raw");
        gen_case(label, codings[w], UNLIMITED, body, 2 * len,
                 DECODE_E_TRAILING, hello, 13, 0);
        free(body);
        free(z);

        /* After output of exactly DECODE_OUT_CAP: the end may be found
           only on the call after the chunk. */
        z = zpack_level(text, 2 * DECODE_OUT_CAP, wbits[w], 6, &len);
        body = concat(z, len, "x", 1);
        snprintf(label, sizeof label, "%s 2 x DECODE_OUT_CAP + garbage",
                 w == 0   ? "gzip"
                 : w == 1 ? "zlib"
                          : "raw");
        gen_case(label, codings[w], UNLIMITED, body, len + 1,
                 DECODE_E_TRAILING, text, 2 * DECODE_OUT_CAP, 20);
        free(body);
        free(z);
    }
    z = zpack_level(text, TEXT_LEN, 31, 9, &len);
    body = concat(z, len, z, len);
    gen_case("gzip 100 KiB, two members", "x-gzip", UNLIMITED, body, 2 * len,
             DECODE_E_TRAILING, text, TEXT_LEN, 10);
    free(body);
    free(z);
}

/*
 * The limit. A bomb (10 MiB of zeros, about 10 KiB compressed) under a
 * 1 MiB limit stops just past it, without keeping any of it; the exact
 * size as the limit is fine, one byte less is not.
 */
static void
test_limit(void)
{
    static const int wbits[] = {31, 15, -15};
    static const char *const codings[] = {"gzip", "deflate", "deflate"};
    unsigned char *z;
    size_t w, len, used;
    char label[128];

    for (w = 0; w < 3; w++) {
        z = zpack_level(zeros, BOMB_LEN, wbits[w], 9, &len);
        if (w == 0)
            printf("bomb: %d MiB of zeros in %zu bytes of gzip\n",
                   BOMB_LEN / MIB, len);
        used = arenas.all[0].used;
        snprintf(label, sizeof label, "%s bomb, limit 1 MiB",
                 w == 0   ? "gzip"
                 : w == 1 ? "zlib"
                          : "raw");
        gen_case(label, codings[w], MIB, z, len, DECODE_E_TOO_BIG, zeros,
                 BOMB_LEN, 10);
        CHECKF(arenas.all[0].used == used, "arena %zu, was %zu",
               arenas.all[0].used, used);
        snprintf(label, sizeof label, "%s bomb, limit 1 MiB + 1",
                 w == 0   ? "gzip"
                 : w == 1 ? "zlib"
                          : "raw");
        gen_case(label, codings[w], MIB + 1, z, len, DECODE_E_TOO_BIG, zeros,
                 BOMB_LEN, 2);
        if (w == 0) {
            whole_case("gzip bomb, limit its size", codings[w], BOMB_LEN, z,
                       len, DECODE_END, zeros, BOMB_LEN);
            whole_case("gzip bomb, limit its size - 1", codings[w],
                       BOMB_LEN - 1, z, len, DECODE_E_TOO_BIG, zeros,
                       BOMB_LEN);
        }
        free(z);

        z = zpack_level(text, TEXT_LEN, wbits[w], 6, &len);
        snprintf(label, sizeof label, "%s text, limit its size",
                 w == 0   ? "gzip"
                 : w == 1 ? "zlib"
                          : "raw");
        gen_case(label, codings[w], TEXT_LEN, z, len, DECODE_END, text,
                 TEXT_LEN, 5);
        snprintf(label, sizeof label, "%s text, limit its size - 1",
                 w == 0   ? "gzip"
                 : w == 1 ? "zlib"
                          : "raw");
        gen_case(label, codings[w], TEXT_LEN - 1, z, len, DECODE_E_TOO_BIG,
                 text, TEXT_LEN, 5);
        snprintf(label, sizeof label, "%s text, limit 0",
                 w == 0   ? "gzip"
                 : w == 1 ? "zlib"
                          : "raw");
        gen_case(label, codings[w], 0, z, len, DECODE_E_TOO_BIG, text,
                 TEXT_LEN, 2);
        free(z);

        z = zpack_level("", 0, wbits[w], 6, &len);
        snprintf(label, sizeof label, "%s of nothing, limit 0",
                 w == 0   ? "gzip"
                 : w == 1 ? "zlib"
                          : "raw");
        gen_case(label, codings[w], 0, z, len, DECODE_END, "", 0, 0);
        free(z);
    }
}

/* Content-Encoding values: what decode_parse_coding and decode_begin make
   of them. Both builds (without zlib every real coding is refused). */
static void
test_codings(void)
{
    static const struct {
        const char *v;
        int ok;
        enum decode_coding coding;
    } t[] = {
        {"", 1, DECODE_IDENTITY},
        {"identity", 1, DECODE_IDENTITY},
        {"IdEnTiTy", 1, DECODE_IDENTITY},
        {" identity\t", 1, DECODE_IDENTITY},
        {"identity, identity", 1, DECODE_IDENTITY},
        {",", 1, DECODE_IDENTITY},
        {" ,\t, ", 1, DECODE_IDENTITY},
        {"gzip", 1, DECODE_GZIP},
        {"x-gzip", 1, DECODE_GZIP},
        {"GZIP", 1, DECODE_GZIP},
        {"X-GZip", 1, DECODE_GZIP},
        {"deflate", 1, DECODE_DEFLATE},
        {"DEFLATE", 1, DECODE_DEFLATE},
        {"identity, gzip", 1, DECODE_GZIP},
        {"gzip, identity", 1, DECODE_GZIP},
        {"identity,deflate", 1, DECODE_DEFLATE},
        {" \t gzip \t ", 1, DECODE_GZIP},
        {",gzip,", 1, DECODE_GZIP},
        {"identity , , x-gzip ,identity", 1, DECODE_GZIP},
        {"br", 0, DECODE_IDENTITY},
        {"compress", 0, DECODE_IDENTITY},
        {"x-compress", 0, DECODE_IDENTITY},
        {"zstd", 0, DECODE_IDENTITY},
        {"x-foo", 0, DECODE_IDENTITY},
        {"gzip, gzip", 0, DECODE_IDENTITY},
        {"gzip, br", 0, DECODE_IDENTITY},
        {"br, gzip", 0, DECODE_IDENTITY},
        {"gzip,deflate", 0, DECODE_IDENTITY},
        {"deflate, gzip", 0, DECODE_IDENTITY},
        {"gzip, identity, gzip", 0, DECODE_IDENTITY},
        {"identity, br", 0, DECODE_IDENTITY},
        {"gzi", 0, DECODE_IDENTITY},
        {"gzipp", 0, DECODE_IDENTITY},
        {"g zip", 0, DECODE_IDENTITY},
        {"gzip;q=1", 0, DECODE_IDENTITY},
        {"identityx", 0, DECODE_IDENTITY},
        {"*", 0, DECODE_IDENTITY},
        {"\"gzip\"", 0, DECODE_IDENTITY},
        {"gzip\v", 0, DECODE_IDENTITY},
    };
    /* Longer than d->name: kept as far as it fits. */
    static const char long_v[] =
        "x-a-very-long-coding-name-that-no-server-sends-but-one-might-"
        "send-anyway";
    enum decode_coding coding;
    enum decode_rc rc, want;
    size_t i;
    int r;

    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *v = t[i].v;
        size_t len = strlen(v);

        coding = (enum decode_coding)99;
        r = decode_parse_coding(v, len, &coding);
        CHECKF(r == (t[i].ok ? 0 : -1), "\"%s\": parse said %d", v, r);
        if (t[i].ok)
            CHECKF(coding == t[i].coding, "\"%s\": coding %d, want %d", v,
                   (int)coding, (int)t[i].coding);
        /* Only the given length is read: a guarded copy, no NUL. */
        r = decode_parse_coding(guard_place(v, len), len, &coding);
        CHECKF(r == (t[i].ok ? 0 : -1), "\"%s\" guarded: %d", v, r);

        want = t[i].ok && (decode_available || t[i].coding == DECODE_IDENTITY)
                   ? DECODE_AGAIN
                   : DECODE_E_UNSUPPORTED;
        rc = decode_begin(&dec, guard_place(v, len), len, UNLIMITED);
        CHECKF(rc == want, "\"%s\": decode_begin said %s, want %s", v,
               rc_name(rc), rc_name(want));
        CHECKF(strcmp(dec.name, v) == 0, "\"%s\": name \"%s\"", v, dec.name);
        if (rc == DECODE_AGAIN) {
            CHECKF(!decode_identity(&dec) == (t[i].coding != DECODE_IDENTITY),
                   "\"%s\": decode_identity %d", v, decode_identity(&dec));
        } else {
            const char *in = "abc", *out;
            size_t in_len = 3, out_len;

            rc = decode_feed(&dec, &in, &in_len, &out, &out_len);
            CHECKF(rc == DECODE_E_UNSUPPORTED, "\"%s\": then feed said %s", v,
                   rc_name(rc));
            rc = decode_finish(&dec);
            CHECKF(rc == DECODE_E_UNSUPPORTED, "\"%s\": then finish said %s",
                   v, rc_name(rc));
        }
    }
    rc = decode_begin(&dec, long_v, sizeof long_v - 1, UNLIMITED);
    CHECKF(rc == DECODE_E_UNSUPPORTED, "long: %s", rc_name(rc));
    CHECKF(strlen(dec.name) == DECODE_NAME_MAX - 1 &&
               memcmp(dec.name, long_v, DECODE_NAME_MAX - 1) == 0,
           "long: name \"%s\"", dec.name);
    /* After a refusal, the decoder serves the next response. */
    gen_case("identity after a refusal", "", UNLIMITED, "ok", 2, DECODE_END,
             "ok", 2, 0);
}

/* What this build asks servers for is what it can decode. */
static void
test_accept_encoding(void)
{
    const char *s = decode_accept_encoding, *e;
    enum decode_coding coding;
    int n = 0;

    if (!decode_available) {
        CHECK(s == NULL);
        return;
    }
    CHECK(s != NULL);
    if (!s)
        return;
    for (; *s; s = *e ? e + 1 : e) {
        e = strchr(s, ',');
        if (!e)
            e = s + strlen(s);
        CHECKF(decode_parse_coding(s, (size_t)(e - s), &coding) == 0 &&
                   coding != DECODE_IDENTITY,
               "\"%.*s\" in \"%s\"", (int)(e - s), s, decode_accept_encoding);
        n++;
    }
    CHECKF(n == 2, "%d codings in \"%s\"", n, decode_accept_encoding);
}

/* The responses test_reuse cycles through, made once. */
static unsigned char *r_gz, *r_zl, *r_zlx, *r_raw, *r_big, *r_bad;
static size_t r_gz_len, r_zl_len, r_raw_len, r_big_len;
static const char r_hello[] = "hello, world\n";

/* Response i of the cycle: good and bad, of every coding. */
static void
reuse_case(size_t i, struct tcase *c)
{
    memset(c, 0, sizeof *c);
    c->label = "reuse";
    c->limit = UNLIMITED;
    c->rc = DECODE_END;
    c->coding = "gzip";
    c->body = r_big;
    c->len = r_big_len;
    c->want = text;
    c->want_len = TEXT_LEN;
    switch (i % 10) {
    case 0: /* the defaults: 100 KiB of gzip */
        break;
    case 1:
        c->coding = "deflate", c->body = r_zl, c->len = r_zl_len;
        c->want_len = 5000;
        break;
    case 2:
        c->coding = "deflate", c->body = r_raw, c->len = r_raw_len;
        c->want_len = 20000;
        break;
    case 3:
        c->coding = "", c->body = text, c->len = 3000;
        c->want_len = 3000;
        break;
    case 4: /* cut short */
        c->coding = "x-gzip", c->len = r_big_len - 5;
        c->rc = DECODE_E_TRUNCATED;
        break;
    case 5: /* broken in the middle */
        c->body = r_bad, c->want = NULL;
        c->rc = DECODE_E_CORRUPT;
        break;
    case 6: /* over the limit */
        c->limit = 100, c->rc = DECODE_E_TOO_BIG;
        break;
    case 7:
        c->coding = "br", c->body = r_gz, c->len = r_gz_len;
        c->want = NULL;
        c->rc = DECODE_E_UNSUPPORTED;
        break;
    case 8: /* garbage after */
        c->coding = "deflate", c->body = r_zlx, c->len = r_zl_len + 1;
        c->want_len = 5000;
        c->rc = DECODE_E_TRAILING;
        break;
    default:
        c->body = r_gz, c->len = r_gz_len;
        c->want = (const unsigned char *)r_hello, c->want_len = 13;
        break;
    }
}

/* Runs response i of the cycle on d, whole or split. */
static void
reuse_run(struct decoder *d, size_t i)
{
    struct tcase c;
    struct split sp;
    struct res r;

    reuse_case(i, &c);
    memset(&sp, 0, sizeof sp);
    sp.kind = i % 3 ? SPLIT_RANDOM : SPLIT_WHOLE;
    sp.max = 1 + (size_t)(rnd() % 5000);
    run(d, &c, &sp, &r);
    expect(&c, &r, "reuse");
}

/*
 * One decoder for 1000 responses of every kind, good and bad, as one
 * connection would see them, on a set of one arena. After the first
 * compressed response the arena never grows: that is "no allocation
 * after start-up". (zlib's state comes with the arena's first use, its
 * 32 KiB window with the first inflate call that does not finish the
 * stream, so a first response small enough to come in one call leaves
 * it for the next: the arena grows twice, at most.)
 */
static void
test_reuse(void)
{
    static struct decode_arenas a2;
    static struct decoder d2, d3;
    size_t first = 0, i, changes;

    r_gz = zpack_level(r_hello, 13, 31, 6, &r_gz_len);
    r_zl = zpack_level(text, 5000, 15, 9, &r_zl_len);
    r_zlx = concat(r_zl, r_zl_len, "x", 1);
    r_raw = zpack_level(text, 20000, -15, 1, &r_raw_len);
    r_big = zpack_level(text, TEXT_LEN, 31, 6, &r_big_len);
    r_bad = concat(r_big, r_big_len, "", 0);
    r_bad[r_big_len / 2] ^= 0xff;

    /* decode_init must not depend on what the memory held. */
    memset(&d2, 0xa5, sizeof d2);
    CHECK(decode_arenas_open(&a2, 1) == 0);
    CHECK(decode_init(&d2, &a2) == 0);
    CHECK(decode_init(&d3, &a2) == -ENOMEM); /* one arena, one decoder */
    CHECK(a2.all[0].used == 0);
    for (i = 0; i < 1000; i++) {
        reuse_run(&d2, i);
        if (i == 0)
            first = a2.all[0].used;
        CHECKF(a2.all[0].used == first, "response %zu: arena %zu, was %zu", i,
               a2.all[0].used, first);
        if (check_failures_in_case)
            break;
    }
    CHECKF(first >= 32768 && first <= DECODE_ARENA_CAP,
           "arena %zu with the window", first);
    printf("arena: %zu bytes of %d with zlib's state and window\n", first,
           DECODE_ARENA_CAP);
    decode_close(&d2);
    CHECK(a2.n_decoders == 0 && a2.n_fresh == 1 && a2.given == &a2.all[0]);
    decode_arenas_close(&a2);

    /* Again from scratch, a small response first. */
    CHECK(decode_arenas_open(&a2, 1) == 0);
    CHECK(decode_init(&d2, &a2) == 0);
    for (i = 9, changes = 0; i < 9 + 200; i++) {
        size_t before = a2.all[0].used;

        reuse_run(&d2, i);
        changes += a2.all[0].used != before;
    }
    CHECKF(changes <= 2 && a2.all[0].used == first,
           "arena grew %zu times, to %zu", changes, a2.all[0].used);
    decode_close(&d2);
    decode_arenas_close(&a2);
    free(r_bad);
    free(r_big);
    free(r_raw);
    free(r_zlx);
    free(r_zl);
    free(r_gz);
}

/* Feeds c's body from *off, up to n bytes more, into d (started). */
static void
feed_more(struct decoder *d, const struct tcase *c, struct res *r, size_t *off,
          size_t n)
{
    if (n > c->len - *off)
        n = c->len - *off;
    feed_piece(d, c, r, c->body + *off, n);
    *off += n;
}

/*
 * Decoders sharing arenas, as a transport's connections do: an arena
 * only while a compressed body is decoded, the one given back last taken
 * first, bodies fed in turns come out right whichever arena carries them
 * (one that another body left halfway too), and no more decoders than
 * arenas.
 */
static void
test_shared_arenas(void)
{
    static struct decode_arenas a3;
    static struct decoder d[3], extra;
    static const char *const codings[3] = {"identity", "gzip", "deflate"};
    struct tcase c[3];
    struct res r[3], half;
    size_t off[3] = {0, 0, 0}, half_off = 0, i;
    unsigned char *gz = zpack_level(text, TEXT_LEN, 31, 6, &c[1].len);
    unsigned char *zl = zpack_level(text, TEXT_LEN, 15, 1, &c[2].len);

    memset(r, 0, sizeof r);
    memset(&half, 0, sizeof half);
    run_bad = 0;
    c[0].len = TEXT_LEN;
    for (i = 0; i < 3; i++) {
        c[i].label = codings[i];
        c[i].coding = codings[i];
        c[i].limit = UNLIMITED;
        c[i].rc = DECODE_END;
        c[i].want = text;
        c[i].want_len = TEXT_LEN;
    }
    c[0].body = text, c[1].body = gz, c[2].body = zl;
    CHECK(decode_arenas_open(&a3, 3) == 0);
    for (i = 0; i < 3; i++)
        CHECK(decode_init(&d[i], &a3) == 0);
    CHECK(decode_init(&extra, &a3) == -ENOMEM);

    /* d[0] leaves a gzip body halfway: its arena, mid-stream, goes back
       at its next decode_begin, and d[1] takes that one. */
    CHECK(decode_begin(&d[0], "gzip", 4, UNLIMITED) == DECODE_AGAIN);
    feed_more(&d[0], &c[1], &half, &half_off, c[1].len / 2);
    CHECK(d[0].arena == &a3.all[0] && half.got > 0);
    for (i = 0; i < 3; i++)
        CHECK(decode_begin(&d[i], codings[i], strlen(codings[i]), UNLIMITED) ==
              DECODE_AGAIN);
    CHECK(d[0].arena == NULL && d[1].arena == &a3.all[0] &&
          d[2].arena == &a3.all[1]);

    /* Turns of 1000 bytes, as connections' reads come. Each arena goes
       back as soon as its stream has ended, before decode_finish. */
    while (off[0] < c[0].len || off[1] < c[1].len || off[2] < c[2].len)
        for (i = 0; i < 3; i++)
            feed_more(&d[i], &c[i], &r[i], &off[i], 1000);
    CHECK(d[1].arena == NULL && d[2].arena == NULL && a3.given != NULL &&
          a3.given->next != NULL && a3.given->next->next == NULL);
    for (i = 0; i < 3; i++) {
        r[i].fin_rc = decode_finish(&d[i]);
        r[i].produced = d[i].produced;
        expect(&c[i], &r[i], "shared arenas, in turns");
    }
    CHECK(a3.n_fresh == 2);
    for (i = 0; i < 3; i++)
        decode_close(&d[i]);
    CHECK(a3.n_decoders == 0);
    decode_arenas_close(&a3);
    free(zl);
    free(gz);
}

/* Every rc has its own message. */
static void
test_strerror(void)
{
    size_t i, j;

    for (i = 0; i < N_RC; i++) {
        const char *s = decode_strerror((enum decode_rc)i);

        CHECKF(s && *s, "%s: no message", rc_names[i]);
        CHECKF(strcmp(s, "unknown decode result") != 0, "%s: %s", rc_names[i],
               s);
        for (j = 0; j < i; j++)
            CHECKF(strcmp(s, decode_strerror((enum decode_rc)j)) != 0,
                   "%s and %s: the same message", rc_names[i], rc_names[j]);
    }
    CHECK(strcmp(decode_strerror((enum decode_rc)N_RC),
                 "unknown decode result") == 0);
    CHECK(strcmp(decode_strerror((enum decode_rc) - 1),
                 "unknown decode result") == 0);
}

/* Without zlib: identity works, every real coding is refused by name. */
static void
test_no_zlib(void)
{
    static const char *const v[] = {"gzip", "x-gzip", "deflate",
                                    "identity, gzip"};
    size_t i;

    CHECK(decode_init(&dec, &arenas) == 0);
    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        CHECK(decode_begin(&dec, v[i], strlen(v[i]), UNLIMITED) ==
              DECODE_E_UNSUPPORTED);
        CHECK(strcmp(dec.name, v[i]) == 0);
        CHECK(decode_finish(&dec) == DECODE_E_UNSUPPORTED);
    }
    gen_case("no zlib: identity", "identity", UNLIMITED, text, 5000,
             DECODE_END, text, 5000, 5);
}

/* ---- real data --------------------------------------------------------- */

/* A few real bodies (151 is the biggest), compressed three ways. */
static void
test_real_data(void)
{
    static const int ids[] = {1, 25, 132, 150, 151, 493, 800};
    static const struct {
        const char *coding;
        int wbits, level;
    } kinds[] = {{"gzip", 31, 6}, {"deflate", 15, 1}, {"deflate", -15, 9}};
    size_t i, k, len, z_len, n = 0;
    unsigned char *body, *z;
    char path[4400], label[128];

    for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        snprintf(path, sizeof path, "%s/%d/index.json", realdata_dir, ids[i]);
        body = (unsigned char *)realdata_read(path, &len);
        CHECKF(body != NULL, "%s: cannot read", path);
        if (!body)
            continue;
        for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            z = zpack_level(body, len, kinds[k].wbits, kinds[k].level, &z_len);
            snprintf(label, sizeof label, "pokemon %d, %s level %d", ids[i],
                     kinds[k].wbits == 31   ? "gzip"
                     : kinds[k].wbits == 15 ? "zlib"
                                            : "raw",
                     kinds[k].level);
            gen_case(label, kinds[k].coding, len, z, z_len, DECODE_END, body,
                     len, 6);
            free(z);
        }
        n++;
        free(body);
    }
    printf("real data: %zu bodies from %s, 3 codings each\n", n, realdata_dir);
}

/* ---- main --------------------------------------------------------------- */

#define RUN_ZLIB(fn)                                                          \
    do {                                                                      \
        if (decode_available)                                                 \
            RUN(fn);                                                          \
        else                                                                  \
            printf("SKIP %s: this build has no zlib (NO_ZLIB=1)\n", #fn);     \
    } while (0)

int
main(void)
{
    text = make_text(TEXT_LEN);
    zeros = calloc(1, BOMB_LEN);
    if (!zeros)
        return 2;
    if (decode_arenas_open(&arenas, 1) != 0 ||
        decode_init(&dec, &arenas) != 0) {
        fprintf(stderr, "decode_init failed\n");
        return 2;
    }

    RUN(test_identity);
    RUN(test_codings);
    RUN(test_accept_encoding);
    RUN(test_strerror);
    if (!decode_available)
        RUN(test_no_zlib);
    RUN_ZLIB(test_small_streams);
    RUN_ZLIB(test_big_streams);
    RUN_ZLIB(test_chunk_multiple);
    RUN_ZLIB(test_pending_output);
    RUN_ZLIB(test_deflate_detection);
    RUN_ZLIB(test_corrupt);
    RUN_ZLIB(test_gzip_framing);
    RUN_ZLIB(test_sticky);
    RUN_ZLIB(test_truncated);
    RUN_ZLIB(test_trailing);
    RUN_ZLIB(test_limit);
    RUN_ZLIB(test_reuse);
    RUN_ZLIB(test_shared_arenas);
    if (!decode_available)
        printf("SKIP test_real_data: this build has no zlib\n");
    else if (realdata_find())
        RUN(test_real_data);
    else
        printf("SKIP test_real_data: no PokeAPI extract in "
               "$POKEFETCH_DATA_DIR or /tmp/pk\n");

    decode_close(&dec);
    decode_arenas_close(&arenas);
    free(zeros);
    free(text);
    return CHECK_REPORT();
}
