/*
 * tlssess - a --tls-sessions line into its fields and back; see
 * include/tlssess.h. Every field is checked strictly: a line that is not
 * exactly what tlssess_format writes is not an entry, so a damaged or
 * foreign file costs full handshakes, never a wrong session offered.
 */
#include "tlssess.h"

#include <stdio.h>
#include <string.h>

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A field's byte: printable ASCII, not a space. */
static int
token_byte(char c)
{
    return c > ' ' && c < 0x7f;
}

static int
is_token(const char *s, size_t len)
{
    size_t i;

    if (len == 0)
        return 0;
    for (i = 0; i < len; i++)
        if (!token_byte(s[i]))
            return 0;
    return 1;
}

/* The next field of [*p, end): up to a space or the end. Returns its
   length, and moves *p past it and the one space after it. */
static size_t
next_field(const char **p, const char *end, const char **field)
{
    const char *s = *p, *q = s;

    while (q < end && *q != ' ')
        q++;
    *field = s;
    *p = q < end ? q + 1 : q;
    return (size_t)(q - s);
}

/* Decimal digits into *v, no sign, no leading zero, at most max. */
static int
parse_num(const char *s, size_t len, uint64_t max, uint64_t *v)
{
    size_t i;

    if (len == 0 || len > 19 || (s[0] == '0' && len > 1))
        return -1;
    *v = 0;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (uint64_t)(s[i] - '0');
    }
    return *v <= max ? 0 : -1;
}

static int
is_trust(const char *s, size_t len)
{
    size_t i;

    if (len == 7 && memcmp(s, "default", 7) == 0)
        return 1;
    if (len != 64)
        return 0;
    for (i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static int
b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;

    return p ? (int)(p - b64) : -1;
}

/* Base64 with padding, nothing else, into at most TLSSESS_DER_MAX bytes.
   Returns the length, or -1. */
static long
b64_decode(const char *s, size_t len, unsigned char *out)
{
    size_t i, n = 0, pad = 0;

    if (len == 0 || len % 4 || len / 4 * 3 > TLSSESS_DER_MAX + 2)
        return -1;
    if (s[len - 1] == '=')
        pad = s[len - 2] == '=' ? 2 : 1;
    for (i = 0; i < len; i += 4) {
        int v[4], k;
        unsigned long w = 0;
        int last = i + 4 == len;

        for (k = 0; k < 4; k++) {
            v[k] = last && k >= 4 - (int)pad ? 0 : b64_value(s[i + k]);
            if (v[k] < 0)
                return -1;
            w = w << 6 | (unsigned long)v[k];
        }
        for (k = 0; k < 3 - (last ? (int)pad : 0); k++) {
            if (n == TLSSESS_DER_MAX)
                return -1;
            out[n++] = (unsigned char)(w >> (16 - 8 * k));
        }
    }
    return (long)n;
}

size_t
tlssess_key(char *out, size_t cap, const char *host, unsigned port,
            const char *sni, const char *trust)
{
    const char *s = sni ? sni : "-";
    int n;

    if (!is_token(host, strlen(host)) || strlen(host) > TLSSESS_NAME_MAX ||
        !is_token(s, strlen(s)) || strlen(s) > TLSSESS_NAME_MAX ||
        !is_trust(trust, strlen(trust)) || port == 0 || port > 65535)
        return 0;
    n = snprintf(out, cap, "%s %u %s peer %s", host, port, s, trust);
    return n > 0 && (size_t)n < cap && (size_t)n <= TLSSESS_KEY_MAX ? (size_t)n
                                                                    : 0;
}

int
tlssess_parse(const char *line, size_t len, struct tlssess_entry *e,
              unsigned char *der)
{
    const char *p = line, *end = line + len, *f[7];
    size_t n[7];
    uint64_t v;
    long d;
    int i;

    if (len > TLSSESS_LINE_MAX)
        return -1;
    for (i = 0; i < 7; i++) {
        n[i] = next_field(&p, end, &f[i]);
        if (!is_token(f[i], n[i]))
            return -1;
    }
    if (p != end || f[6] + n[6] != end)
        return -1; /* an eighth field, or a space at the end */
    if (parse_num(f[0], n[0], INT64_MAX, &v) < 0)
        return -1;
    e->expires = (int64_t)v;
    if (n[1] > TLSSESS_NAME_MAX || parse_num(f[2], n[2], 65535, &v) < 0 ||
        v == 0 || n[3] > TLSSESS_NAME_MAX || n[4] != 4 ||
        memcmp(f[4], "peer", 4) != 0 || !is_trust(f[5], n[5]))
        return -1;
    e->key = f[1];
    e->key_len = (size_t)(f[5] + n[5] - f[1]);
    d = b64_decode(f[6], n[6], der);
    if (d <= 0)
        return -1;
    e->der_len = (size_t)d;
    return 0;
}

size_t
tlssess_format(char *out, size_t cap, int64_t expires, const char *key,
               size_t key_len, const unsigned char *der, size_t der_len)
{
    size_t i, n;
    int h;

    if (expires < 0 || der_len == 0 || der_len > TLSSESS_DER_MAX)
        return 0;
    h = snprintf(out, cap, "%lld %.*s ", (long long)expires, (int)key_len,
                 key);
    if (h < 0 || (size_t)h >= cap || cap - (size_t)h <= (der_len + 2) / 3 * 4)
        return 0;
    n = (size_t)h;
    for (i = 0; i < der_len; i += 3) {
        unsigned long w = (unsigned long)der[i] << 16;

        if (i + 1 < der_len)
            w |= (unsigned long)der[i + 1] << 8;
        if (i + 2 < der_len)
            w |= der[i + 2];
        out[n++] = b64[w >> 18 & 63];
        out[n++] = b64[w >> 12 & 63];
        out[n++] = i + 1 < der_len ? b64[w >> 6 & 63] : '=';
        out[n++] = i + 2 < der_len ? b64[w & 63] : '=';
    }
    out[n] = '\0';
    return n;
}
