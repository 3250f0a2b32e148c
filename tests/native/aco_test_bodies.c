#define _GNU_SOURCE
/* Coroutine entry points for the .NET tests (tests/Aco.Core.Tests). Each takes
 * its argument through aco_get_arg(); the tests pass pointers to native memory
 * they own, or plain integers. */
#include <alloca.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "aco.h"

#define BODY __attribute__((visibility("default")))

/* arg: int64_t* counter. Increments it and yields, 5 times, then exits. */
BODY void test_count_to_five(void) {
    int64_t* counter = aco_get_arg();
    for (int i = 0; i < 5; i++) {
        *counter += 1;
        aco_yield();
    }
    aco_exit();
}

/* arg: int64_t* counter. Increments it at each resume, forever. */
BODY void test_count_forever(void) {
    int64_t* counter = aco_get_arg();
    for (;;) {
        *counter += 1;
        aco_yield();
    }
}

/* Ends at once. */
BODY void test_exit_at_once(void) { aco_exit(); }

/* arg: int64_t*. Stores 42 and returns from the entry instead of aco_exit(). */
BODY void test_return_at_once(void) { *(int64_t*)aco_get_arg() = 42; }

__attribute__((noinline)) static void yield_with_stack(size_t n) {
    volatile char* buf = alloca(n);
    buf[0] = 1;
    buf[n - 1] = 2;
    aco_yield();
}

/* arg: byte count. Yields once with about that much live stack, then exits. */
BODY void test_yield_deep(void) {
    yield_with_stack((size_t)(uintptr_t)aco_get_arg());
    aco_yield();
    aco_exit();
}

/* A last-word handler: records that it ran (in the int64_t the coroutine's
 * argument points to: 1000 is added), then ends the coroutine. */
BODY void test_last_word_records_and_exits(void) {
    *(int64_t*)aco_get_arg() += 1000;
    aco_exit();
}

/* Data, not code: the tests pass its address as a would-be entry point. */
BODY int64_t test_not_code[4] = {1, 2, 3, 4};

/* ---- bodies for the scheduler tests (tests/Aco.Scheduling.Tests) ---------- */
#include "aco_bridge.h"

/* arg = n: n plain yields, then finishes with n. */
BODY void sched_yield_n(void) {
    int64_t n = (int64_t)(intptr_t)aco_get_arg();
    for (int64_t i = 0; i < n; i++)
        if (aco_bridge_yield() == ACO_BRIDGE_CANCELLED) aco_bridge_exit_cancelled();
    aco_bridge_finish(n);
}

/* arg = struct { int64_t* log; int64_t id; int64_t rounds; }: appends id to the
 * log each round (log[0] is the count), yielding in between. */
typedef struct {
    int64_t* log;
    int64_t id;
    int64_t rounds;
} sched_order_arg;

BODY void sched_log_rounds(void) {
    sched_order_arg* a = aco_get_arg();
    for (int64_t r = 0; r < a->rounds; r++) {
        a->log[1 + a->log[0]++] = a->id;
        aco_bridge_yield();
    }
    aco_bridge_finish(a->id);
}

/* arg = milliseconds: sleeps, then finishes with the sleep's status. */
BODY void sched_sleep(void) {
    int status = aco_bridge_sleep_ms((int64_t)(intptr_t)aco_get_arg());
    if (status == ACO_BRIDGE_CANCELLED) aco_bridge_exit_cancelled();
    aco_bridge_finish(status);
}

/* Calls handler `arg` with "hello" (buffers on this stack, yielding around it
 * so other coroutines use the stack meanwhile); finishes with the output
 * length if the answer is "HELLO", fails otherwise. */
BODY void sched_call_upper(void) {
    int32_t handler = (int32_t)(intptr_t)aco_get_arg();
    char in[8] = "hello";
    char out[32];
    memset(out, 0, sizeof out);
    uint32_t len = 0;
    aco_bridge_yield();
    int status = aco_bridge_call(handler, in, 5, out, sizeof out, &len);
    aco_bridge_yield();
    if (status != ACO_BRIDGE_OK) aco_bridge_fail(100 + status, "call failed");
    if (len != 5 || memcmp(out, "HELLO", 5) != 0) aco_bridge_fail(7, "wrong answer");
    aco_bridge_finish(len);
}

/* Receives from channel `arg` until it closes; sends the sum on channel arg+1;
 * finishes with the sum. */
BODY void sched_channel_sum(void) {
    int32_t channel = (int32_t)(intptr_t)aco_get_arg();
    int64_t sum = 0, v = 0;
    int status;
    while ((status = aco_bridge_receive(channel, &v)) == ACO_BRIDGE_OK) sum += v;
    if (status == ACO_BRIDGE_CANCELLED) aco_bridge_exit_cancelled();
    if (status != ACO_BRIDGE_CLOSED) aco_bridge_fail(status, "receive failed");
    if (aco_bridge_send(channel + 1, sum) != ACO_BRIDGE_OK) aco_bridge_fail(9, "send failed");
    aco_bridge_finish(sum);
}

/* arg = n: yields the values 1..n to its reader, then finishes with n. */
BODY void sched_generate(void) {
    int64_t n = (int64_t)(intptr_t)aco_get_arg();
    for (int64_t i = 1; i <= n; i++)
        if (aco_bridge_yield_value(i) == ACO_BRIDGE_CANCELLED) aco_bridge_exit_cancelled();
    aco_bridge_finish(n);
}

/* Fails with code 42 and a message built on its stack. */
BODY void sched_fail(void) {
    char message[32];
    snprintf(message, sizeof message, "boom %d", 42);
    aco_bridge_yield();
    aco_bridge_fail(42, message);
}

/* Sleeps in a loop until cancelled; ends as cancelled. */
BODY void sched_until_cancelled(void) {
    while (aco_bridge_sleep_ms(60000) != ACO_BRIDGE_CANCELLED) {
    }
    aco_bridge_exit_cancelled();
}

/* Waits for the operation whose id is `arg`; finishes with its value. */
BODY void sched_await(void) {
    int64_t v = 0;
    int status = aco_bridge_await((int64_t)(intptr_t)aco_get_arg(), &v);
    if (status != ACO_BRIDGE_OK) aco_bridge_fail(status, "await failed");
    aco_bridge_finish(v);
}

/* Keeps a stack array across many yields, calls and sleeps; finishes with its
 * checksum, fails if any element changed. arg = seed. */
BODY void sched_hold_data(void) {
    int64_t seed = (int64_t)(intptr_t)aco_get_arg();
    volatile int64_t data[32];
    for (int i = 0; i < 32; i++) data[i] = seed * 31 + i;
    for (int round = 0; round < 20; round++) {
        aco_bridge_yield();
        if (round % 5 == 0) aco_bridge_sleep_ms(0);
        for (int i = 0; i < 32; i++)
            if (data[i] != seed * 31 + i) aco_bridge_fail(13, "stack data changed");
    }
    int64_t sum = 0;
    for (int i = 0; i < 32; i++) sum += data[i];
    aco_bridge_finish(sum);
}

/* Ignores cancellation: yields forever. */
BODY void sched_stubborn(void) {
    for (;;) aco_bridge_yield();
}

/* Runs arg milliseconds without yielding (a coroutine that hogs its thread). */
#include <time.h>
BODY void sched_spin_ms(void) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int64_t ms = (int64_t)(intptr_t)aco_get_arg();
    do clock_gettime(CLOCK_MONOTONIC, &now);
    while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < ms);
    aco_bridge_finish(ms);
}

/* ---- bodies for the liveness tests ------------------------------------------ */

/* arg = seed: three rounds of a short sleep (1-3 ms) and a yield, then finishes
 * with the seed (the worker sample's rhythm). */
BODY void sched_sleep_rounds(void) {
    int64_t seed = (int64_t)(intptr_t)aco_get_arg();
    for (int i = 0; i < 3; i++) {
        if (aco_bridge_sleep_ms(1 + (seed + i) % 3) == ACO_BRIDGE_CANCELLED) aco_bridge_exit_cancelled();
        aco_bridge_yield();
    }
    aco_bridge_finish(seed);
}

/* arg = n: n plain yields whatever their status (it does not listen to
 * cancellation), then finishes with n. */
BODY void sched_finish_after_yields(void) {
    int64_t n = (int64_t)(intptr_t)aco_get_arg();
    for (int64_t i = 0; i < n; i++) aco_bridge_yield();
    aco_bridge_finish(n);
}

/* Ignores cancellation: sleeps 1 ms in a loop forever (once cancelled, every
 * sleep is answered at once). */
BODY void sched_stubborn_sleeper(void) {
    for (;;) aco_bridge_sleep_ms(1);
}

/* arg = int64_t log[]: log[0] is the channel id; receives from it until an
 * answer is not OK, appending each value to log (log[1] counts them); ends
 * cancelled or finished with the count. A value the scheduler hands over is
 * never lost: it is in the log. */
BODY void sched_receive_log(void) {
    int64_t* log = aco_get_arg();
    int64_t v = 0;
    int status;
    while ((status = aco_bridge_receive((int32_t)log[0], &v)) == ACO_BRIDGE_OK) log[2 + log[1]++] = v;
    if (status == ACO_BRIDGE_CANCELLED) aco_bridge_exit_cancelled();
    aco_bridge_finish(log[1]);
}

/* A short job of a flood: sleeps 1 ms, yields twice, counts its end in
 * *counter (arg: int64_t*; the flood and its probe run on one scheduler
 * thread, so no atomics are needed). */
BODY void sched_flood_job(void) {
    int64_t* counter = aco_get_arg();
    aco_bridge_sleep_ms(1);
    aco_bridge_yield();
    aco_bridge_yield();
    *counter += 1;
}

/* Sleeps until cancelled, then counts its end in *counter (arg: int64_t*). */
BODY void sched_count_on_cancel(void) {
    int64_t* counter = aco_get_arg();
    while (aco_bridge_sleep_ms(3600 * 1000) != ACO_BRIDGE_CANCELLED) {
    }
    *counter += 1;
    aco_bridge_exit_cancelled();
}

/* The probe of a flood: arg = int64_t log[]: log[0] is the address of the
 * flood's counter, log[1] the rounds, log[2] the milliseconds of each sleep.
 * It sleeps until the flood's counter has moved (the flood is being worked
 * through), then for each round sleeps and writes the counter's value to
 * log[3 + round], so the test sees how far the flood had got each time the
 * probe woke. */
BODY void sched_probe(void) {
    int64_t* log = aco_get_arg();
    const volatile int64_t* counter = (const volatile int64_t*)(intptr_t)log[0];
    while (*counter == 0)
        if (aco_bridge_sleep_ms(log[2]) != ACO_BRIDGE_OK) aco_bridge_exit_cancelled();
    for (int64_t round = 0; round < log[1]; round++) {
        if (aco_bridge_sleep_ms(log[2]) != ACO_BRIDGE_OK) aco_bridge_exit_cancelled();
        log[3 + round] = *counter;
    }
    aco_bridge_finish(log[1]);
}
