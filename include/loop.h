/*
 * loop - the one place the program waits: an epoll instance, the watchers
 * registered on it, and the monotonic clock that deadlines are set on.
 *
 * It knows nothing about HTTP or TLS. A watcher is an fd, the interest the
 * owner wants (LOOP_READ / LOOP_WRITE) and a callback. Interest is derived
 * by the owner from its state and handed to loop_set() every time; the loop
 * remembers what epoll has and issues ADD, MOD or DEL only on a change
 * (ae_epoll.c's approach, without the ad-hoc toggling).
 *
 * Level-triggered: a callback that leaves bytes unread is called again on
 * the next turn. EPOLLERR and EPOLLHUP are reported as both READ and WRITE,
 * so the owner's syscalls find and report the error themselves.
 *
 * One thread. Deadlines are not kept here: the caller passes the nearest
 * one to loop_run_once(), as a point on loop_now_ms()'s clock.
 */
#ifndef POKEFETCH_LOOP_H
#define POKEFETCH_LOOP_H

#include <stdint.h>

enum loop_mask {
    LOOP_READ = 1u << 0,
    LOOP_WRITE = 1u << 1,
};

struct loop;
struct loop_watcher;

/* Called with the events that fired (enum loop_mask bits). */
typedef void (*loop_cb_fn)(struct loop_watcher *w, unsigned events);

struct loop_watcher {
    int fd;              /* -1 when not registered */
    unsigned registered; /* interest epoll currently has */
    loop_cb_fn cb;
    void *owner;    /* for the callback's use */
    unsigned first; /* the owner's mark: run before the others */
};

struct loop {
    int epfd;
};

/* Returns 0 or a negative errno. */
int loop_open(struct loop *l);
void loop_close(struct loop *l);

/* Prepare a watcher that is not registered yet. */
void loop_watcher_init(struct loop_watcher *w, loop_cb_fn cb, void *owner);

/*
 * Make epoll's interest in w->fd equal to mask (0 removes the fd).
 * w->fd must be set by the caller before the first call. Returns 0 or a
 * negative errno.
 */
int loop_set(struct loop *l, struct loop_watcher *w, int fd, unsigned mask);

/*
 * Remove w from epoll (if registered) and mark it unregistered. Call it
 * before closing the fd, so a reused fd number cannot inherit the
 * registration.
 */
void loop_forget(struct loop *l, struct loop_watcher *w);

/*
 * Wait for events until deadline_ms (loop_now_ms() clock; a negative value
 * waits without limit, a past one polls) and run the callbacks of the
 * watchers that are ready, those marked first (w->first) before the
 * others. Returns the number of callbacks run, 0 on timeout, or a
 * negative errno (EINTR is retried inside).
 */
int loop_run_once(struct loop *l, int64_t deadline_ms);

/* Milliseconds on the monotonic clock; and microseconds on the same
   clock, for the timeline's records (include/timeline.h). */
int64_t loop_now_ms(void);
int64_t loop_now_us(void);

#endif
