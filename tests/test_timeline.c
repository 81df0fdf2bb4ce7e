/*
 * test_timeline - the records a run's events leave (include/timeline.h),
 * on a fake clock: what each event sets, the order sinks see events in,
 * attempts counted per job, records that stay put across chunks, a
 * request queued since its submit and one done at its last byte (libcurl
 * tells both late), events naming no record ignored, and requests sent
 * as TLS early data.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "rng.h"
#include "timeline.h"

static int64_t fake_us;

static int64_t
fake_clock(void)
{
    return fake_us;
}

/* What a sink saw: the kinds in order, and the last event's fields. */
static enum tl_kind seen[64];
static unsigned n_seen;
static struct tl_event last;
static char last_bytes[256];

static void
record_event(void *arg, const struct tl_event *ev)
{
    (void)arg;
    if (n_seen < 64)
        seen[n_seen++] = ev->kind;
    last = *ev;
    snprintf(last_bytes, sizeof last_bytes, "%.*s", (int)ev->bytes_len,
             ev->bytes ? ev->bytes : "");
}

static struct timeline *
start(size_t n_jobs)
{
    struct tl_sink sink = {record_event, NULL};
    struct timeline *tl;

    fake_us = 1000000; /* the clock starts from 0 at tl_new */
    n_seen = 0;
    tl = tl_new(n_jobs, fake_clock);
    CHECK(tl != NULL);
    CHECK(tl_add_sink(tl, &sink) == 0);
    return tl;
}

static void
test_one_request_on_a_new_connection(void)
{
    struct timeline *tl = start(4);
    struct tl_tls_info info = {"TLSv1.3", "TLS_AES_128_GCM_SHA256",
                               "X25519",  "http/1.1",
                               "CN=a",    "CN=b",
                               0};
    const struct tl_conn *c;
    const struct tl_request *r;
    uint32_t cn, rn;

    fake_us += 100;
    cn = tl_connect(tl, 0, 1, "127.0.0.1:8443");
    CHECK(cn == 0);
    fake_us += 50;
    rn = tl_queued(tl, cn, 2, 25, 0, "/p/25", 5, "GET /p/25", 9);
    CHECK(rn == 0);
    CHECK(strcmp(last_bytes, "GET /p/25") == 0);
    fake_us += 200;
    tl_tcp_up(tl, cn);
    fake_us += 1000;
    tl_tls_up(tl, cn, &info);
    CHECK(last.tls == &info);
    fake_us += 10;
    tl_sent(tl, rn);
    fake_us += 300;
    tl_first_byte(tl, rn);
    tl_head(tl, rn, 200, "Content-Length 10", "HTTP/1.1 200 OK\r\n\r\n", 19);
    CHECK(strcmp(last.text, "Content-Length 10") == 0);
    fake_us += 40;
    tl_done(tl, rn, TL_OK, 200, 29, 10, "HTTP/1.1 200 OK\r\n\r\n", 19);
    fake_us += 5;
    tl_close(tl, cn, 0, "done");

    c = tl_conn_at(tl, cn);
    r = tl_request_at(tl, rn);
    CHECK(c->start_us == 100 && c->tcp_us == 350 && c->tls_us == 1350);
    CHECK(c->end_us == 1705 && c->end_why == 0 && c->tls == 1);
    CHECK(c->requests == 1 && c->responses == 1 && !c->resumed);
    CHECK(strcmp(c->peer, "127.0.0.1:8443") == 0);
    CHECK(r->queued_us == 150 && r->sent_us == 1360);
    CHECK(r->first_byte_us == 1660 && r->end_us == 1700);
    CHECK(r->id == 25 && r->conn == cn && r->attempt == 1);
    CHECK(r->status == 200 && r->outcome == TL_OK);
    CHECK(r->wire_bytes == 29 && r->body_bytes == 10);
    CHECK(r->opened_conn == 1 && r->pipeline_pos == 0);
    CHECK(r->target_len == 5 && memcmp(tl_target(tl, r), "/p/25", 5) == 0);
    CHECK(n_seen == 8);
    CHECK(seen[0] == TL_EV_CONNECT && seen[1] == TL_EV_QUEUED &&
          seen[2] == TL_EV_TCP_UP && seen[3] == TL_EV_TLS_UP &&
          seen[4] == TL_EV_SENT && seen[5] == TL_EV_HEAD &&
          seen[6] == TL_EV_DONE && seen[7] == TL_EV_CLOSE);
    CHECK(last.conn == c && last.req == NULL && last.t_us == 1705);
    tl_free(tl);
}

static void
test_attempts_counted_per_job(void)
{
    struct timeline *tl = start(3);
    uint32_t cn = tl_connect(tl, 0, 0, "x");
    uint32_t a, b, d;

    tl_tcp_up(tl, cn);
    a = tl_queued(tl, cn, 1, 7, 0, "/7", 2, NULL, 0);
    tl_lost(tl, a, "connection closed");
    CHECK(tl_request_at(tl, a)->outcome == TL_UNANSWERED);
    CHECK(strcmp(last.text, "connection closed") == 0);
    b = tl_queued(tl, cn, 1, 7, 1, "/7", 2, NULL, 0);
    d = tl_queued(tl, cn, 2, 8, 2, "/8", 2, NULL, 0);
    CHECK(tl_request_at(tl, b)->attempt == 2);
    CHECK(tl_request_at(tl, d)->attempt == 1);
    CHECK(tl_request_at(tl, d)->pipeline_pos == 2);
    /* Queued once the connection was up: it did not wait for it. */
    CHECK(tl_request_at(tl, d)->opened_conn == 0);
    /* A job number out of range still makes a record. */
    CHECK(tl_queued(tl, cn, 99, 1, 0, "/1", 2, NULL, 0) != TL_NONE);
    tl_free(tl);
}

static void
test_records_stay_put_across_chunks(void)
{
    struct timeline *tl = start(1);
    uint32_t cn = tl_connect(tl, 0, 0, "x");
    const struct tl_request *first;
    char target[40];
    uint32_t i, n = 3 * TL_CHUNK + 7;
    int all_right = 1;

    first = tl_request_at(tl, tl_queued(tl, cn, 0, 0, 0, "/0", 2, NULL, 0));
    for (i = 1; i < n; i++) {
        int len = snprintf(target, sizeof target, "/pokemon/%u", i);

        CHECK(tl_queued(tl, cn, 0, i, 0, target, (size_t)len, NULL, 0) == i);
    }
    CHECK(tl_request_count(tl) == n);
    CHECK(tl_request_at(tl, 0) == first);
    CHECK(tl_request_at(tl, n) == NULL);
    for (i = 1; i < n; i++) {
        const struct tl_request *r = tl_request_at(tl, i);
        int len = snprintf(target, sizeof target, "/pokemon/%u", i);

        if (r->id != i || r->target_len != len ||
            memcmp(tl_target(tl, r), target, (size_t)len) != 0)
            all_right = 0;
    }
    CHECK(all_right);
    CHECK(tl_conn_at(tl, cn)->requests == n);
    tl_free(tl);
}

static void
test_events_naming_no_record(void)
{
    struct timeline *tl = start(1);

    tl_tcp_up(tl, 5);
    tl_sent(tl, 9);
    tl_done(tl, TL_NONE, TL_OK, 200, 1, 1, NULL, 0);
    tl_lost(tl, 3, "x");
    tl_close(tl, TL_NONE, 0, "x");
    CHECK(tl_queued(tl, 4, 0, 1, 0, "/1", 2, NULL, 0) == TL_NONE);
    CHECK(n_seen == 0);
    CHECK(tl_conn_count(tl) == 0 && tl_request_count(tl) == 0);
    /* Scheduler events name an id, not a record: always seen. */
    tl_retry(tl, 12, "HTTP 503");
    tl_redirect(tl, 12, "https://a/b");
    CHECK(n_seen == 2 && last.number == 12 && last.req == NULL);
    tl_free(tl);
}

static void
test_a_request_ends_once(void)
{
    struct timeline *tl = start(1);
    uint32_t cn = tl_connect(tl, 0, 0, "x");
    uint32_t rn = tl_queued(tl, cn, 0, 1, 0, "/1", 2, NULL, 0);

    fake_us += 10;
    tl_done(tl, rn, TL_FAILED, 404, 100, 0, NULL, 0);
    n_seen = 0;
    fake_us += 10;
    tl_lost(tl, rn, "late");
    tl_done(tl, rn, TL_OK, 200, 1, 1, NULL, 0);
    CHECK(n_seen == 0);
    CHECK(tl_request_at(tl, rn)->outcome == TL_FAILED);
    CHECK(tl_request_at(tl, rn)->end_us == 10);
    CHECK(tl_request_at(tl, rn)->first_byte_us == 10);
    tl_free(tl);
}

static int
sums_up(const struct tl_phases *p)
{
    return p->blocked >= 0 && p->connect >= -1 && p->send >= 0 &&
           p->wait >= 0 && p->receive >= 0 && p->dns == -1 &&
           p->blocked + (p->connect > 0 ? p->connect : 0) + p->send + p->wait +
                   p->receive ==
               p->total;
}

static void
test_phases_of_a_pipelined_pair(void)
{
    struct timeline *tl = start(2);
    struct tl_tls_info info = {"", "", "", "", "", "", 0};
    struct tl_phases p;
    uint32_t cn, a, b;

    cn = tl_connect(tl, 0, 1, "x"); /* 0 */
    fake_us = 1000000 + 150;
    a = tl_queued(tl, cn, 0, 1, 0, "/1", 2, NULL, 0); /* 150 */
    fake_us = 1000000 + 200;
    b = tl_queued(tl, cn, 1, 2, 1, "/2", 2, NULL, 0); /* 200 */
    fake_us = 1000000 + 350;
    tl_tcp_up(tl, cn);
    fake_us = 1000000 + 1350;
    tl_tls_up(tl, cn, &info);
    fake_us = 1000000 + 1360;
    tl_sent(tl, a);
    tl_sent(tl, b);
    fake_us = 1000000 + 1660;
    tl_first_byte(tl, a);
    fake_us = 1000000 + 1700;
    tl_done(tl, a, TL_OK, 200, 1, 1, NULL, 0);
    tl_first_byte(tl, b);
    fake_us = 1000000 + 1800;
    tl_done(tl, b, TL_OK, 200, 1, 1, NULL, 0);

    tl_phases(tl, tl_request_at(tl, a), 0, &p);
    CHECK(tl_request_at(tl, a)->opened_conn &&
          !tl_request_at(tl, b)->opened_conn);
    CHECK(p.blocked == 0 && p.connect == 1200 && p.ssl == 1000);
    CHECK(p.send == 10 && p.wait == 300 && p.receive == 40);
    CHECK(p.total == 1550 && sums_up(&p));
    tl_phases(tl, tl_request_at(tl, b), 0, &p);
    /* Waited for the handshake the first request opened: blocked. */
    CHECK(p.blocked == 1150 && p.connect == -1 && p.ssl == -1);
    CHECK(p.send == 10 && p.wait == 340 && p.receive == 100);
    CHECK(p.total == 1600 && sums_up(&p));
    tl_free(tl);
}

static void
test_phases_of_requests_cut_short(void)
{
    struct timeline *tl = start(3);
    struct tl_phases p;
    uint32_t cn, a, b;

    cn = tl_connect(tl, 0, 1, "x");
    fake_us += 100;
    a = tl_queued(tl, cn, 0, 1, 0, "/1", 2, NULL, 0);
    b = tl_queued(tl, cn, 1, 2, 1, "/2", 2, NULL, 0);
    fake_us += 400;
    tl_lost(tl, a, "connect refused"); /* never up, never sent */
    tl_phases(tl, tl_request_at(tl, a), 0, &p);
    CHECK(p.connect == 400 && p.ssl == 0 && p.send == 0 && p.wait == 0);
    CHECK(p.total == 400 && sums_up(&p));
    /* Still pending when the run ended at 900. */
    tl_phases(tl, tl_request_at(tl, b), 900, &p);
    CHECK(p.blocked == 800 && p.total == 800 && sums_up(&p));
    tl_free(tl);
}

/* libcurl binds a request to its connection only as it sends it: the
   record keeps the time it was handed over, and whether it opened its
   connection is judged at that time, not at the event's. */
static void
test_queued_since_submit(void)
{
    struct timeline *tl = start(3);
    struct tl_tls_info info = {"", "", "", "", "", "", 0};
    struct tl_phases p;
    uint32_t cn, a, b, d;

    fake_us = 1000000 + 100; /* submitted at 100 */
    cn = tl_connect(tl, 0, 1, "x");
    fake_us = 1000000 + 300;
    tl_tcp_up(tl, cn);
    fake_us = 1000000 + 1300;
    tl_tls_up(tl, cn, &info);
    fake_us = 1000000 + 1310;
    a = tl_queued_since(tl, 50, cn, 0, 1, 0, "/1", 2, "GET /1", 6);
    CHECK(last.kind == TL_EV_QUEUED && last.t_us == 1310);
    CHECK(strcmp(last_bytes, "GET /1") == 0);
    CHECK(tl_request_at(tl, a)->queued_us == 50);
    CHECK(tl_request_at(tl, a)->opened_conn == 1);
    tl_sent(tl, a);
    fake_us = 1000000 + 1500;
    tl_done(tl, a, TL_OK, 200, 1, 1, NULL, 0);
    tl_phases(tl, tl_request_at(tl, a), 0, &p);
    CHECK(p.blocked == 50 && p.connect == 1200 && p.ssl == 1000);
    CHECK(p.send == 10 && p.wait == 190 && p.receive == 0);
    CHECK(p.total == 1450 && sums_up(&p));

    /* The next request on it, handed over before it was up: it did not
       open it (one was there first). */
    b = tl_queued_since(tl, 200, cn, 1, 2, 0, "/2", 2, NULL, 0);
    CHECK(tl_request_at(tl, b)->opened_conn == 0);
    CHECK(tl_request_at(tl, b)->queued_us == 200);

    /* The first request on a connection that was up before it was
       handed over did not open it either; a time in the future is now. */
    fake_us = 1000000 + 2000;
    cn = tl_connect(tl, 0, 0, "y");
    tl_tcp_up(tl, cn);
    fake_us = 1000000 + 2100;
    d = tl_queued_since(tl, 2050, cn, 2, 3, 0, "/3", 2, NULL, 0);
    CHECK(tl_request_at(tl, d)->opened_conn == 0);
    d = tl_queued_since(tl, 9999, cn, 2, 3, 0, "/3", 2, NULL, 0);
    CHECK(tl_request_at(tl, d)->queued_us == 2100);
    CHECK(tl_request_at(tl, d)->attempt == 2);
    tl_free(tl);
}

/* libcurl hands a finished transfer back after the fact: the record
   ends when its last byte came, the event is now; an end out of order
   is held between the first byte and now. */
static void
test_done_at_its_last_byte(void)
{
    struct timeline *tl = start(4);
    struct tl_phases p;
    uint32_t cn, a, b, d;

    cn = tl_connect(tl, 0, 0, "x");
    tl_tcp_up(tl, cn);
    a = tl_queued(tl, cn, 0, 1, 0, "/1", 2, NULL, 0);
    b = tl_queued(tl, cn, 1, 2, 1, "/2", 2, NULL, 0);
    d = tl_queued(tl, cn, 2, 3, 2, "/3", 2, NULL, 0);
    fake_us = 1000000 + 100;
    tl_sent(tl, a);
    tl_sent(tl, b);
    fake_us = 1000000 + 300;
    tl_first_byte(tl, a);
    fake_us = 1000000 + 1000;
    tl_done_at(tl, 700, a, TL_OK, 200, 5, 4, "HTTP/1.1 200 OK\r\n", 17);
    CHECK(last.kind == TL_EV_DONE && last.t_us == 1000);
    CHECK(strcmp(last_bytes, "HTTP/1.1 200 OK\r\n") == 0);
    CHECK(tl_request_at(tl, a)->end_us == 700);
    CHECK(tl_request_at(tl, a)->first_byte_us == 300);
    CHECK(tl_request_at(tl, a)->wire_bytes == 5 &&
          tl_request_at(tl, a)->body_bytes == 4);
    CHECK(tl_conn_at(tl, cn)->responses == 1);
    tl_phases(tl, tl_request_at(tl, a), 0, &p);
    CHECK(p.send == 100 && p.wait == 200 && p.receive == 400);
    CHECK(p.total == 700 && sums_up(&p));
    /* Before its first byte: at its first byte; none: end and first
       byte are the same moment, not before it was sent. */
    fake_us = 1000000 + 1200;
    tl_first_byte(tl, b);
    tl_done_at(tl, 50, b, TL_OK, 200, 1, 1, NULL, 0);
    CHECK(tl_request_at(tl, b)->end_us == 1200);
    tl_done_at(tl, 900, d, TL_FAILED, 404, 1, 1, NULL, 0);
    CHECK(tl_request_at(tl, d)->end_us == 900);
    CHECK(tl_request_at(tl, d)->first_byte_us == 900);
    d = tl_queued(tl, cn, 3, 5, 0, "/5", 2, NULL, 0);
    fake_us = 1000000 + 1250;
    tl_sent(tl, d);
    tl_done_at(tl, 1210, d, TL_OK, 200, 1, 1, NULL, 0);
    CHECK(tl_request_at(tl, d)->end_us == 1250);
    CHECK(tl_request_at(tl, d)->first_byte_us == 1250);
    /* After now: now. And it ends once. */
    d = tl_queued(tl, cn, 3, 4, 0, "/4", 2, NULL, 0);
    tl_done_at(tl, 5000, d, TL_OK, 200, 1, 1, NULL, 0);
    CHECK(tl_request_at(tl, d)->end_us == 1250);
    n_seen = 0;
    tl_done_at(tl, 1100, d, TL_OK, 200, 1, 1, NULL, 0);
    CHECK(n_seen == 0 && tl_request_at(tl, d)->end_us == 1250);
    tl_free(tl);
}

/* Any order and any gaps of events: phases never negative, and they add
   up to the total. */
static void
test_phases_always_add_up(void)
{
    struct tl_tls_info info = {"", "", "", "", "", "", 0};
    int i, bad = 0;

    for (i = 0; i < 2000; i++) {
        struct timeline *tl = start(1);
        const struct tl_request *rec;
        struct tl_phases p;
        uint32_t cn, r;
        int tls = (int)(rnd() & 1);
        unsigned steps = (unsigned)(rnd() % 64);

        cn = tl_connect(tl, 0, tls, "x");
        fake_us += (int64_t)(rnd() % 1000);
        r = tl_queued(tl, cn, 0, 1, 0, "/1", 2, NULL, 0);
        if (steps & 1) {
            fake_us += (int64_t)(rnd() % 1000);
            tl_tcp_up(tl, cn);
        }
        if (steps & 2) {
            fake_us += (int64_t)(rnd() % 1000);
            tl_tls_up(tl, cn, &info);
        }
        if (steps & 4) {
            fake_us += (int64_t)(rnd() % 1000);
            tl_sent(tl, r);
        }
        if (steps & 8) {
            fake_us += (int64_t)(rnd() % 1000);
            tl_first_byte(tl, r);
        }
        fake_us += (int64_t)(rnd() % 1000);
        if ((steps & 16) && (rnd() & 1))
            tl_done(tl, r, TL_OK, 200, 1, 1, NULL, 0);
        else if (steps & 16) /* told late, any time: held in order */
            tl_done_at(tl, (int64_t)(rnd() % 6000), r, TL_OK, 200, 1, 1, NULL,
                       0);
        else if (steps & 32)
            tl_lost(tl, r, "x");
        rec = tl_request_at(tl, r);
        tl_phases(tl, rec, tl_now(tl), &p);
        if (!sums_up(&p) ||
            p.total != (rec->end_us >= 0 ? rec->end_us : tl_now(tl)) -
                           rec->queued_us ||
            (rec->end_us >= 0 &&
             (rec->end_us < rec->first_byte_us || rec->end_us > tl_now(tl) ||
              (rec->first_byte_us >= 0 && rec->first_byte_us < rec->sent_us))))
            bad++;
        tl_free(tl);
    }
    CHECKF(bad == 0, "%d of 2000", bad);
}

/* Requests written as TLS early data leave before the handshake ends:
   the events say how many and how large, then the verdict; their sent
   time is when they left, and their phases still add up (the send phase
   ends where the connection became ready). */
static void
test_early_data(void)
{
    struct timeline *tl = start(4);
    struct tl_tls_info info = {"TLSv1.3", "", "", "http/1.1", "", "", 1};
    struct tl_phases p;
    const struct tl_request *r;
    uint32_t cn, rn;

    cn = tl_connect(tl, 0, 1, "127.0.0.1:8443");
    rn = tl_queued(tl, cn, 0, 1, 0, "/p/1", 4, "GET /p/1", 8);
    fake_us += 300;
    tl_tcp_up(tl, cn);
    tl_early(tl, cn, 1, 90);
    CHECK(last.kind == TL_EV_EARLY && last.number == 1 && last.size == 90);
    CHECK(last.conn == tl_conn_at(tl, cn));
    tl_sent(tl, rn);
    fake_us += 300;
    tl_tls_up(tl, cn, &info);
    tl_early_verdict(tl, cn, 1, 1);
    CHECK(last.kind == TL_EV_ACCEPTED && last.number == 1);
    tl_early_verdict(tl, cn, 0, 3);
    CHECK(last.kind == TL_EV_REJECTED && last.number == 3);
    fake_us += 10;
    tl_sent(tl, rn); /* written again after a rejection: keeps the first */
    tl_first_byte(tl, rn);
    fake_us += 20;
    tl_done(tl, rn, TL_OK, 200, 100, 10, "", 0);
    r = tl_request_at(tl, rn);
    CHECK(r->sent_us == 300);
    tl_phases(tl, r, 1000, &p);
    CHECK(p.connect == 600 && p.send == 0 && p.wait == 10 && p.receive == 20);
    CHECK(p.blocked + p.connect + p.send + p.wait + p.receive == p.total);
    tl_free(tl);
}

int
main(void)
{
    RUN(test_one_request_on_a_new_connection);
    RUN(test_attempts_counted_per_job);
    RUN(test_records_stay_put_across_chunks);
    RUN(test_events_naming_no_record);
    RUN(test_a_request_ends_once);
    RUN(test_phases_of_a_pipelined_pair);
    RUN(test_phases_of_requests_cut_short);
    RUN(test_queued_since_submit);
    RUN(test_done_at_its_last_byte);
    RUN(test_phases_always_add_up);
    RUN(test_early_data);
    return CHECK_REPORT();
}
