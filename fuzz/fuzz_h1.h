/*
 * fuzz_h1.h - the H1_HEADERS and H1_DONE checks both h1 harnesses make
 * (fuzz_h1.c, fuzz_h1_lean.c): what h1.h promises about a final
 * response's status, version and flags, and a message's body length,
 * whatever the input.
 */
#ifndef POKEFETCH_FUZZ_H1_H
#define POKEFETCH_FUZZ_H1_H

#include "fuzz.h"
#include "h1.h"

/* p has just returned H1_HEADERS for a request that was HEAD if head. */
static inline void
fuzz_h1_check_headers(const struct h1_parser *p, int head)
{
    unsigned f = p->flags;

    FUZZ_CHECK(p->status >= 200 && p->status <= 599,
               "H1_HEADERS with status %d", p->status);
    FUZZ_CHECK(p->http_minor == 0 || p->http_minor == 1, "http_minor %d",
               p->http_minor);
    FUZZ_CHECK(p->n_interim <= H1_MAX_INTERIM, "n_interim %u",
               p->n_interim);
    if (head || p->status == 204 || p->status == 304)
        FUZZ_CHECK(f & H1_F_NO_BODY, "HEAD/204/304 without NO_BODY");
    FUZZ_CHECK(!((f & H1_F_CHUNKED) && (f & H1_F_HAS_LENGTH)),
               "chunked with a Content-Length was accepted");
    if (f & H1_F_BODY_TO_EOF)
        FUZZ_CHECK((f & H1_F_CONN_CLOSE) &&
                       !(f & (H1_F_CHUNKED | H1_F_HAS_LENGTH |
                              H1_F_NO_BODY)),
                   "BODY_TO_EOF with flags 0x%x", f);
    if (f & H1_F_CHUNKED)
        FUZZ_CHECK(!(f & H1_F_NO_BODY), "CHUNKED with NO_BODY");
}

/*
 * p has just returned H1_DONE for a message whose H1_HEADERS had flags
 * (0 if it never came), content_length, and body bytes since.
 */
static inline void
fuzz_h1_check_done(const struct h1_parser *p, int have_headers,
                   unsigned flags, uint64_t content_length, uint64_t body)
{
    FUZZ_CHECK(have_headers, "H1_DONE without H1_HEADERS");
    FUZZ_CHECK(p->flags == flags, "flags changed after H1_HEADERS");
    FUZZ_CHECK(!(flags & H1_F_BODY_TO_EOF),
               "H1_DONE from h1_feed for a body that runs to EOF");
    if (flags & H1_F_NO_BODY)
        FUZZ_CHECK(body == 0, "NO_BODY message had a body");
    else if ((flags & H1_F_HAS_LENGTH) && !(flags & H1_F_CHUNKED))
        FUZZ_CHECK(body == content_length,
                   "body of %llu bytes, Content-Length %llu",
                   (unsigned long long)body,
                   (unsigned long long)content_length);
}

#endif
