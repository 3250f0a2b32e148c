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
