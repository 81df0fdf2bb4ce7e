/*
 * inflate_extract - the extractor's CPU target: "Inflate + extract CPU at most
 * 1.5x the cost of inflating alone (zlib's own speed is the floor): the
 * extractor must not be the bottleneck."
 *
 * Loads the lab's gzip bodies (DIR/www/api/v2/pokemon/{id}/index.json.gz,
 * and index.json beside them) for the ids of DIR/names.tsv into memory,
 * then, for REPS repetitions after WARMUP ones, times each case with
 * CLOCK_PROCESS_CPUTIME_ID (one thread: the CPU this process used, not
 * the time others took from it):
 *
 *   a   zlib alone: one z_stream (inflateInit2 with 15+16 once,
 *       inflateReset per body, as the decoder does), the body fed in
 *       PIECE-byte pieces, inflated into a fixed ZOUT-byte buffer
 *       (16 KiB) again and again, output discarded: the floor.
 *   a8  the same into DECODE_OUT_CAP pieces of output (128 KiB), the size
 *       the project's decoder uses: separates the output size from the
 *       wrapper's own cost in b / a.
 *   r   zlib's raw inflate over the deflate data alone (the gzip
 *       header and trailer skipped, no check value computed), into
 *       DECODE_OUT_CAP pieces: inflate's own work, under any gzip
 *       decoder built on zlib.
 *   b   the project's decoder alone (src/decode_zlib.c): decode_begin,
 *       decode_feed per piece until DECODE_AGAIN, decode_finish; output
 *       discarded (counted).
 *   c   decoder + jfield for KEY, chained exactly as src/conn.c's
 *       start_body / body_bytes / complete_response do; the value must
 *       equal names.tsv's name, else exit 1.
 *   d   jfield alone over the inflated bodies (index.json), fed in
 *       DECODE_OUT_CAP pieces (what the decoder hands it in c); checked
 *       the same way.
 *   k0  gzip's CRC-32 alone over index.json in DECODE_OUT_CAP pieces (the
 *   k1  decoder's chunks) by each path of src/crc.c: k0 zlib's crc32(),
 *   k2  k1 PCLMULQDQ, k2 VPCLMULQDQ (those this CPU has); each must match
 *       the CRC-32 in the body's gzip trailer. The differences are what
 *       each fast path saves on the job.
 *
 * a, a8, r and b check that every body inflated completely to exactly the
 * size of its index.json. Inside each repetition the cases take turns
 * over batches of BATCH bodies (16; 0: all at once), in an order that
 * rotates per batch, and a case's time is the sum over its batches: a
 * burst of load from other processes hits all cases alike instead of the
 * one that ran then. Prints a Markdown table and the ratios on stdout.
 *
 *   inflate_extract [--lab DIR] [--reps N] [--warmup N] [--piece BYTES]
 *                   [--zout BYTES] [--key KEY] [--batch N] [--limit N]
 *                   [--only LIST]
 *
 * --limit N uses the first N ids of names.tsv; --only a,c runs only those
 * cases (for perf record / callgrind on one of them).
 */
#include "crc.h"
#include "decode.h"
#include "jfield.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

struct body {
    long id;
    char name[128];
    size_t name_len;
    unsigned char *gz;
    size_t gz_len;
    unsigned char *json;
    size_t json_len;
};

enum { C_A, C_A8, C_R, C_B, C_C, C_D, C_K0, C_K1, C_K2, N_CASES };

static const char *const case_tag[N_CASES] = {"a", "a8", "r", "b", "c",
                                              "d", "k0", "k1", "k2"};
static const char *const path_name[] = {"zlib's crc32()", "PCLMULQDQ",
                                        "VPCLMULQDQ"};

static struct body *bodies;
static size_t n_bodies;
static size_t piece = 16384;
static size_t zout_cap = 16384;
static const char *key = "name";

static struct decode_arenas arenas;
static struct decoder dec;
static struct jf_extractor jf;
static unsigned char zout[1 << 20];

static void
die(const char *what)
{
    fprintf(stderr, "inflate_extract: %s\n", what);
    exit(1);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    p = malloc((size_t)n + 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void
load(const char *lab, size_t limit)
{
    char path[4096], line[512];
    size_t cap = 0;
    FILE *f;

    snprintf(path, sizeof path, "%s/names.tsv", lab);
    f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "inflate_extract: %s: %s (run tests/lab/data %s)\n",
                path, strerror(errno), lab);
        exit(1);
    }
    while (fgets(line, sizeof line, f) && n_bodies < limit) {
        struct body *b;
        char *tab, *nl;

        tab = strchr(line, '\t');
        if (!tab)
            continue;
        if (n_bodies == cap) {
            cap = cap ? cap * 2 : 1024;
            bodies = realloc(bodies, cap * sizeof *bodies);
            if (!bodies)
                die("out of memory");
        }
        b = &bodies[n_bodies];
        memset(b, 0, sizeof *b);
        b->id = strtol(line, NULL, 10);
        nl = strchr(tab + 1, '\n');
        if (nl)
            *nl = '\0';
        b->name_len = strlen(tab + 1);
        if (b->name_len >= sizeof b->name)
            die("name too long in names.tsv");
        memcpy(b->name, tab + 1, b->name_len);
        snprintf(path, sizeof path, "%s/www/api/v2/pokemon/%ld/index.json.gz",
                 lab, b->id);
        b->gz = slurp(path, &b->gz_len);
        snprintf(path, sizeof path, "%s/www/api/v2/pokemon/%ld/index.json",
                 lab, b->id);
        b->json = slurp(path, &b->json_len);
        if (!b->gz || !b->json) {
            fprintf(stderr, "inflate_extract: %s(.gz): cannot read\n", path);
            exit(1);
        }
        n_bodies++;
    }
    fclose(f);
    if (!n_bodies)
        die("no bodies");
}

static double
cpu_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
fail_body(const char *what, const struct body *b)
{
    fprintf(stderr, "inflate_extract: id %ld: %s\n", b->id, what);
    exit(1);
}

/* Where body b's deflate data starts (RFC 1952's header skipped). */
static size_t
deflate_start(const struct body *b)
{
    const unsigned char *g = b->gz;
    size_t at = 10;

    if (b->gz_len < 18 || g[0] != 0x1f || g[1] != 0x8b || g[2] != 8)
        fail_body("not a gzip member", b);
    if (g[3] & 0x04)
        at += 2 + (size_t)(g[10] | g[11] << 8);
    for (unsigned flag = 0x08; flag <= 0x10; flag <<= 1)
        if (g[3] & flag)
            while (at < b->gz_len && g[at++] != 0)
                ;
    if (g[3] & 0x02)
        at += 2;
    if (at + 8 > b->gz_len)
        fail_body("gzip header runs past the body", b);
    return at;
}

/*
 * a / a8: plain zlib over the whole gzip member (windowBits 31, zlib
 * checks the CRC-32); r (raw): only the deflate data between header and
 * trailer (windowBits -15, no check value). One reused stream each,
 * output into zout[0 .. cap), discarded.
 */
static uint64_t
run_zlib(int raw, size_t cap, size_t lo, size_t hi)
{
    static z_stream streams[2];
    static int ready[2];
    z_stream *zs = &streams[raw];
    uint64_t total = 0;
    size_t i, off, n, end;
    int r;

    if (!ready[raw]) {
        if (inflateInit2(zs, raw ? -15 : 15 + 16) != Z_OK)
            die("inflateInit2");
        ready[raw] = 1;
    }
    for (i = lo; i < hi; i++) {
        const struct body *b = &bodies[i];

        if (inflateReset(zs) != Z_OK)
            die("inflateReset");
        off = raw ? deflate_start(b) : 0;
        end = raw ? b->gz_len - 8 : b->gz_len;
        r = Z_OK;
        for (; off < end && r != Z_STREAM_END; off += n) {
            n = end - off < piece ? end - off : piece;
            zs->next_in = b->gz + off;
            zs->avail_in = (uInt)n;
            do {
                zs->next_out = zout;
                zs->avail_out = (uInt)cap;
                r = inflate(zs, Z_NO_FLUSH);
                if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
                    fail_body("zlib: inflate error", b);
                total += cap - zs->avail_out;
            } while (zs->avail_out == 0 && r != Z_STREAM_END);
        }
        if (r != Z_STREAM_END || zs->avail_in != 0 ||
            zs->total_out != b->json_len)
            fail_body("zlib: output is not index.json's size", b);
    }
    return total;
}

/* b and c: the decoder over one body in pieces; with extract, into jf as
   src/conn.c does. Returns the bytes decoded. */
static uint64_t
decode_body(const struct body *b, int extract)
{
    uint64_t total = 0;
    size_t off, n;
    const char *in, *out;
    size_t in_len, out_len;
    enum decode_rc dr = DECODE_AGAIN;
    int failed = 0;

    /* start_body */
    if (decode_begin(&dec, "gzip", 4, 64ull << 20) != DECODE_AGAIN)
        fail_body("decode_begin", b);
    if (extract)
        (void)jf_begin(&jf, key, strlen(key));
    /* body_bytes, once per piece, until a failure stops the feeding */
    for (off = 0; off < b->gz_len && !failed; off += n) {
        n = b->gz_len - off < piece ? b->gz_len - off : piece;
        in = (const char *)b->gz + off;
        in_len = n;
        while ((dr = decode_feed(&dec, &in, &in_len, &out, &out_len)) ==
               DECODE_OUTPUT) {
            total += out_len;
            if (extract && jf_feed(&jf, out, out_len) != JF_AGAIN) {
                failed = 1;
                break;
            }
        }
        if (!failed && dr != DECODE_AGAIN)
            failed = 1;
    }
    /* complete_response */
    if (decode_finish(&dec) != DECODE_END)
        fail_body("decoder: stream not complete", b);
    if (extract) {
        char value[JF_MAX_VALUE];
        size_t len = 0;
        enum jf_rc jr = jf_finish(&jf, value, sizeof value, &len);

        if (jr != JF_OK)
            fail_body(jf_strerror(jr), b);
        if (len != b->name_len || memcmp(value, b->name, len) != 0)
            fail_body("extracted name differs from names.tsv", b);
    } else if (failed) {
        fail_body(decode_strerror(dr), b);
    }
    if (dec.produced != b->json_len)
        fail_body("decoder: output is not index.json's size", b);
    return total;
}

static uint64_t
run_decode(int extract, size_t lo, size_t hi)
{
    uint64_t total = 0;
    size_t i;

    for (i = lo; i < hi; i++)
        total += decode_body(&bodies[i], extract);
    return total;
}

/* d: jfield alone over index.json in DECODE_OUT_CAP pieces. */
static uint64_t
run_jfield(size_t lo, size_t hi)
{
    uint64_t total = 0;
    char value[JF_MAX_VALUE];
    size_t i, off, n, len;
    enum jf_rc jr;

    for (i = lo; i < hi; i++) {
        const struct body *b = &bodies[i];

        (void)jf_begin(&jf, key, strlen(key));
        for (off = 0; off < b->json_len; off += n) {
            n = b->json_len - off < DECODE_OUT_CAP ? b->json_len - off
                                                   : DECODE_OUT_CAP;
            if (jf_feed(&jf, (const char *)b->json + off, n) != JF_AGAIN)
                break;
        }
        jr = jf_finish(&jf, value, sizeof value, &len);
        if (jr != JF_OK)
            fail_body(jf_strerror(jr), b);
        if (len != b->name_len || memcmp(value, b->name, len) != 0)
            fail_body("jfield alone: name differs from names.tsv", b);
        total += b->json_len;
    }
    return total;
}

/* k0-k2: the CRC-32 by one path over index.json in the decoder's
   chunks, checked against the gzip trailer's. */
static uint64_t
run_crc(enum crc_path path, size_t lo, size_t hi)
{
    uint64_t total = 0;
    size_t i, off, n;

    for (i = lo; i < hi; i++) {
        const struct body *b = &bodies[i];
        const unsigned char *t = b->gz + b->gz_len - 8;
        uint32_t crc = 0;

        for (off = 0; off < b->json_len; off += n) {
            n = b->json_len - off < DECODE_OUT_CAP ? b->json_len - off
                                                   : DECODE_OUT_CAP;
            crc = crc_update_by(path, crc, b->json + off, n);
        }
        if (crc != ((uint32_t)t[0] | (uint32_t)t[1] << 8 |
                    (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24))
            fail_body("CRC-32 differs from the gzip trailer's", b);
        total += b->json_len;
    }
    return total;
}

/* Not inlined, so that callgrind --toggle-collect=run_case can count
   the timed work alone. */
static __attribute__((noinline)) uint64_t
run_case(int k, size_t lo, size_t hi)
{
    switch (k) {
    case C_A:
        return run_zlib(0, zout_cap, lo, hi);
    case C_A8:
        return run_zlib(0, DECODE_OUT_CAP, lo, hi);
    case C_R:
        return run_zlib(1, DECODE_OUT_CAP, lo, hi);
    case C_B:
        return run_decode(0, lo, hi);
    case C_C:
        return run_decode(1, lo, hi);
    case C_D:
        return run_jfield(lo, hi);
    default:
        return run_crc((enum crc_path)(k - C_K0), lo, hi);
    }
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double
median(const double *v, int n)
{
    double s[256];
    int i;

    for (i = 0; i < n; i++)
        s[i] = v[i];
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double
minv(const double *v, int n)
{
    double m = v[0];
    int i;

    for (i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

static double
maxv(const double *v, int n)
{
    double m = v[0];
    int i;

    for (i = 1; i < n; i++)
        if (v[i] > m)
            m = v[i];
    return m;
}

static size_t
size_arg(const char *s, const char *what)
{
    char *e;
    unsigned long long v = strtoull(s, &e, 10);

    if (*e || v == 0) {
        fprintf(stderr, "inflate_extract: bad %s: %s\n", what, s);
        exit(2);
    }
    return (size_t)v;
}

/* Median over reps of the per-repetition ratio t[x][r] / t[y][r]. */
static double
paired(double t[][256], int x, int y, int reps)
{
    double q[256];
    int r;

    for (r = 0; r < reps; r++)
        q[r] = t[x][r] / t[y][r];
    return median(q, reps);
}

int
main(int argc, char **argv)
{
    const char *lab = "build/lab";
    int reps = 7, warmup = 1, on[N_CASES] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    size_t limit = (size_t)-1, batch = 16, i;
    static double t[N_CASES][256];
    uint64_t out_bytes[N_CASES] = {0};
    uint64_t gz_total = 0, json_total = 0;
    double med[N_CASES];
    int k, r, a;

    for (a = 1; a < argc; a++) {
        const char *o = argv[a];

        if (a + 1 >= argc) {
            fprintf(stderr, "inflate_extract: %s needs a value\n", o);
            return 2;
        }
        if (!strcmp(o, "--lab"))
            lab = argv[++a];
        else if (!strcmp(o, "--reps"))
            reps = (int)size_arg(argv[++a], "--reps");
        else if (!strcmp(o, "--warmup"))
            warmup = atoi(argv[++a]);
        else if (!strcmp(o, "--piece"))
            piece = size_arg(argv[++a], "--piece");
        else if (!strcmp(o, "--zout"))
            zout_cap = size_arg(argv[++a], "--zout");
        else if (!strcmp(o, "--key"))
            key = argv[++a];
        else if (!strcmp(o, "--batch"))
            batch = (size_t)strtoull(argv[++a], NULL, 10);
        else if (!strcmp(o, "--limit"))
            limit = size_arg(argv[++a], "--limit");
        else if (!strcmp(o, "--only")) {
            const char *s = argv[++a];

            for (k = 0; k < N_CASES; k++) {
                const char *p = s;
                size_t l = strlen(case_tag[k]);

                on[k] = 0;
                while (*p) {
                    size_t w = strcspn(p, ",");

                    if (w == l && !strncmp(p, case_tag[k], l))
                        on[k] = 1;
                    p += w + (p[w] == ',');
                }
            }
        } else {
            fprintf(stderr, "inflate_extract: unknown option %s\n", o);
            return 2;
        }
    }
    if (reps > 256 || zout_cap > sizeof zout || zout_cap < 1024 ||
        piece > (1u << 30)) {
        fprintf(stderr, "inflate_extract: reps <= 256, 1024 <= zout <= "
                        "1 MiB, piece <= 1 GiB\n");
        return 2;
    }
    if (strlen(key) < 1 || strlen(key) > JF_MAX_KEY)
        die("bad --key");
    for (k = C_K0 + (int)crc_fastest() + 1; k < N_CASES; k++)
        on[k] = 0; /* a path this CPU does not have */

    load(lab, limit);
    for (i = 0; i < n_bodies; i++) {
        gz_total += bodies[i].gz_len;
        json_total += bodies[i].json_len;
    }
    if (decode_arenas_open(&arenas, 1) != 0 || decode_init(&dec, &arenas) != 0)
        die("decode_init");

    /* Each repetition: the bodies in batches; every case over a batch,
       in an order that rotates from batch to batch; each case's time the
       sum over its batches. A burst of interference then lands on all
       cases alike instead of on whichever ran at that moment. */
    for (r = -warmup; r < reps; r++) {
        double sum[N_CASES] = {0};
        uint64_t got[N_CASES] = {0};
        size_t lo, hi, nb = 0;

        for (lo = 0; lo < n_bodies; lo = hi, nb++) {
            hi = batch && n_bodies - lo > batch ? lo + batch : n_bodies;
            for (a = 0; a < N_CASES; a++) {
                double t0, t1;

                k = (int)((nb + (size_t)a) % N_CASES);
                if (!on[k])
                    continue;
                t0 = cpu_now();
                got[k] += run_case(k, lo, hi);
                t1 = cpu_now();
                sum[k] += t1 - t0;
            }
        }
        for (k = 0; k < N_CASES; k++) {
            if (!on[k])
                continue;
            if (got[k] != json_total)
                die("a case produced the wrong number of bytes");
            out_bytes[k] = got[k];
            if (r >= 0)
                t[k][r] = sum[k];
        }
    }

    printf("zlib: %s (zlibVersion(); built against %s)\n", zlibVersion(),
           ZLIB_VERSION);
    printf("bodies: %zu (ids from %s/names.tsv), gzip %llu bytes, "
           "inflated %llu bytes (%.1fx); compressed input fed in %zu-byte "
           "pieces; %d repetitions after %d warm-up, each over batches of %zu "
           "bodies taking turns; every extracted name matched names.tsv\n\n",
           n_bodies, lab, (unsigned long long)gz_total,
           (unsigned long long)json_total,
           (double)json_total / (double)gz_total, piece, reps, warmup,
           batch ? batch : n_bodies);
    printf("| case | what | bytes in | bytes out | CPU ms (median) | "
           "min-max ms | GB/s of inflated output |\n");
    printf("|---|---|---:|---:|---:|---:|---:|\n");
    for (k = 0; k < N_CASES; k++) {
        char w[160];

        if (!on[k])
            continue;
        med[k] = median(t[k], reps);
        switch (k) {
        case C_A:
            snprintf(w, sizeof w,
                     "zlib alone, %zu KiB output buffer (the floor)",
                     zout_cap / 1024);
            break;
        case C_A8:
            snprintf(w, sizeof w,
                     "zlib alone, %d KiB output buffer (= DECODE_OUT_CAP)",
                     DECODE_OUT_CAP / 1024);
            break;
        case C_R:
            snprintf(w, sizeof w,
                     "zlib raw inflate of the deflate data, no check value, "
                     "%d KiB output", DECODE_OUT_CAP / 1024);
            break;
        case C_B:
            snprintf(w, sizeof w,
                     "decoder alone (decode_zlib.c), output discarded");
            break;
        case C_C:
            snprintf(w, sizeof w,
                     "decoder + jfield \"%s\", as src/conn.c chains them",
                     key);
            break;
        case C_D:
            snprintf(w, sizeof w,
                     "jfield \"%s\" alone over index.json, %d KiB pieces",
                     key, DECODE_OUT_CAP / 1024);
            break;
        default:
            snprintf(w, sizeof w, "CRC-32 alone by %s, %d KiB pieces",
                     path_name[k - C_K0], DECODE_OUT_CAP / 1024);
            break;
        }
        printf("| (%s) | %s | %llu | %llu | %.1f | %.1f-%.1f | %.3f |\n",
               case_tag[k], w,
               (unsigned long long)(k >= C_D ? json_total : gz_total),
               (unsigned long long)out_bytes[k], med[k] * 1e3,
               minv(t[k], reps) * 1e3, maxv(t[k], reps) * 1e3,
               (double)json_total / med[k] / 1e9);
    }
    printf("\n");
    if (on[C_A] && on[C_C])
        printf("- (c)/(a) = %.2fx (target <= 1.5x: %s); median of the "
               "per-repetition ratios: %.2fx\n",
               med[C_C] / med[C_A],
               med[C_C] / med[C_A] <= 1.5 ? "met" : "MISSED",
               paired(t, C_C, C_A, reps));
    if (on[C_A] && on[C_B])
        printf("- (b)/(a) = %.2fx (the decoder's own cost over plain zlib; "
               "per-repetition median %.2fx)\n",
               med[C_B] / med[C_A], paired(t, C_B, C_A, reps));
    if (on[C_A8] && on[C_B])
        printf("- (b)/(a8) = %.2fx (same output size: the wrapper "
               "alone); (a8)/(a) = %.2fx (%d vs %zu KiB output)\n",
               med[C_B] / med[C_A8], med[C_A8] / med[C_A],
               DECODE_OUT_CAP / 1024, zout_cap / 1024);
    if (on[C_R] && on[C_B])
        printf("- (b)/(r) = %.2fx: what the decoder adds to inflate's own "
               "work (gzip framing, CRC-32 by %s, the wrapper); (a8)/(r) = "
               "%.2fx: zlib's check value\n",
               med[C_B] / med[C_R],
               path_name[crc_fastest()], on[C_A8] ? med[C_A8] / med[C_R] : 0.0);
    if (on[C_R] && on[C_D])
        printf("- (r)+(d) = %.1f ms: inflate's and the extractor's own work, "
               "the floor of (c) with zlib and this extractor\n",
               (med[C_R] + med[C_D]) * 1e3);
    if (on[C_B] && on[C_C] && on[C_D])
        printf("- (c)-(b) = %.1f ms, jfield's cost when chained, vs (d) = "
               "%.1f ms alone (%.2fx)\n",
               (med[C_C] - med[C_B]) * 1e3, med[C_D] * 1e3,
               (med[C_C] - med[C_B]) / med[C_D]);
    if (on[C_A] && on[C_D])
        printf("- (a)+(d) = %.1f ms, (a+d)/(a) = %.2fx: the target if "
               "the extractor ran at its stand-alone speed\n",
               (med[C_A] + med[C_D]) * 1e3,
               (med[C_A] + med[C_D]) / med[C_A]);
    for (k = C_K1; k < N_CASES; k++)
        if (on[k] && on[k - 1])
            printf("- (%s)-(%s) = %.1f ms: what %s saves over %s on these "
                   "bodies\n", case_tag[k - 1], case_tag[k],
                   (med[k - 1] - med[k]) * 1e3, path_name[k - C_K0],
                   path_name[k - 1 - C_K0]);
    decode_close(&dec);
    decode_arenas_close(&arenas);
    return 0;
}
