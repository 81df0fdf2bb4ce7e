/*
 * h1 - HTTP/1.1 for a client: writes GET requests and parses responses.
 *
 * The response parser is a pure, incremental state machine. It never reads
 * a socket, a clock or a file, never allocates, and gives the same events
 * whatever the split of its input: feed it one byte at a time or a whole
 * pipelined burst at once. All state lives in struct h1_parser, a fixed
 * size; h1_begin() (or memset 0 followed by h1_begin) is a valid start.
 *
 * What it does not do: decode Content-Encoding, follow redirects, keep
 * header values (only the few that decide framing or that a client acts
 * on are interpreted; everything else is validated and skipped).
 *
 * Accepted subset (RFC 9112 unless said otherwise):
 *   status-line  = HTTP-version SP 3DIGIT [SP [reason]] CRLF    (sec. 4)
 *                  HTTP/1.0 and HTTP/1.1 only; "HTTP/1.1 200" CRLF
 *                  (no SP, no reason) is accepted, as servers send it.
 *   field-line   = token ":" OWS value OWS CRLF                  (sec. 5)
 *                  obs-fold, whitespace before the colon, bare CR and NUL
 *                  are errors. Bare LF ends a header line (sec. 2.2 MAY).
 *   framing      = sec. 6.3: no body for 1xx/204/304 and for a HEAD
 *                  request; Transfer-Encoding ending in chunked; else
 *                  Content-Length; else the body runs to the end of the
 *                  connection. Transfer-Encoding together with
 *                  Content-Length, differing Content-Length values
 *                  (identical repeats, as lines or as a list "5, 5", are
 *                  one value: sec. 6.3), and transfer codings other than
 *                  chunked are errors.
 *   chunked      = sec. 7.1: hex size (at most H1_MAX_CHUNK_HEX digits),
 *                  whitespace after it only before a ";" extension,
 *                  extensions skipped but bounded, CRLF after each chunk
 *                  data (bare LF is not accepted there), trailer fields
 *                  validated like header lines and dropped.
 *   1xx          = interim responses (100, 103, ...) are parsed and
 *                  skipped; they never complete a request. 101 is an
 *                  error (we never ask to switch protocols).
 *
 * Using the parser, one response at a time:
 *
 *     h1_begin(&p, 0);
 *     while (bytes) {
 *         rc = h1_feed(&p, data, len, &used);
 *         data += used; len -= used;
 *         switch (rc) {
 *         case H1_AGAIN:   read more, then feed again
 *         case H1_HEADERS: p.status, p.flags, p.content_length are final
 *         case H1_BODY:    body bytes are data[p.body_off .. +p.body_len)
 *                          of the buffer just passed (before advancing)
 *         case H1_DONE:    message complete; bytes after it belong to the
 *                          next response: h1_begin() again and feed them
 *         default:         an error (h1_strerror), sticky until h1_begin
 *         }
 *     }
 *     at end of connection: h1_finish(&p) says whether the message ended
 *     there legitimately (body delimited by close) or was cut short.
 */
#ifndef POKEFETCH_H1_H
#define POKEFETCH_H1_H

#include <stddef.h>
#include <stdint.h>

/* Limits: every one is checked, and a response over it is an error. */
#define H1_MAX_HEADER_BYTES 65536 /* status line + all header lines */
#define H1_MAX_HEADERS 128        /* header lines in one response */
#define H1_MAX_LINE 16384         /* one status, header or trailer line */
#define H1_MAX_CHUNK_HEX 16       /* hex digits in a chunk size */
#define H1_MAX_CHUNK_EXT 4096     /* bytes of extensions on a chunk line */
#define H1_MAX_TRAILER_BYTES 16384
#define H1_MAX_INTERIM 8      /* 1xx responses before the final one */
#define H1_MAX_LOCATION 2048  /* a Location value kept for redirects */
#define H1_MAX_RETRY_AFTER 64 /* a Retry-After value kept for 429/503 */
#define H1_MAX_CODING 64      /* the Content-Encoding value kept */

enum h1_rc {
    H1_AGAIN = 0, /* all input consumed, need more bytes */
    H1_HEADERS,   /* the final response's header block is complete */
    H1_BODY,      /* a span of body bytes: body_off, body_len */
    H1_DONE,      /* the message is complete */

    H1_E_STATUS_LINE,   /* malformed status line or unsupported version */
    H1_E_HEADER_SYNTAX, /* malformed header line (incl. obs-fold) */
    H1_E_BARE_CR,       /* CR not followed by LF */
    H1_E_TOO_LARGE,     /* a line or the header block over its limit */
    H1_E_TOO_MANY_HEADERS,
    H1_E_CONTENT_LENGTH,  /* not a number, overflow, differing values */
    H1_E_TE_AND_CL,       /* Transfer-Encoding with Content-Length */
    H1_E_TRANSFER_CODING, /* a transfer coding other than chunked */
    H1_E_CHUNK_SIZE,      /* bad hex, too many digits (overflow) */
    H1_E_CHUNK_SYNTAX,    /* missing CRLF after chunk data, bad extension */
    H1_E_TRAILER,         /* malformed or oversized trailer */
    H1_E_TOO_MANY_INTERIM,
    H1_E_SWITCHING, /* 101 Switching Protocols: not asked for */
    H1_E_TRUNCATED, /* h1_finish: connection ended mid-message */
};

/* Flags of the current response, valid from H1_HEADERS on. */
enum h1_flag {
    H1_F_CONN_CLOSE = 1u << 0,  /* server will close after this message:
                                    "Connection: close", or HTTP/1.0
                                    without "Connection: keep-alive" */
    H1_F_BODY_TO_EOF = 1u << 1, /* body ends when the connection does */
    H1_F_CHUNKED = 1u << 2,
    H1_F_HAS_LENGTH = 1u << 3,   /* Content-Length given (content_length) */
    H1_F_NO_BODY = 1u << 4,      /* 204, 304, or a HEAD request */
    H1_F_LOCATION = 1u << 5,     /* location[] holds the Location value */
    H1_F_RETRY_AFTER = 1u << 6,  /* retry_after[] holds Retry-After */
    H1_F_LOCATION_BAD = 1u << 7, /* Location repeated or too long to keep:
                                    a redirect cannot be followed */
};

/* Request context given to h1_begin. */
enum h1_req_flag {
    H1_REQ_HEAD = 1u << 0, /* the request was HEAD: no body whatever */
};

struct h1_parser {
    /* Results, read by the caller. */
    int status;              /* final status, from H1_HEADERS on */
    int http_minor;          /* 0 or 1 */
    unsigned flags;          /* enum h1_flag */
    uint64_t content_length; /* valid when H1_F_HAS_LENGTH */
    size_t body_off;         /* H1_BODY: offset into the data just fed */
    size_t body_len;         /* H1_BODY: length of that span */
    uint64_t consumed;       /* bytes of this message consumed so far */
    uint64_t error_offset;   /* on error: offset in the message */
    unsigned n_interim;      /* 1xx responses skipped */
    /* With H1_F_LOCATION / H1_F_RETRY_AFTER, the field's value without
       surrounding whitespace (not NUL-terminated). A repeated, empty or
       over-long Retry-After is ignored (no flag). */
    char location[H1_MAX_LOCATION];
    size_t location_len;
    char retry_after[H1_MAX_RETRY_AFTER];
    size_t retry_after_len;
    /* The Content-Encoding value(s), lines joined with ", ", trimmed.
       A list longer than H1_MAX_CODING bytes is H1_E_TOO_LARGE: a cut
       list could lose a coding and still look whole. */
    char content_encoding[H1_MAX_CODING];
    size_t content_encoding_len;

    /* Private state: fields below may change without notice. */
    int state;
    unsigned req_flags;
    int err;
    uint64_t remaining; /* body or chunk bytes still to come */
    size_t line_len;    /* bytes in the current line */
    size_t block_bytes; /* bytes in the current header block or
                                 trailer section */
    unsigned n_headers;
    unsigned hdr_id;         /* which interesting header is being read */
    unsigned match_pos;      /* position while matching a header name */
    unsigned value_state;    /* sub-state while reading a value */
    uint64_t value_num;      /* Content-Length value being read */
    unsigned char token[16]; /* current value token, lower-cased */
    unsigned token_len;
    size_t raw_len;     /* bytes of a kept value so far */
    int raw_overflow;   /* the kept value did not fit */
    unsigned seen;      /* framing headers seen, private bits */
    unsigned chunk_hex; /* hex digits read in this chunk size */
    size_t ext_len;
};

/*
 * Start (or restart) the parser for the next response. req_flags is a
 * set of enum h1_req_flag describing the request this response answers.
 * Never fails; clears any previous error.
 */
void h1_begin(struct h1_parser *p, unsigned req_flags);

/*
 * Feed bytes. *used is set to how many of them were consumed (always
 * <= len); unconsumed bytes belong to a later call (after H1_DONE, to the
 * next response). Returns at each event, so a caller loops until H1_AGAIN
 * with len reduced by used. Never reads data[len] and never needs a NUL.
 * Once an error is returned, every later call returns it again with
 * *used = 0 until h1_begin().
 */
enum h1_rc h1_feed(struct h1_parser *p, const char *data, size_t len,
                   size_t *used);

/*
 * The connection ended (EOF). Returns H1_DONE if the message was complete
 * or its body was delimited by the close (then the body is complete), the
 * sticky error if there is one, else H1_E_TRUNCATED. Calling it before
 * any byte of the message arrived also returns H1_E_TRUNCATED; the caller
 * decides whether "nothing at all" is a retryable close.
 */
enum h1_rc h1_finish(struct h1_parser *p);

/* True once the parser has consumed at least one byte of this message. */
int h1_started(const struct h1_parser *p);

/* A short English description of an rc, e.g. "conflicting Content-Length". */
const char *h1_strerror(enum h1_rc rc);

/*
 * Read a Retry-After value (RFC 9110 sec. 10.2.3): delay-seconds, or an
 * IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), turned into seconds from
 * now_unix (a date in the past is 0). The obsolete RFC 850 and asctime
 * date forms are not read. Returns 0 with *delay_s set, or -1 if the
 * value is neither form. Pure: the caller supplies the clock.
 */
int h1_retry_after(const char *v, size_t len, int64_t now_unix,
                   int64_t *delay_s);

/* What a GET request says; the strings must already be valid for a
   request line and header fields (the url module checks the user's). */
struct h1_request {
    const char *target; /* request-target, origin-form */
    size_t target_len;
    const char *authority; /* Host value */
    size_t authority_len;
    const char *user_agent;      /* NUL-terminated */
    const char *accept_encoding; /* NUL-terminated, or NULL: no header */
    int keep_alive;              /* 0 adds "Connection: close" */
};

/*
 * Write "GET <target> HTTP/1.1" with Host, User-Agent, "Accept:
 * application/json", Accept-Encoding if asked and "Connection: close"
 * unless keep_alive, into out. Returns the length written, or 0 if it
 * would not fit in cap (nothing useful is left in out then).
 */
size_t h1_write_get(char *out, size_t cap, const struct h1_request *r);

#endif
