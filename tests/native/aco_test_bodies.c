/* Coroutine entry points for the .NET tests (tests/Aco.Core.Tests). Each takes
 * its argument through aco_get_arg(); the tests pass pointers to native memory
 * they own, or plain integers. */
#include <alloca.h>
#include <stdint.h>
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
