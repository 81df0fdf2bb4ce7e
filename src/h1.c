/*
 * h1.c - HTTP/1.1 for a client: the GET request writer and an incremental
 * response parser (status line, header fields, framing, chunked coding).
 *
 * What it does not do: keep header lines or values (none are buffered:
 * the few fields that decide framing are matched and interpreted a byte at
 * a time, all others are validated and dropped), decode Content-Encoding,
 * follow redirects, read sockets, allocate or print.
 *
 * Invariants:
 *   - h1_feed never reads data[len] nor anything before data, never needs
 *     a NUL, and consumes bytes only while they belong to this message.
 *   - All state is in struct h1_parser; a zeroed struct is the start state
 *     (ST_VERSION == 0), so the result does not depend on how the input
 *     was split: every state advances byte by byte or span by span.
 *   - h1_feed only dispatches, over one function per phase of the
 *     message. A phase consumes what it can and returns an event, an
 *     error (with i at the offending byte: h1_feed makes it sticky and
 *     records its offset), NEXT when the next phase takes over, or
 *     H1_AGAIN from its one "again:" when the input runs out.
 *   - An error is sticky: p->err is checked first by every entry point.
 *
 * Accepted response subset (RFC 9112 sections unless noted):
 *   sec. 4    status-line = "HTTP/1." ("0" / "1") SP 3DIGIT [SP reason]
 *             line-end. The code is 100..599; the reason is HTAB, SP,
 *             VCHAR and obs-text. The SP before an empty reason may be
 *             missing too ("HTTP/1.1 200" CRLF), as picohttpparser,
 *             llhttp and curl allow: servers send it. No leading empty
 *             lines.
 *   sec. 2.2  line-end is CRLF or a bare LF (the MAY) in the status line,
 *             header and trailer lines; a CR not followed by LF is an
 *             error everywhere. Chunk-size lines and the CRLF after chunk
 *             data must be CRLF: bare LF there is how smuggling starts.
 *   sec. 5    field-line = token ":" OWS value line-end. No whitespace
 *             before the colon (sec. 5.1), no obs-fold (sec. 5.2). Values
 *             may hold HTAB, SP, VCHAR and obs-text (RFC 9110 sec. 5.5);
 *             NUL, DEL and other controls are errors.
 *   sec. 6.1  Transfer-Encoding is a comma list (empty elements ignored,
 *             RFC 9110 sec. 5.6.1) whose only member must be "chunked",
 *             without parameters: we never asked for another coding and
 *             cannot find the end of one. TE in an HTTP/1.0 response is
 *             faulty framing (sec. 6.1) and an error.
 *   sec. 6.3  No body for a HEAD request, 204 and 304 (rule 1); 1xx are
 *             skipped (RFC 9110 sec. 15.2), 101 is an error (rule 2 would
 *             hand the connection to another protocol). TE with CL is an
 *             error (rule 3 says "ought to be handled as an error").
 *             Content-Length may repeat, on several lines or as a list
 *             "5, 5", only with identical values (rule 5, RFC 9110 sec.
 *             8.6); anything else about it is an error. Without TE or CL
 *             the body runs to the close (rule 8).
 *   sec. 7.1  chunk = 1*16HEXDIG [BWS chunk-ext] CRLF data CRLF; chunk
 *             extensions (sec. 7.1.1) are skipped, bounded and must be
 *             field-value bytes after a ";". BWS (SP, HTAB) is allowed
 *             only where the grammar puts it, before a ";": "5 " CRLF is
 *             an invalid chunk size. Trailer fields (sec. 7.1.2) are
 *             checked like header lines and dropped.
 *   sec. 9.3  Connection "close" (any case, in a list) or HTTP/1.0 without
 *             "keep-alive" means the server closes after this message.
 *
 * Limits (h1.h): a line counts its own bytes including CRLF; the header
 * block counts the status line through the empty line's LF; the trailer
 * counts the bytes after the last-chunk line through the final LF. Each
 * 1xx response has its own header block.
 *
 * Phases and their states in wire order (within a phase, each case falls
 * through to the next):
 *
 *   status_line  VERSION CODE REASON STATUS_LF
 *   field_block  FIELD_START FIELD_NAME FIELD_VALUE FIELD_LF (-> FIELD_START)
 *                empty line: BLOCK_LF, then
 *                  1xx response: status_line again
 *                  trailer section: DONE
 *                  final header block: H1_HEADERS, and framing() picks
 *                  DONE (no body), BODY_LENGTH, BODY_EOF or CHUNK_SIZE
 *   body_span    BODY_LENGTH -> DONE;  BODY_EOF (ends at the close);
 *                CHUNK_DATA -> CHUNK_DATA_CR
 *   chunked      CHUNK_SIZE CHUNK_EXT CHUNK_SIZE_LF -> CHUNK_DATA, or for
 *                size 0 FIELD_START: field_block reads the trailer section;
 *                CHUNK_DATA_CR CHUNK_DATA_LF (-> CHUNK_SIZE)
 */
#include "h1.h"

#include <assert.h>
#include <string.h>

/* The states of each phase, in wire order. */
enum state {
    ST_VERSION = 0, /* status_line: "HTTP/1.x" SP, match_pos counts */
    ST_CODE,        /* three digits and SP; match_pos counts */
    ST_REASON,
    ST_STATUS_LF,
    ST_FIELD_START, /* field_block: a field line, or the empty line */
    ST_FIELD_NAME,
    ST_FIELD_VALUE,
    ST_FIELD_LF,
    ST_BLOCK_LF,    /* LF of the empty line that ends the block */
    ST_BODY_LENGTH, /* body_span: remaining = Content-Length bytes */
    ST_BODY_EOF,    /* body_span: up to the close */
    ST_CHUNK_SIZE,  /* chunked: remaining accumulates, chunk_hex digits */
    ST_CHUNK_EXT,   /* BWS, extensions; VS_TOKEN once ";" is seen */
    ST_CHUNK_SIZE_LF,
    ST_CHUNK_DATA, /* body_span: remaining = chunk bytes to come */
    ST_CHUNK_DATA_CR,
    ST_CHUNK_DATA_LF,
    ST_DONE,
};

/* A phase returns an h1_rc, or NEXT: it is over, p->state says what
   follows. */
enum { NEXT = -1 };

/* Header fields that matter; during the name, hdr_id is a set of them.
   From HDR_CE on, values are kept whole rather than read as lists. */
enum {
    HDR_NONE,
    HDR_CL,
    HDR_TE,
    HDR_CONN,
    HDR_CE,
    HDR_LOCATION,    /* for redirects */
    HDR_RETRY_AFTER, /* for 429/503 */
    HDR_COUNT
};

static const struct {
    const char *name; /* lower case */
    unsigned len;
} fields[HDR_COUNT] = {
    [HDR_CL] = {"content-length", 14}, [HDR_TE] = {"transfer-encoding", 17},
    [HDR_CONN] = {"connection", 10},   [HDR_CE] = {"content-encoding", 16},
    [HDR_LOCATION] = {"location", 8},  [HDR_RETRY_AFTER] = {"retry-after", 11},
};

#define HDR_ALL                                                               \
    ((1u << HDR_CL) | (1u << HDR_TE) | (1u << HDR_CONN) | (1u << HDR_CE) |    \
     (1u << HDR_LOCATION) | (1u << HDR_RETRY_AFTER))

/* Bits of p->seen. */
enum {
    SEEN_CL = 1u << 0,
    SEEN_TE = 1u << 1,
    SEEN_CHUNKED = 1u << 2,
    SEEN_CLOSE = 1u << 3,
    SEEN_KEEP_ALIVE = 1u << 4,
    SEEN_TRAILER = 1u << 5, /* field lines are trailer lines now */
    SEEN_LOCATION = 1u << 6,
    SEEN_RETRY_AFTER = 1u << 7,
};

/* p->value_state: where we are in one element of a comma list. */
enum {
    VS_LEAD,  /* nothing but OWS yet: the element is empty so far */
    VS_TOKEN, /* inside the element */
    VS_TRAIL, /* OWS after the element */
    VS_BAD,   /* something after that OWS: not a single token */
};

static unsigned char
lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

/* tchar, RFC 9110 sec. 5.6.2. */
static int
is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (lower(c) >= 'a' && lower(c) <= 'z'))
        return 1;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return 1;
    default:
        return 0;
    }
}

/* field-vchar / SP / HTAB (RFC 9110 sec. 5.5); obs-text included. */
static int
is_field_byte(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int
hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int
is_error(int rc)
{
    return rc >= H1_E_STATUS_LINE;
}

/* Everything that belongs to one response head; 1xx start over here. */
static void
start_response(struct h1_parser *p)
{
    p->status = 0;
    p->http_minor = 0;
    p->flags = 0;
    p->content_length = 0;
    p->state = ST_VERSION;
    p->remaining = 0;
    p->line_len = 0;
    p->block_bytes = 0;
    p->n_headers = 0;
    p->hdr_id = HDR_NONE;
    p->match_pos = 0;
    p->value_state = VS_LEAD;
    p->value_num = 0;
    p->token_len = 0;
    p->seen = 0;
    p->chunk_hex = 0;
    p->ext_len = 0;
    p->location_len = 0;
    p->retry_after_len = 0;
    p->content_encoding_len = 0;
    p->raw_len = 0;
    p->raw_overflow = 0;
}

/*
 * Count one byte of a status, header or trailer line against the limits.
 * Returns 0 or the error. Oversized trailers have their own error so the
 * caller can tell "the body arrived, the trailer was hostile".
 */
static int
count_line(struct h1_parser *p)
{
    int trailer = (p->seen & SEEN_TRAILER) != 0;
    size_t block_max = trailer ? H1_MAX_TRAILER_BYTES : H1_MAX_HEADER_BYTES;

    if (++p->line_len > H1_MAX_LINE || ++p->block_bytes > block_max)
        return trailer ? H1_E_TRAILER : H1_E_TOO_LARGE;
    return 0;
}

/* A CR at the line end is counted and consumed; a bare LF is left for
   line_end (sec. 2.2 MAY). */
static int
line_cr(struct h1_parser *p, const unsigned char *s, size_t *i)
{
    int e = 0;

    if (s[*i] == '\r' && (e = count_line(p)) == 0)
        ++*i;
    return e;
}

/* The LF that ends a line, counted like the rest of it. */
static int
line_end(struct h1_parser *p, unsigned char c)
{
    return c == '\n' ? count_line(p) : H1_E_BARE_CR;
}

static int
syntax_error(const struct h1_parser *p)
{
    return (p->seen & SEEN_TRAILER) ? H1_E_TRAILER : H1_E_HEADER_SYNTAX;
}

/* ---- status line ----------------------------------------------------- */

/* Byte match_pos of "HTTP/1.x" SP, x being 0 or 1. */
static int
version_byte(struct h1_parser *p, unsigned char c)
{
    if (p->match_pos < 7)
        return c == (unsigned char)"HTTP/1."[p->match_pos] ? 0
                                                           : H1_E_STATUS_LINE;
    if (p->match_pos == 8)
        return c == ' ' ? 0 : H1_E_STATUS_LINE;
    if (c != '0' && c != '1')
        return H1_E_STATUS_LINE;
    p->http_minor = c - '0';
    return 0;
}

/* Byte match_pos of 3DIGIT SP. 1xx is decided at the last digit, before
   any of its fields is read. */
static int
code_byte(struct h1_parser *p, unsigned char c)
{
    if (p->match_pos == 3)
        return c == ' ' ? 0 : H1_E_STATUS_LINE;
    if (c < (p->match_pos == 0 ? '1' : '0') ||
        c > (p->match_pos == 0 ? '5' : '9'))
        return H1_E_STATUS_LINE;
    p->status = p->status * 10 + (c - '0');
    if (p->match_pos < 2)
        return 0;
    if (p->status == 101)
        return H1_E_SWITCHING;
    if (p->status < 200 && p->n_interim >= H1_MAX_INTERIM)
        return H1_E_TOO_MANY_INTERIM;
    return 0;
}

/* The status line: the version, the code, and a reason that is checked
   and dropped. */
static int
status_line(struct h1_parser *p, const unsigned char *s, size_t len,
            size_t *at)
{
    size_t i = *at;
    int e;

    switch (p->state) {
    case ST_VERSION:
        for (; p->match_pos < 9; p->match_pos++, i++) {
            if (i == len)
                goto again;
            if ((e = count_line(p)) != 0 || (e = version_byte(p, s[i])) != 0)
                goto out;
        }
        p->match_pos = 0;
        p->state = ST_CODE;
        /* fall through */
    case ST_CODE:
        for (; p->match_pos < 4; p->match_pos++, i++) {
            if (i == len)
                goto again;
            /* No SP and no reason before the line end: what
               picohttpparser, llhttp and curl accept too. REASON then
               takes the line end. */
            if (p->match_pos == 3 && (s[i] == '\r' || s[i] == '\n'))
                break;
            if ((e = count_line(p)) != 0 || (e = code_byte(p, s[i])) != 0)
                goto out;
        }
        p->match_pos = 0;
        p->state = ST_REASON;
        /* fall through */
    case ST_REASON:
        for (; i < len && s[i] != '\r' && s[i] != '\n'; i++) {
            if ((e = count_line(p)) != 0)
                goto out;
            if (!is_field_byte(s[i])) {
                e = H1_E_STATUS_LINE;
                goto out;
            }
        }
        if (i == len)
            goto again;
        if ((e = line_cr(p, s, &i)) != 0)
            goto out;
        p->state = ST_STATUS_LF;
        /* fall through */
    case ST_STATUS_LF:
        if (i == len)
            goto again;
        if ((e = line_end(p, s[i])) != 0)
            goto out;
        i++;
        p->line_len = 0;
        p->state = ST_FIELD_START;
        e = NEXT;
        goto out;
    }
again:
    e = H1_AGAIN;
out:
    *at = i;
    return e;
}

/* ---- field block: header fields, and trailer fields ------------------ */

/*
 * A field line starts with a token byte, which FIELD_NAME then reads (and
 * counts) as the name's first. In the header block every field of
 * interest is still possible; trailers cannot change framing, so there
 * none is.
 */
static int
field_line(struct h1_parser *p, unsigned char c)
{
    /* SP or HTAB here is obs-fold, or whitespace before the first
       field: both rejected (sec. 5.2, sec. 2.2). */
    if (!is_tchar(c))
        return syntax_error(p);
    p->match_pos = 0;
    p->hdr_id = HDR_NONE;
    if (p->seen & SEEN_TRAILER)
        return 0;
    if (++p->n_headers > H1_MAX_HEADERS)
        return H1_E_TOO_MANY_HEADERS;
    p->hdr_id = HDR_ALL;
    return 0;
}

/* Narrow the set of header names the bytes so far can still spell. */
static void
match_name(struct h1_parser *p, unsigned char c)
{
    unsigned id;

    if (p->hdr_id == 0)
        return; /* most names: nothing left to match */
    c = lower(c);
    for (id = HDR_CL; id < HDR_COUNT; id++) {
        if ((p->hdr_id & (1u << id)) &&
            (p->match_pos >= fields[id].len ||
             (unsigned char)fields[id].name[p->match_pos] != c))
            p->hdr_id &= ~(1u << id);
    }
    /* Saturate: past the longest name nothing can match anyway. */
    if (p->match_pos <= fields[HDR_TE].len)
        p->match_pos++;
}

/* At the colon: the set becomes the one header the whole name spelled,
   and that field's value starts. */
static void
value_start(struct h1_parser *p)
{
    unsigned id = HDR_CL;

    while (id < HDR_COUNT &&
           !((p->hdr_id & (1u << id)) && fields[id].len == p->match_pos))
        id++;
    p->hdr_id = id < HDR_COUNT ? id : HDR_NONE;
    if (p->hdr_id == HDR_TE)
        p->seen |= SEEN_TE;
    p->value_state = VS_LEAD;
    p->value_num = 0;
    p->raw_overflow = 0;
    /* A second Content-Encoding line continues the list (RFC 9110 sec.
       5.3): raw_byte() appends to it. */
    p->raw_len = p->hdr_id == HDR_CE ? p->content_encoding_len : 0;
    p->token_len = (unsigned)p->raw_len;
}

static int
token_is(const struct h1_parser *p, const char *word)
{
    size_t n = strlen(word);

    return p->value_state != VS_BAD && p->token_len == n &&
           memcmp(p->token, word, n) == 0;
}

/* One element of a list field (Content-Length, Transfer-Encoding,
   Connection) has ended, at a comma or at the line end. */
static int
element_end(struct h1_parser *p)
{
    int empty = p->value_state == VS_LEAD;
    int e = 0;

    switch (p->hdr_id) {
    case HDR_CL:
        /* RFC 9110 sec. 8.6: a list of identical values is one value. */
        if (empty ||
            ((p->seen & SEEN_CL) && p->value_num != p->content_length)) {
            e = H1_E_CONTENT_LENGTH;
        } else {
            p->content_length = p->value_num;
            p->seen |= SEEN_CL;
        }
        break;
    case HDR_TE:
        /* chunked once and last; since nothing else is accepted, that is
           "exactly one element, chunked" over all Transfer-Encoding
           lines together. */
        if (empty)
            break;
        if (!token_is(p, "chunked") || (p->seen & SEEN_CHUNKED))
            e = H1_E_TRANSFER_CODING;
        else
            p->seen |= SEEN_CHUNKED;
        break;
    case HDR_CONN:
        if (token_is(p, "close"))
            p->seen |= SEEN_CLOSE;
        else if (token_is(p, "keep-alive"))
            p->seen |= SEEN_KEEP_ALIVE;
        break;
    }
    p->value_state = VS_LEAD;
    p->value_num = 0;
    p->token_len = 0;
    return e;
}

/* The line end of a value kept whole (Content-Encoding, Location,
   Retry-After). */
static int
kept_end(struct h1_parser *p)
{
    int bad = p->raw_overflow || p->value_state == VS_LEAD;

    switch (p->hdr_id) {
    case HDR_CE:
        /* A cut list could drop a coding and leave one that looks whole.
           Which codings it names is the decoder's business. */
        if (p->raw_overflow)
            return H1_E_TOO_LARGE;
        p->content_encoding_len = p->raw_len;
        break;
    case HDR_LOCATION:
        /* Two Locations leave no way to know which one was meant. */
        if ((p->seen & SEEN_LOCATION) || bad) {
            p->flags &= ~(unsigned)H1_F_LOCATION;
            p->flags |= H1_F_LOCATION_BAD;
        } else {
            p->location_len = p->raw_len;
            p->flags |= H1_F_LOCATION;
        }
        p->seen |= SEEN_LOCATION;
        break;
    default:
        /* A value too long to be a date is not one, and two values leave
           no way to know which was meant (the second has overwritten the
           first's bytes): either way the header is ignored. */
        if ((p->seen & SEEN_RETRY_AFTER) || bad) {
            p->retry_after_len = 0;
            p->flags &= ~(unsigned)H1_F_RETRY_AFTER;
        } else {
            p->retry_after_len = p->raw_len;
            p->flags |= H1_F_RETRY_AFTER;
        }
        p->seen |= SEEN_RETRY_AFTER;
        break;
    }
    return 0;
}

/* Store one byte of a kept value; one that does not fit marks it cut. */
static void
keep(struct h1_parser *p, char *dst, size_t cap, unsigned char c)
{
    if (p->token_len >= cap)
        p->raw_overflow = 1;
    else
        dst[p->token_len++] = (char)c;
}

/*
 * One byte of a value kept whole (Location, Retry-After, Content-Encoding):
 * not split as a list, since dates and URLs hold commas. Leading
 * whitespace is skipped; raw_len stops at the last non-whitespace byte,
 * so trailing OWS is trimmed as well. token_len counts the bytes stored,
 * whitespace included, so inner whitespace survives. Whitespace that does
 * not fit is dropped: trailing, it is not part of the value; inner, the
 * byte after it cannot fit either and marks the value cut.
 */
static void
raw_byte(struct h1_parser *p, unsigned char c)
{
    char *dst;
    size_t cap;

    switch (p->hdr_id) {
    case HDR_LOCATION:
        dst = p->location;
        cap = sizeof p->location;
        break;
    case HDR_RETRY_AFTER:
        dst = p->retry_after;
        cap = sizeof p->retry_after;
        break;
    default:
        dst = p->content_encoding;
        cap = sizeof p->content_encoding;
        break;
    }
    if (c == ' ' || c == '\t') {
        if (p->value_state != VS_LEAD && p->token_len < cap)
            dst[p->token_len++] = (char)c;
        if (p->value_state != VS_LEAD)
            p->value_state = VS_TRAIL;
        return;
    }
    /* A Content-Encoding line after a non-empty one: join with ", ". If
       that no longer fits, the list is cut, never silently shortened. */
    if (p->value_state == VS_LEAD && p->token_len > 0) {
        keep(p, dst, cap, ',');
        keep(p, dst, cap, ' ');
    }
    p->value_state = VS_TOKEN;
    keep(p, dst, cap, c);
    if (!p->raw_overflow)
        p->raw_len = p->token_len;
}

/*
 * One byte of an interesting header's value (already known to be a field
 * byte). Splits the comma list into OWS-trimmed elements; Content-Length
 * digits are summed with an overflow check, other elements are kept
 * lower-cased in p->token (a longer one just cannot match any word).
 */
static int
value_byte(struct h1_parser *p, unsigned char c)
{
    unsigned d;

    if (p->hdr_id >= HDR_CE) {
        raw_byte(p, c);
        return 0;
    }
    if (c == ',')
        return element_end(p);
    if (c == ' ' || c == '\t') {
        if (p->value_state == VS_TOKEN)
            p->value_state = VS_TRAIL;
        return 0;
    }
    if (p->value_state == VS_TRAIL)
        p->value_state = VS_BAD;
    else if (p->value_state == VS_LEAD)
        p->value_state = VS_TOKEN;

    if (p->hdr_id == HDR_CL) {
        if (p->value_state == VS_BAD || c < '0' || c > '9')
            return H1_E_CONTENT_LENGTH;
        d = (unsigned)(c - '0');
        if (p->value_num > (UINT64_MAX - d) / 10)
            return H1_E_CONTENT_LENGTH;
        p->value_num = p->value_num * 10 + d;
        return 0;
    }
    if (p->token_len < sizeof p->token)
        p->token[p->token_len] = lower(c);
    if (p->token_len <= sizeof p->token)
        p->token_len++;
    return 0;
}

/*
 * The final response's header block is complete: check the framing
 * headers against each other and choose how the body is delimited
 * (RFC 9112 sec. 6.3, in its order). Returns H1_HEADERS or the error.
 */
static int
framing(struct h1_parser *p)
{
    if (p->seen & SEEN_TE) {
        if (p->seen & SEEN_CL)
            return H1_E_TE_AND_CL;
        if (!(p->seen & SEEN_CHUNKED) || p->http_minor == 0)
            return H1_E_TRANSFER_CODING;
    }
    if (p->seen & SEEN_CL)
        p->flags |= H1_F_HAS_LENGTH;
    if ((p->seen & SEEN_CLOSE) ||
        (p->http_minor == 0 && !(p->seen & SEEN_KEEP_ALIVE)))
        p->flags |= H1_F_CONN_CLOSE;

    if ((p->req_flags & H1_REQ_HEAD) || p->status == 204 || p->status == 304) {
        p->flags |= H1_F_NO_BODY;
        p->state = ST_DONE;
    } else if (p->seen & SEEN_TE) {
        p->flags |= H1_F_CHUNKED;
        p->chunk_hex = 0;
        p->remaining = 0;
        p->state = ST_CHUNK_SIZE;
    } else if (p->seen & SEEN_CL) {
        p->remaining = p->content_length;
        p->state = p->remaining ? ST_BODY_LENGTH : ST_DONE;
    } else {
        p->flags |= H1_F_BODY_TO_EOF | H1_F_CONN_CLOSE;
        p->state = ST_BODY_EOF;
    }
    return H1_HEADERS;
}

/*
 * The empty line has ended a field block: a trailer section ends the
 * message, an interim (1xx) response is forgotten with its fields, and
 * the final response's header block decides the framing.
 */
static int
block_end(struct h1_parser *p)
{
    if (p->seen & SEEN_TRAILER) {
        p->state = ST_DONE;
        return NEXT;
    }
    if (p->status < 200) {
        p->n_interim++;
        start_response(p);
        return NEXT;
    }
    return framing(p);
}

/*
 * Field lines up to the empty line, for the header block and the trailer
 * section alike; SEEN_TRAILER selects the trailer's limits and errors.
 */
static int
field_block(struct h1_parser *p, const unsigned char *s, size_t len,
            size_t *at)
{
    size_t i = *at;
    int e;

    for (;;) {
        switch (p->state) {
        case ST_FIELD_START:
            if (i == len)
                goto again;
            if (s[i] == '\r' || s[i] == '\n') {
                /* The empty line. */
                if ((e = line_cr(p, s, &i)) != 0)
                    goto out;
                p->state = ST_BLOCK_LF;
                continue;
            }
            if ((e = field_line(p, s[i])) != 0)
                goto out;
            p->state = ST_FIELD_NAME;
            /* fall through */
        case ST_FIELD_NAME:
            for (; i < len && s[i] != ':'; i++) {
                /* Whitespace before the colon too (sec. 5.1). */
                if (!is_tchar(s[i])) {
                    e = syntax_error(p);
                    goto out;
                }
                if ((e = count_line(p)) != 0)
                    goto out;
                match_name(p, s[i]);
            }
            if (i == len)
                goto again;
            if ((e = count_line(p)) != 0)
                goto out;
            i++;
            value_start(p);
            p->state = ST_FIELD_VALUE;
            /* fall through */
        case ST_FIELD_VALUE:
            for (; i < len && s[i] != '\r' && s[i] != '\n'; i++) {
                if ((e = count_line(p)) != 0)
                    goto out;
                if (!is_field_byte(s[i])) {
                    e = syntax_error(p);
                    goto out;
                }
                if (p->hdr_id != HDR_NONE && (e = value_byte(p, s[i])) != 0)
                    goto out;
            }
            if (i == len)
                goto again;
            if ((e = line_cr(p, s, &i)) != 0)
                goto out;
            p->state = ST_FIELD_LF;
            /* fall through */
        case ST_FIELD_LF:
            if (i == len)
                goto again;
            if ((e = line_end(p, s[i])) != 0)
                goto out;
            if (p->hdr_id != HDR_NONE &&
                (e = p->hdr_id >= HDR_CE ? kept_end(p) : element_end(p)) != 0)
                goto out;
            i++;
            p->line_len = 0;
            p->state = ST_FIELD_START;
            continue;
        case ST_BLOCK_LF:
            if (i == len)
                goto again;
            if ((e = line_end(p, s[i])) == 0 && !is_error(e = block_end(p)))
                i++;
            goto out;
        }
    }
again:
    e = H1_AGAIN;
out:
    *at = i;
    return e;
}

/* ---- body and chunked coding ----------------------------------------- */

/*
 * Body bytes, left in place: the rest of a Content-Length body, of one
 * chunk's data, or whatever is here of a body that runs to the close.
 */
static int
body_span(struct h1_parser *p, size_t len, size_t *at)
{
    size_t n = len - *at;

    if (n == 0)
        return H1_AGAIN;
    if (p->state != ST_BODY_EOF) {
        if (n > p->remaining)
            n = (size_t)p->remaining;
        p->remaining -= n;
        if (p->remaining == 0)
            p->state = p->state == ST_CHUNK_DATA ? ST_CHUNK_DATA_CR : ST_DONE;
    }
    p->body_off = *at;
    p->body_len = n;
    *at += n;
    return H1_BODY;
}

/* One byte between a chunk size and its CR: BWS, then ";" and the
   extensions, skipped. All of it is counted, BWS too, so a server cannot
   make us spin on an endless line. */
static int
ext_byte(struct h1_parser *p, unsigned char c)
{
    if (c == '\n')
        return H1_E_CHUNK_SYNTAX;
    if (++p->ext_len > H1_MAX_CHUNK_EXT)
        return H1_E_TOO_LARGE;
    if (c == ';')
        p->value_state = VS_TOKEN;
    else if (p->value_state == VS_LEAD && c != ' ' && c != '\t')
        return H1_E_CHUNK_SIZE;
    else if (!is_field_byte(c))
        return H1_E_CHUNK_SYNTAX;
    return 0;
}

/*
 * The chunk framing around the data (which body_span delivers): the size
 * line, and the CRLF after the data. A size of 0 is the last chunk: the
 * trailer section follows, read by field_block.
 */
static int
chunked(struct h1_parser *p, const unsigned char *s, size_t len, size_t *at)
{
    size_t i = *at;
    int e, v;

    for (;;) {
        switch (p->state) {
        case ST_CHUNK_SIZE:
            for (; i < len && (v = hex_value(s[i])) >= 0; i++) {
                /* The digit limit is the overflow check: 16 hex digits
                   fill a uint64_t exactly. Leading zeros count too. */
                if (++p->chunk_hex > H1_MAX_CHUNK_HEX) {
                    e = H1_E_CHUNK_SIZE;
                    goto out;
                }
                p->remaining = (p->remaining << 4) | (unsigned)v;
            }
            if (i == len)
                goto again;
            if (p->chunk_hex == 0) {
                e = H1_E_CHUNK_SIZE;
                goto out;
            }
            p->ext_len = 0;
            p->value_state = VS_LEAD;
            p->state = ST_CHUNK_EXT;
            /* fall through */
        case ST_CHUNK_EXT:
            for (; i < len && s[i] != '\r'; i++)
                if ((e = ext_byte(p, s[i])) != 0)
                    goto out;
            if (i == len)
                goto again;
            /* BWS belongs before a ";" only (sec. 7.1.1): "5 " alone is
               a size some parsers read and others refuse, so we refuse
               it, as llhttp's strict mode. */
            if (p->ext_len > 0 && p->value_state == VS_LEAD) {
                e = H1_E_CHUNK_SIZE;
                goto out;
            }
            i++;
            p->state = ST_CHUNK_SIZE_LF;
            /* fall through */
        case ST_CHUNK_SIZE_LF:
            if (i == len)
                goto again;
            if (s[i] != '\n') {
                e = H1_E_BARE_CR;
                goto out;
            }
            i++;
            e = NEXT;
            if (p->remaining > 0) {
                p->state = ST_CHUNK_DATA;
                goto out;
            }
            /* last-chunk: the trailer section follows. */
            p->seen |= SEEN_TRAILER;
            p->line_len = 0;
            p->block_bytes = 0;
            p->state = ST_FIELD_START;
            goto out;
        case ST_CHUNK_DATA_CR:
            if (i == len)
                goto again;
            if (s[i] != '\r') {
                e = H1_E_CHUNK_SYNTAX;
                goto out;
            }
            i++;
            p->state = ST_CHUNK_DATA_LF;
            /* fall through */
        case ST_CHUNK_DATA_LF:
            if (i == len)
                goto again;
            if (s[i] != '\n') {
                e = H1_E_BARE_CR;
                goto out;
            }
            i++;
            p->chunk_hex = 0;
            p->remaining = 0;
            p->state = ST_CHUNK_SIZE;
            continue;
        }
    }
again:
    e = H1_AGAIN;
out:
    *at = i;
    return e;
}

void
h1_begin(struct h1_parser *p, unsigned req_flags)
{
    memset(p, 0, sizeof *p);
    p->req_flags = req_flags;
}

int
h1_started(const struct h1_parser *p)
{
    return p->consumed > 0;
}

/* Each phase runs until it returns an event, needs more input or hands
   over to the next (NEXT). */
enum h1_rc
h1_feed(struct h1_parser *p, const char *data, size_t len, size_t *used)
{
    const unsigned char *s = (const unsigned char *)data;
    size_t i = 0;
    int rc;

    if (p->err != 0) {
        *used = 0;
        return (enum h1_rc)p->err;
    }
    do {
        switch (p->state) {
        case ST_VERSION:
        case ST_CODE:
        case ST_REASON:
        case ST_STATUS_LF:
            rc = status_line(p, s, len, &i);
            break;
        case ST_FIELD_START:
        case ST_FIELD_NAME:
        case ST_FIELD_VALUE:
        case ST_FIELD_LF:
        case ST_BLOCK_LF:
            rc = field_block(p, s, len, &i);
            break;
        case ST_BODY_LENGTH:
        case ST_BODY_EOF:
        case ST_CHUNK_DATA:
            rc = body_span(p, len, &i);
            break;
        case ST_CHUNK_SIZE:
        case ST_CHUNK_EXT:
        case ST_CHUNK_SIZE_LF:
        case ST_CHUNK_DATA_CR:
        case ST_CHUNK_DATA_LF:
            rc = chunked(p, s, len, &i);
            break;
        case ST_DONE:
            rc = H1_DONE;
            break;
        default:
            assert(!"h1: bad parser state");
            rc = H1_DONE;
            break;
        }
    } while (rc == NEXT);
    p->consumed += i;
    *used = i;
    if (is_error(rc)) {
        /* i is the offending byte; the bytes before it were consumed. */
        p->err = rc;
        p->error_offset = p->consumed;
    }
    return (enum h1_rc)rc;
}

enum h1_rc
h1_finish(struct h1_parser *p)
{
    if (p->err != 0)
        return (enum h1_rc)p->err;
    if (p->state == ST_BODY_EOF)
        p->state = ST_DONE; /* sec. 6.3 rule 8: the close ends the body */
    if (p->state == ST_DONE)
        return H1_DONE;
    p->err = H1_E_TRUNCATED;
    p->error_offset = p->consumed;
    return H1_E_TRUNCATED;
}

const char *
h1_strerror(enum h1_rc rc)
{
    switch (rc) {
    case H1_AGAIN:
        return "need more bytes";
    case H1_HEADERS:
        return "response headers complete";
    case H1_BODY:
        return "body bytes";
    case H1_DONE:
        return "response complete";
    case H1_E_STATUS_LINE:
        return "malformed status line";
    case H1_E_HEADER_SYNTAX:
        return "malformed header line";
    case H1_E_BARE_CR:
        return "CR not followed by LF";
    case H1_E_TOO_LARGE:
        return "line or header block too large";
    case H1_E_TOO_MANY_HEADERS:
        return "too many header lines";
    case H1_E_CONTENT_LENGTH:
        return "invalid or conflicting Content-Length";
    case H1_E_TE_AND_CL:
        return "Transfer-Encoding together with Content-Length";
    case H1_E_TRANSFER_CODING:
        return "unsupported Transfer-Encoding";
    case H1_E_CHUNK_SIZE:
        return "invalid chunk size";
    case H1_E_CHUNK_SYNTAX:
        return "malformed chunk framing";
    case H1_E_TRAILER:
        return "malformed or oversized trailer";
    case H1_E_TOO_MANY_INTERIM:
        return "too many 1xx responses";
    case H1_E_SWITCHING:
        return "unexpected 101 Switching Protocols";
    case H1_E_TRUNCATED:
        return "connection closed mid-response";
    }
    return "unknown h1 result";
}

/* Appends into a fixed buffer; once something does not fit, stays full. */
struct writer {
    char *out;
    size_t cap;
    size_t len;
    int full;
};

static void
put(struct writer *w, const char *s, size_t n)
{
    if (w->full || n > w->cap - w->len) {
        w->full = 1;
        return;
    }
    if (n > 0)
        memcpy(w->out + w->len, s, n);
    w->len += n;
}

size_t
h1_write_get(char *out, size_t cap, const struct h1_request *r)
{
    struct writer w = {out, cap, 0, 0};
    static const char accept[] = "\r\nAccept: application/json\r\n";
    static const char conn_close[] = "Connection: close\r\n";

    put(&w, "GET ", 4);
    put(&w, r->target, r->target_len);
    put(&w, " HTTP/1.1\r\nHost: ", 17);
    put(&w, r->authority, r->authority_len);
    put(&w, "\r\nUser-Agent: ", 14);
    put(&w, r->user_agent, strlen(r->user_agent));
    put(&w, accept, sizeof accept - 1);
    if (r->accept_encoding) {
        put(&w, "Accept-Encoding: ", 17);
        put(&w, r->accept_encoding, strlen(r->accept_encoding));
        put(&w, "\r\n", 2);
    }
    if (!r->keep_alive)
        put(&w, conn_close, sizeof conn_close - 1);
    put(&w, "\r\n", 2);
    return w.full ? 0 : w.len;
}

/* Days from 1970-01-01 to year-month-day (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* n decimal digits at v[*i]; -1 if any is not a digit. */
static int64_t
digits(const char *v, size_t len, size_t *i, unsigned n)
{
    int64_t x = 0;

    while (n--) {
        if (*i >= len || v[*i] < '0' || v[*i] > '9')
            return -1;
        x = x * 10 + (v[(*i)++] - '0');
    }
    return x;
}

static int
expect(const char *v, size_t len, size_t *i, const char *lit)
{
    size_t n = strlen(lit);

    if (len - *i < n || memcmp(v + *i, lit, n) != 0)
        return -1;
    *i += n;
    return 0;
}

int
h1_retry_after(const char *v, size_t len, int64_t now_unix, int64_t *delay_s)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int64_t day, year, hh, mm, ss, t;
    size_t i = 0;
    unsigned mon;

    if (len > 0 && v[0] >= '0' && v[0] <= '9') {
        /* delay-seconds = 1*DIGIT; cap it rather than overflow. */
        int64_t x = 0;
        for (; i < len; i++) {
            if (v[i] < '0' || v[i] > '9')
                return -1;
            x = x * 10 + (v[i] - '0');
            if (x > 1000000000)
                x = 1000000000;
        }
        *delay_s = x;
        return 0;
    }
    /* IMF-fixdate = day-name "," SP 2DIGIT SP month SP 4DIGIT SP
       2DIGIT ":" 2DIGIT ":" 2DIGIT SP "GMT"  (RFC 9110 sec. 5.6.7) */
    if (len != 29 || v[3] != ',' || v[4] != ' ')
        return -1;
    i = 5;
    day = digits(v, len, &i, 2);
    if (day < 1 || day > 31 || expect(v, len, &i, " ") < 0)
        return -1;
    for (mon = 0; mon < 12; mon++)
        if (memcmp(v + i, months + mon * 3, 3) == 0)
            break;
    if (mon == 12)
        return -1;
    i += 3;
    if (expect(v, len, &i, " ") < 0)
        return -1;
    year = digits(v, len, &i, 4);
    if (year < 0 || expect(v, len, &i, " ") < 0)
        return -1;
    hh = digits(v, len, &i, 2);
    if (hh < 0 || hh > 23 || expect(v, len, &i, ":") < 0)
        return -1;
    mm = digits(v, len, &i, 2);
    if (mm < 0 || mm > 59 || expect(v, len, &i, ":") < 0)
        return -1;
    ss = digits(v, len, &i, 2);
    if (ss < 0 || ss > 60 || expect(v, len, &i, " GMT") < 0)
        return -1;
    t = days_from_civil(year, mon + 1, (unsigned)day) * 86400 + hh * 3600 +
        mm * 60 + ss;
    *delay_s = t > now_unix ? t - now_unix : 0;
    return 0;
}
