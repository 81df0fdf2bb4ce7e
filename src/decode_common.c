/*
 * decode_common - what both decoder builds share: reading the
 * Content-Encoding value and the messages. See include/decode.h.
 */
#include "decode.h"

#include <stdio.h>
#include <string.h>

static int
same_word(const char *s, size_t len, const char *word)
{
    size_t i;

    if (len != strlen(word))
        return 0;
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c | 0x20);
        if (c != word[i])
            return 0;
    }
    return 1;
}

int
decode_parse_coding(const char *v, size_t len, enum decode_coding *out)
{
    size_t i = 0;
    int n = 0;

    *out = DECODE_IDENTITY;
    /* A comma-separated list, applied in order (RFC 9110 sec. 8.4); one
       real coding is all a server has reason to apply here, so stacked
       codings are refused rather than half-supported. */
    while (i < len) {
        size_t start, end;

        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        start = i;
        while (i < len && v[i] != ',')
            i++;
        end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end == start || same_word(v + start, end - start, "identity"))
            continue;
        if (++n > 1)
            return -1;
        if (same_word(v + start, end - start, "gzip") ||
            same_word(v + start, end - start, "x-gzip"))
            *out = DECODE_GZIP;
        else if (same_word(v + start, end - start, "deflate"))
            *out = DECODE_DEFLATE;
        else
            return -1;
    }
    return 0;
}

void
decode_over_limit(char *out, size_t cap, const char *coding, uint64_t limit)
{
    static const char suffix[] = "KMG";
    char size[64];
    int k = 0;

    /* The limit as --max-body takes it: the largest exact suffix. */
    while (k < 3 && limit >> (10 * (k + 1)) << (10 * (k + 1)) == limit)
        k++;
    if (k)
        snprintf(size, sizeof size, "%llu%c (%llu bytes)",
                 (unsigned long long)(limit >> (10 * k)), suffix[k - 1],
                 (unsigned long long)limit);
    else
        snprintf(size, sizeof size, "%llu bytes", (unsigned long long)limit);
    if (coding)
        snprintf(out, cap, "Content-Encoding %s: body over --max-body %s",
                 coding, size);
    else
        snprintf(out, cap, "body over --max-body %s", size);
}

const char *
decode_strerror(enum decode_rc rc)
{
    switch (rc) {
    case DECODE_AGAIN:
        return "more input needed";
    case DECODE_OUTPUT:
        return "output ready";
    case DECODE_END:
        return "end of stream";
    case DECODE_E_UNSUPPORTED:
        return "unsupported Content-Encoding";
    case DECODE_E_CORRUPT:
        return "corrupt compressed body";
    case DECODE_E_TRAILING:
        return "bytes after the end of the compressed body";
    case DECODE_E_TRUNCATED:
        return "compressed body cut short";
    case DECODE_E_TOO_BIG:
        return "decompressed body over the limit";
    case DECODE_E_NOMEM:
        return "no memory for the decompressor";
    }
    return "unknown decode result";
}
