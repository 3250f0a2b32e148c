/*
 * aco_loop.h - the native run loop of an AcoScheduler (scheduler side).
 *
 * A loop belongs to one thread and owns what its coroutines ("tasks") wait in:
 *   - a ready queue, resumed round-robin;
 *   - a timer heap: sleeps and the deadlines of socket waits;
 *   - a poller: the sockets its coroutines wait on (epoll on Linux);
 *   - a clock: the system's monotonic clock, or one its owner sets each turn.
 * A coroutine asks for something through aco_bridge.h: it writes a request
 * into its control block (aco_task_t) and yields. The loop serves plain
 * yields, sleeps and socket waits itself, without leaving native code; every
 * other request, and every coroutine that ended and is awaited, goes back to
 * the caller (the .NET scheduler) in a batch. The caller answers a request by
 * setting `status` (and `value` / `out_len`) and making the task ready again.
 *
 * Admission (aco_loop_admit): before each turn, the caller lets the loop move
 * coroutines whose wait is over into the ready queue, a bounded number per
 * source, so that coroutines already running keep their turns under a flood
 * of wake-ups (see docs/architecture.md, "Admission").
 *
 * Every function must be called on the loop's thread, except aco_loop_wake.
 */
#ifndef ACO_LOOP_H
#define ACO_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "aco.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a task asks for (aco_task_t.op). */
enum {
    ACO_OP_NONE = 0,
    ACO_OP_YIELD = 1,       /* served by the loop */
    ACO_OP_YIELD_VALUE = 2, /* value */
    ACO_OP_SLEEP = 3,       /* value = milliseconds; served by the loop on its own clock */
    ACO_OP_CALL = 4,        /* code = handler id, in/in_len, out/out_len (capacity) */
    ACO_OP_SEND = 5,        /* code = channel id, value */
    ACO_OP_RECEIVE = 6,     /* code = channel id; answer in value */
    ACO_OP_AWAIT = 7,       /* value = operation id; answer in value */
    ACO_OP_FINISH = 8,      /* ended: value = result */
    ACO_OP_FAIL = 9,        /* ended: code, in = message (owned by the task), in_len */
    ACO_OP_CANCELLED = 10,  /* ended as cancelled */
    ACO_OP_WAIT_READ = 11,  /* code = descriptor, value = deadline; served by the loop */
    ACO_OP_WAIT_WRITE = 12, /* code = descriptor, value = deadline; served by the loop */
    ACO_OP_WAIT_ANY = 13,   /* readable or writable; code, value as above */
};

/* Task states (aco_task_t.state). */
enum { ACO_TASK_READY = 0, ACO_TASK_RUNNING = 1, ACO_TASK_WAITING = 2 };

/* A deadline that never comes. */
#define ACO_LOOP_NEVER INT64_MAX

/*
 * A coroutine's control block, allocated right before its aco_t in the same
 * block (aco_create_with_prefix): 64 bytes on 64-bit targets, one cache line.
 * Its layout is part of the contract with the .NET layer, which reads it
 * directly (aco_layout.h publishes the offsets; Aco.Scheduling checks its
 * mirror against them at load).
 */
typedef struct aco_task aco_task_t;
struct aco_task {
    aco_task_t* next; /* the ready queue, or the waiters of a descriptor */
    int64_t id;       /* the owner's id for it; 0: detached (nobody awaits it) */
    int64_t value;    /* request argument, answer or result (see ACO_OP_*) */
    const void* in;   /* CALL: input; FAIL: the message */
    void* out;        /* CALL: output */
    uint32_t in_len;
    union {
        uint32_t out_len;    /* CALL: output capacity in the request, bytes written in the answer */
        uint32_t timer_slot; /* SLEEP, WAIT_*: 1 + its index in the loop's timer heap; 0: none */
    };
    int32_t code;      /* handler or channel id; WAIT_*: the descriptor */
    uint32_t born_ms;  /* the loop's clock at the spawn, in ms (modulo 2^32) */
    uint32_t since_ms; /* the loop's clock when the pending request was made, in ms */
    uint8_t state;     /* ACO_TASK_* */
    uint8_t op;        /* ACO_OP_* */
    uint8_t status;    /* the answer: ACO_BRIDGE_* */
    uint8_t cancel;    /* cancellation requested */
};

/* The coroutine of a task, and the task of a coroutine the loop spawned. */
static inline aco_t* aco_task_co(aco_task_t* task) { return (aco_t*)(task + 1); }
static inline aco_task_t* aco_task_of(aco_t* co) {
    return co != NULL && co->main_co != NULL && co->prefix_bytes == sizeof(aco_task_t)
               ? (aco_task_t*)co - 1
               : NULL;
}

typedef struct aco_loop aco_loop_t;

/* Counts a loop keeps. aco_loop_stats() gives a pointer that stays valid for
 * the loop's life, so its owner reads them without a call each time. */
typedef struct {
    int64_t ready;        /* tasks on the ready queue */
    int64_t live;         /* tasks created and not destroyed */
    int64_t resumes;      /* resumes done */
    int64_t sleeping;     /* tasks waiting in a sleep */
    int64_t waiting_io;   /* tasks waiting on a descriptor */
    int64_t earliest_due; /* the earliest deadline in the timer heap; ACO_LOOP_NEVER: none */
    int64_t finished;     /* detached tasks that ended with a result (the loop destroyed them) */
    int64_t cancelled;    /* detached tasks that ended as cancelled (the loop destroyed them) */
    int64_t spawned;      /* tasks spawned by coroutines (aco_bridge_spawn) */
    int64_t requests[16]; /* requests made, by ACO_OP_* (plain yields included), wherever served */
} aco_loop_stats_t;

ACO_EXPORT const aco_loop_stats_t* aco_loop_stats(const aco_loop_t* loop);

/* A loop resuming from main_co (the thread's main coroutine), on the system's
 * monotonic clock. NULL when the poller cannot be created (errno says why). */
ACO_EXPORT aco_loop_t* aco_loop_new(aco_t* main_co);

/* Destroys the loop and every task it holds (ready, sleeping, waiting on a
 * descriptor). Tasks waiting for the caller's answer must be destroyed by the
 * caller first. Without tasks left (aco_loop_destroy_tasks), any thread may
 * call it. */
ACO_EXPORT void aco_loop_destroy(aco_loop_t* loop);

/* Adds a share stack to the loop's pool; new tasks go to the least-loaded one. */
ACO_EXPORT void aco_loop_add_stack(aco_loop_t* loop, aco_share_stack_t* stack);

/* Creates a task running fp with arg on the least-loaded stack and makes it
 * ready. */
ACO_EXPORT aco_task_t* aco_loop_spawn(aco_loop_t* loop, aco_cofuncp_t fp, void* arg, int64_t id,
                                      size_t save_stack_sz);

/* ---- the clock ------------------------------------------------------------
 * Deadlines are timestamps of the loop's clock. By default it is the system's
 * monotonic clock, read by the loop (aco_loop_clock_now: CLOCK_MONOTONIC in
 * nanoseconds on Linux, which is what .NET's Stopwatch reads there; the
 * performance counter on Windows). With an external clock the owner sets the
 * time at the start of each turn, and serves sleeps itself (they come back in
 * the batch), so that no sleep ends before its time on that clock. */
ACO_EXPORT int64_t aco_loop_clock_now(void);
ACO_EXPORT int64_t aco_loop_clock_frequency(void);
ACO_EXPORT void aco_loop_use_external_clock(aco_loop_t* loop, int64_t frequency);
ACO_EXPORT void aco_loop_set_time(aco_loop_t* loop, int64_t now);

/* An external clock's sleep: makes the task (waiting in ACO_OP_SLEEP) wait
 * until `due` on the loop's clock. */
ACO_EXPORT void aco_loop_sleep_until(aco_loop_t* loop, aco_task_t* task, int64_t due);

/* ---- a turn ---------------------------------------------------------------- */

/* Moves tasks whose wait is over into the ready queue: first timers that are
 * due (earliest first), then tasks whose descriptor became ready; each source
 * moves at most max(floor, limit - ready) of them. Returns how many moved. */
ACO_EXPORT size_t aco_loop_admit(aco_loop_t* loop, size_t limit, size_t floor);

/* Resumes ready tasks round-robin until `budget` resumes are spent, the ready
 * queue is empty or `capacity` tasks are in `batch`. A task goes into the
 * batch when it asks for something the loop does not serve itself, or has
 * ended and is awaited (id != 0) or failed. Returns how many are in the batch. */
ACO_EXPORT size_t aco_loop_run(aco_loop_t* loop, size_t budget, aco_task_t** batch,
                               size_t capacity);

/* Makes a waiting task ready again, at the back (or the front) of the queue. */
ACO_EXPORT void aco_loop_ready(aco_loop_t* loop, aco_task_t* task);
ACO_EXPORT void aco_loop_ready_front(aco_loop_t* loop, aco_task_t* task);

/* Requests cancellation of a task. A sleep or a descriptor wait (which the
 * loop serves) ends at once with ACO_BRIDGE_CANCELLED; any other request the
 * task makes from now on is answered so. Returns 1 when it ended a wait. */
ACO_EXPORT int aco_loop_cancel(aco_loop_t* loop, aco_task_t* task);

/* Cancels every task (as aco_loop_cancel), for a stop. Returns how many waits
 * it ended. */
ACO_EXPORT size_t aco_loop_cancel_all(aco_loop_t* loop);

/* Destroys a task that is not on the ready queue and not in a wait the loop
 * serves (it is waiting for the caller's answer, or has ended). */
ACO_EXPORT void aco_loop_destroy_task(aco_loop_t* loop, aco_task_t* task);

/* Destroys every task the loop holds (ready, sleeping, on a descriptor) and
 * keeps the loop: what aco_loop_destroy does first, for an owner that frees
 * the loop itself later, possibly on another thread (the loop's memory and
 * descriptors only; coroutines must be destroyed on their thread). */
ACO_EXPORT void aco_loop_destroy_tasks(aco_loop_t* loop);

/* ---- idle and wake-up --------------------------------------------------------
 * aco_loop_wait blocks the thread until a descriptor some task waits on is
 * ready, the earliest deadline comes (system clock only), aco_loop_wake is
 * called (from any thread; a call made before the wait is not lost), or
 * timeout_ns passes (-1: no bound). It moves no task: aco_loop_admit does.
 * Returns 1 when woken by aco_loop_wake, else 0. */
ACO_EXPORT int aco_loop_wait(aco_loop_t* loop, int64_t timeout_ns);
ACO_EXPORT void aco_loop_wake(aco_loop_t* loop);

/* ---- looking inside ---------------------------------------------------------- */

/* The first ready task (walk the queue with ->next), or NULL. */
ACO_EXPORT aco_task_t* aco_loop_first_ready(aco_loop_t* loop);

/* Copies pointers to the tasks that wait in the loop itself (sleeping, or on
 * a descriptor), up to `capacity` of them, into `out`; stats.sleeping +
 * stats.waiting_io is how many there are. Returns how many it copied. */
ACO_EXPORT size_t aco_loop_list_waiting(aco_loop_t* loop, aco_task_t** out, size_t capacity);

/* The address at which the bytes [p, p + len) of a suspended task's stack are
 * now: where the task left them, or in its save stack when another coroutine
 * owns the share stack. Other addresses are returned as they are. */
ACO_EXPORT void* aco_task_resolve(aco_task_t* task, const void* p, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* ACO_LOOP_H */
