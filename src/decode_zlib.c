/*
 * decode_zlib - Content-Encoding gzip / x-gzip / deflate with zlib's
 * streaming inflate; see include/decode.h for the contract.
 *
 * Memory: zlib asks for its state and its window through zalloc; here
 * those come from one of the shared arenas (decode.h), once per arena
 * (the state on its first use, the window on its first compressed
 * output). inflateReset2() between bodies keeps both, because the window
 * size never changes (15 bits for every coding), so after that no byte
 * is allocated whatever the servers send. An arena's stream stays with
 * the arena, not the decoder: the next body it serves starts with a
 * reset.
 *
 * "deflate" is meant to be a zlib stream (RFC 9110 sec. 8.4.1.2), but some
 * servers send raw deflate. The first two bytes decide: a valid zlib
 * header (CM 8, check bits) means zlib, anything else raw. They are held
 * in the decoder until both have arrived, so the choice does not depend
 * on how the body was split.
 *
 * gzip: the member's framing (RFC 1952: header, then CRC-32 and length
 * of the output after the deflate data) is read here, and zlib inflates
 * only the raw deflate data between. Why not let zlib check the CRC too:
 * Debian 12's zlib computes it at 2-4 GB/s, a fifth of the client's CPU
 * for a job of gzip responses; src/crc.c does it several times faster
 * where the CPU can (and is zlib's crc32() where it cannot).
 * Every check zlib would make is made, in the same order, each waiting
 * for all the bytes it judges as zlib's does, so the verdict for any body
 * is zlib's own (fuzz/fuzz_decode.c compares the two on every input).
 *
 * A decompression bomb (a small body that inflates to gigabytes) stops at
 * the limit with DECODE_E_TOO_BIG: output is handed on in DECODE_OUT_CAP
 * chunks and never kept, so it costs time up to the limit and no memory.
 */
#include "decode.h"
#include "crc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

const int decode_available = 1;
const char *const decode_accept_encoding = "gzip, deflate";

#define WINDOW_BITS 15

/* The parts of a gzip member, in order (RFC 1952 sec. 2.3). */
enum gz_part {
    GZ_MAGIC,   /* ID1 ID2: 1f 8b (0: where memset leaves a member) */
    GZ_METHOD,  /* CM FLG: 8 (deflate), no reserved flag */
    GZ_MTIME,   /* MTIME XFL OS: 6 bytes nobody needs */
    GZ_XLEN,    /* FEXTRA: the extra field's length */
    GZ_EXTRA,   /* FEXTRA: its bytes */
    GZ_NAME,    /* FNAME: up to a zero byte */
    GZ_COMMENT, /* FCOMMENT: up to a zero byte */
    GZ_HCRC,    /* FHCRC: the low 16 bits of the header's CRC-32 */
    GZ_DATA,    /* the deflate data: zlib's part */
    GZ_CRC32,   /* CRC-32 of the output, little-endian */
    GZ_ISIZE,   /* the output's length mod 2^32, little-endian */
    GZ_DONE,
};

#define GZ_FHCRC 0x02u
#define GZ_FEXTRA 0x04u
#define GZ_FNAME 0x08u
#define GZ_FCOMMENT 0x10u
#define GZ_FRESERVED 0xe0u

static voidpf
arena_alloc(voidpf opaque, uInt items, uInt size)
{
    struct decode_arena *a = opaque;
    size_t n = (size_t)items * size;

    n = (n + 15) & ~(size_t)15;
    if (n > sizeof a->mem - a->used)
        return Z_NULL;
    a->used += n;
    return a->mem + a->used - n;
}

static void
arena_free(voidpf opaque, voidpf ptr)
{
    /* Everything goes at once in decode_arenas_close. */
    (void)opaque;
    (void)ptr;
}

int
decode_arenas_open(struct decode_arenas *a, unsigned cap)
{
    memset(a, 0, sizeof *a);
    a->cap = cap;
    /* A large calloc is fresh zero pages from mmap: an arena costs no
       resident memory until it is used. */
    a->all = calloc(cap ? cap : 1, sizeof *a->all);
    a->out = malloc(DECODE_OUT_CAP);
    if (a->all && a->out)
        return 0;
    decode_arenas_close(a);
    return -ENOMEM;
}

void
decode_arenas_close(struct decode_arenas *a)
{
    /* zlib's memory is the arenas' own: there is nothing to inflateEnd. */
    free(a->all);
    free(a->out);
    memset(a, 0, sizeof *a);
}

int
decode_init(struct decoder *d, struct decode_arenas *arenas)
{
    memset(d, 0, sizeof *d);
    if (arenas->n_decoders == arenas->cap)
        return -ENOMEM;
    arenas->n_decoders++;
    d->arenas = arenas;
    return 0;
}

static void
give_back(struct decoder *d)
{
    if (!d->arena)
        return;
    d->arena->next = d->arenas->given;
    d->arenas->given = d->arena;
    d->arena = NULL;
}

/* An error is sticky and needs zlib no more: the arena goes back. */
static enum decode_rc
fail(struct decoder *d, enum decode_rc rc)
{
    d->err = (int)rc;
    give_back(d);
    return rc;
}

void
decode_close(struct decoder *d)
{
    give_back(d);
    if (d->arenas)
        d->arenas->n_decoders--;
    d->arenas = NULL;
}

/* The arena given back last (its pages are resident already), else one
   never used: there is one, since each decoder holds at most one. Its
   stream is made on first use. Returns 0 or -1. */
static int
take_arena(struct decoder *d)
{
    struct decode_arenas *set = d->arenas;
    struct decode_arena *a = set->given;
    z_stream *zs;

    if (a)
        set->given = a->next;
    else
        a = &set->all[set->n_fresh++];
    d->arena = a;
    if (a->impl)
        return 0;
    zs = arena_alloc(a, 1, sizeof *zs);
    if (!zs)
        return -1;
    memset(zs, 0, sizeof *zs);
    zs->zalloc = arena_alloc;
    zs->zfree = arena_free;
    zs->opaque = a;
    if (inflateInit2(zs, -WINDOW_BITS) != Z_OK)
        return -1;
    a->impl = zs;
    return 0;
}

enum decode_rc
decode_begin(struct decoder *d, const char *coding, size_t coding_len,
             uint64_t limit)
{
    size_t n =
        coding_len < sizeof d->name - 1 ? coding_len : sizeof d->name - 1;

    give_back(d); /* a body abandoned halfway */
    memcpy(d->name, coding, n);
    d->name[n] = '\0';
    d->produced = 0;
    d->limit = limit;
    d->err = 0;
    d->deferred = 0;
    d->ended = 0;
    d->pending = 0;
    d->head_n = 0;
    if (decode_parse_coding(coding, coding_len, &d->coding) < 0)
        return fail(d, DECODE_E_UNSUPPORTED);
    memset(&d->gz, 0, sizeof d->gz); /* part GZ_MAGIC, CRCs of nothing */
    if (d->coding == DECODE_IDENTITY)
        return DECODE_AGAIN;
    /* deflate resets once its first two bytes choose the wrapper */
    if (take_arena(d) < 0 ||
        (d->coding == DECODE_GZIP &&
         inflateReset2(d->arena->impl, -WINDOW_BITS) != Z_OK))
        return fail(d, DECODE_E_NOMEM);
    return DECODE_AGAIN;
}

int
decode_identity(const struct decoder *d)
{
    return d->coding == DECODE_IDENTITY;
}

/* ---- gzip's framing -------------------------------------------------- */

/* Consume n bytes of the member outside the deflate data; header bytes
   (everything before FHCRC's own two) count in the header's CRC. */
static void
gz_consume(struct decoder *d, const unsigned char **in, size_t *in_len,
           size_t n)
{
    if (!n)
        return; /* *in may be NULL, which crc_update does not take */
    if (d->gz.part < GZ_HCRC)
        d->gz.hcrc = crc_update(d->gz.hcrc, *in, n);
    *in += n;
    *in_len -= n;
}

/* Gather a want-byte field into gz.field; 1 once it is whole. */
static int
gz_gather(struct decoder *d, const unsigned char **in, size_t *in_len,
          unsigned want)
{
    size_t n = want - d->gz.got;

    if (n > *in_len)
        n = *in_len;
    if (n)
        memcpy(d->gz.field + d->gz.got, *in, n);
    d->gz.got += (unsigned)n;
    gz_consume(d, in, in_len, n);
    if (d->gz.got < want)
        return 0;
    d->gz.got = 0;
    return 1;
}

/* Skip gz.skip bytes; 1 once none are left. */
static int
gz_skip_bytes(struct decoder *d, const unsigned char **in, size_t *in_len)
{
    size_t n = d->gz.skip < *in_len ? d->gz.skip : *in_len;

    d->gz.skip -= (uint32_t)n;
    gz_consume(d, in, in_len, n);
    return d->gz.skip == 0;
}

/* Skip a zero-terminated field, the zero included; 1 once it is past. */
static int
gz_skip_string(struct decoder *d, const unsigned char **in, size_t *in_len)
{
    const unsigned char *zero;
    size_t n;

    if (!*in_len)
        return 0;
    zero = memchr(*in, 0, *in_len);
    n = zero ? (size_t)(zero - *in) + 1 : *in_len;

    gz_consume(d, in, in_len, n);
    return zero != NULL;
}

static uint32_t
gz_le(const unsigned char *p, unsigned n)
{
    uint32_t v = 0;

    while (n--)
        v = v << 8 | p[n];
    return v;
}

/* Read the member's header from *in: DECODE_OUTPUT once the deflate data
   begins, DECODE_AGAIN when the input ran out first, or DECODE_E_CORRUPT
   for what zlib calls an incorrect header check, an unknown method, an
   unknown flag or a header CRC mismatch. */
static enum decode_rc
gz_read_header(struct decoder *d, const unsigned char **in, size_t *in_len)
{
    for (;;) {
        switch (d->gz.part) {
        case GZ_MAGIC:
            if (!gz_gather(d, in, in_len, 2))
                return DECODE_AGAIN;
            if (d->gz.field[0] != 0x1f || d->gz.field[1] != 0x8b)
                return DECODE_E_CORRUPT;
            d->gz.part = GZ_METHOD;
            break;
        case GZ_METHOD:
            if (!gz_gather(d, in, in_len, 2))
                return DECODE_AGAIN;
            if (d->gz.field[0] != Z_DEFLATED ||
                (d->gz.field[1] & GZ_FRESERVED))
                return DECODE_E_CORRUPT;
            d->gz.flags = d->gz.field[1];
            d->gz.skip = 6;
            d->gz.part = GZ_MTIME;
            break;
        case GZ_MTIME:
            if (!gz_skip_bytes(d, in, in_len))
                return DECODE_AGAIN;
            d->gz.part = GZ_XLEN;
            break;
        case GZ_XLEN:
            if (d->gz.flags & GZ_FEXTRA) {
                if (!gz_gather(d, in, in_len, 2))
                    return DECODE_AGAIN;
                d->gz.skip = gz_le(d->gz.field, 2);
            }
            d->gz.part = GZ_EXTRA;
            break;
        case GZ_EXTRA:
            if (!gz_skip_bytes(d, in, in_len))
                return DECODE_AGAIN;
            d->gz.part = GZ_NAME;
            break;
        case GZ_NAME:
        case GZ_COMMENT:
            if ((d->gz.flags &
                 (d->gz.part == GZ_NAME ? GZ_FNAME : GZ_FCOMMENT)) &&
                !gz_skip_string(d, in, in_len))
                return DECODE_AGAIN;
            d->gz.part++;
            break;
        case GZ_HCRC:
            if (d->gz.flags & GZ_FHCRC) {
                if (!gz_gather(d, in, in_len, 2))
                    return DECODE_AGAIN;
                if (gz_le(d->gz.field, 2) != (d->gz.hcrc & 0xffffu))
                    return DECODE_E_CORRUPT;
            }
            d->gz.part = GZ_DATA;
            return DECODE_OUTPUT;
        default:
            return DECODE_OUTPUT;
        }
    }
}

/* Read and check the trailer: DECODE_END once both fields matched,
   DECODE_AGAIN for more input, or DECODE_E_CORRUPT at the first field
   that does not match (zlib's "incorrect data check" or "incorrect
   length check"). */
static enum decode_rc
gz_read_trailer(struct decoder *d, const unsigned char **in, size_t *in_len)
{
    if (d->gz.part == GZ_CRC32) {
        if (!gz_gather(d, in, in_len, 4))
            return DECODE_AGAIN;
        if (gz_le(d->gz.field, 4) != d->gz.crc)
            return DECODE_E_CORRUPT;
        d->gz.part = GZ_ISIZE;
    }
    if (!gz_gather(d, in, in_len, 4))
        return DECODE_AGAIN;
    if (gz_le(d->gz.field, 4) != (uint32_t)d->produced)
        return DECODE_E_CORRUPT;
    d->gz.part = GZ_DONE;
    return DECODE_END;
}

/* ---- deflate ----------------------------------------------------------- */

/* Deflate: hold the first two bytes, then choose zlib or raw. Returns
   DECODE_AGAIN while still waiting, DECODE_OUTPUT when decided (the held
   bytes have been given to inflate's input through *in), or an error. */
static enum decode_rc
choose_deflate_wrapper(struct decoder *d, const char **in, size_t *in_len)
{
    z_stream *zs = d->arena->impl;
    unsigned cmf, flg;
    int zlib_wrapped;

    while (d->head_n < 2 && *in_len > 0) {
        d->head[d->head_n++] = (unsigned char)**in;
        (*in)++;
        (*in_len)--;
    }
    if (d->head_n < 2)
        return DECODE_AGAIN;
    cmf = d->head[0];
    flg = d->head[1];
    zlib_wrapped =
        (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && (cmf * 256 + flg) % 31 == 0;
    if (inflateReset2(zs, zlib_wrapped ? WINDOW_BITS : -WINDOW_BITS) != Z_OK)
        return fail(d, DECODE_E_NOMEM);
    d->head_n = 3; /* decided; decode_feed gives the two bytes first */
    return DECODE_OUTPUT;
}

/* Run inflate over src[0 .. *src_len) into out[], advancing src. Returns
   the bytes produced, or -1 with d->err set. */
static long
inflate_some(struct decoder *d, const unsigned char **src, size_t *src_len)
{
    z_stream *zs = d->arena->impl;
    unsigned char *out = d->arenas->out;
    /* zlib counts in uInt: at most 1 GiB at a time. */
    size_t chunk = *src_len > (1u << 30) ? (1u << 30) : *src_len;
    size_t used;
    int r;

    zs->next_in = (Bytef *)(uintptr_t)*src;
    zs->avail_in = (uInt)chunk;
    zs->next_out = out;
    zs->avail_out = DECODE_OUT_CAP;
    r = inflate(zs, Z_NO_FLUSH);
    used = chunk - zs->avail_in;
    *src += used;
    *src_len -= used;
    d->pending = zs->avail_out == 0;
    if (d->coding == DECODE_GZIP && zs->avail_out < DECODE_OUT_CAP)
        d->gz.crc = crc_update(d->gz.crc, out, DECODE_OUT_CAP - zs->avail_out);
    switch (r) {
    case Z_STREAM_END:
        /* gzip: the trailer follows, and is ours to read. */
        if (d->coding == DECODE_GZIP)
            d->gz.part = GZ_CRC32;
        else
            d->ended = 1;
        d->pending = 0;
        break;
    case Z_OK:
        break;
    case Z_BUF_ERROR:
        d->pending = 0; /* no progress possible: needs more input */
        break;
    case Z_MEM_ERROR:
        fail(d, DECODE_E_NOMEM);
        return -1;
    default: /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
        if (zs->avail_out < DECODE_OUT_CAP) {
            /* Hand on what came before the bad byte first. */
            d->deferred = DECODE_E_CORRUPT;
            d->pending = 0;
            break;
        }
        fail(d, DECODE_E_CORRUPT);
        return -1;
    }
    return (long)(DECODE_OUT_CAP - zs->avail_out);
}

enum decode_rc
decode_feed(struct decoder *d, const char **in, size_t *in_len,
            const char **out, size_t *out_len)
{
    if (d->err)
        return (enum decode_rc)d->err;
    if (d->deferred)
        return fail(d, (enum decode_rc)d->deferred);
    if (d->coding == DECODE_IDENTITY) {
        if (!*in_len)
            return DECODE_AGAIN;
        *out = *in;
        *out_len = *in_len;
        d->produced += *in_len;
        *in += *in_len;
        *in_len = 0;
        if (d->produced > d->limit)
            return fail(d, DECODE_E_TOO_BIG);
        return DECODE_OUTPUT;
    }
    if (d->coding == DECODE_GZIP && d->gz.part < GZ_DATA) {
        const unsigned char *src = (const unsigned char *)*in;
        enum decode_rc rc = gz_read_header(d, &src, in_len);

        *in = (const char *)src;
        if (rc != DECODE_OUTPUT)
            return rc == DECODE_AGAIN ? rc : fail(d, rc);
    }
    if (d->coding == DECODE_DEFLATE && d->head_n < 3) {
        enum decode_rc rc = choose_deflate_wrapper(d, in, in_len);

        if (rc != DECODE_OUTPUT)
            return rc;
    }
    for (;;) {
        long got;

        if (d->head_n == 3) {
            /* The two held deflate bytes go in before anything else;
               inflate keeps what it cannot use yet in its own state. */
            const unsigned char *h = d->head;
            size_t hl = 2;

            d->head_n = 4;
            got = inflate_some(d, &h, &hl);
        } else {
            const unsigned char *src = (const unsigned char *)*in;

            if (d->gz.part > GZ_DATA && !d->ended) {
                enum decode_rc rc = gz_read_trailer(d, &src, in_len);

                *in = (const char *)src;
                if (rc != DECODE_END)
                    return rc == DECODE_AGAIN ? rc : fail(d, rc);
                d->ended = 1;
            }
            if (d->ended) {
                /* The last chunk has been used (this is the call after
                   it): the arena can serve another body now. */
                give_back(d);
                if (*in_len)
                    return fail(d, DECODE_E_TRAILING);
                return DECODE_AGAIN;
            }
            if (!*in_len && !d->pending)
                return DECODE_AGAIN;
            got = inflate_some(d, &src, in_len);
            *in = (const char *)src;
        }
        if (got < 0)
            return (enum decode_rc)d->err;
        if (got > 0) {
            d->produced += (uint64_t)got;
            if (d->produced > d->limit)
                return fail(d, DECODE_E_TOO_BIG);
            *out = (const char *)d->arenas->out;
            *out_len = (size_t)got;
            return DECODE_OUTPUT;
        }
    }
}

enum decode_rc
decode_finish(struct decoder *d)
{
    give_back(d);
    if (d->err)
        return (enum decode_rc)d->err;
    if (d->deferred)
        return fail(d, (enum decode_rc)d->deferred);
    if (d->coding == DECODE_IDENTITY || d->ended)
        return DECODE_END;
    return fail(d, DECODE_E_TRUNCATED);
}

void
decode_version(char *out, size_t cap)
{
    snprintf(out, cap, "zlib: built with %s, running %s\n", ZLIB_VERSION,
             zlibVersion());
}
