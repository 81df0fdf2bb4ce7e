/*
 * realdata.h - the PokeAPI archive's bodies for the unit tests that run
 * over every real response (tests/run-all extracts the archive and sets
 * POKEFETCH_DATA_DIR to its www/ folder; without it, /tmp/pk is tried).
 * Tests only: static functions, one copy per test program.
 */
#ifndef POKEFETCH_REALDATA_H
#define POKEFETCH_REALDATA_H

#include <stdio.h>
#include <stdlib.h>

/* The folder holding <id>/index.json, once realdata_find() said so. */
static char realdata_dir[4096];

/* The whole file, NUL-terminated (not counted in *len), or NULL. */
static char *
realdata_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *s = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (s = malloc((size_t)n + 1)) &&
        fread(s, 1, (size_t)n, f) == (size_t)n) {
        s[n] = '\0';
        *len = (size_t)n;
    } else {
        free(s);
        s = NULL;
    }
    fclose(f);
    return s;
}

/* Sets realdata_dir to the folder of the pokemon bodies (the data root's
   api/v2/pokemon, or the root itself); 0 if there is none. */
static int
realdata_find(void)
{
    const char *root = getenv("POKEFETCH_DATA_DIR");
    static const char *const subs[] = {"/api/v2/pokemon", ""};
    char path[4200];
    FILE *f;
    size_t i;

    if (!root || !*root)
        root = "/tmp/pk";
    for (i = 0; i < 2; i++) {
        snprintf(realdata_dir, sizeof realdata_dir, "%s%s", root, subs[i]);
        snprintf(path, sizeof path, "%s/1/index.json", realdata_dir);
        if ((f = fopen(path, "rb"))) {
            fclose(f);
            return 1;
        }
    }
    return 0;
}

#endif
