/*
 * loop - epoll, level-triggered; see include/loop.h for the contract.
 *
 * What it deliberately does not do: timers (each connection has one
 * deadline, and the scheduler passes the nearest to loop_run_once), signal
 * handling, or threads.
 *
 * Stale events: a callback may close another watcher whose event is still
 * in this turn's batch. Watchers live in arrays that outlive the loop, so
 * the pointer stays valid; loop_forget() sets registered to 0 and this turn
 * skips events for watchers that are no longer registered. A watcher that
 * was closed and reopened on a new fd in the same turn may get one spurious
 * wake-up, which its non-blocking syscalls answer with EAGAIN.
 */
#include "loop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

/* Events taken from the kernel per turn; more simply wait for the next. */
#define LOOP_BATCH 256

static uint32_t
epoll_bits(unsigned mask)
{
    return ((mask & LOOP_READ) ? (uint32_t)EPOLLIN : 0) |
           ((mask & LOOP_WRITE) ? (uint32_t)EPOLLOUT : 0);
}

int
loop_open(struct loop *l)
{
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    return l->epfd < 0 ? -errno : 0;
}

void
loop_close(struct loop *l)
{
    if (l->epfd >= 0)
        close(l->epfd);
    l->epfd = -1;
}

void
loop_watcher_init(struct loop_watcher *w, loop_cb_fn cb, void *owner)
{
    w->fd = -1;
    w->registered = 0;
    w->cb = cb;
    w->owner = owner;
    w->first = 0;
}

int
loop_set(struct loop *l, struct loop_watcher *w, int fd, unsigned mask)
{
    struct epoll_event ev;
    int op;

    if (w->registered && w->fd == fd && w->registered == mask)
        return 0;
    if (!mask) {
        loop_forget(l, w);
        w->fd = fd;
        return 0;
    }
    memset(&ev, 0, sizeof ev);
    ev.events = epoll_bits(mask);
    ev.data.ptr = w;
    op = w->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    w->fd = fd;
    if (epoll_ctl(l->epfd, op, fd, &ev) < 0)
        return -errno;
    w->registered = mask;
    return 0;
}

void
loop_forget(struct loop *l, struct loop_watcher *w)
{
    if (w->registered) {
        /* Fails only if the fd is already closed, which removed it. */
        (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    }
    w->registered = 0;
}

int64_t
loop_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
loop_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* epoll's events as loop_mask bits: an error or hang-up is both, so the
   owner's next read or write finds it. */
static unsigned
fired_bits(uint32_t events)
{
    unsigned fired = 0;

    if (events & (EPOLLERR | EPOLLHUP))
        fired = LOOP_READ | LOOP_WRITE;
    if (events & EPOLLIN)
        fired |= LOOP_READ;
    if (events & EPOLLOUT)
        fired |= LOOP_WRITE;
    return fired;
}

int
loop_run_once(struct loop *l, int64_t deadline_ms)
{
    struct epoll_event evs[LOOP_BATCH];
    int timeout, n, i, pass, ran = 0;

    if (deadline_ms < 0) {
        timeout = -1;
    } else {
        int64_t left = deadline_ms - loop_now_ms();
        timeout = left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
    }
    do {
        n = epoll_wait(l->epfd, evs, LOOP_BATCH, timeout);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;

    /* Two passes: the watchers marked first, then the others; each
       event runs once, whatever its watcher's mark becomes meanwhile. */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < n; i++) {
            struct loop_watcher *w = evs[i].data.ptr;

            if (!w || (pass == 0 && !w->first))
                continue;
            evs[i].data.ptr = NULL;
            if (!w->registered)
                continue;
            w->cb(w, fired_bits(evs[i].events));
            ran++;
        }
    }
    return ran;
}
