/*
 * aco_loop_internal.h - the run loop's state, shared by its parts (internal to
 * the core): aco_loop.c (ready queue, turns, admission, cancellation),
 * aco_poller_*.c (descriptors and the thread's wait) and aco_bridge.c (the
 * coroutine side of the requests).
 */
#ifndef ACO_LOOP_INTERNAL_H
#define ACO_LOOP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "aco_loop.h"
#include "aco_timer_heap.h"

/* One descriptor some coroutine of the loop used in a bridge call. */
typedef struct {
    aco_task_t* readers;   /* waiting to read or accept (ACO_OP_WAIT_READ), in order, through next */
    aco_task_t* writers;   /* waiting to write or connect (ACO_OP_WAIT_WRITE) */
    aco_task_t* any;       /* waiting for either (ACO_OP_WAIT_ANY) */
    uint32_t generation;   /* bumped when it is closed through the bridge: events for an older one are stale */
    uint8_t watched;       /* non-blocking and in the poller's set */
    uint8_t readable;      /* readiness reported while nobody waited: the next wait is answered at once */
    uint8_t writable;
} aco_fd_state;

#define ACO_POLLER_PENDING 256 /* readiness events harvested and not yet admitted */

typedef struct {
    uint64_t key; /* descriptor | generation << 32 */
    uint32_t events;
} aco_poller_event;

struct aco_loop {
    aco_loop_stats_t stats;
    aco_t* main_co;
    aco_task_t* head; /* the ready queue */
    aco_task_t* tail;
    aco_share_stack_t** stacks;
    int64_t* stack_load;
    size_t stack_count;

    aco_timer_heap timers;
    int external_clock;   /* the owner sets the time (aco_loop_set_time) and serves sleeps */
    int64_t frequency;    /* clock ticks per second */
    int64_t now;          /* the clock at the start of the turn (an external clock: as set) */

    /* The poller (aco_poller_*.c). */
    aco_fd_state* fds; /* indexed by descriptor */
    size_t fd_capacity;
    int poll_fd;  /* epoll instance; -1 where there is none */
    int wake_fd;  /* eventfd written by aco_loop_wake */
    void* wake_event; /* Windows: the event aco_loop_wake sets */
    aco_poller_event pending[ACO_POLLER_PENDING];
    size_t pending_head; /* the first not yet admitted */
    size_t pending_count;

    struct aco_hold* hold; /* a dump's hold on tasks (aco_dump.c), or NULL */
};

/* The loop whose coroutine runs on this thread now (set by aco_loop_run), or
 * NULL: how bridge calls, which run on the coroutine, find their loop. */
extern __thread aco_loop_t* aco_loop_running ACO_TLS_MODEL;

/* ---- aco_loop.c ---- */

/* Answers a waiting task and puts it at the back of the ready queue. */
void aco_loop_answer(aco_loop_t* loop, aco_task_t* t, uint8_t status);

/* Answers ACO_BRIDGE_ERROR with the system error `err` (the coroutine's errno). */
void aco_loop_answer_error(aco_loop_t* loop, aco_task_t* t, int err);

/* Ends the descriptor wait of t, which the poller has taken out of the
 * descriptor's waiters: its timer goes, and it is answered `status`. */
void aco_loop_end_io_wait(aco_loop_t* loop, aco_task_t* t, uint8_t status);

/* The loop's clock in ms, modulo 2^32 (for aco_task_t.born_ms / since_ms). */
uint32_t aco_loop_now_ms(const aco_loop_t* loop);

/* ---- aco_dump.c ---- */

/* A task is being released while a hold is in place: 1 when the hold keeps it
 * (destroyed when the hold ends), 0 when it is not held. */
int aco_loop_hold_keep(aco_loop_t* loop, aco_task_t* t);

/* ---- the poller (aco_poller_epoll.c, aco_poller_win32.c) ---- */

int aco_poller_init(aco_loop_t* loop);   /* 0, or an errno */
void aco_poller_close(aco_loop_t* loop); /* frees the poller; waiters must be gone */

/* Makes fd non-blocking and watched by the loop, once. 0, or an errno. */
int aco_poller_watch(aco_loop_t* loop, int fd);

/* Serves a WAIT_* request of t (t->code: the descriptor): answered at once when
 * a readiness report came while nobody waited (returns 0), else t joins the
 * descriptor's waiters (returns 1). */
int aco_poller_park(aco_loop_t* loop, aco_task_t* t);

/* Takes t out of its descriptor's waiters (its wait ended another way). */
void aco_poller_unpark(aco_loop_t* loop, aco_task_t* t);

/* Answers the waiters of descriptors that became ready, at most `quota`. */
size_t aco_poller_admit(aco_loop_t* loop, size_t quota);

/* Blocks until readiness, a wake-up or the timeout (ns; -1: none). 1 when woken by aco_loop_wake. */
int aco_poller_wait(aco_loop_t* loop, int64_t timeout_ns);

void aco_poller_wake(aco_loop_t* loop);

/* Forgets fd (it is being closed): its waiters are answered ACO_BRIDGE_ERROR, errno EBADF. */
void aco_poller_forget(aco_loop_t* loop, int fd);

/* Copies the tasks waiting on a descriptor, in no order, up to `capacity`. */
size_t aco_poller_list(aco_loop_t* loop, aco_task_t** out, size_t capacity);

#endif
