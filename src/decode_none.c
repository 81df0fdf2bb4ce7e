/*
 * decode_none - the decoder of a build without zlib (make NO_ZLIB=1): it
 * passes identity bodies through and refuses every coding by name, so a
 * server that compresses anyway gets a clear error per id. Such a build
 * never asks for a compression (decode_accept_encoding is NULL).
 */
#include "decode.h"

#include <stdio.h>
#include <string.h>

const int decode_available = 0;
const char *const decode_accept_encoding = NULL;

/* No coding, so no arena is ever taken: the set holds none. */
int
decode_arenas_open(struct decode_arenas *a, unsigned cap)
{
    memset(a, 0, sizeof *a);
    a->cap = cap;
    return 0;
}

void
decode_arenas_close(struct decode_arenas *a)
{
    (void)a;
}

int
decode_init(struct decoder *d, struct decode_arenas *arenas)
{
    memset(d, 0, sizeof *d);
    d->arenas = arenas;
    return 0;
}

void
decode_close(struct decoder *d)
{
    (void)d;
}

enum decode_rc
decode_begin(struct decoder *d, const char *coding, size_t coding_len,
             uint64_t limit)
{
    size_t n =
        coding_len < sizeof d->name - 1 ? coding_len : sizeof d->name - 1;

    memcpy(d->name, coding, n);
    d->name[n] = '\0';
    d->produced = 0;
    d->limit = limit;
    d->err = 0;
    if (decode_parse_coding(coding, coding_len, &d->coding) < 0 ||
        d->coding != DECODE_IDENTITY)
        d->err = DECODE_E_UNSUPPORTED;
    return d->err ? DECODE_E_UNSUPPORTED : DECODE_AGAIN;
}

int
decode_identity(const struct decoder *d)
{
    return d->coding == DECODE_IDENTITY;
}

enum decode_rc
decode_feed(struct decoder *d, const char **in, size_t *in_len,
            const char **out, size_t *out_len)
{
    if (d->err)
        return (enum decode_rc)d->err;
    if (!*in_len)
        return DECODE_AGAIN;
    *out = *in;
    *out_len = *in_len;
    d->produced += *in_len;
    *in += *in_len;
    *in_len = 0;
    if (d->produced > d->limit) {
        d->err = DECODE_E_TOO_BIG;
        return DECODE_E_TOO_BIG;
    }
    return DECODE_OUTPUT;
}

enum decode_rc
decode_finish(struct decoder *d)
{
    return d->err ? (enum decode_rc)d->err : DECODE_END;
}

void
decode_version(char *out, size_t cap)
{
    snprintf(out, cap, "zlib: none (built with NO_ZLIB=1)\n");
}
