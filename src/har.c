/*
 * har - the run as an HTTP Archive 1.2, written as it goes; see
 * include/har.h for what each field holds.
 *
 * Layout of the file: the log's head, then one entry per line, then the
 * closing brackets, so that `grep -c startedDateTime` counts entries and
 * a reader can follow the file while it grows:
 *
 *   {"log":{"version":"1.2","creator":{...},"entries":[
 *   {"startedDateTime":...},
 *   {"startedDateTime":...}
 *   ]}}
 *
 * Heads are read by a small reader of lines (CRLF or LF) and "name:
 * value" fields. It does not validate: the response head was accepted by
 * h1 already and the request head is our own; it only has to be safe on
 * anything, which it is by never reading past the bytes it is given and
 * by escaping everything it writes.
 */
#include "har.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "jsonw.h"
#include "out.h"

#define MIN_SLOTS 64

/* A request head kept while its request is in flight: one slot of an
   open-addressing table keyed by request number. A free slot keeps its
   buffer for the next head that lands there. */
struct kept {
    uint32_t req_no; /* TL_NONE: free */
    uint32_t len;    /* head bytes in buf; 0 when none was given */
    size_t cap;
    char *buf;
};

struct har {
    const struct timeline *tl;
    int64_t wall_us;
    uint64_t n_entries;
    struct kept *slots;
    size_t n_slots; /* a power of two */
    size_t n_kept;
    struct out out;
};

/* Bytes of a head, not NUL-terminated. */
struct slice {
    const char *s;
    size_t n;
};

/* ---- the table of request heads in flight ---- */

static size_t
home(const struct har *h, uint32_t no)
{
    return (size_t)(no * 2654435761u) & (h->n_slots - 1);
}

static struct kept *
find(const struct har *h, uint32_t no)
{
    size_t i;

    if (!h->n_slots)
        return NULL;
    for (i = home(h, no);; i = (i + 1) & (h->n_slots - 1)) {
        if (h->slots[i].req_no == no)
            return &h->slots[i];
        if (h->slots[i].req_no == TL_NONE)
            return NULL;
    }
}

/* A free slot for no (the table at most half full). */
static struct kept *
free_slot(struct har *h, uint32_t no)
{
    size_t i = home(h, no);

    while (h->slots[i].req_no != TL_NONE)
        i = (i + 1) & (h->n_slots - 1);
    return &h->slots[i];
}

/* Twice the slots, the heads moved over (free slots' buffers freed).
   Returns 0 or -1. */
static int
grow(struct har *h)
{
    struct kept *old = h->slots, *k;
    size_t n_old = h->n_slots, i;
    size_t n = n_old ? n_old * 2 : MIN_SLOTS;

    h->slots = calloc(n, sizeof *h->slots);
    if (!h->slots) {
        h->slots = old;
        return -1;
    }
    h->n_slots = n;
    for (i = 0; i < n; i++)
        h->slots[i].req_no = TL_NONE;
    for (i = 0; i < n_old; i++) {
        if (old[i].req_no == TL_NONE) {
            free(old[i].buf);
            continue;
        }
        k = free_slot(h, old[i].req_no);
        *k = old[i];
    }
    free(old);
    return 0;
}

/* Keep request no's head. Out of memory, the request is kept without
   it (its entry then has no request headers). */
static void
keep(struct har *h, uint32_t no, const char *head, size_t len)
{
    struct kept *k;

    if ((h->n_kept + 1) * 2 > h->n_slots && grow(h) < 0)
        return;
    k = free_slot(h, no);
    k->req_no = no;
    k->len = 0;
    if (len > UINT32_MAX)
        len = 0;
    if (len > k->cap) {
        char *bigger = realloc(k->buf, len);

        if (bigger) {
            k->buf = bigger;
            k->cap = len;
        }
    }
    if (len && len <= k->cap) {
        memcpy(k->buf, head, len);
        k->len = (uint32_t)len;
    }
    h->n_kept++;
}

/* Free k's slot: the slots after it that belong before it move back
   (linear probing's deletion), so no lookup stops at a false hole. */
static void
drop(struct har *h, struct kept *k)
{
    size_t mask = h->n_slots - 1, i = (size_t)(k - h->slots), j = i;
    struct kept tmp;

    k->req_no = TL_NONE;
    h->n_kept--;
    for (;;) {
        j = (j + 1) & mask;
        if (h->slots[j].req_no == TL_NONE)
            return;
        /* It stays if its home is after the hole (cyclically). */
        if (((j - home(h, h->slots[j].req_no)) & mask) < ((j - i) & mask))
            continue;
        tmp = h->slots[i];
        h->slots[i] = h->slots[j];
        h->slots[j] = tmp;
        i = j;
    }
}

/* ---- reading heads ---- */

/* A head's lines, from pos on. */
struct lines {
    const char *s;
    size_t n, pos;
};

/* The next line without its line end: 1, or 0 at the empty line that
   ends the head (consumed), or -1 when there is no whole line left (the
   end of the bytes, or a line they cut short). */
static int
next_line(struct lines *ls, struct slice *line)
{
    const char *nl;
    size_t len;

    if (ls->pos >= ls->n)
        return -1;
    nl = memchr(ls->s + ls->pos, '\n', ls->n - ls->pos);
    if (!nl)
        return -1;
    line->s = ls->s + ls->pos;
    len = (size_t)(nl - line->s);
    ls->pos += len + 1;
    if (len && line->s[len - 1] == '\r')
        len--;
    line->n = len;
    return len > 0;
}

/* The head's bytes as HAR counts them (up to and including the empty
   line), or -1 when they do not reach it (none given, or cut). */
static int64_t
head_size(const char *s, size_t n)
{
    if ((n >= 2 && s[n - 1] == '\n' && s[n - 2] == '\n') ||
        (n >= 3 && memcmp(s + n - 3, "\n\r\n", 3) == 0))
        return (int64_t)n;
    return -1;
}

static struct slice
trim(const char *s, size_t n)
{
    struct slice v;

    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    v.s = s;
    v.n = n;
    return v;
}

/* The words of a start line: before the first space, between it and
   the second, and the rest ("HTTP/1.1", "200", "Not Found"; "GET",
   "/p/1", "HTTP/1.1"). Missing ones are empty. */
static void
words(struct slice line, struct slice w[3])
{
    size_t i;

    for (i = 0; i < 3; i++) {
        const char *sp = i < 2 ? memchr(line.s, ' ', line.n) : NULL;
        size_t len = sp ? (size_t)(sp - line.s) : line.n;

        w[i].s = line.s;
        w[i].n = len;
        line.s += len + (sp != NULL);
        line.n -= len + (sp != NULL);
    }
}

/* Where the final response starts in a response head that holds 1xx
   interim responses before it (h1 skips them, the bytes keep them): past
   each whole 1xx head. 0 for any other head. */
static size_t
skip_interim(const char *s, size_t n)
{
    struct lines ls = {s, n, 0};
    struct slice line, w[3];
    size_t start = 0;
    int k;

    while (next_line(&ls, &line) > 0) {
        words(line, w);
        if (w[1].n != 3 || w[1].s[0] != '1')
            break;
        while ((k = next_line(&ls, &line)) > 0)
            continue;
        if (k < 0)
            break;
        start = ls.pos;
    }
    return start;
}

static int
name_is(struct slice name, const char *want)
{
    return name.n == strlen(want) && strncasecmp(name.s, want, name.n) == 0;
}

/* The field line "name: value" split, whitespace around both dropped;
   0 if it has no colon. */
static int
split_field(struct slice line, struct slice *name, struct slice *value)
{
    const char *colon = memchr(line.s, ':', line.n);
    size_t at;

    if (!colon)
        return 0;
    at = (size_t)(colon - line.s);
    *name = trim(line.s, at);
    *value = trim(colon + 1, line.n - at - 1);
    return 1;
}

/* What an entry needs from a head besides its fields. */
struct head_info {
    struct slice start[3]; /* the start line's words */
    struct slice type, location, coding;
};

/* Read hi from the head s[0..n), the final response's if it has 1xx
   ones before it (all empty without a head). */
static void
read_head(const char *s, size_t n, struct head_info *hi)
{
    size_t at = skip_interim(s, n);
    struct lines ls = {s, n, at};
    struct slice line, name, value;

    memset(hi, 0, sizeof *hi);
    if (next_line(&ls, &line) <= 0)
        return;
    words(line, hi->start);
    while (next_line(&ls, &line) > 0) {
        if (!split_field(line, &name, &value))
            continue;
        if (name_is(name, "content-type"))
            hi->type = value;
        else if (name_is(name, "location"))
            hi->location = value;
        else if (name_is(name, "content-encoding"))
            hi->coding = value;
    }
}

/* `"headers":[...]`: the fields of the head s[0..n) (of its final
   response), in their order. */
static void
write_headers(struct out *o, const char *s, size_t n)
{
    struct lines ls = {s, n, skip_interim(s, n)};
    struct slice line, name, value;
    int first = 1;

    JW_LIT(o, "\"headers\":[");
    if (next_line(&ls, &line) > 0) { /* the start line */
        while (next_line(&ls, &line) > 0) {
            if (!split_field(line, &name, &value))
                continue;
            jw_raw(o, first ? "{\"name\":" : ",{\"name\":");
            jw_str(o, name.s, name.n);
            JW_LIT(o, ",\"value\":");
            jw_str(o, value.s, value.n);
            JW_LIT(o, "}");
            first = 0;
        }
    }
    JW_LIT(o, "]");
}

/* ---- writing an entry ---- */

/* "2024-05-01T12:00:00.123Z": the run's wall-clock start + offset_us. */
static void
write_date(struct out *o, int64_t wall_us, int64_t offset_us)
{
    int64_t us = wall_us + offset_us;
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;
    char *p = out_room(o, 40);

    if (!gmtime_r(&secs, &tm))
        memset(&tm, 0, sizeof tm);
    out_commit(o, strftime(p, 40, "\"%Y-%m-%dT%H:%M:%S", &tm));
    p = out_room(o, 8);
    p[0] = '.';
    p[1] = (char)('0' + us / 100000 % 10);
    p[2] = (char)('0' + us / 10000 % 10);
    p[3] = (char)('0' + us / 1000 % 10);
    p[4] = 'Z';
    p[5] = '"';
    out_commit(o, 6);
}

/* The target's query as HAR's name/value pairs: split at & and at the
   first =, as sent (not percent-decoded). */
static void
write_query(struct out *o, const char *t, size_t n)
{
    const char *q = memchr(t, '?', n);
    const char *end = t + n;
    int first = 1;

    JW_LIT(o, "\"queryString\":[");
    while (q && q < end) {
        const char *p = q + 1;
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));

        if (stop > p) {
            jw_raw(o, first ? "{\"name\":" : ",{\"name\":");
            jw_str(o, p, (size_t)((eq ? eq : stop) - p));
            JW_LIT(o, ",\"value\":");
            if (eq)
                jw_str(o, eq + 1, (size_t)(stop - eq - 1));
            else
                JW_LIT(o, "\"\"");
            JW_LIT(o, "}");
            first = 0;
        }
        q = amp;
    }
    JW_LIT(o, "]");
}

/* A word of a start line as a string, or `otherwise` without a head:
   every request is a GET in HTTP/1.1. */
static void
put_word(struct out *o, struct slice w, const char *otherwise)
{
    if (w.n)
        jw_str(o, w.s, w.n);
    else
        jw_str(o, otherwise, strlen(otherwise));
}

static void
write_request(struct har *h, const struct tl_request *r, const struct kept *k)
{
    struct out *o = &h->out;
    const char *head = k ? k->buf : NULL;
    size_t len = k ? k->len : 0;
    const char *target = tl_target(h->tl, r);
    const struct tl_conn *c = tl_conn_at(h->tl, r->conn);
    const char *origin = tl_origin_name(h->tl, c->origin);
    struct head_info hi;

    read_head(head, len, &hi);
    JW_LIT(o, "\"request\":{\"method\":");
    put_word(o, hi.start[0], "GET");
    JW_LIT(o, ",\"url\":\"");
    jw_esc(o, origin, strlen(origin));
    jw_esc(o, target, r->target_len);
    JW_LIT(o, "\",\"httpVersion\":");
    put_word(o, hi.start[2], "HTTP/1.1");
    JW_LIT(o, ",\"cookies\":[],");
    write_headers(o, head, len);
    JW_LIT(o, ",");
    write_query(o, target, r->target_len);
    JW_LIT(o, ",\"headersSize\":");
    jw_i64(o, head_size(head, len));
    JW_LIT(o, ",\"bodySize\":0}");
}

static void
write_response(struct har *h, const struct tl_request *r, const char *head,
               size_t len)
{
    struct out *o = &h->out;
    int64_t head_bytes = head_size(head, len), body = -1;
    struct head_info hi;

    if (head_bytes >= 0 && r->wire_bytes >= (uint64_t)head_bytes)
        body = (int64_t)r->wire_bytes - head_bytes;
    read_head(head, len, &hi);
    JW_LIT(o, "\"response\":{\"status\":");
    jw_i64(o, r->status);
    JW_LIT(o, ",\"statusText\":");
    jw_str(o, hi.start[2].s, hi.start[2].n);
    JW_LIT(o, ",\"httpVersion\":");
    jw_str(o, hi.start[0].s, hi.start[0].n);
    JW_LIT(o, ",\"cookies\":[],");
    write_headers(o, head, len);
    JW_LIT(o, ",\"content\":{\"size\":");
    jw_u64(o, r->body_bytes);
    if (hi.coding.n && !name_is(hi.coding, "identity") && body >= 0) {
        JW_LIT(o, ",\"compression\":");
        jw_i64(o, (int64_t)r->body_bytes - body);
    }
    JW_LIT(o, ",\"mimeType\":");
    jw_str(o, hi.type.s, hi.type.n);
    JW_LIT(o, "},\"redirectURL\":");
    jw_str(o, hi.location.s, hi.location.n);
    JW_LIT(o, ",\"headersSize\":");
    jw_i64(o, head_bytes);
    JW_LIT(o, ",\"bodySize\":");
    jw_i64(o, body);
    JW_LIT(o, "}");
}

const struct har_phase har_phases[HAR_N_PHASES] = {
    {"blocked", offsetof(struct tl_phases, blocked)},
    {"dns", offsetof(struct tl_phases, dns)},
    {"connect", offsetof(struct tl_phases, connect)},
    {"ssl", offsetof(struct tl_phases, ssl)},
    {"send", offsetof(struct tl_phases, send)},
    {"wait", offsetof(struct tl_phases, wait)},
    {"receive", offsetof(struct tl_phases, receive)},
};

int64_t
har_phase_us(const struct tl_phases *p, const struct har_phase *ph)
{
    int64_t v;

    memcpy(&v, (const char *)p + ph->off, sizeof v);
    return v;
}

static void
write_timings(struct out *o, const struct tl_phases *p)
{
    unsigned i;

    for (i = 0; i < HAR_N_PHASES; i++) {
        jw_raw(o, i ? ",\"" : "\"timings\":{\"");
        jw_raw(o, har_phases[i].name);
        JW_LIT(o, "\":");
        jw_ms(o, har_phase_us(p, &har_phases[i]));
    }
    JW_LIT(o, "}");
}

/* The address of a peer "127.0.0.1:8443" or "[::1]:8443". */
static struct slice
peer_address(const char *peer)
{
    struct slice a = {peer, strlen(peer)};
    const char *colon = strrchr(peer, ':');

    if (peer[0] == '[') {
        const char *close = strchr(peer, ']');

        a.s = peer + 1;
        a.n = close ? (size_t)(close - a.s) : a.n - 1;
    } else if (colon) {
        a.n = (size_t)(colon - peer);
    }
    return a;
}

/* The entry of request no (record r), ended at now: the response head
   (NULL for none) and why there was no response (NULL if there was). */
static void
write_entry(struct har *h, uint32_t no, const struct tl_request *r,
            int64_t now, const char *head, size_t len, const char *error)
{
    struct out *o = &h->out;
    const struct tl_conn *c = tl_conn_at(h->tl, r->conn);
    struct kept *k = find(h, no);
    struct slice addr = peer_address(c->peer);
    struct tl_phases p;

    tl_phases(h->tl, r, now, &p);
    jw_raw(o, h->n_entries++ ? ",\n{\"startedDateTime\":"
                             : "\n{\"startedDateTime\":");
    write_date(o, h->wall_us, r->queued_us);
    JW_LIT(o, ",\"time\":");
    jw_ms(o, p.total);
    JW_LIT(o, ",");
    write_request(h, r, k);
    JW_LIT(o, ",");
    write_response(h, r, head, len);
    JW_LIT(o, ",\"cache\":{},");
    write_timings(o, &p);
    JW_LIT(o, ",\"serverIPAddress\":");
    jw_str(o, addr.s, addr.n);
    JW_LIT(o, ",\"connection\":\"");
    jw_u64(o, r->conn);
    JW_LIT(o, "\",\"_id\":");
    jw_u64(o, r->id);
    JW_LIT(o, ",\"_attempt\":");
    jw_u64(o, r->attempt);
    JW_LIT(o, ",\"_pipelinePosition\":");
    jw_u64(o, r->pipeline_pos);
    if (error) {
        JW_LIT(o, ",\"_error\":");
        jw_str(o, error, strlen(error));
    }
    JW_LIT(o, "}");
    if (k)
        drop(h, k);
}

static void
on_event(void *arg, const struct tl_event *ev)
{
    struct har *h = arg;

    if (!ev->req)
        return;
    switch (ev->kind) {
    case TL_EV_QUEUED:
        keep(h, ev->req_no, ev->bytes, ev->bytes ? ev->bytes_len : 0);
        break;
    case TL_EV_DONE:
        write_entry(h, ev->req_no, ev->req, ev->t_us, ev->bytes,
                    ev->bytes ? ev->bytes_len : 0, NULL);
        break;
    case TL_EV_LOST:
        write_entry(h, ev->req_no, ev->req, ev->t_us, NULL, 0,
                    ev->text ? ev->text : "connection ended first");
        break;
    default:
        break;
    }
}

struct har *
har_open(int fd, const struct timeline *tl, int64_t wall_start_us,
         const char *version)
{
    struct har *h = calloc(1, sizeof *h);

    if (!h)
        return NULL;
    h->tl = tl;
    h->wall_us = wall_start_us;
    out_init(&h->out, fd);
    JW_LIT(&h->out, "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":"
                    "\"pokefetch\",\"version\":");
    jw_str(&h->out, version, strlen(version));
    JW_LIT(&h->out, "},\"entries\":[");
    return h;
}

struct tl_sink
har_sink(struct har *h)
{
    struct tl_sink s = {on_event, h};

    return s;
}

int
har_finish(struct har *h)
{
    uint32_t i, n = tl_request_count(h->tl);
    int64_t now = tl_now(h->tl);
    size_t j;
    int rc;

    for (i = 0; i < n; i++) {
        const struct tl_request *r = tl_request_at(h->tl, i);

        if (r->end_us < 0)
            write_entry(h, i, r, now, NULL, 0, "the run ended first");
    }
    JW_LIT(&h->out, "\n]}}\n");
    rc = out_flush(&h->out);
    for (j = 0; j < h->n_slots; j++)
        free(h->slots[j].buf);
    free(h->slots);
    free(h);
    return rc;
}
