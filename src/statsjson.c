/*
 * statsjson - the summary as JSON; see include/statsjson.h for every
 * field. Reads the timeline's records once per figure after the run;
 * nothing here runs during it.
 */
#include "statsjson.h"

#include <stddef.h>
#include <stdlib.h>

#include "har.h"
#include "jsonw.h"
#include "timeline.h"

/* The latency object's phases: HAR's, then the whole request. */
static const struct har_phase total = {"total",
                                       offsetof(struct tl_phases, total)};

static const struct har_phase *
phase_at(size_t i)
{
    return i < HAR_N_PHASES ? &har_phases[i] : &total;
}

static int
answered(const struct tl_request *r)
{
    return r->outcome == TL_OK || r->outcome == TL_FAILED;
}

static int
by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* The value at rank ceil(p/100 * n) of v[0..n), sorted. */
static int64_t
rank(const int64_t *v, size_t n, unsigned p)
{
    size_t r = (n * p + 99) / 100;

    return v[r ? r - 1 : 0];
}

/* {"n":..,"p50":..,"p90":..,"p99":..,"max":..} of one phase over the
   answered requests, sorted in v (room for every request). */
static void
write_phase(struct out *o, const struct timeline *tl,
            const struct har_phase *ph, int64_t *v)
{
    uint32_t i, count = tl_request_count(tl);
    static const unsigned ps[] = {50, 90, 99};
    static const char *const keys[] = {",\"p50\":", ",\"p90\":", ",\"p99\":"};
    size_t n = 0, k;

    for (i = 0; i < count; i++) {
        const struct tl_request *r = tl_request_at(tl, i);
        struct tl_phases p;
        int64_t x;

        if (!answered(r))
            continue;
        tl_phases(tl, r, r->end_us, &p);
        x = har_phase_us(&p, ph);
        if (x >= 0)
            v[n++] = x;
    }
    qsort(v, n, sizeof *v, by_value);
    JW_LIT(o, "{\"n\":");
    jw_u64(o, n);
    for (k = 0; k < 3; k++) {
        jw_raw(o, keys[k]);
        if (n)
            jw_ms(o, rank(v, n, ps[k]));
        else
            JW_LIT(o, "null");
    }
    JW_LIT(o, ",\"max\":");
    if (n)
        jw_ms(o, v[n - 1]);
    else
        JW_LIT(o, "null");
    JW_LIT(o, "}");
}

/* "latency_ms":{...}, or null without memory for the copy. */
static int
write_latency(struct out *o, const struct timeline *tl)
{
    uint32_t count = tl_request_count(tl);
    int64_t *v = malloc((count ? count : 1) * sizeof *v);
    size_t i;

    JW_LIT(o, ",\"latency_ms\":");
    if (!v) {
        JW_LIT(o, "null");
        return -1;
    }
    for (i = 0; i <= HAR_N_PHASES; i++) {
        jw_raw(o, i ? ",\"" : "{\"");
        jw_raw(o, phase_at(i)->name);
        JW_LIT(o, "\":");
        write_phase(o, tl, phase_at(i), v);
    }
    JW_LIT(o, "}");
    free(v);
    return 0;
}

/* "pipeline_depth":[...]: requests by their position when queued. */
static int
write_depths(struct out *o, const struct timeline *tl)
{
    uint32_t i, count = tl_request_count(tl);
    unsigned deepest = 0, d;
    uint32_t *n;

    for (i = 0; i < count; i++)
        if (tl_request_at(tl, i)->pipeline_pos > deepest)
            deepest = tl_request_at(tl, i)->pipeline_pos;
    JW_LIT(o, ",\"pipeline_depth\":");
    n = calloc(deepest + 1, sizeof *n);
    if (!n) {
        JW_LIT(o, "null");
        return -1;
    }
    for (i = 0; i < count; i++)
        n[tl_request_at(tl, i)->pipeline_pos]++;
    JW_LIT(o, "[");
    for (d = 0; count && d <= deepest; d++) {
        if (d)
            JW_LIT(o, ",");
        jw_u64(o, n[d]);
    }
    JW_LIT(o, "]");
    free(n);
    return 0;
}

/* A count per second of elapsed_ms, or null. */
static void
write_rate(struct out *o, const char *key, double count, int64_t elapsed_ms)
{
    jw_raw(o, key);
    if (elapsed_ms > 0)
        jw_real(o, count * 1000.0 / (double)elapsed_ms);
    else
        JW_LIT(o, "null");
}

static int
write_timeline(struct out *o, const struct fetch_stats *st,
               const struct timeline *tl)
{
    uint32_t i, n_conns = tl_conn_count(tl), n_reqs = tl_request_count(tl);
    uint64_t n_answered = 0, full = 0, resumed = 0;
    int rc;

    for (i = 0; i < n_reqs; i++)
        n_answered += answered(tl_request_at(tl, i)) != 0;
    for (i = 0; i < n_conns; i++) {
        const struct tl_conn *c = tl_conn_at(tl, i);

        if (c->tls && c->tls_us >= 0) {
            resumed += c->resumed != 0;
            full += !c->resumed;
        }
    }
    JW_LIT(o, ",\"timeline\":{\"requests\":");
    jw_u64(o, n_reqs);
    JW_LIT(o, ",\"answered\":");
    jw_u64(o, n_answered);
    JW_LIT(o, ",\"connections\":");
    jw_u64(o, n_conns);
    JW_LIT(o, ",\"handshakes_full\":");
    jw_u64(o, full);
    JW_LIT(o, ",\"handshakes_resumed\":");
    jw_u64(o, resumed);
    write_rate(o, ",\"requests_per_s\":", n_reqs, st->elapsed_ms);
    write_rate(o, ",\"ids_per_s\":", (double)st->ok + st->failed,
               st->elapsed_ms);
    write_rate(o, ",\"bytes_per_s\":", (double)st->bytes_rx, st->elapsed_ms);
    rc = write_latency(o, tl);
    rc |= write_depths(o, tl);
    JW_LIT(o, "}");
    return rc;
}

/* "key":v for each of the summary's counters. */
static void
write_count(struct out *o, const char *key, uint64_t v)
{
    jw_raw(o, key);
    jw_u64(o, v);
}

int
statsjson_write(struct out *o, const struct fetch_config *cfg,
                const struct fetch_stats *st, const struct timeline *tl)
{
    int rc = 0;

    JW_LIT(o, "{\"elapsed_ms\":");
    jw_i64(o, st->elapsed_ms);
    write_count(o, ",\"ok\":", st->ok);
    write_count(o, ",\"failed\":", st->failed);
    write_count(o, ",\"bytes_received\":", st->bytes_rx);
    write_count(o, ",\"bytes_decoded\":", st->bytes_decoded);
    write_count(o, ",\"connections\":", st->conns_opened);
    jw_raw(o, cfg->tmpl.tls ? ",\"tls\":true" : ",\"tls\":false");
    write_count(o, ",\"handshakes_full\":", st->handshakes_full);
    write_count(o, ",\"handshakes_resumed\":", st->handshakes_resumed);
    write_count(o, ",\"retries\":", st->retries);
    if (cfg->early_data) {
        write_count(o, ",\"early_sent\":", st->early_sent);
        write_count(o, ",\"early_accepted\":", st->early_accepted);
        write_count(o, ",\"early_resent\":", st->early_resent);
        write_count(o, ",\"too_early\":", st->too_early);
    }
    write_count(o, ",\"redirects\":", st->redirects);
    write_count(o, ",\"pauses\":", st->pauses);
    write_count(o, ",\"deepest_pipeline\":", st->deepest_pipeline);
    write_count(o, ",\"server_limit\":", st->learned_max_requests);
    if (tl)
        rc = write_timeline(o, st, tl);
    JW_LIT(o, "}\n");
    return rc < 0 ? -1 : 0;
}
