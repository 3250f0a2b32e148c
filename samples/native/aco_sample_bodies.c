/* Coroutine bodies for samples/Aco.Samples. They do not print (C stdio and
 * .NET's Console would interleave unpredictably); they leave their results
 * in memory that the C# side prints. */
#include <alloca.h>
#include <stdint.h>
#include <string.h>

#include "aco.h"

#define BODY __attribute__((visibility("default")))

/* Basic: arg = int64_t* steps; counts three steps, yielding after each. */
BODY void sample_three_steps(void) {
    int64_t* steps = aco_get_arg();
    for (int i = 0; i < 3; i++) {
        *steps += 1;
        aco_yield();
    }
    aco_exit();
}

/* Arguments: arg = struct { int64_t a, b, result; }. Yields the sum, then the product. */
typedef struct {
    int64_t a, b, result;
} sample_pair;

BODY void sample_sum_then_product(void) {
    sample_pair* p = aco_get_arg();
    p->result = p->a + p->b;
    aco_yield();
    p->result = p->a * p->b;
    aco_exit();
}

/* Multiple coroutines: arg = struct { int64_t id; sample_log* log; }; each
 * appends its id to the shared log at every step, three steps. */
typedef struct {
    int64_t count;
    int64_t entries[1024];
} sample_log;

typedef struct {
    int64_t id;
    sample_log* log;
} sample_worker;

BODY void sample_log_three_times(void) {
    sample_worker* w = aco_get_arg();
    for (int i = 0; i < 3; i++) {
        if (w->log->count < 1024) w->log->entries[w->log->count++] = w->id;
        aco_yield();
    }
    aco_exit();
}

/* Copy stack: arg = bytes of stack to keep live across two yields. */
__attribute__((noinline)) static void keep_stack_and_yield(size_t n) {
    volatile unsigned char* buf = alloca(n);
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)i;
    aco_yield();
    aco_yield();
}

BODY void sample_keep_stack(void) {
    keep_stack_and_yield((size_t)(uintptr_t)aco_get_arg());
    aco_exit();
}

/* Last word: returns from its entry without aco_exit(); arg = int64_t*. */
BODY void sample_forgets_exit(void) { *(int64_t*)aco_get_arg() += 1; }

/* A last-word handler: runs on the coroutine that returned, marks it (adds
 * 100 to its int64_t argument) and ends it properly. */
BODY void sample_last_word(void) {
    *(int64_t*)aco_get_arg() += 100;
    aco_exit();
}

/* ---- the worker service sample (samples/Aco.WorkerService) ----------------- */
#include "aco_bridge.h"

/* One job: a few bridged sleeps, a few yields, a call to managed handler 1
 * with the job's index and the time it started (it answers the job's value,
 * and records how long the job waited to start and how long it ran), and that
 * value sent on channel 1, which managed code aggregates. arg = job index. */
BODY void worker_job(void) {
    int64_t job[2] = {(int64_t)(intptr_t)aco_get_arg(), aco_loop_clock_now()};
    for (int i = 0; i < 3; i++) {
        if (aco_bridge_sleep_ms(1 + (job[0] + i) % 3) == ACO_BRIDGE_CANCELLED) aco_bridge_exit_cancelled();
        aco_bridge_yield();
    }
    int64_t answer = 0;
    uint32_t len = 0;
    if (aco_bridge_call(1, job, sizeof job, &answer, sizeof answer, &len) != ACO_BRIDGE_OK || len != sizeof answer)
        aco_bridge_fail(1, "the handler did not answer");
    if (aco_bridge_send(1, answer) != ACO_BRIDGE_OK) aco_bridge_exit_cancelled();
    aco_bridge_finish(answer);
}

/* The worker sample's --hold mode: waits (asleep, an hour at a time) until the
 * host stops, then ends as cancelled. */
BODY void worker_hold(void) {
    while (aco_bridge_sleep_ms(3600 * 1000) != ACO_BRIDGE_CANCELLED) {
    }
    aco_bridge_exit_cancelled();
}
