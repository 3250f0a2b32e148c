/*
 * aco_poller_epoll.c - a loop's poller on Linux: the descriptors its
 * coroutines wait on, and the one place its thread blocks.
 *
 * Each descriptor is added to the loop's epoll set once, edge-triggered, for
 * reading and writing at once (no epoll_ctl per wait). A coroutine does its
 * system call first and waits only after EAGAIN, so an edge matters only to a
 * waiter: an edge that comes while nobody waits is remembered (readable /
 * writable), and the next wait is answered at once; the coroutine retries its
 * call, and if that finds nothing after all, it waits for the next edge.
 *
 * The thread blocks in epoll_wait, whose set also holds an eventfd: a write to
 * it (aco_loop_wake, from any thread) ends the wait, also when it came before
 * the wait began. What a wait harvests stays in `pending` until
 * aco_loop_admit moves it into the ready queue, a quota per turn; events the
 * quota leaves stay in the kernel's ready list until the next turn.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "aco_bridge.h"
#include "aco_loop_internal.h"

#define ACO_WAKE_KEY UINT64_MAX /* the eventfd's key in the epoll set */

static inline uint64_t key_of(int fd, uint32_t generation) {
    return (uint64_t)(uint32_t)fd | (uint64_t)generation << 32;
}

int aco_poller_init(aco_loop_t* loop) {
    loop->poll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->poll_fd < 0) return errno;
    loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->wake_fd < 0) {
        int err = errno;
        close(loop->poll_fd);
        return err;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ACO_WAKE_KEY}; /* level-triggered */
    if (epoll_ctl(loop->poll_fd, EPOLL_CTL_ADD, loop->wake_fd, &ev) < 0) {
        int err = errno;
        close(loop->wake_fd);
        close(loop->poll_fd);
        return err;
    }
    return 0;
}

void aco_poller_close(aco_loop_t* loop) {
    close(loop->wake_fd);
    close(loop->poll_fd);
    free(loop->fds);
    loop->fds = NULL;
    loop->fd_capacity = 0;
}

/* The state of fd, the table grown to hold it; NULL when memory is short. */
static aco_fd_state* state_of(aco_loop_t* loop, int fd) {
    if ((size_t)fd >= loop->fd_capacity) {
        size_t capacity = loop->fd_capacity < 64 ? 64 : loop->fd_capacity;
        while (capacity <= (size_t)fd) capacity *= 2;
        aco_fd_state* fds = realloc(loop->fds, capacity * sizeof(*fds));
        if (fds == NULL) return NULL;
        memset(fds + loop->fd_capacity, 0, (capacity - loop->fd_capacity) * sizeof(*fds));
        loop->fds = fds;
        loop->fd_capacity = capacity;
    }
    return &loop->fds[fd];
}

static inline aco_fd_state* existing_state(aco_loop_t* loop, int fd) {
    return fd >= 0 && (size_t)fd < loop->fd_capacity ? &loop->fds[fd] : NULL;
}

int aco_poller_watch(aco_loop_t* loop, int fd) {
    if (fd < 0) return EBADF;
    aco_fd_state* st = state_of(loop, fd);
    if (st == NULL) return ENOMEM;
    if (st->watched) return 0;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return errno;
    if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return errno;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                             .data.u64 = key_of(fd, st->generation)};
    if (epoll_ctl(loop->poll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        /* Still in the set: the descriptor was closed another way and its number
         * reused while a duplicate kept the old one alive. */
        if (errno != EEXIST || epoll_ctl(loop->poll_fd, EPOLL_CTL_MOD, fd, &ev) < 0) return errno;
    }
    st->watched = 1;
    st->readable = st->writable = 0;
    return 0;
}

static aco_task_t** list_of(aco_fd_state* st, uint8_t op) {
    return op == ACO_OP_WAIT_READ ? &st->readers : op == ACO_OP_WAIT_WRITE ? &st->writers : &st->any;
}

int aco_poller_park(aco_loop_t* loop, aco_task_t* t) {
    aco_fd_state* st = existing_state(loop, t->code);
    if (st == NULL || !st->watched) {
        aco_loop_answer_error(loop, t, EBADF); /* closed by another coroutine meanwhile */
        return 0;
    }
    int ready = t->op == ACO_OP_WAIT_READ    ? st->readable
                : t->op == ACO_OP_WAIT_WRITE ? st->writable
                                             : st->readable || st->writable;
    if (ready) {
        if (t->op != ACO_OP_WAIT_WRITE) st->readable = 0;
        if (t->op != ACO_OP_WAIT_READ) st->writable = 0;
        aco_loop_answer(loop, t, ACO_BRIDGE_OK);
        return 0;
    }
    aco_task_t** list = list_of(st, t->op);
    while (*list != NULL) list = &(*list)->next; /* in arrival order */
    t->next = NULL;
    *list = t;
    return 1;
}

void aco_poller_unpark(aco_loop_t* loop, aco_task_t* t) {
    aco_fd_state* st = existing_state(loop, t->code);
    if (st == NULL) return;
    for (aco_task_t** p = list_of(st, t->op); *p != NULL; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            t->next = NULL;
            return;
        }
}

/* Answers every waiter of a list `status`; returns how many. */
static size_t wake_all(aco_loop_t* loop, aco_task_t** list, uint8_t status, int err) {
    size_t n = 0;
    aco_task_t* t = *list;
    *list = NULL;
    while (t != NULL) {
        aco_task_t* next = t->next;
        t->next = NULL;
        if (status == ACO_BRIDGE_ERROR) t->value = err;
        aco_loop_end_io_wait(loop, t, status);
        t = next;
        n++;
    }
    return n;
}

/* Applies one harvested event; returns how many tasks it made ready. */
static size_t apply(aco_loop_t* loop, const aco_poller_event* e) {
    if (e->key == ACO_WAKE_KEY) {
        uint64_t count;
        while (read(loop->wake_fd, &count, sizeof count) > 0) {
        }
        return 0;
    }
    int fd = (int)(uint32_t)e->key;
    aco_fd_state* st = existing_state(loop, fd);
    if (st == NULL || !st->watched || st->generation != (uint32_t)(e->key >> 32)) return 0; /* stale */
    size_t n = 0;
    /* A hang-up or an error wakes both sides: their next call reports it. */
    if (e->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        if (st->readers != NULL || st->any != NULL) {
            n += wake_all(loop, &st->readers, ACO_BRIDGE_OK, 0);
            n += wake_all(loop, &st->any, ACO_BRIDGE_OK, 0);
        } else {
            st->readable = 1;
        }
    }
    if (e->events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
        if (st->writers != NULL || st->any != NULL) {
            n += wake_all(loop, &st->writers, ACO_BRIDGE_OK, 0);
            n += wake_all(loop, &st->any, ACO_BRIDGE_OK, 0);
        } else {
            st->writable = 1;
        }
    }
    return n;
}

#ifdef SYS_epoll_pwait2
static _Atomic int aco_no_epoll_pwait2; /* Linux before 5.11 */
#endif

/* epoll_wait with a timeout in nanoseconds (-1: no bound): exact where the
 * kernel has epoll_pwait2, else rounded up to whole milliseconds. */
static int wait_events(aco_loop_t* loop, struct epoll_event* events, int max, int64_t timeout_ns) {
#ifdef SYS_epoll_pwait2
    if (timeout_ns > 0 && !atomic_load_explicit(&aco_no_epoll_pwait2, memory_order_relaxed)) {
        struct timespec ts = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
        int n = (int)syscall(SYS_epoll_pwait2, loop->poll_fd, events, max, &ts, NULL, 0);
        if (n >= 0 || errno != ENOSYS) return n;
        atomic_store_explicit(&aco_no_epoll_pwait2, 1, memory_order_relaxed);
    }
#endif
    int ms = timeout_ns < 0                              ? -1
             : timeout_ns >= (int64_t)INT32_MAX * 1000000 ? INT32_MAX
                                                          : (int)((timeout_ns + 999999) / 1000000);
    return epoll_wait(loop->poll_fd, events, max, ms);
}

/* wait_events, again after a signal, for what is left of the timeout: a
 * wait ends for a reason of the loop, never for a signal. */
static int wait_events_fully(aco_loop_t* loop, struct epoll_event* events, int max, int64_t timeout_ns) {
    int64_t until = timeout_ns > 0 ? aco_loop_clock_now() + timeout_ns / 1000000000 * aco_loop_clock_frequency() +
                                         timeout_ns % 1000000000 * aco_loop_clock_frequency() / 1000000000
                                   : 0;
    for (;;) {
        int n = wait_events(loop, events, max, timeout_ns);
        if (n >= 0 || errno != EINTR) return n;
        if (timeout_ns > 0) {
            int64_t left = until - aco_loop_clock_now();
            if (left <= 0) return 0;
            timeout_ns = left / aco_loop_clock_frequency() * 1000000000 +
                         left % aco_loop_clock_frequency() * 1000000000 / aco_loop_clock_frequency();
        }
    }
}

/* Harvests up to `max` events into `pending`, waiting up to timeout_ns. */
static int harvest(aco_loop_t* loop, size_t max, int64_t timeout_ns) {
    struct epoll_event events[ACO_POLLER_PENDING];
    if (max > ACO_POLLER_PENDING - loop->pending_count) max = ACO_POLLER_PENDING - loop->pending_count;
    if (max == 0) return 0;
    if (loop->pending_head != 0) { /* room at the end */
        memmove(loop->pending, loop->pending + loop->pending_head,
                loop->pending_count * sizeof(loop->pending[0]));
        loop->pending_head = 0;
    }
    int n = wait_events_fully(loop, events, (int)max, timeout_ns);
    if (n <= 0) return 0;
    for (int i = 0; i < n; i++) {
        aco_poller_event* p = &loop->pending[loop->pending_count++];
        p->key = events[i].data.u64;
        p->events = events[i].events;
    }
    return n;
}

size_t aco_poller_admit(aco_loop_t* loop, size_t quota) {
    size_t moved = 0;
    while (moved < quota) {
        if (loop->pending_count == 0) {
            /* Nobody waits: leave the events in the kernel until someone does
             * (they only set the readiness flags, which a wait reads). */
            if (loop->stats.waiting_io == 0 || harvest(loop, quota - moved, 0) == 0) break;
        }
        aco_poller_event e = loop->pending[loop->pending_head];
        loop->pending_head++;
        if (--loop->pending_count == 0) loop->pending_head = 0;
        moved += apply(loop, &e);
    }
    return moved;
}

int aco_poller_wait(aco_loop_t* loop, int64_t timeout_ns) {
    if (loop->pending_count != 0) return 0; /* there is work already */
    harvest(loop, ACO_POLLER_PENDING, timeout_ns);
    int woken = 0;
    /* The wake-up is consumed here; readiness waits for admission. */
    for (size_t i = 0; i < loop->pending_count;) {
        aco_poller_event* p = &loop->pending[loop->pending_head + i];
        if (p->key == ACO_WAKE_KEY) {
            apply(loop, p);
            woken = 1;
            memmove(p, p + 1, (loop->pending_count - i - 1) * sizeof(*p));
            loop->pending_count--;
        } else {
            i++;
        }
    }
    if (loop->pending_count == 0) loop->pending_head = 0;
    return woken;
}

void aco_poller_wake(aco_loop_t* loop) {
    uint64_t one = 1;
    /* EAGAIN: the counter is full, so a wake-up is pending anyway. */
    ssize_t r = write(loop->wake_fd, &one, sizeof one);
    (void)r;
}

void aco_poller_forget(aco_loop_t* loop, int fd) {
    aco_fd_state* st = existing_state(loop, fd);
    if (st == NULL || !st->watched) return;
    epoll_ctl(loop->poll_fd, EPOLL_CTL_DEL, fd, NULL); /* a duplicate would keep it in the set */
    st->watched = 0;
    st->readable = st->writable = 0;
    st->generation++;
    wake_all(loop, &st->readers, ACO_BRIDGE_ERROR, EBADF);
    wake_all(loop, &st->writers, ACO_BRIDGE_ERROR, EBADF);
    wake_all(loop, &st->any, ACO_BRIDGE_ERROR, EBADF);
}

size_t aco_poller_list(aco_loop_t* loop, aco_task_t** out, size_t capacity) {
    size_t n = 0;
    if (loop->stats.waiting_io == 0) return 0;
    for (size_t fd = 0; fd < loop->fd_capacity && n < capacity; fd++) {
        aco_fd_state* st = &loop->fds[fd];
        aco_task_t* lists[3] = {st->readers, st->writers, st->any};
        for (int k = 0; k < 3; k++)
            for (aco_task_t* t = lists[k]; t != NULL && n < capacity; t = t->next) out[n++] = t;
    }
    return n;
}
