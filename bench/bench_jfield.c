/*
 * bench_jfield - throughput of the streaming extractor against jsmn over
 * the whole body, on real files. Not run by the tests.
 *
 *   bench_jfield [-n ROUNDS] [-r REPS] [-k KEY] [-c CHUNK] FILE...
 *
 * Reads every FILE fully, then for ROUNDS rounds runs jf_begin, jf_feed
 * (in CHUNK-byte pieces, default: the whole body at once) and jf_finish
 * over each, and separately jsmn_parse over each whole body with a large
 * malloc'd token array (strict, parent links: what jfield would cost if
 * it tokenized everything). Both are timed REPS times (default 5),
 * alternating; prints the best and median MB/s (10^6 bytes per second).
 *
 * Build and run on the lab's bodies (bench/README.md), e.g.:
 *   make build/bench/bench_jfield
 *   build/bench/bench_jfield -c 8192 build/lab/www/api/v2/pokemon/1?/index.json
 */
#include "jfield.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#define MAX_REPS 99

struct body {
    char *data;
    size_t len;
};

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static int
read_file(const char *path, struct body *b)
{
    FILE *f = fopen(path, "rb");
    long n;

    if (!f)
        return -1;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    b->len = (size_t)n;
    b->data = malloc(b->len ? b->len : 1);
    if (!b->data || fread(b->data, 1, b->len, f) != b->len) {
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

int
main(int argc, char **argv)
{
    struct jf_extractor x;
    char out[JF_MAX_VALUE];
    struct body *bodies;
    const char *key = "name";
    size_t n_bodies = 0, total = 0, chunk = 0, i, off, out_len, n;
    unsigned n_tok = 1u << 20;
    jsmntok_t *tok;
    jsmn_parser jp;
    long rounds = 20, r;
    unsigned long n_ok = 0, sink = 0;
    double t0, t_jf[MAX_REPS], t_jsmn[MAX_REPS], mb;
    int a, rc, rep, reps = 5;

    for (a = 1; a < argc && argv[a][0] == '-'; a += 2) {
        if (a + 1 >= argc)
            goto usage;
        if (strcmp(argv[a], "-n") == 0)
            rounds = atol(argv[a + 1]);
        else if (strcmp(argv[a], "-k") == 0)
            key = argv[a + 1];
        else if (strcmp(argv[a], "-r") == 0)
            reps = atoi(argv[a + 1]);
        else if (strcmp(argv[a], "-c") == 0)
            chunk = (size_t)atol(argv[a + 1]);
        else
            goto usage;
    }
    if (a >= argc || rounds < 1 || reps < 1 || reps > MAX_REPS)
        goto usage;
    bodies = calloc((size_t)(argc - a), sizeof *bodies);
    tok = malloc(n_tok * sizeof *tok);
    if (!bodies || !tok)
        return 1;
    for (; a < argc; a++) {
        if (read_file(argv[a], &bodies[n_bodies]) != 0) {
            perror(argv[a]);
            return 1;
        }
        total += bodies[n_bodies++].len;
    }

    /*
     * The two alternate, REPS times each, so that a noisy neighbour hurts
     * both alike; the best and the median of the REPS are reported.
     */
    for (rep = 0; rep < reps; rep++) {
        t0 = now();
        for (r = 0; r < rounds; r++) {
            for (i = 0; i < n_bodies; i++) {
                const struct body *b = &bodies[i];

                jf_begin(&x, key, strlen(key));
                n = chunk ? chunk : b->len;
                for (off = 0; off < b->len; off += n)
                    jf_feed(&x, b->data + off,
                            b->len - off < n ? b->len - off : n);
                if (jf_finish(&x, out, sizeof out, &out_len) == JF_OK) {
                    n_ok++;
                    sink += out_len;
                }
            }
        }
        t_jf[rep] = now() - t0;

        t0 = now();
        for (r = 0; r < rounds; r++) {
            for (i = 0; i < n_bodies; i++) {
                jsmn_init(&jp);
                rc = jsmn_parse(&jp, bodies[i].data, bodies[i].len, tok,
                                n_tok);
                if (rc > 0)
                    sink += (unsigned long)rc;
            }
        }
        t_jsmn[rep] = now() - t0;
    }
    qsort(t_jf, (size_t)reps, sizeof t_jf[0], cmp_double);
    qsort(t_jsmn, (size_t)reps, sizeof t_jsmn[0], cmp_double);

    mb = (double)total * (double)rounds / 1e6;
    printf("%zu files, %zu bytes, %ld rounds x %d reps, key \"%s\", "
           "chunk %zu\n",
           n_bodies, total, rounds, reps, key, chunk);
    printf("jfield: best %7.1f MB/s, median %7.1f MB/s  (%lu/%lu ok)\n",
           mb / t_jf[0], mb / t_jf[reps / 2], n_ok,
           (unsigned long)(n_bodies * (size_t)rounds * (size_t)reps));
    printf("jsmn:   best %7.1f MB/s, median %7.1f MB/s  (whole body, %u "
           "tokens)\n",
           mb / t_jsmn[0], mb / t_jsmn[reps / 2], n_tok);
    printf("speedup %.2fx best, %.2fx median (sink %lu)\n",
           t_jsmn[0] / t_jf[0], t_jsmn[reps / 2] / t_jf[reps / 2], sink);
    return 0;

usage:
    fprintf(stderr, "usage: bench_jfield [-n ROUNDS] [-r REPS] [-k KEY] "
                    "[-c CHUNK] FILE...\n");
    return 2;
}
