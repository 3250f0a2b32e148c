/* Destroying coroutines in every state leaks nothing: suspended and
 * unfinished, owner of its stack or saved away, with a grown save stack,
 * never started, ended. The counters return to zero (and valgrind checks). */
#include <alloca.h>

#include "aco_test.h"

static void entry(void) {
    size_t n = (size_t)(uintptr_t)aco_get_arg();
    volatile char* buf = alloca(n + 1);
    buf[0] = 1;
    buf[n] = 2;
    for (;;) aco_yield(); /* never ends by itself */
}

static void ending_entry(void) { aco_exit(); }

int main(void) {
    aco_thread_init(NULL);
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_share_stack_t* s = aco_share_stack_new(0);
    aco_counters_t c;
    aco_get_counters(&c);
    CHECK_EQ(c.live_coroutines, 1);
    CHECK_EQ(c.live_share_stacks, 1);

    enum { N = 50 };
    aco_t* cos[N];
    for (int i = 0; i < N; i++) cos[i] = aco_create(main_co, s, 0, entry, (void*)(uintptr_t)(i * 100));
    for (int i = 0; i < N - 5; i++) aco_resume(cos[i]); /* the last 5 never start */
    aco_get_counters(&c);
    CHECK_EQ(c.live_coroutines, N + 1);
    CHECK(c.save_stack_bytes > 64 * N); /* some save stacks grew */

    /* The owner of the stack, then everything else, in a mixed order. */
    CHECK(s->owner == cos[N - 6]);
    aco_destroy(cos[N - 6]);
    CHECK(s->owner == NULL);
    for (int i = 0; i < N; i += 2)
        if (i != N - 6) aco_destroy(cos[i]);
    for (int i = 1; i < N; i += 2)
        if (i != N - 6) aco_destroy(cos[i]);

    /* The stack still works for new coroutines afterwards. */
    aco_t* fresh = aco_create(main_co, s, 0, ending_entry, NULL);
    aco_resume(fresh);
    CHECK(fresh->is_end);
    aco_destroy(fresh);

    aco_get_counters(&c);
    CHECK_EQ(c.live_coroutines, 1);
    CHECK_EQ(c.save_stack_bytes, 0);
    aco_share_stack_destroy(s);
    aco_destroy(main_co);
    test_check_counters_zero();
    puts("destroy: ok");
    return 0;
}
