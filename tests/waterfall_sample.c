/*
 * waterfall_sample - the waterfall of a made-up run (tests/tl_synth.h),
 * for looking at the picture and for tests/waterfall's rendering check
 * when no real run is at hand.
 *
 *   waterfall_sample SHAPE FILE.svg
 *
 * Shapes, at 45 ms RTT over TLS, as the experiment's ways of fetching:
 *   pipelined      150 ids, -c 6 -p 32, one id in 20 answered 404, the
 *                  first connection closed by the server after 10
 *                  answers (its requests in flight go again)
 *   conn-per-id    150 ids, -c 150 -p 1
 *   serial         150 ids, --serial
 *   no-keepalive   150 ids, --serial --no-keepalive
 *   big            1351 ids, -c 6 -p 32
 *   big-conns      1351 ids, -c 1351 -p 1
 *   packed         1700 ids, -c 6 --no-keepalive (past WF_MAX_LANES:
 *                  lanes reused)
 *   merged         20000 ids, -c 6 -p 32 (past the detail limit)
 * The summary's figures are counted from the records.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "out.h"
#include "timeline.h"
#include "tl_synth.h"
#include "waterfall.h"

struct shape {
    const char *name;
    struct synth s;
    const char *flags;
};

static const struct shape shapes[] = {
    {"pipelined", {150, 6, 32, 1, 1, 1, 45000, 300, 20, 10}, "-c 6 -p 32"},
    {"conn-per-id", {150, 150, 1, 1, 1, 1, 45000, 300, 0, 0}, "-c 150 -p 1"},
    {"serial", {150, 1, 1, 1, 1, 0, 45000, 300, 0, 0}, "--serial"},
    {"no-keepalive",
     {150, 1, 1, 0, 1, 1, 45000, 300, 0, 0},
     "--serial --no-keepalive"},
    {"big", {1351, 6, 32, 1, 1, 1, 2000, 150, 0, 0}, "-c 6 -p 32"},
    {"big-conns", {1351, 1351, 1, 1, 1, 1, 2000, 150, 0, 0}, "-c 1351 -p 1"},
    {"packed", {1700, 6, 1, 0, 1, 1, 2000, 150, 0, 0}, "-c 6 --no-keepalive"},
    {"merged", {20000, 6, 32, 1, 1, 1, 2000, 100, 0, 0}, "-c 6 -p 32"},
};

static int
write_sample(const struct shape *sh, const char *path)
{
    char ids[32], url[] = "https://127.0.0.1:8443/api/v2/pokemon/{id}";
    char *argv[16];
    struct waterfall_info info;
    static struct out o;
    struct timeline *tl = synth_timeline(&sh->s);
    char flags[64];
    int argc = 0, fd, rc;
    uint32_t i;
    char *tok;

    if (!tl)
        return -1;
    memset(&info, 0, sizeof info);
    argv[argc++] = "pokefetch";
    snprintf(flags, sizeof flags, "%s", sh->flags);
    for (tok = strtok(flags, " "); tok && argc < 12; tok = strtok(NULL, " "))
        argv[argc++] = tok;
    argv[argc++] = "--url";
    argv[argc++] = url;
    snprintf(ids, sizeof ids, "1-%u", sh->s.ids);
    argv[argc++] = ids;
    info.argc = argc;
    info.argv = argv;
    for (i = 0; i < tl_request_count(tl); i++) {
        const struct tl_request *r = tl_request_at(tl, i);

        info.ok += r->outcome == TL_OK;
        info.failed += r->outcome == TL_FAILED;
        info.bytes_rx += r->wire_bytes;
    }
    info.connections = tl_conn_count(tl);
    info.elapsed_ms = tl_now(tl) / 1000;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        tl_free(tl);
        return -1;
    }
    out_init(&o, fd);
    rc = waterfall_write(&o, tl, &info);
    if (close(fd) < 0 && rc == 0)
        rc = -1;
    tl_free(tl);
    return rc;
}

int
main(int argc, char **argv)
{
    size_t i;

    if (argc != 3) {
        fprintf(stderr, "usage: waterfall_sample SHAPE FILE.svg\n");
        return 2;
    }
    for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (strcmp(argv[1], shapes[i].name) == 0)
            return write_sample(&shapes[i], argv[2]) == 0 ? 0 : 1;
    fprintf(stderr, "waterfall_sample: no shape %s\n", argv[1]);
    return 2;
}
