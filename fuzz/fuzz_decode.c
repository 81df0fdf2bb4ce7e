/*
 * fuzz_decode.c - libFuzzer harness for the Content-Encoding decoder
 * (include/decode.h: src/decode_common.c with src/decode_zlib.c), and
 * the chain the program builds on it: decoded bytes into the streaming
 * JSON extractor (include/jfield.h), as src/conn.c does.
 *
 * Input: 5 control bytes, maybe a coding name, then the body.
 *   c0 & 15  the Content-Encoding value: codings[c0 & 15], or for 15 a
 *            value taken from the input: one length byte L, then L bytes
 *   c0 & 16  the split run goes first (else the one-shot run)
 *   c0 & 32  before both runs, an abandoned response: the first half of
 *            the body fed as gzip (c0 & 64: as deflate), never finished
 *   c0 & 128 the split run feeds an empty piece before every piece
 *   c1, c2   the limit handed to decode_begin (limit_of() below): the
 *            program's default, 0..16383 bytes (to reach the bomb limit
 *            with any stream), around a multiple of DECODE_OUT_CAP, or
 *            KiB up to 16 MiB, or none (UINT64_MAX)
 *   c3, c4   how the split run cuts the body (fuzz.h)
 * Missing control bytes count as 0 (gzip, the default limit).
 *
 * One decoder per input, on the heap, junk before decode_init, on a
 * set of one arena, and reused for every response of the input (as a
 * connection reuses it).
 * Runs, each from decode_begin: the body in one piece, and cut as c3/c4
 * say; every piece flush against the end of a heap block. A run feeds
 * each piece until DECODE_AGAIN or an error, then calls decode_finish,
 * and passes each chunk to jf_feed (key "name") until it stops saying
 * JF_AGAIN, then jf_finish if the body decoded cleanly.
 *
 * Within a run (decode.h): *in and *in_len move together, forward only;
 * DECODE_AGAIN only with the piece used up; DECODE_OUTPUT with 1 ..
 * DECODE_OUT_CAP bytes in the set's out (identity: exactly the bytes just
 * consumed, in place); produced counts what was handed on; the bytes
 * handed on never pass the limit (DECODE_E_TOO_BIG with produced over
 * it instead); decode_feed never says DECODE_END, DECODE_E_TRUNCATED or
 * DECODE_E_NOMEM; errors are sticky in decode_feed (input untouched)
 * and decode_finish; decode_finish says DECODE_END or
 * DECODE_E_TRUNCATED; decode_begin refuses exactly the values a
 * reference reader of the Content-Encoding list refuses (also checked
 * on decode_parse_coding), chooses identity exactly when it should, and
 * keeps the value in d->name.
 *
 * Memory: the decoder must not allocate. zlib gets memory only through
 * the decoder's zalloc, which carves the arena's mem: its used must
 * stay within DECODE_ARENA_CAP and only grow, from 0 to zlib's state (on
 * the first compressed body) and then its window (on the first
 * compressed output), the same two values on every input; the decoder
 * holds the set's arena only from decode_begin of a compressed coding
 * until an error or decode_finish; DECODE_E_NOMEM never happens.
 *
 * Across the two runs ("the same output for any split of the input"):
 * the same verdict; the same output, and so the same jfield verdict and
 * value, except after an error. After DECODE_E_TOO_BIG or
 * DECODE_E_CORRUPT one output need only be a prefix of the other (as
 * tests/test_decode.c judges it): chunks end where pieces end, and the
 * chunk in which the error is found is not handed on.
 *
 * Differential: the body is inflated again in one inflate() call over
 * all of it with zlib's own allocator (gzip: windowBits 31; deflate: 15
 * for a body whose first two bytes are a zlib header, -15 otherwise, the
 * rule decode_zlib.c states; identity: the body itself). When that
 * output fits the limit, both runs must give the reference's verdict
 * (stream end with nothing after it: DECODE_END; with bytes after it:
 * DECODE_E_TRAILING; input used up first: DECODE_E_TRUNCATED; any
 * inflate error: DECODE_E_CORRUPT), and its output (a prefix of it for
 * DECODE_E_CORRUPT). When it does not fit, both runs must say
 * DECODE_E_TOO_BIG: more than limit bytes came out of the body before
 * any other problem in it. decode.h does not say which of two errors
 * wins; this is the one a run whose piece ends before the other
 * problem must give, so the only one that is the same for every split.
 */
#include "decode.h"
#include "fuzz.h"
#include "jfield.h"

#include <limits.h>

#include <zlib.h>

#define CTL_LEN 5
#define CODING_FROM_INPUT 15
#define DEFAULT_LIMIT (64ull << 20) /* src/cli.c's DEFAULT_MAX_BODY */
#define REF_MAX (64ull << 20)       /* reference output kept at most */
#define NOT_CODING (-1)

enum how { ONE_SHOT, SPLIT };

/* Content-Encoding values c0 picks; what each means is worked out by
   ref_coding(), not written here. */
static const char *const codings[CODING_FROM_INPUT] = {
    "gzip",          "x-gzip",         "deflate",         "br",
    "",              "identity",       "GZip",            " deflate\t",
    "gzip, deflate", "identity, gzip", "x-gzip,identity", "compress",
    "zstd",          "DEFLATE,,",      "gzip;q=1",
};

/* Bytes handed on, in order. */
struct bytes {
    char *b;
    size_t len, cap;
};

struct result {
    int verdict;       /* DECODE_END, or the error that ended the run */
    struct bytes out;  /* every chunk, concatenated */
    uint64_t produced; /* d->produced at the end */
    int jf_rc;         /* JF_AGAIN if jf_finish was not reached */
    size_t value_len;
    char value[JF_MAX_VALUE];
};

struct ref {
    int verdict;
    int over;   /* more than limit bytes came out before any error */
    int unsure; /* the reference gave up (REF_MAX, a huge body) */
    struct bytes out;
};

/* What the arena holds besides nothing: zlib's state, then also
   its window; the same on every input. */
static size_t arena_sizes[2];

static void
append(struct bytes *o, const char *p, size_t n)
{
    if (n == 0)
        return;
    if (n > o->cap - o->len) {
        size_t cap = o->cap ? o->cap : 4096;

        while (cap - o->len < n)
            cap *= 2;
        o->b = realloc(o->b, cap);
        if (!o->b) {
            fputs("fuzz_decode: out of memory\n", stderr);
            abort();
        }
        o->cap = cap;
    }
    memcpy(o->b + o->len, p, n);
    o->len += n;
}

/* a is a prefix of b (b->b may be NULL when nothing was kept). */
static int
is_prefix(const struct bytes *a, const struct bytes *b)
{
    return a->len <= b->len &&
           (a->len == 0 || memcmp(a->b, b->b, a->len) == 0);
}

static int
same_bytes(const struct bytes *a, const struct bytes *b)
{
    return a->len == b->len && is_prefix(a, b);
}

static const char *
rc_name(int rc)
{
    static const char *const names[] = {
        "AGAIN",     "OUTPUT",   "END",    "E_UNSUPPORTED", "E_CORRUPT",
        "E_TRAILING", "E_TRUNCATED", "E_TOO_BIG", "E_NOMEM",
    };

    if (rc >= 0 && rc < (int)(sizeof names / sizeof names[0]))
        return names[rc];
    return "?";
}

static uint64_t
limit_of(unsigned c1, unsigned c2)
{
    unsigned hi = c1 >> 2;

    switch (c1 & 3) {
    case 0:
        return DEFAULT_LIMIT;
    case 1:
        return (uint64_t)hi << 8 | c2; /* 0 .. 16383 */
    case 2:                            /* around 1..4 chunks */
        return (uint64_t)(1 + (hi & 3)) * DECODE_OUT_CAP + c2 - 128;
    default:
        if (hi == 63 && c2 == 255)
            return UINT64_MAX;
        return ((uint64_t)hi << 8 | c2) << 10;
    }
}

/* ---- References ---------------------------------------------------- */

static int
same_word_ci(const char *s, size_t n, const char *word)
{
    size_t i;

    if (n != strlen(word))
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

/*
 * A Content-Encoding value as decode.h reads it (RFC 9110 sec. 8.4: a
 * comma-separated list, OWS around elements, empty elements allowed,
 * names case-insensitive): the one real coding in it, DECODE_IDENTITY
 * when there is none (empty, or only "identity"), NOT_CODING when one is
 * unknown or there are several.
 */
static int
ref_coding(const char *v, size_t len)
{
    size_t start = 0, end, a, b;
    int found = DECODE_IDENTITY, n = 0;

    while (start <= len) {
        for (end = start; end < len && v[end] != ','; end++)
            ;
        a = start;
        b = end;
        while (a < b && (v[a] == ' ' || v[a] == '\t'))
            a++;
        while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
            b--;
        if (a < b && !same_word_ci(v + a, b - a, "identity")) {
            if (++n > 1)
                return NOT_CODING;
            if (same_word_ci(v + a, b - a, "gzip") ||
                same_word_ci(v + a, b - a, "x-gzip"))
                found = DECODE_GZIP;
            else if (same_word_ci(v + a, b - a, "deflate"))
                found = DECODE_DEFLATE;
            else
                return NOT_CODING;
        }
        start = end + 1;
    }
    return found;
}

/*
 * The body through one inflate() call over all of it (see top). Output
 * is kept up to min(limit, REF_MAX) bytes; past that, over or unsure.
 */
static void
ref_decode(struct ref *r, int coding, const char *body, size_t len,
           uint64_t limit)
{
    static unsigned char chunk[65536];
    const unsigned char *u = (const unsigned char *)body;
    uint64_t keep = limit < REF_MAX ? limit : REF_MAX;
    z_stream zs;
    int wbits, zr;
    size_t n;

    memset(r, 0, sizeof *r);
    if (coding == DECODE_IDENTITY) {
        r->verdict = DECODE_END;
        if (len > keep) {
            r->over = len > limit;
            r->unsure = !r->over;
            return;
        }
        append(&r->out, body, len);
        return;
    }
    if (len > UINT_MAX) {
        r->unsure = 1;
        return;
    }
    if (coding == DECODE_GZIP) {
        wbits = 15 + 16;
    } else if (len < 2) {
        r->verdict = DECODE_E_TRUNCATED;
        return;
    } else {
        int zlib_hdr = (u[0] & 0x0f) == 8 && (u[0] >> 4) <= 7 &&
                       (u[0] * 256 + u[1]) % 31 == 0;
        wbits = zlib_hdr ? 15 : -15;
    }
    memset(&zs, 0, sizeof zs);
    FUZZ_CHECK(inflateInit2(&zs, wbits) == Z_OK, "reference inflateInit2");
    zs.next_in = (Bytef *)(uintptr_t)u;
    zs.avail_in = (uInt)len;
    for (;;) {
        zs.next_out = chunk;
        zs.avail_out = sizeof chunk;
        zr = inflate(&zs, Z_NO_FLUSH);
        n = sizeof chunk - zs.avail_out;
        if (n > keep - r->out.len) {
            r->over = r->out.len + n > limit;
            r->unsure = !r->over;
            break;
        }
        append(&r->out, (const char *)chunk, n);
        if (zr == Z_STREAM_END) {
            r->verdict = zs.avail_in ? DECODE_E_TRAILING : DECODE_END;
            break;
        }
        FUZZ_CHECK(zr != Z_MEM_ERROR, "reference: zlib out of memory");
        if (zr == Z_BUF_ERROR) {
            /* No progress possible with the whole body given. */
            FUZZ_CHECK(zs.avail_in == 0, "reference: inflate stuck");
            r->verdict = DECODE_E_TRUNCATED;
            break;
        }
        if (zr != Z_OK) {
            r->verdict = DECODE_E_CORRUPT;
            break;
        }
        if (zs.avail_in == 0 && zs.avail_out != 0) {
            r->verdict = DECODE_E_TRUNCATED;
            break;
        }
    }
    inflateEnd(&zs);
}

/* ---- Runs ----------------------------------------------------------- */

static void
check_strerror(int rc)
{
    const char *m = decode_strerror((enum decode_rc)rc);

    FUZZ_CHECK(m != NULL && m[0] != '\0', "decode_strerror(%d)", rc);
}

static void
check_arena(const struct decoder *d, size_t *last)
{
    const struct decode_arena *a = &d->arenas->all[0];
    size_t used = a->used;
    int i;

    FUZZ_CHECK(d->arena == NULL || d->arena == a, "an arena not the set's");
    FUZZ_CHECK(used <= DECODE_ARENA_CAP && used >= *last,
               "arena used %zu, was %zu, cap %d", used, *last,
               DECODE_ARENA_CAP);
    *last = used;
    for (i = 0; used && i < 2; i++) {
        if (!arena_sizes[i])
            arena_sizes[i] = used;
        if (arena_sizes[i] == used)
            break;
    }
    FUZZ_CHECK(!used || i < 2, "arena used %zu: seen %zu and %zu before",
               used, arena_sizes[0], arena_sizes[1]);
}

/* An error from decode_feed must stay, whatever is fed after it. */
static void
check_sticky(struct decoder *d, int rc, const char *rest, size_t rest_len)
{
    const char *in = rest, *out = NULL;
    size_t in_len = rest_len, out_len = 0;
    char *one;
    int again;

    again = decode_feed(d, &in, &in_len, &out, &out_len);
    FUZZ_CHECK(again == rc && in == rest && in_len == rest_len,
               "fed after %s: got %s, %zu of %zu bytes used", rc_name(rc),
               rc_name(again), rest_len - in_len, rest_len);
    one = fuzz_dup("\x1f", 1);
    in = one;
    in_len = 1;
    again = decode_feed(d, &in, &in_len, &out, &out_len);
    FUZZ_CHECK(again == rc && in_len == 1, "sticky %s lost", rc_name(rc));
    free(one);
    again = decode_finish(d);
    FUZZ_CHECK(again == rc, "decode_finish forgot %s, said %s", rc_name(rc),
               rc_name(again));
    FUZZ_CHECK(d->arena == NULL, "the arena kept after %s", rc_name(rc));
}

struct run {
    struct decoder *d;
    struct jf_extractor *jf;
    struct result *res;
    uint64_t limit;
    int coding;
    size_t arena; /* the arena's used last seen */
};

/* Feeds one piece until DECODE_AGAIN or an error; returns which. */
static int
feed_piece(struct run *r, const char *piece, size_t n)
{
    struct decoder *d = r->d;
    struct result *res = r->res;
    const char *in = piece, *before, *out;
    size_t in_len = n, before_len, out_len;
    int rc;

    for (;;) {
        before = in;
        before_len = in_len;
        out = NULL;
        out_len = (size_t)-1;
        rc = decode_feed(d, &in, &in_len, &out, &out_len);
        check_strerror(rc);
        FUZZ_CHECK(in >= before && in_len <= before_len &&
                       (size_t)(in - before) == before_len - in_len,
                   "in moved %td, in_len went from %zu to %zu", in - before,
                   before_len, in_len);
        check_arena(d, &r->arena);
        switch (rc) {
        case DECODE_AGAIN:
            FUZZ_CHECK(in_len == 0, "DECODE_AGAIN with %zu bytes left",
                       in_len);
            return rc;
        case DECODE_OUTPUT:
            FUZZ_CHECK(out != NULL && out_len >= 1, "empty chunk");
            if (r->coding == DECODE_IDENTITY)
                FUZZ_CHECK(out == before && in_len == 0 &&
                               out_len == before_len,
                           "identity chunk is not the piece itself");
            else
                FUZZ_CHECK(d->arena && out == (const char *)d->arenas->out &&
                               out_len <= DECODE_OUT_CAP,
                           "chunk of %zu bytes not in the set's out", out_len);
            append(&res->out, out, out_len);
            FUZZ_CHECK(res->out.len <= r->limit,
                       "%zu bytes handed on, limit %llu", res->out.len,
                       (unsigned long long)r->limit);
            FUZZ_CHECK(d->produced == res->out.len,
                       "produced %llu, %zu bytes handed on",
                       (unsigned long long)d->produced, res->out.len);
            /* The chain of conn.c's body_bytes(). */
            if (res->jf_rc == JF_AGAIN)
                res->jf_rc = jf_feed(r->jf, out, out_len);
            break;
        case DECODE_E_CORRUPT:
        case DECODE_E_TRAILING:
            FUZZ_CHECK(d->produced == res->out.len,
                       "produced %llu, %zu bytes handed on",
                       (unsigned long long)d->produced, res->out.len);
            check_sticky(d, rc, in, in_len);
            return rc;
        case DECODE_E_TOO_BIG:
            FUZZ_CHECK(d->produced > r->limit,
                       "DECODE_E_TOO_BIG at %llu bytes, limit %llu",
                       (unsigned long long)d->produced,
                       (unsigned long long)r->limit);
            check_sticky(d, rc, in, in_len);
            return rc;
        default:
            fuzz_fail(__FILE__, __LINE__, "decode_feed", "returned %s (%d)",
                      rc_name(rc), rc);
        }
    }
}

/* An empty piece changes nothing. */
static void
feed_empty(struct run *r, const char *at)
{
    const char *in = at, *out = NULL;
    size_t in_len = 0, out_len = 0;
    int rc = decode_feed(r->d, &in, &in_len, &out, &out_len);

    FUZZ_CHECK(rc == DECODE_AGAIN && in == at && in_len == 0,
               "empty piece: %s", rc_name(rc));
}

static void
run_body(struct run *r, const char *name, size_t name_len, const char *body,
         size_t len, enum how how, const uint8_t *ctl)
{
    struct decoder *d = r->d;
    struct result *res = r->res;
    struct fuzz_split sp;
    size_t off = 0, n, keep;
    char *block = fuzz_alloc(len), *piece;
    int rc = DECODE_AGAIN;

    memset(res, 0, sizeof *res);
    res->jf_rc = JF_AGAIN;
    FUZZ_CHECK(jf_begin(r->jf, "name", 4) == 0, "jf_begin");
    rc = decode_begin(d, name, name_len, r->limit);
    check_strerror(rc);
    keep = name_len < DECODE_NAME_MAX - 1 ? name_len : DECODE_NAME_MAX - 1;
    FUZZ_CHECK(memcmp(d->name, name, keep) == 0 && d->name[keep] == '\0',
               "d->name does not hold the coding");
    FUZZ_CHECK(d->produced == 0, "produced %llu after decode_begin",
               (unsigned long long)d->produced);
    FUZZ_CHECK((d->arena != NULL) ==
                   (r->coding != NOT_CODING && r->coding != DECODE_IDENTITY),
               "decode_begin: arena %p for \"%.*s\"", (void *)d->arena,
               (int)name_len, name);
    check_arena(d, &r->arena);
    if (r->coding == NOT_CODING) {
        FUZZ_CHECK(rc == DECODE_E_UNSUPPORTED,
                   "decode_begin accepted \"%.*s\": %s", (int)name_len, name,
                   rc_name(rc));
        res->verdict = rc;
        check_sticky(d, rc, body, len);
        free(block);
        return;
    }
    FUZZ_CHECK(rc == DECODE_AGAIN, "decode_begin refused \"%.*s\": %s",
               (int)name_len, name, rc_name(rc));
    FUZZ_CHECK(!decode_identity(d) == (r->coding != DECODE_IDENTITY),
               "decode_identity %d for \"%.*s\"", decode_identity(d),
               (int)name_len, name);

    fuzz_split_init(&sp, ctl[3], ctl[4], len);
    while (off < len) {
        n = how == ONE_SHOT ? len : fuzz_split_next(&sp, off, len);
        piece = fuzz_place(block, len, body + off, n);
        if (how == SPLIT && (ctl[0] & 128))
            feed_empty(r, piece);
        rc = feed_piece(r, piece, n);
        off += n;
        if (rc != DECODE_AGAIN)
            break;
    }
    free(block);
    if (rc == DECODE_AGAIN) {
        rc = decode_finish(d);
        check_strerror(rc);
        FUZZ_CHECK(rc == DECODE_END || rc == DECODE_E_TRUNCATED,
                   "decode_finish said %s", rc_name(rc));
        if (rc == DECODE_E_TRUNCATED)
            FUZZ_CHECK(r->coding != DECODE_IDENTITY,
                       "identity body truncated");
        FUZZ_CHECK((int)decode_finish(d) == rc,
                   "decode_finish changed its mind");
    }
    /* (after an error, check_sticky called decode_finish) */
    FUZZ_CHECK(d->arena == NULL, "the arena kept after decode_finish");
    res->verdict = rc;
    res->produced = d->produced;
    if (rc == DECODE_END && res->jf_rc == JF_AGAIN)
        res->jf_rc = jf_finish(r->jf, res->value, sizeof res->value,
                               &res->value_len);
    check_arena(d, &r->arena);
}

/* A response abandoned halfway (a connection whose body failed or was
   cut): the next decode_begin must start afresh. */
static void
abandoned(struct run *r, const char *body, size_t len, int deflate)
{
    struct decoder *d = r->d;
    size_t in_len = len / 2, out_len;
    char *block = fuzz_dup(body, in_len);
    const char *in = block, *out;

    if (deflate)
        decode_begin(d, "deflate", 7, DEFAULT_LIMIT);
    else
        decode_begin(d, "gzip", 4, DEFAULT_LIMIT);
    while (decode_feed(d, &in, &in_len, &out, &out_len) == DECODE_OUTPUT)
        ;
    check_arena(d, &r->arena);
    free(block);
}

static void
free_result(struct result *res)
{
    free(res->out.b);
}

static void
compare(const struct result *a, const struct result *b)
{
    FUZZ_CHECK(a->verdict == b->verdict, "one-shot %s, split %s",
               rc_name(a->verdict), rc_name(b->verdict));
    if (a->verdict == DECODE_E_TOO_BIG || a->verdict == DECODE_E_CORRUPT) {
        FUZZ_CHECK(is_prefix(&a->out, &b->out) || is_prefix(&b->out, &a->out),
                   "%s: one-shot and split outputs (%zu, %zu bytes) differ",
                   rc_name(a->verdict), a->out.len, b->out.len);
        return;
    }
    FUZZ_CHECK(same_bytes(&a->out, &b->out),
               "%s: one-shot and split outputs (%zu, %zu bytes) differ",
               rc_name(a->verdict), a->out.len, b->out.len);
    /* The same bytes, so the same verdict from the extractor. */
    FUZZ_CHECK(a->jf_rc == b->jf_rc && a->value_len == b->value_len &&
                   memcmp(a->value, b->value, a->value_len) == 0,
               "jfield: one-shot %d, split %d", a->jf_rc, b->jf_rc);
}

static void
against_ref(const struct result *a, const struct ref *r, const char *what)
{
    if (r->unsure)
        return;
    if (r->over) {
        FUZZ_CHECK(a->verdict == DECODE_E_TOO_BIG,
                   "%s: %s, but over the limit before any other problem",
                   what, rc_name(a->verdict));
        return;
    }
    FUZZ_CHECK(a->verdict == r->verdict, "%s: %s, zlib one-shot says %s",
               what, rc_name(a->verdict), rc_name(r->verdict));
    if (a->verdict == DECODE_E_CORRUPT)
        FUZZ_CHECK(is_prefix(&a->out, &r->out),
                   "%s: output (%zu bytes) not a prefix of zlib's (%zu)",
                   what, a->out.len, r->out.len);
    else
        FUZZ_CHECK(same_bytes(&a->out, &r->out),
                   "%s: output (%zu bytes) differs from zlib's (%zu)", what,
                   a->out.len, r->out.len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t ctl[CTL_LEN] = {0};
    size_t nctl = size < CTL_LEN ? size : CTL_LEN, len, name_len;
    const uint8_t *rest = data + nctl;
    struct decode_arenas arenas;
    struct decoder *d;
    struct jf_extractor *jf;
    struct result *res;
    struct ref ref;
    enum decode_coding parsed;
    struct run r;
    char *name, *body;
    int coding, first;

    memcpy(ctl, data, nctl);
    len = size - nctl;
    if ((ctl[0] & 15) == CODING_FROM_INPUT) {
        name_len = len > 0 ? rest[0] : 0;
        if (len > 0) {
            rest++;
            len--;
        }
        if (name_len > len)
            name_len = len;
        name = fuzz_dup(rest, name_len);
        rest += name_len;
        len -= name_len;
    } else {
        name_len = strlen(codings[ctl[0] & 15]);
        name = fuzz_dup(codings[ctl[0] & 15], name_len);
    }
    body = fuzz_dup(rest, len);

    FUZZ_CHECK(decode_available && decode_accept_encoding != NULL,
               "the zlib build says it decodes nothing");
    for (coding = DECODE_AGAIN; coding <= DECODE_E_NOMEM; coding++)
        check_strerror(coding);
    coding = ref_coding(name, name_len);
    parsed = (enum decode_coding)99;
    FUZZ_CHECK((decode_parse_coding(name, name_len, &parsed) < 0) ==
                       (coding == NOT_CODING) &&
                   (coding == NOT_CODING || (int)parsed == coding),
               "decode_parse_coding(\"%.*s\") gave %d, reference %d",
               (int)name_len, name, (int)parsed, coding);

    /* Junk first: decode_init must not trust what the memory held. */
    FUZZ_CHECK(decode_arenas_open(&arenas, 1) == 0, "decode_arenas_open");
    d = fuzz_alloc(sizeof *d);
    memset(d, 0xa5, sizeof *d);
    FUZZ_CHECK(decode_init(d, &arenas) == 0, "decode_init failed");
    r.d = d;
    r.arena = 0;
    check_arena(d, &r.arena);
    jf = fuzz_alloc(sizeof *jf);
    memset(jf, 0xa5, sizeof *jf);
    res = fuzz_alloc(2 * sizeof *res);

    if (ctl[0] & 32)
        abandoned(&r, body, len, ctl[0] & 64);
    r.jf = jf;
    r.limit = limit_of(ctl[1], ctl[2]);
    r.coding = coding;
    first = (ctl[0] & 16) ? SPLIT : ONE_SHOT;
    r.res = &res[first];
    run_body(&r, name, name_len, body, len, (enum how)first, ctl);
    r.res = &res[!first];
    run_body(&r, name, name_len, body, len, (enum how)!first, ctl);
    compare(&res[ONE_SHOT], &res[SPLIT]);

    if (coding != NOT_CODING) {
        ref_decode(&ref, coding, body, len, r.limit);
        against_ref(&res[ONE_SHOT], &ref, "one-shot");
        against_ref(&res[SPLIT], &ref, "split");
        free(ref.out.b);
    }

    decode_close(d);
    FUZZ_CHECK(d->arena == NULL && arenas.n_decoders == 0,
               "decode_close left the arena or the set's count");
    decode_arenas_close(&arenas);
    free_result(&res[0]);
    free_result(&res[1]);
    free(res);
    free(jf);
    free(d);
    free(body);
    free(name);
    return 0;
}
