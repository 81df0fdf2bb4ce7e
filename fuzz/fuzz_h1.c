/*
 * fuzz_h1.c - libFuzzer harness for the incremental HTTP/1.1 response
 * parser (include/h1.h): one or several pipelined responses, fed three
 * ways, must give the same events, and each way must keep the contract.
 *
 * Input: 8 control bytes, then the response bytes ("the stream").
 *   c0      bit k: the request of message k (mod 8) was HEAD
 *   c1, c2  how the split run cuts the stream (fuzz.h, fuzz_split_*)
 *   c3..c7  amplification: when c3 != 0, the segment of c6 | c7 << 8
 *           bytes at offset c4 | c5 << 8 is repeated c3 times in all
 *           (the stream is kept under AMP_MAX bytes). This is how a
 *           small input reaches the 64 KiB header block (127 lines of
 *           520 bytes) and the 16 KiB line and trailer limits; seeds
 *           in corpus/h1 named limit-* do it.
 * Missing control bytes count as 0.
 *
 * Runs, each from h1_begin: all at once, cut as c1/c2 say, and one byte
 * at a time. Every piece is copied flush against the end of a heap
 * block, so a read past it trips ASan. A run feeds each piece until
 * H1_AGAIN or an error, calling h1_begin again after each H1_DONE (with
 * the next message's HEAD flag), and ends with h1_finish.
 *
 * Across runs, equal: the non-body events (status, http_minor, flags,
 * content_length, n_interim and the kept Location and Retry-After at
 * H1_HEADERS; flags and body length at
 * H1_DONE; error code, error_offset and consumed on error), the body
 * bytes of each message, and h1_finish's answer.
 *
 * Within a run (h1.h): used <= len; H1_AGAIN only with all of the piece
 * consumed; body spans inside the bytes consumed by that call; consumed
 * is this message's byte count; h1_started() iff consumed > 0; errors
 * sticky (fed again, *used == 0 and the same error; h1_finish gives it
 * too); HEADERS once per message, before any body, with a final status;
 * flags consistent with the framing rules (HEAD/204/304 no body; chunked
 * never with a length; body-to-EOF closes and only ends at h1_finish);
 * a Content-Length body is exactly that many bytes, right after the
 * header block; h1_finish says H1_DONE exactly for a started body that
 * runs to EOF, and H1_E_TRUNCATED otherwise. No call may fail to make
 * progress twice in a row (that would hang a caller's loop).
 */
#include "fuzz_h1.h"

#include <time.h>

#define CTL_LEN 8
#define AMP_MAX (96u * 1024)

enum { EV_FINISH = 100 };

enum how { ONE_SHOT, SPLIT, BYTEWISE };

/* One non-body event; memset to 0 first, so runs compare with memcmp. */
struct ev {
    int kind;
    int status, minor;
    unsigned flags, n_interim;
    uint64_t content_length;
    uint64_t a, b; /* DONE: body length; error: error_offset, consumed;
                      FINISH: started, consumed */
    uint64_t kept; /* HEADERS: hash of the kept Location, Retry-After */
};

struct run {
    unsigned head_mask;
    struct ev *ev;
    size_t n_ev, cap_ev;
    char *body; /* every message's body, concatenated */
    size_t body_len;
    const char *stream; /* to check body spans against */
    size_t stream_len;

    /* The message in progress. */
    unsigned msg;
    uint64_t msg_start; /* stream offset of its first byte */
    int have_headers;
    unsigned flags;
    uint64_t content_length;
    uint64_t hdr_end;  /* stream offset just past its header block */
    uint64_t msg_body; /* body bytes so far */
    uint64_t body_end; /* stream offset past the last body span */
    int failed;
};

static unsigned
req_flags(const struct run *r)
{
    return (r->head_mask >> (r->msg & 7)) & 1 ? H1_REQ_HEAD : 0;
}

static struct ev *
add_ev(struct run *r, int kind)
{
    struct ev *e;

    if (r->n_ev == r->cap_ev) {
        r->cap_ev = r->cap_ev ? r->cap_ev * 2 : 16;
        r->ev = realloc(r->ev, r->cap_ev * sizeof *r->ev);
        if (!r->ev) {
            fputs("fuzz_h1: out of memory\n", stderr);
            abort();
        }
    }
    e = &r->ev[r->n_ev++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    return e;
}

static int
is_error(enum h1_rc rc)
{
    return rc >= H1_E_STATUS_LINE && rc <= H1_E_TRUNCATED;
}

static void
check_strerror(enum h1_rc rc)
{
    const char *m = h1_strerror(rc);

    FUZZ_CHECK(m != NULL && m[0] != '\0', "h1_strerror(%d)", (int)rc);
}

/* The next message starts at stream offset at. */
static void
next_message(struct run *r, struct h1_parser *p, uint64_t at)
{
    r->msg++;
    r->msg_start = at;
    r->have_headers = 0;
    r->flags = 0;
    r->content_length = 0;
    r->hdr_end = 0;
    r->msg_body = 0;
    r->body_end = 0;
    h1_begin(p, req_flags(r));
}

#ifdef H1_MAX_LOCATION
/* FNV-1a, to compare kept values across runs through the event log. */
static uint64_t
hash(uint64_t h, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

/* A kept value: within its array, field bytes, no surrounding OWS. */
static void
check_value(const char *what, const char *v, size_t len, size_t cap)
{
    size_t i;

    FUZZ_CHECK(len <= cap, "%s of %zu bytes", what, len);
    FUZZ_CHECK(len == 0 || (v[0] != ' ' && v[0] != '\t' &&
                            v[len - 1] != ' ' && v[len - 1] != '\t'),
               "%s keeps surrounding whitespace", what);
    for (i = 0; i < len; i++)
        FUZZ_CHECK((unsigned char)v[i] >= 0x20 || v[i] == '\t',
                   "%s holds byte 0x%02x", what, (unsigned char)v[i]);
}

/*
 * h1_retry_after on v: rc 0 or -1; delay-seconds read exactly (up to
 * 9 digits: larger ones may be capped); an IMF-fixdate the way timegm()
 * reads it, its delay never negative.
 */
static void
check_retry_after(const char *v, size_t len)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    static const int64_t nows[2] = {0, 1764115200};
    int64_t d = -7, want, t;
    struct tm tm;
    const char *m;
    size_t i;
    int rc, k, digits = 1;

    for (k = 0; k < 2; k++) {
        rc = h1_retry_after(v, len, nows[k], &d);
        FUZZ_CHECK(rc == 0 || rc == -1, "h1_retry_after gave %d", rc);
        if (rc != 0)
            continue;
        FUZZ_CHECK(d >= 0, "negative delay %lld", (long long)d);
        for (i = 0; i < len; i++)
            digits &= v[i] >= '0' && v[i] <= '9';
        if (len > 0 && digits) {
            if (len <= 9) {
                for (want = 0, i = 0; i < len; i++)
                    want = want * 10 + (v[i] - '0');
                FUZZ_CHECK(d == want, "delay %lld for \"%.*s\"",
                           (long long)d, (int)len, v);
            }
            continue;
        }
        FUZZ_CHECK(len == 29, "accepted a %zu-byte date", len);
        memset(&tm, 0, sizeof tm);
        for (m = months; *m && memcmp(m, v + 8, 3) != 0; m += 3)
            ;
        FUZZ_CHECK(*m != '\0', "accepted month \"%.3s\"", v + 8);
        tm.tm_mon = (int)((m - months) / 3);
        tm.tm_mday = (v[5] - '0') * 10 + (v[6] - '0');
        tm.tm_year = (v[12] - '0') * 1000 + (v[13] - '0') * 100 +
                     (v[14] - '0') * 10 + (v[15] - '0') - 1900;
        tm.tm_hour = (v[17] - '0') * 10 + (v[18] - '0');
        tm.tm_min = (v[20] - '0') * 10 + (v[21] - '0');
        tm.tm_sec = (v[23] - '0') * 10 + (v[24] - '0');
        FUZZ_CHECK(tm.tm_mday >= 1 && tm.tm_mday <= 31 && tm.tm_hour <= 23 &&
                       tm.tm_min <= 59 && tm.tm_sec <= 60 &&
                       memcmp(v + 25, " GMT", 4) == 0,
                   "accepted date \"%.*s\"", (int)len, v);
        t = (int64_t)timegm(&tm);
        want = t > nows[k] ? t - nows[k] : 0;
        FUZZ_CHECK(d == want, "delay %lld, timegm says %lld for \"%.29s\"",
                   (long long)d, (long long)want, v);
    }
}

/* Location and Retry-After as h1.h keeps them; their hash for the log. */
static uint64_t
check_kept(const struct h1_parser *p)
{
    uint64_t h = 14695981039346656037u;

    if (p->flags & H1_F_LOCATION) {
        check_value("location", p->location, p->location_len,
                    sizeof p->location);
        h = hash(h, p->location, p->location_len);
    }
    h = hash(h, "|", 1);
    if (p->flags & H1_F_RETRY_AFTER) {
        check_value("retry_after", p->retry_after, p->retry_after_len,
                    sizeof p->retry_after);
        h = hash(h, p->retry_after, p->retry_after_len);
        check_retry_after(p->retry_after, p->retry_after_len);
    }
    return h;
}
#else
static uint64_t
check_kept(const struct h1_parser *p)
{
    (void)p;
    return 0;
}
#endif

static void
on_headers(struct run *r, const struct h1_parser *p, uint64_t end)
{
    struct ev *e;
    unsigned f = p->flags;

    FUZZ_CHECK(!r->have_headers, "second H1_HEADERS in message %u", r->msg);
    fuzz_h1_check_headers(p, (req_flags(r) & H1_REQ_HEAD) != 0);

    r->have_headers = 1;
    r->flags = f;
    r->content_length = p->content_length;
    r->hdr_end = end;
    r->body_end = end;
    e = add_ev(r, H1_HEADERS);
    e->status = p->status;
    e->minor = p->http_minor;
    e->flags = f;
    e->n_interim = p->n_interim;
    if (f & H1_F_HAS_LENGTH)
        e->content_length = p->content_length;
    e->kept = check_kept(p);
}

/* A body span data[off .. off + len) of a call that consumed used bytes
   of the piece starting at stream offset base. */
static void
on_body(struct run *r, const struct h1_parser *p, const char *data,
        size_t used, uint64_t base)
{
    uint64_t at = base + p->body_off;

    FUZZ_CHECK(r->have_headers, "H1_BODY before H1_HEADERS");
    FUZZ_CHECK(p->flags == r->flags, "flags changed after H1_HEADERS");
    FUZZ_CHECK(!(r->flags & H1_F_NO_BODY), "H1_BODY in a NO_BODY message");
    FUZZ_CHECK(p->body_off <= used && p->body_len <= used - p->body_off,
               "body span %zu+%zu outside the %zu bytes consumed",
               p->body_off, p->body_len, used);
    if (r->flags & H1_F_CHUNKED)
        FUZZ_CHECK(at >= r->body_end, "chunk data goes backwards");
    else
        FUZZ_CHECK(at == r->body_end,
                   "body span at %llu, want %llu (right after the last)",
                   (unsigned long long)at, (unsigned long long)r->body_end);
    /* The span is the stream's own bytes, not a copy gone wrong. */
    FUZZ_CHECK(at + p->body_len <= r->stream_len &&
                   memcmp(data + p->body_off, r->stream + at, p->body_len) ==
                       0,
               "body bytes differ from the input at %llu",
               (unsigned long long)at);
    memcpy(r->body + r->body_len, data + p->body_off, p->body_len);
    r->body_len += p->body_len;
    r->msg_body += p->body_len;
    r->body_end = at + p->body_len;
    if ((r->flags & H1_F_HAS_LENGTH) && !(r->flags & H1_F_CHUNKED))
        FUZZ_CHECK(r->msg_body <= r->content_length,
                   "more body than Content-Length");
}

static void
on_done(struct run *r, const struct h1_parser *p)
{
    struct ev *e;

    fuzz_h1_check_done(p, r->have_headers, r->flags, r->content_length,
                       r->msg_body);
    e = add_ev(r, H1_DONE);
    e->flags = p->flags;
    e->a = r->msg_body;
}

static void
on_error(struct run *r, struct h1_parser *p, enum h1_rc rc,
         const char *rest, size_t rest_len)
{
    struct ev *e;
    enum h1_rc again;
    size_t used = 77;
    char *one;

    check_strerror(rc);
    e = add_ev(r, rc);
    e->a = p->error_offset;
    e->b = p->consumed;
    r->failed = 1;

    /* Sticky: the rest of this piece, then an unrelated byte. */
    again = h1_feed(p, rest, rest_len, &used);
    FUZZ_CHECK(again == rc && used == 0,
               "fed after error %d: got %d, used %zu", (int)rc, (int)again,
               used);
    one = fuzz_dup("H", 1);
    used = 77;
    again = h1_feed(p, one, 1, &used);
    free(one);
    FUZZ_CHECK(again == rc && used == 0, "sticky error lost");
    FUZZ_CHECK(h1_finish(p) == rc, "h1_finish forgot error %d", (int)rc);
}

/* Feeds one piece (data, n) that starts at stream offset base. */
static void
feed_piece(struct run *r, struct h1_parser *p, const char *data, size_t n,
           uint64_t base)
{
    size_t at = 0, used;
    enum h1_rc rc;
    int idle = 0;

    while (!r->failed) {
        used = (size_t)-1;
        rc = h1_feed(p, data + at, n - at, &used);
        FUZZ_CHECK(used <= n - at, "used %zu > len %zu", used, n - at);
        FUZZ_CHECK(p->consumed == base + at + used - r->msg_start,
                   "consumed %llu, want %llu",
                   (unsigned long long)p->consumed,
                   (unsigned long long)(base + at + used - r->msg_start));
        FUZZ_CHECK(!h1_started(p) == !p->consumed,
                   "h1_started disagrees with consumed");
        switch (rc) {
        case H1_AGAIN:
            FUZZ_CHECK(used == n - at, "H1_AGAIN with %zu bytes left",
                       n - at - used);
            return;
        case H1_HEADERS:
            on_headers(r, p, base + at + used);
            break;
        case H1_BODY:
            on_body(r, p, data + at, used, base + at);
            break;
        case H1_DONE:
            on_done(r, p);
            break;
        default:
            FUZZ_CHECK(is_error(rc), "h1_feed returned %d", (int)rc);
            at += used;
            on_error(r, p, rc, data + at, n - at);
            return;
        }
        at += used;
        if (rc == H1_DONE) {
            next_message(r, p, base + at);
            idle = 0;
        } else if (used == 0) {
            FUZZ_CHECK(++idle < 2, "h1_feed makes no progress (rc %d)",
                       (int)rc);
        } else {
            idle = 0;
        }
    }
}

static void
finish(struct run *r, struct h1_parser *p)
{
    enum h1_rc rc;
    struct ev *e;

    if (r->failed)
        return; /* on_error checked h1_finish */
    rc = h1_finish(p);
    check_strerror(rc);
    if (r->have_headers && (r->flags & H1_F_BODY_TO_EOF)) {
        FUZZ_CHECK(rc == H1_DONE, "body to EOF, h1_finish gave %d",
                   (int)rc);
        FUZZ_CHECK(r->msg_body == r->stream_len - r->hdr_end,
                   "body to EOF is not the rest of the stream");
    } else {
        FUZZ_CHECK(rc == H1_E_TRUNCATED, "h1_finish gave %d mid-message",
                   (int)rc);
    }
    e = add_ev(r, EV_FINISH);
    e->flags = (unsigned)rc;
    e->a = (uint64_t)h1_started(p);
    e->b = p->consumed;
}

static void
run_stream(struct run *r, const char *stream, size_t len, enum how how,
           const uint8_t *ctl)
{
    struct h1_parser p;
    struct fuzz_split sp;
    size_t off = 0, n;
    char *block = fuzz_alloc(len), *piece;

    memset(r, 0, sizeof *r);
    r->head_mask = ctl[0];
    r->body = fuzz_alloc(len);
    r->stream = stream;
    r->stream_len = len;
    r->msg = (unsigned)-1;
    /* h1_begin must be a valid start whatever the struct held. */
    memset(&p, 0xa5, sizeof p);
    next_message(r, &p, 0);
    fuzz_split_init(&sp, ctl[1], ctl[2], len);
    while (off < len && !r->failed) {
        if (how == ONE_SHOT)
            n = len;
        else if (how == BYTEWISE)
            n = 1;
        else
            n = fuzz_split_next(&sp, off, len);
        piece = fuzz_place(block, len, stream + off, n);
        feed_piece(r, &p, piece, n, off);
        off += n;
    }
    free(block);
    finish(r, &p);
}

static void
free_run(struct run *r)
{
    free(r->ev);
    free(r->body);
}

static const char *
how_name(enum how how)
{
    return how == SPLIT ? "split" : how == BYTEWISE ? "bytewise" : "one-shot";
}

static void
compare(const struct run *a, const struct run *b, enum how how)
{
    size_t i;

    for (i = 0; i < a->n_ev && i < b->n_ev; i++) {
        FUZZ_CHECK(memcmp(&a->ev[i], &b->ev[i], sizeof a->ev[i]) == 0,
                   "%s run: event %zu differs: kind %d/%d status %d/%d "
                   "flags 0x%x/0x%x a %llu/%llu b %llu/%llu",
                   how_name(how), i, a->ev[i].kind, b->ev[i].kind,
                   a->ev[i].status, b->ev[i].status, a->ev[i].flags,
                   b->ev[i].flags, (unsigned long long)a->ev[i].a,
                   (unsigned long long)b->ev[i].a,
                   (unsigned long long)a->ev[i].b,
                   (unsigned long long)b->ev[i].b);
    }
    FUZZ_CHECK(a->n_ev == b->n_ev, "%s run: %zu events, one-shot %zu",
               how_name(how), b->n_ev, a->n_ev);
    FUZZ_CHECK(a->body_len == b->body_len &&
                   memcmp(a->body, b->body, a->body_len) == 0,
               "%s run: body bytes differ", how_name(how));
}

/* The stream the control bytes describe (see top); sets *len. */
static char *
make_stream(const uint8_t *ctl, const uint8_t *d, size_t dlen, size_t *len)
{
    size_t reps = ctl[3], off = ctl[4] | (size_t)ctl[5] << 8;
    size_t seg = ctl[6] | (size_t)ctl[7] << 8, n, i;
    char *s;

    if (reps == 0 || seg == 0 || off > dlen || seg > dlen - off ||
        dlen >= AMP_MAX) {
        *len = dlen;
        return fuzz_dup(d, dlen);
    }
    if (dlen + (reps - 1) * seg > AMP_MAX)
        reps = (AMP_MAX - dlen) / seg + 1;
    n = dlen + (reps - 1) * seg;
    s = fuzz_alloc(n);
    memcpy(s, d, off);
    for (i = 0; i < reps; i++)
        memcpy(s + off + i * seg, d + off, seg);
    memcpy(s + off + reps * seg, d + off + seg, dlen - off - seg);
    *len = n;
    return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t ctl[CTL_LEN] = {0};
    size_t nctl = size < CTL_LEN ? size : CTL_LEN, len;
    struct run whole, split, bytes;
    char *stream;

    memcpy(ctl, data, nctl);
    stream = make_stream(ctl, data + nctl, size - nctl, &len);
#ifdef H1_MAX_RETRY_AFTER
    check_retry_after(stream, len);
#endif

    run_stream(&whole, stream, len, ONE_SHOT, ctl);
    run_stream(&split, stream, len, SPLIT, ctl);
    compare(&whole, &split, SPLIT);
    free_run(&split);
    run_stream(&bytes, stream, len, BYTEWISE, ctl);
    compare(&whole, &bytes, BYTEWISE);
    free_run(&bytes);
    free_run(&whole);
    free(stream);
    return 0;
}
