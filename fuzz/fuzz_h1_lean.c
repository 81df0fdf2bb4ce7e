/*
 * fuzz_h1_lean.c - the fast libFuzzer harness for the HTTP/1.1 response
 * parser (include/h1.h): each input is parsed twice, all at once and cut
 * once, and both runs must keep the contract and agree.
 *
 * Why a second h1 harness: fuzz_h1 amplifies inputs up to 96 KiB and
 * feeds every one three ways, one byte at a time included, so it runs at
 * a few thousand executions per second. This one does the least that
 * still checks split independence, so the fuzzer can spend its time on
 * the grammar (tens of thousands of executions per second). fuzz_h1 stays
 * for the limits and the every-boundary property.
 *
 * Input: the same 8 control bytes as fuzz_h1, so both harnesses read each
 * other's corpus as the same response stream, then the stream.
 *   c0      bit k: the request of message k (mod 8) was HEAD
 *   c1, c2  the cut: (c1 | c2 << 8) mod (stream length + 1)
 *   c3..c7  unused here (fuzz_h1's amplification)
 * Missing control bytes count as 0.
 *
 * Each run calls h1_begin again after every H1_DONE (with the next
 * message's HEAD flag) and ends with h1_finish. Its events (kind, status,
 * flags, Content-Length, n_interim and the kept values at H1_HEADERS; the
 * body length at H1_DONE; the error, error_offset and consumed; the
 * finish answer) and its body bytes are folded into one hash and a
 * count, which must be equal for the two runs.
 *
 * Within a run: used <= len; H1_AGAIN only with the piece used up; body
 * spans inside the bytes consumed by that call; consumed is the bytes fed
 * to this message; errors sticky (fed again: the same error, used 0;
 * h1_finish gives it too); HEADERS once per message, before any body,
 * with what fuzz_h1.h checks (a final status; HEAD/204/304 without a
 * body; chunked never with a length; body-to-EOF closes); body-to-EOF
 * ends only at h1_finish; a Content-Length
 * body is exactly that long; kept values fit their arrays and are
 * trimmed; no call fails to make progress twice in a row.
 *
 * Pieces: the whole stream is the libFuzzer input itself (its end is the
 * heap block's end); the two pieces of the cut are copied flush against
 * the end of one heap block, so reading data[len] trips ASan.
 */
#include "fuzz_h1.h"

#define CTL_LEN 8
#define FNV_INIT 14695981039346656037u

struct run {
    unsigned head_mask;
    unsigned msg;
    uint64_t hash;    /* every event and body byte, in order */
    uint64_t n_ev;
    uint64_t msg_used; /* bytes fed to the current message */
    uint64_t msg_body; /* its body bytes so far */
    int have_headers;
    unsigned flags;
    int failed;
};

static uint64_t
mix(uint64_t h, const void *s, size_t n)
{
    const unsigned char *b = s;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211u;
    return h;
}

static void
event(struct run *r, int kind, uint64_t a, uint64_t b)
{
    uint64_t v[3] = {(uint64_t)kind, a, b};

    r->hash = mix(r->hash, v, sizeof v);
    r->n_ev++;
}

static unsigned
req_flags(const struct run *r)
{
    return (r->head_mask >> (r->msg & 7)) & 1 ? H1_REQ_HEAD : 0;
}

static void
next_message(struct run *r, struct h1_parser *p)
{
    r->msg++;
    r->msg_used = 0;
    r->msg_body = 0;
    r->have_headers = 0;
    r->flags = 0;
    h1_begin(p, req_flags(r));
}

/* A kept value: within its array, no surrounding OWS; into the hash. */
static void
kept(struct run *r, const char *what, const char *v, size_t len, size_t cap)
{
    FUZZ_CHECK(len <= cap, "%s of %zu bytes", what, len);
    FUZZ_CHECK(len == 0 || (v[0] != ' ' && v[0] != '\t' &&
                            v[len - 1] != ' ' && v[len - 1] != '\t'),
               "%s keeps surrounding whitespace", what);
    r->hash = mix(r->hash, v, len);
    event(r, 'k', len, 0);
}

static void
on_headers(struct run *r, const struct h1_parser *p)
{
    unsigned f = p->flags;

    FUZZ_CHECK(!r->have_headers, "second H1_HEADERS in message %u", r->msg);
    fuzz_h1_check_headers(p, (req_flags(r) & H1_REQ_HEAD) != 0);
    r->have_headers = 1;
    r->flags = f;
    event(r, H1_HEADERS, (uint64_t)p->status << 32 | f,
          (f & H1_F_HAS_LENGTH) ? p->content_length : 0);
    event(r, 'i', (uint64_t)p->http_minor, p->n_interim);
    if (f & H1_F_LOCATION)
        kept(r, "location", p->location, p->location_len,
             sizeof p->location);
    if (f & H1_F_RETRY_AFTER)
        kept(r, "retry_after", p->retry_after, p->retry_after_len,
             sizeof p->retry_after);
    kept(r, "content_encoding", p->content_encoding,
         p->content_encoding_len, sizeof p->content_encoding);
}

static void
on_body(struct run *r, const struct h1_parser *p, const char *d,
        size_t used)
{
    FUZZ_CHECK(r->have_headers && !(r->flags & H1_F_NO_BODY),
               "H1_BODY before H1_HEADERS or in a NO_BODY message");
    FUZZ_CHECK(p->body_len > 0 && p->body_off <= used &&
                   p->body_len <= used - p->body_off,
               "body span %zu+%zu outside the %zu bytes consumed",
               p->body_off, p->body_len, used);
    r->hash = mix(r->hash, d + p->body_off, p->body_len);
    r->msg_body += p->body_len;
    if ((r->flags & H1_F_HAS_LENGTH) && !(r->flags & H1_F_CHUNKED))
        FUZZ_CHECK(r->msg_body <= p->content_length,
                   "more body than Content-Length");
}

static void
on_done(struct run *r, const struct h1_parser *p)
{
    fuzz_h1_check_done(p, r->have_headers, r->flags, p->content_length,
                       r->msg_body);
    event(r, H1_DONE, r->msg_body, r->msg_used);
}

static void
on_error(struct run *r, struct h1_parser *p, enum h1_rc rc, const char *d,
         size_t len)
{
    size_t used = 77;

    FUZZ_CHECK(rc >= H1_E_STATUS_LINE && rc <= H1_E_TRUNCATED,
               "h1_feed returned %d", (int)rc);
    event(r, rc, p->error_offset, p->consumed);
    r->failed = 1;
    FUZZ_CHECK(h1_feed(p, d, len, &used) == rc && used == 0,
               "error %d not sticky (used %zu)", (int)rc, used);
    FUZZ_CHECK(h1_finish(p) == rc, "h1_finish after error %d", (int)rc);
}

/* Feed one piece until it is used up, an error, or no progress. */
static void
feed(struct run *r, struct h1_parser *p, const char *d, size_t len)
{
    size_t used;
    enum h1_rc rc;
    int idle = 0;

    while (!r->failed) {
        rc = h1_feed(p, d, len, &used);
        FUZZ_CHECK(used <= len, "used %zu of %zu", used, len);
        r->msg_used += used;
        FUZZ_CHECK(p->consumed == r->msg_used,
                   "consumed %llu, fed %llu",
                   (unsigned long long)p->consumed,
                   (unsigned long long)r->msg_used);
        if (rc == H1_BODY)
            on_body(r, p, d, used);
        d += used;
        len -= used;
        /* DONE right after HEADERS may use nothing; twice is a hang. */
        idle = used ? 0 : idle + 1;
        FUZZ_CHECK(idle <= 2, "no progress, rc %d", (int)rc);
        switch (rc) {
        case H1_AGAIN:
            FUZZ_CHECK(len == 0, "H1_AGAIN with %zu bytes left", len);
            return;
        case H1_HEADERS:
            on_headers(r, p);
            break;
        case H1_BODY:
            break;
        case H1_DONE:
            on_done(r, p);
            next_message(r, p);
            break;
        default:
            on_error(r, p, rc, d, len);
            return;
        }
    }
}

static void
finish(struct run *r, struct h1_parser *p)
{
    enum h1_rc rc;

    if (r->failed)
        return;
    rc = h1_finish(p);
    if (rc == H1_DONE)
        FUZZ_CHECK(r->have_headers && (r->flags & H1_F_BODY_TO_EOF),
                   "h1_finish done without a body running to EOF");
    else
        FUZZ_CHECK(rc == H1_E_TRUNCATED, "h1_finish gave %d", (int)rc);
    FUZZ_CHECK(h1_started(p) == (p->consumed > 0), "h1_started");
    event(r, 'f', (uint64_t)rc, (uint64_t)h1_started(p));
}

static void
run_start(struct run *r, struct h1_parser *p, unsigned head_mask)
{
    memset(r, 0, sizeof *r);
    r->head_mask = head_mask;
    r->hash = FNV_INIT;
    r->msg = (unsigned)-1;
    next_message(r, p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t ctl[CTL_LEN] = {0};
    size_t nctl = size < CTL_LEN ? size : CTL_LEN, len = size - nctl, cut;
    const char *s = (const char *)data + nctl;
    struct run whole, split;
    struct h1_parser p;
    char *block;

    memcpy(ctl, data, nctl);
    cut = (size_t)(ctl[1] | ctl[2] << 8) % (len + 1);

    run_start(&whole, &p, ctl[0]);
    feed(&whole, &p, s, len);
    finish(&whole, &p);

    block = fuzz_alloc(len);
    run_start(&split, &p, ctl[0]);
    feed(&split, &p, fuzz_place(block, len, s, cut), cut);
    feed(&split, &p, fuzz_place(block, len, s + cut, len - cut), len - cut);
    finish(&split, &p);
    free(block);

    FUZZ_CHECK(whole.n_ev == split.n_ev && whole.hash == split.hash,
               "cut at %zu of %zu: %llu events, whole %llu (hashes %s)", cut,
               len, (unsigned long long)split.n_ev,
               (unsigned long long)whole.n_ev,
               whole.hash == split.hash ? "equal" : "differ");
    return 0;
}
