/* Coroutine bodies for the .NET dump tests (tests/Aco.Scheduling.Tests/DumpTests.cs). Built twice: with
 * frame pointers and debug information (libaco_dump_bodies.so), and without frame pointers
 * (libaco_dump_bodies_nofp.so), to show what a dump reads of each. */
#include <stdint.h>

#include "aco_bridge.h"

#define BODY __attribute__((visibility("default")))
#if defined(__clang__)
#define FRAME __attribute__((noinline))
#else
#define FRAME __attribute__((noinline, noclone))
#endif

static volatile int64_t dump_sink;

/* f1 -> f2 -> aco_bridge_receive(channel): the place the tests look for. Each
 * uses what its callee returns, so no call is a tail call. */
FRAME static int dump_f2(int channel) {
    int64_t value = 0;
    int status = aco_bridge_receive(channel, &value);
    dump_sink += value;
    return status;
}

FRAME static int dump_f1(int channel) {
    int status = dump_f2(channel);
    dump_sink += status;
    return status;
}

/* Receives on channel (int)arg until it is closed or the coroutine is cancelled. */
BODY void dump_receive(void) {
    int channel = (int)(intptr_t)aco_get_arg();
    while (dump_f1(channel) == ACO_BRIDGE_OK) {
    }
    aco_bridge_exit_cancelled();
}

/* Sends 1 on channel (int)arg until it is closed or the coroutine is cancelled. */
BODY void dump_send(void) {
    int channel = (int)(intptr_t)aco_get_arg();
    while (aco_bridge_send(channel, 1) == ACO_BRIDGE_OK) {
    }
    aco_bridge_exit_cancelled();
}

/* Sleeps until cancelled (an hour at a time). */
BODY void dump_sleep(void) {
    while (aco_bridge_sleep_ms(3600 * 1000) != ACO_BRIDGE_CANCELLED) {
    }
    aco_bridge_exit_cancelled();
}

/* Awaits operation (int64_t)arg once; finishes with its value. */
BODY void dump_await(void) {
    int64_t value = 0;
    int status = aco_bridge_await((int64_t)(intptr_t)aco_get_arg(), &value);
    if (status == ACO_BRIDGE_CANCELLED) aco_bridge_exit_cancelled();
    aco_bridge_finish(status == ACO_BRIDGE_OK ? value : -status);
}

/* Yields until cancelled: always ready. */
BODY void dump_yield(void) {
    while (aco_bridge_yield() != ACO_BRIDGE_CANCELLED) {
    }
    aco_bridge_exit_cancelled();
}

/* Ends at once (for dumps taken while coroutines come and go). */
BODY void dump_quick(void) {
    aco_bridge_yield();
    aco_bridge_finish(1);
}

/* Yields until *(int64_t*)arg holds an operation id, then awaits it once (so a
 * test can register the coroutine's own completion as the operation). */
BODY void dump_await_at(void) {
    volatile int64_t* slot = (volatile int64_t*)aco_get_arg();
    while (*slot == 0)
        if (aco_bridge_yield() == ACO_BRIDGE_CANCELLED) aco_bridge_exit_cancelled();
    int64_t value = 0;
    int status = aco_bridge_await(*slot, &value);
    if (status == ACO_BRIDGE_CANCELLED) aco_bridge_exit_cancelled();
    aco_bridge_finish(status == ACO_BRIDGE_OK ? value : -status);
}
