/* Coroutine bodies for the libaco anchor of aco_bench: the same bodies as
 * bench_bodies.c, compiled against libaco's own aco.h (the include path points
 * at the libaco source the bench was given) and linked to the libaco built
 * from it, so that the anchor runs exactly the code our rows run. */
#include <alloca.h>
#include <string.h>

#include "aco.h"

#define BENCH_EXPORT __attribute__((visibility("default")))

BENCH_EXPORT void bench_yield_forever(void) {
    for (;;) aco_yield();
}

BENCH_EXPORT void bench_yield_forever_with_stack(void) {
    size_t n = (size_t)(uintptr_t)aco_get_arg();
    unsigned char* buf = alloca(n + 1);
    memset(buf, 1, n + 1);
    __asm__ volatile("" : : "r"(buf) : "memory");
    for (;;) aco_yield();
}
