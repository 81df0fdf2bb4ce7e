/*
 * replay.c - a main() for the harnesses when there is no libFuzzer: runs
 * files, or every file in directories, through LLVMFuzzerTestOneInput.
 * This is how gcc builds, `make fuzz-replay` and CI replay the corpus
 * (and every crasher kept in it) without clang.
 *
 *     build/fuzz-replay/fuzz_h1 fuzz/corpus/h1 crash-1234
 *
 * Each file runs in a child process (fork), so one crash is counted and
 * the rest still run; the last line is "N passed, N failed" and the exit
 * status is non-zero if any failed. A file passes when the harness
 * returns; it fails when the child dies (abort from a check, ASan, UBSan)
 * or the file cannot be read.
 *
 * Environment:
 *   FUZZ_VERBOSE=1    print each file's name before running it
 *   FUZZ_INPROCESS=1  no fork: run everything in this process (for a
 *                     debugger; the first crash ends the run, and with
 *                     FUZZ_VERBOSE the last name printed is the culprit)
 *
 * Directories are read one level deep, in name order, skipping names
 * that start with "." (editors' and git's files).
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int n_passed;
static int n_failed;
static int verbose;
static int inprocess;

/* Reads a whole file into an exact-size block; NULL on failure. */
static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL, *grown;
    size_t cap = 0, n = 0, got;

    if (!f)
        return NULL;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            grown = realloc(buf, cap);
            if (!grown)
                goto fail;
            buf = grown;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        goto fail;
    fclose(f);
    /* Exact size, so a harness reading past the input trips ASan. */
    grown = (uint8_t *)fuzz_dup(buf, n);
    free(buf);
    *len = n;
    return grown;
fail:
    free(buf);
    fclose(f);
    return NULL;
}

static void
run_one(const char *path)
{
    uint8_t *data;
    size_t len;
    pid_t pid;
    int status;

    if (verbose) {
        fprintf(stderr, "replay: %s\n", path);
        fflush(stderr);
    }
    data = read_file(path, &len);
    if (!data) {
        fprintf(stderr, "replay: FAIL %s: cannot read: %s\n", path,
                strerror(errno));
        n_failed++;
        return;
    }
    if (inprocess) {
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        n_passed++;
        return;
    }
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "replay: fork: %s\n", strerror(errno));
        free(data);
        n_failed++;
        return;
    }
    if (pid == 0) {
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        /* exit, not _exit: a coverage build writes its profile and
           LeakSanitizer checks at exit (stdout was flushed before fork). */
        exit(0);
    }
    free(data);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "replay: waitpid: %s\n", strerror(errno));
            n_failed++;
            return;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        n_passed++;
        return;
    }
    if (WIFSIGNALED(status))
        fprintf(stderr, "replay: FAIL %s (signal %d)\n", path,
                WTERMSIG(status));
    else
        fprintf(stderr, "replay: FAIL %s (exit %d)\n", path,
                WEXITSTATUS(status));
    n_failed++;
}

static int
visible(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

static void
run_path(const char *path)
{
    struct stat st;
    struct dirent **names;
    char *full;
    size_t plen;
    int n, i;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: FAIL %s: %s\n", path, strerror(errno));
        n_failed++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_one(path);
        return;
    }
    n = scandir(path, &names, visible, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: FAIL %s: %s\n", path, strerror(errno));
        n_failed++;
        return;
    }
    plen = strlen(path);
    for (i = 0; i < n; i++) {
        full = fuzz_alloc(plen + 1 + strlen(names[i]->d_name) + 1);
        sprintf(full, "%s/%s", path, names[i]->d_name);
        /* One level only: subdirectories are not corpus files. */
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
            run_one(full);
        free(full);
        free(names[i]);
    }
    free(names);
}

int
main(int argc, char **argv)
{
    const char *v;
    int i;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    v = getenv("FUZZ_VERBOSE");
    verbose = v && *v && strcmp(v, "0") != 0;
    v = getenv("FUZZ_INPROCESS");
    inprocess = v && *v && strcmp(v, "0") != 0;
    for (i = 1; i < argc; i++)
        run_path(argv[i]);
    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
