/*
 * guard.h - place test input flush against a PROT_NONE page, so a parser
 * that reads even one byte past the end of what it was given crashes at
 * once instead of reading stale memory (picohttpparser's test method).
 *
 * guard_place() copies len bytes so that they end exactly at the start of
 * an inaccessible page and returns a pointer to the copy. The copy stays
 * valid until the next guard_place() call. Tests only: it mmaps once and
 * never frees.
 */
#ifndef POKEFETCH_GUARD_H
#define POKEFETCH_GUARD_H

#include <assert.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUARD_MAX_INPUT (4u << 20)

static char *
guard_place(const void *data, size_t len)
{
    static char *region;
    static size_t usable;

    if (!region) {
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        usable = (GUARD_MAX_INPUT + page - 1) / page * page;
        region = mmap(NULL, usable + page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assert(region != MAP_FAILED);
        assert(mprotect(region + usable, page, PROT_NONE) == 0);
    }
    assert(len <= usable);
    memcpy(region + usable - len, data, len);
    return region + usable - len;
}

#endif
