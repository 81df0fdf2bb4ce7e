/*
 * decode - undo a response's Content-Encoding (gzip, x-gzip, deflate) as
 * body bytes arrive, in pieces, in a fixed amount of memory.
 *
 * Memory: what inflating needs (zlib's ~7 KiB state and its 32 KiB
 * window) is an arena from a set the decoders of a transport share, and
 * output leaves in the set's one buffer of DECODE_OUT_CAP bytes: a
 * chunk decode_feed hands out is valid until the next decode_feed call
 * on any decoder of the set (a caller uses each chunk before it feeds
 * again, as one thread does). A decoder holds an arena only while it
 * decodes a compressed body: from decode_begin until decode_feed finds
 * the stream's end or an error (or decode_finish, the next decode_begin,
 * decode_close); a connection between bodies, or reading identity ones,
 * holds none. The set has an arena for each of its decoders, allocated
 * once and never written until used, and hands out the arena given back
 * last: its resident memory is what the most bodies inflating at once
 * need, it never runs dry, and nothing is allocated per response (an
 * arena's zlib state is made on its first use and only reset after).
 *
 * Pure computation: no I/O, no clock; the same output for any split of
 * the input. Two implementations, chosen at link time like the transport:
 * decode_zlib.c (zlib) and decode_none.c (make NO_ZLIB=1), which knows no
 * coding and says so.
 *
 * Use, for one response:
 *
 *     rc = decode_begin(&d, coding, coding_len, limit);   (from the
 *                                 Content-Encoding value; identity or
 *                                 empty is a pass-through)
 *     for each body span:
 *         while ((rc = decode_feed(&d, &in, &in_len, &out, &out_len))
 *                == DECODE_OUTPUT)
 *             use out[0 .. out_len)
 *         (DECODE_AGAIN: the span is used up; an error: stop)
 *     at the end of the body: decode_finish(&d) says whether the stream
 *     ended exactly there.
 */
#ifndef POKEFETCH_DECODE_H
#define POKEFETCH_DECODE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Output per inflate call. Large, so that inflate, the CRC and the
 * caller's parser each run over long spans: decoding and extracting the
 * 898 lab bodies (147 MB inflated) took 11% less CPU with 128 KiB than
 * with 8 KiB (9.5% with 64 KiB), measured in one process taking turns,
 * and zlib copies at most its 32 KiB window of each call's output.
 */
#define DECODE_OUT_CAP (128 * 1024)
#define DECODE_ARENA_CAP (48 * 1024) /* inflate state + 32 KiB window */
#define DECODE_NAME_MAX 64

enum decode_rc {
    DECODE_AGAIN = 0,     /* input used up; feed more (or finish) */
    DECODE_OUTPUT,        /* out/out_len hold the next decoded bytes */
    DECODE_END,           /* decode_finish: the stream ended cleanly */
    DECODE_E_UNSUPPORTED, /* a coding this build does not know */
    DECODE_E_CORRUPT,     /* not a valid stream of that coding */
    DECODE_E_TRAILING,    /* bytes after the end of the stream */
    DECODE_E_TRUNCATED,   /* decode_finish: the stream stopped early */
    DECODE_E_TOO_BIG,     /* decoded more than the limit */
    DECODE_E_NOMEM,       /* zlib refused the arena's memory */
};

enum decode_coding {
    DECODE_IDENTITY = 0,
    DECODE_GZIP,
    DECODE_DEFLATE,
};

/* What one compressed body is inflated in. */
struct decode_arena {
    struct decode_arena *next; /* the set's list of arenas given back */
    void *impl;                /* the implementation's state, in mem;
                                  NULL until the arena's first use */
    size_t used;               /* of mem */
    unsigned char mem[DECODE_ARENA_CAP];
};

/* The arenas a transport's decoders share. */
struct decode_arenas {
    struct decode_arena *all;   /* cap of them (NULL without zlib) */
    unsigned char *out;         /* DECODE_OUT_CAP bytes (NULL without
                                   zlib): the last chunk handed out */
    struct decode_arena *given; /* given back, the last one first */
    unsigned cap;
    unsigned n_fresh;    /* all[n_fresh ..] never handed out */
    unsigned n_decoders; /* decode_init'ed on this set */
};

struct decoder {
    enum decode_coding coding;
    uint64_t produced;     /* decoded bytes of this response */
    uint64_t limit;        /* DECODE_E_TOO_BIG beyond this */
    int err;               /* sticky error, 0 if none */
    int deferred;          /* an error found after output still to hand on */
    int ended;             /* the stream's end was seen */
    int pending;           /* inflate filled out[]: more may be waiting */
    unsigned char head[2]; /* deflate: the first two bytes, to tell a
                              zlib stream from a raw one */
    unsigned head_n;
    /* gzip's framing (RFC 1952) is read here, the deflate data inside it
       by the implementation (decode_zlib.c says why); all zero at the
       start of a member. */
    struct {
        int part;               /* which part of the member comes next */
        unsigned flags;         /* the header's FLG byte */
        uint32_t skip;          /* FEXTRA bytes still to skip */
        uint32_t hcrc;          /* CRC-32 of the header bytes so far */
        uint32_t crc;           /* CRC-32 of the output so far */
        unsigned got;           /* bytes of field gathered */
        unsigned char field[4]; /* a field read whole before it is judged */
    } gz;
    char name[DECODE_NAME_MAX]; /* the coding as the server named it */
    struct decode_arenas *arenas;
    struct decode_arena *arena; /* while a compressed body is decoded */
};

/* Whether this build can decode anything (for --compressed). */
extern const int decode_available;

/* The Accept-Encoding value this build asks for, or NULL. */
extern const char *const decode_accept_encoding;

/* Once, at start-up: arenas for cap decoders. Returns 0, or -ENOMEM. */
int decode_arenas_open(struct decode_arenas *a, unsigned cap);

/* At the end, after decode_close of every decoder on it. */
void decode_arenas_close(struct decode_arenas *a);

/* Once per connection: a decoder drawing on arenas. Returns 0, or
   -ENOMEM if the set already has as many decoders as arenas. */
int decode_init(struct decoder *d, struct decode_arenas *arenas);

/* Give back the decoder's arena, if any, and its place in the set. */
void decode_close(struct decoder *d);

/*
 * Prepare for a response whose Content-Encoding value is coding (may be
 * empty: identity); a compressed one takes an arena. Returns DECODE_AGAIN,
 * DECODE_E_UNSUPPORTED when a coding is unknown or several are stacked
 * (d->name then holds the value for the message), or DECODE_E_NOMEM.
 */
enum decode_rc decode_begin(struct decoder *d, const char *coding,
                            size_t coding_len, uint64_t limit);

/* True when decode_begin chose pass-through (identity). */
int decode_identity(const struct decoder *d);

/*
 * Decode from *in (advanced past what was used). Returns DECODE_OUTPUT
 * with a chunk, DECODE_AGAIN when the input is used up, or an error
 * (sticky until decode_begin).
 */
enum decode_rc decode_feed(struct decoder *d, const char **in, size_t *in_len,
                           const char **out, size_t *out_len);

/* The body ended: DECODE_END if the stream was complete, else an error.
   The arena, if still held, goes back to the set. */
enum decode_rc decode_finish(struct decoder *d);

/*
 * Read a Content-Encoding value: 0 with *out set (identity when empty or
 * only "identity"), or -1 for an unknown or stacked coding. Shared by
 * both builds (decode_common.c).
 */
int decode_parse_coding(const char *v, size_t len, enum decode_coding *out);

/* A short English description of an rc. */
const char *decode_strerror(enum decode_rc rc);

/*
 * The message for a body past --max-body: "body over --max-body 64M
 * (67108864 bytes)", after "Content-Encoding gzip: " when coding is not
 * NULL (a decoded body). Shared by both transports (decode_common.c).
 */
void decode_over_limit(char *out, size_t cap, const char *coding,
                       uint64_t limit);

/* For --version: a line naming the zlib this build was made with and
   runs with, or saying there is none. */
void decode_version(char *out, size_t cap);

#endif
