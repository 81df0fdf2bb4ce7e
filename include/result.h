/*
 * result - what one complete response says about its request, as handed
 * up from a connection (conn) through a transport to the scheduler. A
 * plain struct, shared so that both transports hand up the same thing.
 *
 * Every pointer is valid only during the callback that carries it, and
 * no string is NUL-terminated.
 */
#ifndef POKEFETCH_RESULT_H
#define POKEFETCH_RESULT_H

#include <stddef.h>
#include <stdint.h>

/* What a result's ok says text is. */
enum fetch_ok {
    FETCH_FAILED = 0, /* the reason it failed */
    FETCH_STRING = 1, /* the field's value, a string decoded to UTF-8 */
    FETCH_JSON = 2,   /* the field's value as JSON text (number, true,
                         false, null, or a compact object or array) */
};

struct fetch_result {
    int ok;           /* enum fetch_ok */
    int status;       /* HTTP status, 0 if none */
    const char *text; /* value, or the reason it failed */
    size_t len;
    /* For a redirect: the Location value, if one usable was sent. */
    const char *location;
    size_t location_len;
    int location_bad; /* Location repeated or too long */
    /* For 429/503: seconds the server asked to wait, -1 if it did not. */
    int64_t retry_after_s;
    /* The request went as TLS early data the server accepted: a 425 Too
       Early asks for it again after the handshake (RFC 8470 sec. 5.2). */
    int early;
};

#endif
