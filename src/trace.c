/*
 * trace - the -v / --trace printer; see include/trace.h.
 */
#include "trace.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* One event's line: "[  12.345 ms] c3 * " + text. */
static void
say(struct trace *tr, const struct tl_event *ev, char mark, const char *text,
    size_t n)
{
    char prefix[64];
    int plen;

    if (ev->conn_no != TL_NONE)
        plen = snprintf(prefix, sizeof prefix, "[%9.3f ms] c%" PRIu32 " %c ",
                        (double)ev->t_us / 1000, ev->conn_no, mark);
    else
        plen = snprintf(prefix, sizeof prefix, "[%9.3f ms] %c ",
                        (double)ev->t_us / 1000, mark);
    tr->write(tr->arg, prefix, (size_t)plen, text, n);
}

static void sayf(struct trace *tr, const struct tl_event *ev, char mark,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
sayf(struct trace *tr, const struct tl_event *ev, char mark, const char *fmt,
     ...)
{
    char text[1024];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    say(tr, ev, mark, text,
        (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

/* --trace: a head's lines, each marked, without their line ends. */
static void
head_lines(struct trace *tr, const struct tl_event *ev, char mark)
{
    const char *p = ev->bytes, *end = ev->bytes + ev->bytes_len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        size_t n = (size_t)(stop - p);

        if (n && p[n - 1] == '\r')
            n--;
        if (n) /* the blank line that ends a head says nothing */
            say(tr, ev, mark, p, n);
        p = nl ? nl + 1 : end;
    }
}

/* Milliseconds from a to b, or -1 if either is unknown. */
static double
ms_between(int64_t a, int64_t b)
{
    return a < 0 || b < 0 ? -1 : (double)(b - a) / 1000;
}

static void
on_connection(struct trace *tr, const struct tl_event *ev)
{
    const struct tl_conn *c = ev->conn;
    const struct tl_tls_info *i = ev->tls;

    switch (ev->kind) {
    case TL_EV_CONNECT:
        sayf(tr, ev, '*', "connecting to %s", c->peer);
        break;
    case TL_EV_TCP_UP:
        sayf(tr, ev, '*', "TCP connected in %.3f ms",
             ms_between(c->start_us, c->tcp_us));
        break;
    case TL_EV_TLS_UP:
        sayf(tr, ev, '*',
             "TLS handshake done in %.3f ms: %s, %s, group %s, %s, ALPN %s",
             ms_between(c->tcp_us, c->tls_us), i->version, i->cipher,
             i->group[0] ? i->group : "none",
             i->resumed ? "session resumed" : "full handshake",
             i->alpn[0] ? i->alpn : "none");
        sayf(tr, ev, '*', "certificate: subject %s; issuer %s",
             i->subject[0] ? i->subject : "(none)",
             i->issuer[0] ? i->issuer : "(none)");
        break;
    case TL_EV_LIMIT:
        sayf(tr, ev, '*',
             "server limit learned: %" PRIu64 " requests per connection",
             ev->number);
        break;
    case TL_EV_EARLY:
        sayf(tr, ev, '*',
             "early data: %" PRIu64 " request%s (%" PRIu64
             " bytes) before the handshake",
             ev->number, ev->number == 1 ? "" : "s", ev->size);
        break;
    case TL_EV_ACCEPTED:
        sayf(tr, ev, '*', "early data accepted");
        break;
    case TL_EV_REJECTED:
        sayf(tr, ev, '*',
             "early data rejected: %" PRIu64 " request%s sent again",
             ev->number, ev->number == 1 ? "" : "s");
        break;
    case TL_EV_CLOSE:
        sayf(tr, ev, '*',
             "closed after %" PRIu32 " requests, %" PRIu32 " responses: %s",
             c->requests, c->responses, ev->text ? ev->text : "");
        break;
    default:
        break;
    }
}

static void
on_request(struct trace *tr, const struct tl_event *ev)
{
    const struct tl_request *r = ev->req;

    switch (ev->kind) {
    case TL_EV_QUEUED:
        if (!tr->with_bytes)
            break;
        sayf(tr, ev, '*', "request for id %" PRIu32 " queued (%u ahead)",
             r->id, r->pipeline_pos);
        head_lines(tr, ev, '>');
        break;
    case TL_EV_SENT:
        /* With the heads, the request's lines came when it was queued:
           this only says it left. (A target is the server's bytes after
           a redirect: the writer escapes it.) */
        sayf(tr, ev, tr->with_bytes ? '*' : '>',
             "%sGET %.*s (id %" PRIu32 ", pipeline %u, try %u)",
             tr->with_bytes ? "sent: " : "", (int)r->target_len,
             tl_target(tr->tl, r), r->id, r->pipeline_pos, r->attempt);
        break;
    case TL_EV_HEAD:
        sayf(tr, ev, '<', "HTTP %d for id %" PRIu32 ": %s", r->status, r->id,
             ev->text ? ev->text : "");
        if (tr->with_bytes)
            head_lines(tr, ev, '<');
        break;
    case TL_EV_DONE:
        sayf(tr, ev, '*',
             "id %" PRIu32 " %s: %" PRIu64 " bytes received, body %" PRIu64
             " bytes; first byte after %.3f ms, last %.3f ms later",
             r->id, r->outcome == TL_OK ? "done" : "failed", r->wire_bytes,
             r->body_bytes, ms_between(r->sent_us, r->first_byte_us),
             ms_between(r->first_byte_us, r->end_us));
        break;
    case TL_EV_LOST:
        sayf(tr, ev, '!', "no response for id %" PRIu32 ": %s", r->id,
             ev->text ? ev->text : "");
        break;
    default:
        break;
    }
}

static void
on_event(void *arg, const struct tl_event *ev)
{
    struct trace *tr = arg;

    switch (ev->kind) {
    case TL_EV_DNS:
        sayf(tr, ev, '*', "resolved %s", ev->text);
        break;
    case TL_EV_RETRY:
        sayf(tr, ev, '*', "id %" PRIu64 " goes again: %s", ev->number,
             ev->text);
        break;
    case TL_EV_REDIRECT:
        sayf(tr, ev, '*', "id %" PRIu64 " redirected: %s", ev->number,
             ev->text);
        break;
    case TL_EV_QUEUED:
    case TL_EV_SENT:
    case TL_EV_HEAD:
    case TL_EV_DONE:
    case TL_EV_LOST:
        if (ev->req)
            on_request(tr, ev);
        break;
    default:
        if (ev->conn)
            on_connection(tr, ev);
        break;
    }
}

struct tl_sink
trace_sink(struct trace *tr)
{
    struct tl_sink s = {on_event, tr};

    return s;
}
