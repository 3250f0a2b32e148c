/*
 * aco_loop.c - the native run loop and the bridge calls coroutines make.
 *
 * A task's control block (aco_task_t) sits right before its aco_t, in the
 * same allocation (aco_create_with_prefix): one malloc per coroutine, and a
 * bridge call finds its block from aco_gtls_co by a constant offset.
 */
#define _GNU_SOURCE
#define ACO_BRIDGE_NO_INLINE /* this file defines the exported functions */
#include "aco_loop.h"

#include <stdlib.h>
#include <string.h>

#include "aco_bridge.h"

/* 56 bytes on 64-bit; on 32-bit 44, or 48 where int64_t fields are 8-byte aligned (Windows). */
_Static_assert(sizeof(aco_task_t) == (sizeof(void*) == 8 ? 56 : offsetof(aco_task_t, id) == 8 ? 48 : 44),
               "aco_task_t is part of the per-coroutine memory budget");

struct aco_loop {
    aco_loop_stats_t stats;
    aco_t* main_co;
    aco_task_t* head;
    aco_task_t* tail;
    aco_share_stack_t** stacks;
    int64_t* stack_load;
    size_t stack_count;
};

static inline aco_t* task_co(aco_task_t* t) { return (aco_t*)((char*)t + sizeof(aco_task_t)); }

aco_t* aco_task_co(aco_task_t* task) { return task_co(task); }

/* ---- the ready queue (intrusive FIFO) -------------------------------------- */

static inline void push_back(aco_loop_t* loop, aco_task_t* t) {
    t->next = NULL;
    t->state = ACO_TASK_READY;
    if (loop->tail != NULL)
        loop->tail->next = t;
    else
        loop->head = t;
    loop->tail = t;
    loop->stats.ready++;
}

static inline void push_front(aco_loop_t* loop, aco_task_t* t) {
    t->state = ACO_TASK_READY;
    t->next = loop->head;
    loop->head = t;
    if (loop->tail == NULL) loop->tail = t;
    loop->stats.ready++;
}

static inline aco_task_t* pop_front(aco_loop_t* loop) {
    aco_task_t* t = loop->head;
    loop->head = t->next;
    if (loop->head == NULL) loop->tail = NULL;
    t->next = NULL;
    loop->stats.ready--;
    return t;
}

/* ---- the loop ---------------------------------------------------------------- */

aco_loop_t* aco_loop_new(aco_t* main_co) {
    aco_assertptr(main_co);
    aco_assert(main_co->main_co == NULL);
    aco_loop_t* loop = calloc(1, sizeof(*loop));
    aco_assertalloc_ptr(loop);
    loop->main_co = main_co;
    return loop;
}

void aco_loop_add_stack(aco_loop_t* loop, aco_share_stack_t* stack) {
    aco_assertptr(stack);
    size_t n = loop->stack_count + 1;
    aco_share_stack_t** stacks = realloc(loop->stacks, n * sizeof(*stacks));
    aco_assertalloc_ptr(stacks);
    int64_t* load = realloc(loop->stack_load, n * sizeof(*load));
    aco_assertalloc_ptr(load);
    stacks[n - 1] = stack;
    load[n - 1] = 0;
    loop->stacks = stacks;
    loop->stack_load = load;
    loop->stack_count = n;
}

aco_task_t* aco_loop_spawn(aco_loop_t* loop, aco_cofuncp_t fp, void* arg, int64_t id,
                           size_t save_stack_sz) {
    aco_assert(loop->stack_count > 0);
    size_t best = 0;
    for (size_t i = 1; i < loop->stack_count; i++)
        if (loop->stack_load[i] < loop->stack_load[best]) best = i;
    aco_t* co = aco_create_with_prefix(loop->main_co, loop->stacks[best], save_stack_sz, fp, arg,
                                       sizeof(aco_task_t));
    aco_task_t* t = aco_get_prefix(co);
    t->id = id;
    loop->stack_load[best]++;
    loop->stats.live++;
    push_back(loop, t);
    return t;
}

static void release_task(aco_loop_t* loop, aco_task_t* t) {
    aco_t* co = task_co(t);
    for (size_t i = 0; i < loop->stack_count; i++)
        if (loop->stacks[i] == co->share_stack) {
            loop->stack_load[i]--;
            break;
        }
    if (t->op == ACO_OP_FAIL) free((void*)t->in);
    loop->stats.live--;
    aco_destroy(co); /* frees the control block too */
}

void aco_loop_destroy_task(aco_loop_t* loop, aco_task_t* task) {
    aco_assert(task->state != ACO_TASK_READY && task->state != ACO_TASK_RUNNING);
    release_task(loop, task);
}

void aco_loop_destroy(aco_loop_t* loop) {
    while (loop->head != NULL) release_task(loop, pop_front(loop));
    free(loop->stacks);
    free(loop->stack_load);
    free(loop);
}

size_t aco_loop_run(aco_loop_t* loop, size_t budget, aco_task_t** batch, size_t capacity) {
    size_t n = 0;
    while (n < capacity && budget > 0 && loop->head != NULL) {
        budget--;
        aco_task_t* t = pop_front(loop);
        aco_t* co = task_co(t);
        t->state = ACO_TASK_RUNNING;
        t->op = ACO_OP_NONE;
        aco_resume(co);
        loop->stats.resumes++;
        if (t->op == ACO_OP_YIELD) {
            t->status = t->cancel ? ACO_BRIDGE_CANCELLED : ACO_BRIDGE_OK;
            push_back(loop, t);
            continue;
        }
        /* Ended by aco_exit() or by returning (return-means-exit): a result of 0. */
        if (co->is_end && t->op < ACO_OP_FINISH) {
            t->op = ACO_OP_FINISH;
            t->value = 0;
        }
        t->state = ACO_TASK_WAITING;
        batch[n++] = t;
    }
    return n;
}

void aco_loop_ready(aco_loop_t* loop, aco_task_t* task) {
    aco_assert(task->state == ACO_TASK_WAITING && !task_co(task)->is_end);
    push_back(loop, task);
}

void aco_loop_ready_front(aco_loop_t* loop, aco_task_t* task) {
    aco_assert(task->state == ACO_TASK_WAITING && !task_co(task)->is_end);
    push_front(loop, task);
}

void* aco_task_resolve(aco_task_t* task, const void* p, size_t len) {
    aco_t* co = task_co(task);
    aco_share_stack_t* s = co->share_stack;
    uintptr_t sp = (uintptr_t)co->reg[ACO_REG_IDX_SP];
    uintptr_t top = (uintptr_t)s->align_retptr;
    uintptr_t a = (uintptr_t)p;
    if (s->owner == co || a < sp || a + len > top) return (void*)p;
    /* Saved away: the save stack holds [sp, top) as it was, from its start. */
    return (char*)co->save_stack.ptr + (a - sp);
}

const aco_loop_stats_t* aco_loop_stats(const aco_loop_t* loop) { return &loop->stats; }

int64_t aco_loop_live(const aco_loop_t* loop) { return loop->stats.live; }
int64_t aco_loop_ready_count(const aco_loop_t* loop) { return loop->stats.ready; }
int64_t aco_loop_resumes(const aco_loop_t* loop) { return loop->stats.resumes; }
aco_task_t* aco_loop_first_ready(aco_loop_t* loop) { return loop->head; }

/* ---- the bridge: coroutine side --------------------------------------------- */

/* The running coroutine's control block, or NULL when it was not spawned by a loop. */
static inline aco_task_t* current_task(void) {
    aco_t* co = aco_gtls_co;
    if (co == NULL || co->main_co == NULL || co->prefix_bytes != sizeof(aco_task_t)) return NULL;
    return (aco_task_t*)((char*)co - sizeof(aco_task_t));
}

/* Writes the request, yields, and returns the scheduler's answer. */
static inline int request(aco_task_t* t, uint8_t op) {
    t->op = op;
    t->status = ACO_BRIDGE_OK;
    aco_yield1(task_co(t));
    return t->status;
}

int aco_bridge_yield(void) {
    aco_task_t* t = current_task();
    return t == NULL ? ACO_BRIDGE_NOT_SCHEDULED : request(t, ACO_OP_YIELD);
}

int aco_bridge_yield_value(int64_t value) {
    aco_task_t* t = current_task();
    if (t == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    t->value = value;
    return request(t, ACO_OP_YIELD_VALUE);
}

int aco_bridge_sleep_ms(int64_t milliseconds) {
    aco_task_t* t = current_task();
    if (t == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    t->value = milliseconds < 0 ? 0 : milliseconds;
    return request(t, ACO_OP_SLEEP);
}

int aco_bridge_call(int32_t handler_id, const void* input, uint32_t input_len, void* output,
                    uint32_t output_capacity, uint32_t* output_len) {
    aco_task_t* t = current_task();
    if (t == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    t->code = handler_id;
    t->in = input;
    t->in_len = input == NULL ? 0 : input_len;
    t->out = output;
    t->out_len = output == NULL ? 0 : output_capacity;
    int status = request(t, ACO_OP_CALL);
    if (output_len != NULL) *output_len = status == ACO_BRIDGE_OK ? t->out_len : 0;
    return status;
}

int aco_bridge_send(int32_t channel_id, int64_t value) {
    aco_task_t* t = current_task();
    if (t == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    t->code = channel_id;
    t->value = value;
    return request(t, ACO_OP_SEND);
}

int aco_bridge_receive(int32_t channel_id, int64_t* value) {
    aco_task_t* t = current_task();
    if (t == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    t->code = channel_id;
    int status = request(t, ACO_OP_RECEIVE);
    if (value != NULL) *value = status == ACO_BRIDGE_OK ? t->value : 0;
    return status;
}

int aco_bridge_await(int64_t operation_id, int64_t* value) {
    aco_task_t* t = current_task();
    if (t == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    t->value = operation_id;
    int status = request(t, ACO_OP_AWAIT);
    if (value != NULL) *value = status == ACO_BRIDGE_OK ? t->value : 0;
    return status;
}

int aco_bridge_is_cancelled(void) {
    aco_task_t* t = current_task();
    return t != NULL && t->cancel;
}

__attribute__((noreturn)) static void end_with(aco_task_t* t, uint8_t op) {
    t->op = op;
    aco_exit1(task_co(t));
    __builtin_unreachable();
}

void aco_bridge_finish(int64_t result) {
    aco_task_t* t = current_task();
    if (t == NULL) aco_exit_fn();
    t->value = result;
    end_with(t, ACO_OP_FINISH);
}

void aco_bridge_fail(int32_t code, const char* message) {
    aco_task_t* t = current_task();
    if (t == NULL) aco_exit_fn();
    /* The message may be on this coroutine's stack, which another coroutine
     * may overwrite before .NET reads it: keep a copy (freed with the task). */
    size_t len = message == NULL ? 0 : strnlen(message, 4096);
    char* copy = malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, message == NULL ? "" : message, len);
        copy[len] = 0;
    }
    t->code = code;
    t->in = copy;
    t->in_len = copy == NULL ? 0 : (uint32_t)len;
    end_with(t, ACO_OP_FAIL);
}

void aco_bridge_exit_cancelled(void) {
    aco_task_t* t = current_task();
    if (t == NULL) aco_exit_fn();
    end_with(t, ACO_OP_CANCELLED);
}
