/*
 * aco_loop.h - the native run loop of an AcoScheduler (scheduler side).
 *
 * The loop owns a ready queue of coroutines and resumes them round-robin in
 * native code. A plain aco_bridge_yield() never leaves the loop; every other
 * bridge request, and every coroutine that ended, is handed back to the
 * caller (the .NET scheduler) in a batch. The caller answers a request by
 * setting `status` (and `value` / `out_len`) and making the task ready again.
 *
 * One loop per thread; every function must be called on that thread.
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
    ACO_OP_YIELD = 1,       /* handled inside the loop */
    ACO_OP_YIELD_VALUE = 2, /* value */
    ACO_OP_SLEEP = 3,       /* value = milliseconds */
    ACO_OP_CALL = 4,        /* code = handler id, in/in_len, out/out_cap */
    ACO_OP_SEND = 5,        /* code = channel id, value */
    ACO_OP_RECEIVE = 6,     /* code = channel id; answer in value */
    ACO_OP_AWAIT = 7,       /* value = operation id; answer in value */
    ACO_OP_FINISH = 8,      /* value = result */
    ACO_OP_FAIL = 9,        /* code, in = message (owned by the task), in_len */
    ACO_OP_CANCELLED = 10,  /* ended as cancelled */
};

/* Task states (aco_task_t.state). */
enum { ACO_TASK_READY = 0, ACO_TASK_RUNNING = 1, ACO_TASK_WAITING = 2 };

/* A coroutine's control block: 56 bytes, allocated right before its aco_t. */
typedef struct aco_task aco_task_t;
struct aco_task {
    aco_task_t* next; /* ready-queue link */
    int64_t id;       /* the owner's id for it; 0 = fire-and-forget */
    int64_t value;    /* request argument, answer or result (see ACO_OP_*) */
    const void* in;
    void* out;
    uint32_t in_len;
    uint32_t out_len; /* CALL: output capacity in the request, bytes written in the answer */
    uint8_t state;
    uint8_t op;
    uint8_t status; /* the answer: ACO_BRIDGE_* */
    uint8_t cancel; /* cancellation requested */
    int32_t code;
};

typedef struct aco_loop aco_loop_t;

/* Counts a loop keeps; aco_loop_stats() gives a pointer that stays valid for
 * the loop's life, so a caller can read them without a call each time. */
typedef struct {
    int64_t ready;   /* tasks on the ready queue */
    int64_t live;    /* tasks created and not destroyed */
    int64_t resumes; /* resumes done */
} aco_loop_stats_t;

ACO_EXPORT const aco_loop_stats_t* aco_loop_stats(const aco_loop_t* loop);

/* A loop resuming from main_co (the thread's main coroutine). */
ACO_EXPORT aco_loop_t* aco_loop_new(aco_t* main_co);

/* Destroys the loop and every task still on its ready queue. Tasks parked
 * elsewhere (waiting for an answer) must be destroyed by the caller first. */
ACO_EXPORT void aco_loop_destroy(aco_loop_t* loop);

/* Adds a share stack to the loop's pool; new tasks go to the least-loaded one. */
ACO_EXPORT void aco_loop_add_stack(aco_loop_t* loop, aco_share_stack_t* stack);

/* Creates a task running fp with arg on the least-loaded stack and makes it
 * ready. */
ACO_EXPORT aco_task_t* aco_loop_spawn(aco_loop_t* loop, aco_cofuncp_t fp, void* arg, int64_t id,
                                      size_t save_stack_sz);

/* Resumes ready tasks round-robin until `budget` resumes are spent, the ready
 * queue is empty or `capacity` tasks are in `batch`. A task goes into the
 * batch when it asks for something other than a plain yield, or has ended.
 * Returns how many are in the batch. */
ACO_EXPORT size_t aco_loop_run(aco_loop_t* loop, size_t budget, aco_task_t** batch,
                               size_t capacity);

/* Makes a waiting task ready again, at the back (or the front) of the queue. */
ACO_EXPORT void aco_loop_ready(aco_loop_t* loop, aco_task_t* task);
ACO_EXPORT void aco_loop_ready_front(aco_loop_t* loop, aco_task_t* task);

/* Destroys a task that is not on the ready queue (waiting or ended). */
ACO_EXPORT void aco_loop_destroy_task(aco_loop_t* loop, aco_task_t* task);

/* The address at which the bytes [p, p + len) of a waiting task's stack are
 * now: where the task left them, or in its save stack when another coroutine
 * owns the share stack. Other addresses are returned as they are. */
ACO_EXPORT void* aco_task_resolve(aco_task_t* task, const void* p, size_t len);

ACO_EXPORT aco_t* aco_task_co(aco_task_t* task);

/* Counts: tasks alive (created, not destroyed), tasks ready, resumes done. */
ACO_EXPORT int64_t aco_loop_live(const aco_loop_t* loop);
ACO_EXPORT int64_t aco_loop_ready_count(const aco_loop_t* loop);
ACO_EXPORT int64_t aco_loop_resumes(const aco_loop_t* loop);

/* The first ready task (for walking the queue with ->next), or NULL. */
ACO_EXPORT aco_task_t* aco_loop_first_ready(aco_loop_t* loop);

#ifdef __cplusplus
}
#endif

#endif /* ACO_LOOP_H */
