/* Beyond libaco: the macros as exported functions, the version, the stack
 * high-water mark and the process-wide counters. */
#include <alloca.h>

#include "aco_test.h"

static void fn_entry(void) {
    aco_t* self = aco_get_co_fn();
    CHECK(self == aco_gtls_co);
    CHECK(aco_co_fn() == self);
    CHECK(!aco_is_main_co_fn(self));
    int* n = aco_get_arg_fn();
    *n += 1;
    aco_yield_fn();
    *n += 1;
    aco_yield1_fn(self);
    *n += 1;
    aco_exit_fn();
}

static void exit1_entry(void) {
    *(int*)aco_get_arg_fn() = 9;
    aco_exit1_fn(aco_get_co_fn());
}

__attribute__((noinline)) static void yield_deep(size_t n) {
    volatile char* buf = alloca(n);
    buf[0] = 1;
    aco_yield();
}

/* Yields once at a depth of about `arg` bytes, then at shallow depths. */
static void hwm_entry(void) {
    yield_deep((size_t)(uintptr_t)aco_get_arg());
    for (int i = 0; i < 3; i++) aco_yield();
    aco_exit();
}

int main(void) {
    CHECK(!aco_thread_is_initialized());
    aco_thread_init(NULL);
    CHECK_EQ(aco_version_number(), 10204);

    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    CHECK(aco_is_main_co_fn(main_co));
    aco_share_stack_t* s = aco_share_stack_new(0);
    int n = 0;
    aco_t* co = aco_create(main_co, s, 0, fn_entry, &n);
    aco_resume(co);
    CHECK_EQ(n, 1);
    aco_resume(co);
    CHECK_EQ(n, 2);
    aco_resume(co);
    CHECK_EQ(n, 3);
    CHECK(co->is_end);
    CHECK(s->owner == NULL);

    int m = 0;
    aco_t* co2 = aco_create(main_co, s, 0, exit1_entry, &m);
    aco_resume(co2);
    CHECK_EQ(m, 9);
    CHECK(co2->is_end);

    aco_t* deep = aco_create(main_co, s, 0, hwm_entry, (void*)(uintptr_t)20000);
    CHECK_EQ(aco_get_stack_hwm(deep), 0); /* never ran */
    aco_resume(deep);
    size_t hwm = aco_get_stack_hwm(deep);
    CHECK(hwm >= 20000 && hwm < 21000);
    while (!deep->is_end) aco_resume(deep);
    CHECK_EQ(aco_get_stack_hwm(deep), hwm); /* shallower yields keep the maximum */

    aco_counters_t c;
    aco_get_counters(&c);
    CHECK_EQ(c.live_coroutines, 4);
    CHECK_EQ(c.live_share_stacks, 1);
    CHECK_EQ(c.save_stack_bytes, 3 * 64);

    aco_destroy(co);
    aco_destroy(co2);
    aco_destroy(deep);
    aco_share_stack_destroy(s);
    aco_destroy(main_co);
    test_check_counters_zero();
    puts("functions: ok");
    return 0;
}
