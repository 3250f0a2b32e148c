/*
 * aco_loop.c - the run loop: its ready queue, its turns, admission, the
 * clock and timers, cancellation (see aco_loop.h). The poller lives in
 * aco_poller_*.c, the coroutine side of requests in aco_bridge.c.
 *
 * A task's control block (aco_task_t) sits right before its aco_t, in the
 * same allocation (aco_create_with_prefix): one block per coroutine, and a
 * bridge call finds its control block from aco_gtls_co at a constant offset.
 */
#define _GNU_SOURCE
#include "aco_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aco_bridge.h"
#include "aco_dump.h"
#include "aco_loop_internal.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <time.h>
#endif

/* One cache line on 64-bit; on 32-bit 52 bytes, or 56 where int64_t fields are 8-byte aligned (Windows). */
_Static_assert(sizeof(aco_task_t) == (sizeof(void*) == 8 ? 64 : offsetof(aco_task_t, id) == 8 ? 56 : 52),
               "aco_task_t is part of the per-coroutine memory budget");
_Static_assert(offsetof(aco_task_t, out_len) == offsetof(aco_task_t, timer_slot),
               "timer_slot shares out_len's place (a CALL never waits for a timer)");

__thread aco_loop_t* aco_loop_running ACO_TLS_MODEL;

const aco_loop_stats_t* aco_loop_stats(const aco_loop_t* loop) { return &loop->stats; }

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

void aco_loop_answer(aco_loop_t* loop, aco_task_t* t, uint8_t status) {
    t->status = status;
    push_back(loop, t);
}

void aco_loop_answer_error(aco_loop_t* loop, aco_task_t* t, int err) {
    t->value = err;
    aco_loop_answer(loop, t, ACO_BRIDGE_ERROR);
}

/* ---- the clock -------------------------------------------------------------- */

int64_t aco_loop_clock_now(void) {
#ifdef _WIN32
    LARGE_INTEGER now;
    QueryPerformanceCounter(&now);
    return now.QuadPart;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
#endif
}

int64_t aco_loop_clock_frequency(void) {
#ifdef _WIN32
    LARGE_INTEGER frequency;
    QueryPerformanceFrequency(&frequency);
    return frequency.QuadPart;
#else
    return 1000000000;
#endif
}

void aco_loop_use_external_clock(aco_loop_t* loop, int64_t frequency) {
    aco_assert(frequency > 0);
    loop->external_clock = 1;
    loop->frequency = frequency;
}

void aco_loop_set_time(aco_loop_t* loop, int64_t now) { loop->now = now; }

/* The time now: read from the system clock, or as last set (external). */
static inline int64_t clock_read(aco_loop_t* loop) {
    if (!loop->external_clock) loop->now = aco_loop_clock_now();
    return loop->now;
}

uint32_t aco_loop_now_ms(const aco_loop_t* loop) {
    int64_t f = loop->frequency;
    return (uint32_t)(loop->now / f * 1000 + loop->now % f * 1000 / f);
}

/* now + ms on the loop's clock, saturating at ACO_LOOP_NEVER - 1 (still a deadline). */
static int64_t deadline_after(const aco_loop_t* loop, int64_t now, int64_t ms) {
    int64_t f = loop->frequency;
    int64_t ticks = ms <= INT64_MAX / f ? ms * f / 1000 : INT64_MAX;
    return ticks < ACO_LOOP_NEVER - 1 - now ? now + ticks : ACO_LOOP_NEVER - 1;
}

/* ---- the loop ---------------------------------------------------------------- */

aco_loop_t* aco_loop_new(aco_t* main_co) {
    aco_assertptr(main_co);
    aco_assert(main_co->main_co == NULL);
    aco_loop_t* loop = calloc(1, sizeof(*loop));
    aco_assertalloc_ptr(loop);
    loop->main_co = main_co;
    loop->frequency = aco_loop_clock_frequency();
    loop->now = aco_loop_clock_now();
    loop->stats.earliest_due = ACO_LOOP_NEVER;
    int err = aco_poller_init(loop);
    if (err != 0) {
        free(loop);
        errno = err;
        return NULL;
    }
    return loop;
}

void aco_loop_add_stack(aco_loop_t* loop, aco_share_stack_t* stack) {
    aco_assertptr(stack);
    size_t n = loop->stack_count + 1;
    aco_share_stack_t** stacks = realloc(loop->stacks, n * sizeof(*stacks));
    aco_assertalloc_ptr(stacks);
    loop->stacks = stacks;
    int64_t* load = realloc(loop->stack_load, n * sizeof(*load));
    aco_assertalloc_ptr(load);
    loop->stack_load = load;
    stacks[n - 1] = stack;
    load[n - 1] = 0;
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
    t->born_ms = t->since_ms = aco_loop_now_ms(loop);
    loop->stack_load[best]++;
    loop->stats.live++;
    push_back(loop, t);
    return t;
}

static void release_task(aco_loop_t* loop, aco_task_t* t) {
    aco_t* co = aco_task_co(t);
    for (size_t i = 0; i < loop->stack_count; i++)
        if (loop->stacks[i] == co->share_stack) {
            loop->stack_load[i]--;
            break;
        }
    if (t->op == ACO_OP_FAIL) {
        free((void*)t->in);
        t->in = NULL;
    }
    loop->stats.live--;
    if (aco_unlikely(loop->hold != NULL) && aco_loop_hold_keep(loop, t)) return; /* a dump still reads it */
    aco_destroy(co); /* frees the control block too */
}

static inline int is_io_wait(uint8_t op) {
    return op == ACO_OP_WAIT_READ || op == ACO_OP_WAIT_WRITE || op == ACO_OP_WAIT_ANY;
}

/* Whether t waits in the loop itself: asleep in the heap, or on a descriptor. */
static inline int waits_here(const aco_task_t* t) {
    return t->state == ACO_TASK_WAITING &&
           ((t->op == ACO_OP_SLEEP && t->timer_slot != 0) || is_io_wait(t->op));
}

static void publish_earliest(aco_loop_t* loop) {
    loop->stats.earliest_due = aco_timer_heap_earliest(&loop->timers);
}

void aco_loop_end_io_wait(aco_loop_t* loop, aco_task_t* t, uint8_t status) {
    if (t->timer_slot != 0) aco_timer_heap_remove(&loop->timers, t);
    loop->stats.waiting_io--;
    aco_loop_answer(loop, t, status);
}

/* Ends a wait that the loop serves, before its time: answered `status`. */
static void end_wait_here(aco_loop_t* loop, aco_task_t* t, uint8_t status) {
    if (t->op == ACO_OP_SLEEP) {
        aco_timer_heap_remove(&loop->timers, t);
        loop->stats.sleeping--;
        aco_loop_answer(loop, t, status);
    } else {
        aco_poller_unpark(loop, t);
        aco_loop_end_io_wait(loop, t, status);
    }
}

void aco_loop_destroy_task(aco_loop_t* loop, aco_task_t* task) {
    aco_assert(task->state != ACO_TASK_READY && task->state != ACO_TASK_RUNNING && !waits_here(task));
    release_task(loop, task);
}

void aco_loop_destroy_tasks(aco_loop_t* loop) {
    aco_loop_cancel_all(loop); /* every task is on the ready queue now */
    while (loop->head != NULL) release_task(loop, pop_front(loop));
    aco_loop_hold_end(loop); /* what a dump held goes too */
}

void aco_loop_destroy(aco_loop_t* loop) {
    aco_loop_destroy_tasks(loop);
    aco_timer_heap_free(&loop->timers);
    aco_poller_close(loop);
    free(loop->stacks);
    free(loop->stack_load);
    free(loop);
}

/* ---- serving what the loop serves itself ---------------------------------- */

/* The deadline counts from now, read after the request was made (the turn's
 * start would be earlier, and the sleep would end early by that much). */
static void serve_sleep(aco_loop_t* loop, aco_task_t* t) {
    if (t->cancel) {
        aco_loop_answer(loop, t, ACO_BRIDGE_CANCELLED);
    } else if (t->value <= 0) {
        aco_loop_answer(loop, t, ACO_BRIDGE_OK);
    } else {
        t->state = ACO_TASK_WAITING;
        loop->stats.sleeping++;
        aco_timer_heap_add(&loop->timers, t, deadline_after(loop, clock_read(loop), t->value));
        publish_earliest(loop);
    }
}

void aco_loop_sleep_until(aco_loop_t* loop, aco_task_t* task, int64_t due) {
    aco_assert(task->op == ACO_OP_SLEEP && task->state == ACO_TASK_WAITING && task->timer_slot == 0);
    loop->stats.sleeping++;
    aco_timer_heap_add(&loop->timers, task, due);
    publish_earliest(loop);
}

static void serve_io_wait(aco_loop_t* loop, aco_task_t* t, int64_t now) {
    if (t->cancel) {
        aco_loop_answer(loop, t, ACO_BRIDGE_CANCELLED);
        return;
    }
    int64_t deadline = t->value;
    if (deadline <= now) {
        aco_loop_answer(loop, t, ACO_BRIDGE_TIMEOUT);
        return;
    }
    t->state = ACO_TASK_WAITING;
    t->timer_slot = 0;
    if (!aco_poller_park(loop, t)) return; /* answered at once */
    loop->stats.waiting_io++;
    if (deadline != ACO_LOOP_NEVER) {
        aco_timer_heap_add(&loop->timers, t, deadline);
        publish_earliest(loop);
    }
}

/* ---- a turn ------------------------------------------------------------------- */

static inline size_t quota(const aco_loop_t* loop, size_t limit, size_t floor) {
    size_t ready = (size_t)loop->stats.ready;
    return ready < limit && limit - ready > floor ? limit - ready : floor;
}

size_t aco_loop_admit(aco_loop_t* loop, size_t limit, size_t floor) {
    /* Each source moves at most max(floor, limit - ready): see the admission
     * policy in AcoScheduler.RunLoop.cs and docs/architecture.md. */
    size_t moved = 0;
    if (loop->timers.count != 0) {
        int64_t now = clock_read(loop);
        for (size_t q = quota(loop, limit, floor); q > 0; q--) {
            aco_task_t* t = aco_timer_heap_take_due(&loop->timers, now);
            if (t == NULL) break;
            if (t->op == ACO_OP_SLEEP) {
                loop->stats.sleeping--;
                aco_loop_answer(loop, t, ACO_BRIDGE_OK);
            } else {
                aco_poller_unpark(loop, t);
                loop->stats.waiting_io--;
                aco_loop_answer(loop, t, ACO_BRIDGE_TIMEOUT);
            }
            moved++;
        }
        publish_earliest(loop);
    }
    moved += aco_poller_admit(loop, quota(loop, limit, floor));
    return moved;
}

size_t aco_loop_run(aco_loop_t* loop, size_t budget, aco_task_t** batch, size_t capacity) {
    size_t n = 0;
    int64_t now = clock_read(loop);
    uint32_t now_ms = aco_loop_now_ms(loop);
    aco_loop_running = loop;
    while (n < capacity && budget > 0 && loop->head != NULL) {
        budget--;
        aco_task_t* t = pop_front(loop);
        aco_t* co = aco_task_co(t);
        t->state = ACO_TASK_RUNNING;
        t->op = ACO_OP_NONE;
        aco_resume(co);
        loop->stats.resumes++;
        uint8_t op = t->op;
        /* Ended by aco_exit() or by returning (return-means-exit): a result of 0. */
        if (co->is_end && op != ACO_OP_FINISH && op != ACO_OP_FAIL && op != ACO_OP_CANCELLED) {
            op = t->op = ACO_OP_FINISH;
            t->value = 0;
        }
        loop->stats.requests[op & 15]++;
        if (op == ACO_OP_YIELD) {
            t->status = t->cancel ? ACO_BRIDGE_CANCELLED : ACO_BRIDGE_OK;
            push_back(loop, t);
            continue;
        }
        t->since_ms = now_ms;
        if (co->is_end) {
            if (t->id == 0 && op != ACO_OP_FAIL) { /* nobody awaits it, nothing to report */
                if (op == ACO_OP_FINISH)
                    loop->stats.finished++;
                else
                    loop->stats.cancelled++;
                release_task(loop, t);
                continue;
            }
        } else if (op == ACO_OP_SLEEP) {
            t->timer_slot = 0; /* out_len's place: whatever a CALL left there */
            if (!loop->external_clock) {
                serve_sleep(loop, t);
                continue;
            }
        } else if (is_io_wait(op)) {
            serve_io_wait(loop, t, now);
            continue;
        }
        t->state = ACO_TASK_WAITING;
        batch[n++] = t;
    }
    aco_loop_running = NULL;
    return n;
}

void aco_loop_ready(aco_loop_t* loop, aco_task_t* task) {
    aco_assert(task->state == ACO_TASK_WAITING && !aco_task_co(task)->is_end && !waits_here(task));
    push_back(loop, task);
}

void aco_loop_ready_front(aco_loop_t* loop, aco_task_t* task) {
    aco_assert(task->state == ACO_TASK_WAITING && !aco_task_co(task)->is_end && !waits_here(task));
    push_front(loop, task);
}

int aco_loop_cancel(aco_loop_t* loop, aco_task_t* task) {
    task->cancel = 1;
    if (!waits_here(task)) return 0;
    end_wait_here(loop, task, ACO_BRIDGE_CANCELLED);
    publish_earliest(loop);
    return 1;
}

size_t aco_loop_cancel_all(aco_loop_t* loop) {
    for (aco_task_t* t = loop->head; t != NULL; t = t->next) t->cancel = 1;
    aco_task_t* batch[64];
    size_t got;
    size_t n = 0;
    while ((got = aco_poller_list(loop, batch, 64)) > 0)
        for (size_t i = 0; i < got; i++, n++) {
            batch[i]->cancel = 1;
            end_wait_here(loop, batch[i], ACO_BRIDGE_CANCELLED);
        }
    aco_task_t* t;
    while ((t = aco_timer_heap_take_any(&loop->timers)) != NULL) {
        t->cancel = 1;
        loop->stats.sleeping--;
        aco_loop_answer(loop, t, ACO_BRIDGE_CANCELLED);
        n++;
    }
    publish_earliest(loop);
    return n;
}

/* ---- idle and wake-up ------------------------------------------------------------ */

int aco_loop_wait(aco_loop_t* loop, int64_t timeout_ns) {
    if (!loop->external_clock && loop->timers.count != 0) {
        /* The earliest deadline bounds the wait (rounded up: never early); one
         * already due does not wait at all. */
        int64_t now = clock_read(loop);
        int64_t due = aco_timer_heap_earliest(&loop->timers);
        int64_t left = due <= now ? 0 : due - now;
        int64_t f = loop->frequency;
        int64_t left_ns = left / f >= INT64_MAX / 1000000000 - 1
                              ? INT64_MAX
                              : left / f * 1000000000 + (left % f * 1000000000 + f - 1) / f;
        if (timeout_ns < 0 || left_ns < timeout_ns) timeout_ns = left_ns;
    }
    return aco_poller_wait(loop, timeout_ns);
}

void aco_loop_wake(aco_loop_t* loop) { aco_poller_wake(loop); }

/* ---- looking inside -------------------------------------------------------------- */

aco_task_t* aco_loop_first_ready(aco_loop_t* loop) { return loop->head; }

size_t aco_loop_list_waiting(aco_loop_t* loop, aco_task_t** out, size_t capacity) {
    size_t n = 0;
    for (size_t i = 0; i < loop->timers.count && n < capacity; i++) {
        aco_task_t* t = aco_timer_heap_at(&loop->timers, i);
        if (t != NULL && t->op == ACO_OP_SLEEP) out[n++] = t; /* descriptor waits: the poller's */
    }
    return n + aco_poller_list(loop, out + n, capacity - n);
}

void* aco_task_resolve(aco_task_t* task, const void* p, size_t len) {
    aco_t* co = aco_task_co(task);
    aco_share_stack_t* s = co->share_stack;
    uintptr_t sp = (uintptr_t)co->reg[ACO_REG_IDX_SP];
    uintptr_t top = (uintptr_t)s->align_retptr;
    uintptr_t a = (uintptr_t)p;
    if (s->owner == co || a < sp || a + len > top) return (void*)p;
    /* Saved away: the save stack holds [sp, top) as it was, from its start. */
    return (char*)co->save_stack.ptr + (a - sp);
}
