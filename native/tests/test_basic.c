/* One coroutine yielding N times; arguments; the main coroutine; is_end. */
#include "aco_test.h"

enum { YIELDS = 1000 };

static void counting_entry(void) {
    long* counter = aco_get_arg();
    CHECK(aco_get_co() == aco_gtls_co);
    CHECK(!aco_is_main_co(aco_get_co()));
    for (int i = 0; i < YIELDS; i++) {
        *counter += 1;
        aco_yield();
    }
    *counter += 1000000;
    aco_exit();
}

int main(void) {
    aco_thread_init(NULL);
    CHECK(aco_thread_is_initialized());
    int main_arg = 7;
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, &main_arg);
    CHECK(main_co != NULL);
    CHECK(aco_is_main_co(main_co));
    CHECK(main_co->arg == &main_arg);
    CHECK(main_co->share_stack == NULL);
    CHECK(main_co->main_co == NULL);

    aco_share_stack_t* sstk = aco_share_stack_new(0);
    long counter = 0;
    aco_t* co = aco_create(main_co, sstk, 0, counting_entry, &counter);
    CHECK(co->main_co == main_co);
    CHECK(co->share_stack == sstk);
    CHECK(co->arg == &counter);
    CHECK(co->fp == counting_entry);
    CHECK(co->is_end == 0);
    CHECK(co->save_stack.sz == 64); /* 0 means 64 */

    for (int i = 1; i <= YIELDS; i++) {
        aco_resume(co);
        CHECK_EQ(counter, i);
        CHECK_EQ(co->is_end, 0);
        CHECK(aco_gtls_co == main_co); /* back on main after each resume */
        CHECK(sstk->owner == co);
    }
    aco_resume(co);
    CHECK_EQ(counter, YIELDS + 1000000);
    CHECK_EQ(co->is_end, 1);
    CHECK(sstk->owner == NULL); /* exit gives the stack up */
    /* Alone on its stack: nothing was ever copied. */
    CHECK_EQ(co->save_stack.ct_save, 0);
    CHECK_EQ(co->save_stack.ct_restore, 0);

    aco_destroy(co);
    aco_share_stack_destroy(sstk);
    aco_destroy(main_co);
    test_check_counters_zero();
    puts("basic: ok");
    return 0;
}
