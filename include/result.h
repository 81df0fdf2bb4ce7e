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

struct fetch_result {
    int ok;                /* 1: text is the field's value (UTF-8) */
    int status;            /* HTTP status, 0 if none */
    const char *text;      /* value, or the reason it failed */
    size_t len;
    /* For a redirect: the Location value, if one usable was sent. */
    const char *location;
    size_t location_len;
    int location_bad;      /* Location repeated or too long */
    /* For 429/503: seconds the server asked to wait, -1 if it did not. */
    int64_t retry_after_s;
};

#endif
