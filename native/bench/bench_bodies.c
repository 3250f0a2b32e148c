/* Coroutine bodies for aco_bench, built as their own shared library so that
 * their access to aco_gtls_co is what user code loaded by .NET pays. */
#include <alloca.h>
#include <string.h>

#include "aco.h"

#define BENCH_EXPORT __attribute__((visibility("default")))

/* Yields forever with a minimal frame. */
BENCH_EXPORT void bench_yield_forever(void) {
    for (;;) aco_yield();
}

/* Yields forever with about `arg` bytes of live stack. */
BENCH_EXPORT void bench_yield_forever_with_stack(void) {
    size_t n = (size_t)(uintptr_t)aco_get_arg();
    unsigned char* buf = alloca(n + 1);
    memset(buf, 1, n + 1);
    /* The buffer must exist: the compiler may not drop the alloca or memset. */
    __asm__ volatile("" : : "r"(buf) : "memory");
    for (;;) aco_yield();
}

/* Yields once, then exits. */
BENCH_EXPORT void bench_yield_once_then_exit(void) {
    aco_yield();
    aco_exit();
}

/* ---- bodies for bench/Aco.Benchmarks (scheduler and bridge) ---------------- */
#include "aco_bridge.h"

/* Plain bridge yields forever (they never leave the native run loop). */
BENCH_EXPORT void bench_bridge_yield_forever(void) {
    for (;;) aco_bridge_yield();
}

/* arg = n: n calls of handler 1 with 8 bytes in and out, then finishes. */
BENCH_EXPORT void bench_call_n(void) {
    int64_t n = (int64_t)(intptr_t)aco_get_arg();
    uint64_t in = 42, out = 0;
    uint32_t len = 0;
    for (int64_t i = 0; i < n; i++) aco_bridge_call(1, &in, sizeof in, &out, sizeof out, &len);
    aco_bridge_finish((int64_t)out);
}

/* arg = n: sends 1..n on channel 1, then finishes. */
BENCH_EXPORT void bench_send_n(void) {
    int64_t n = (int64_t)(intptr_t)aco_get_arg();
    for (int64_t i = 1; i <= n; i++) aco_bridge_send(1, i);
    aco_bridge_finish(n);
}

/* arg = n: receives n values from channel 2, finishes with their sum. */
BENCH_EXPORT void bench_receive_n(void) {
    int64_t n = (int64_t)(intptr_t)aco_get_arg();
    int64_t sum = 0, v = 0;
    for (int64_t i = 0; i < n; i++) {
        if (aco_bridge_receive(2, &v) != ACO_BRIDGE_OK) break;
        sum += v;
    }
    aco_bridge_finish(sum);
}

/* Yields once, then finishes: the smallest complete coroutine. */
BENCH_EXPORT void bench_yield_once_then_finish(void) {
    aco_bridge_yield();
    aco_bridge_finish(1);
}

/* Sleeps for an hour at a time: alive, parked on the scheduler's timer heap. */
BENCH_EXPORT void bench_sleep_forever(void) {
    for (;;)
        if (aco_bridge_sleep_ms(3600 * 1000) == ACO_BRIDGE_CANCELLED) aco_bridge_exit_cancelled();
}

/* arg = milliseconds: one sleep, then finishes with its status. */
BENCH_EXPORT void bench_sleep_ms(void) {
    aco_bridge_finish(aco_bridge_sleep_ms((int64_t)(intptr_t)aco_get_arg()));
}

/* A job of the fairness flood: three short sleeps, each followed by a yield,
 * as the worker sample's job does. arg: job index. */
BENCH_EXPORT void bench_flood_job(void) {
    int64_t job = (int64_t)(intptr_t)aco_get_arg();
    for (int i = 0; i < 3; i++) {
        if (aco_bridge_sleep_ms(1 + (job + i) % 3) != ACO_BRIDGE_OK) aco_bridge_exit_cancelled();
        aco_bridge_yield();
    }
}

/* The fairness probe: arg = int64_t log[]: log[0] rounds, log[1] milliseconds
 * per sleep, log[2] rounds done so far; each round's overshoot (how long after
 * its due time the sleep ended, in microseconds) goes to log[3 + round]. */
BENCH_EXPORT void bench_probe(void) {
    int64_t* log = aco_get_arg();
    int64_t f = aco_loop_clock_frequency();
    for (int64_t round = 0; round < log[0]; round++) {
        int64_t due = aco_loop_clock_now() + log[1] * (f / 1000);
        if (aco_bridge_sleep_ms(log[1]) != ACO_BRIDGE_OK) aco_bridge_exit_cancelled();
        log[3 + round] = (aco_loop_clock_now() - due) * 1000000 / f;
        log[2] = round + 1;
    }
    aco_bridge_finish(log[0]);
}
