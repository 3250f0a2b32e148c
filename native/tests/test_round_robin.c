/* Several coroutines resumed round-robin, on one share stack and on separate
 * stacks: each keeps its own locals, the order of execution is the order of
 * resumption. */
#include "aco_test.h"

enum { COROUTINES = 7, ROUNDS = 200 };

static int trace[COROUTINES * ROUNDS + COROUTINES];
static int trace_len;

static void worker(void) {
    int id = (int)(intptr_t)aco_get_arg();
    volatile long local = id * 1000; /* lives on the (shared) stack */
    for (int r = 0; r < ROUNDS; r++) {
        trace[trace_len++] = id;
        CHECK_EQ(local, id * 1000 + r);
        local += 1;
        aco_yield();
    }
    aco_exit();
}

static void run(int shared) {
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_share_stack_t* stacks[COROUTINES];
    aco_t* cos[COROUTINES];
    for (int i = 0; i < COROUTINES; i++) {
        stacks[i] = (shared && i > 0) ? stacks[0] : aco_share_stack_new2(64 * 1024, 1);
        cos[i] = aco_create(main_co, stacks[i], 0, worker, (void*)(intptr_t)i);
    }
    trace_len = 0;
    for (int r = 0; r <= ROUNDS; r++)
        for (int i = 0; i < COROUTINES; i++) aco_resume(cos[i]);
    CHECK_EQ(trace_len, COROUTINES * ROUNDS);
    for (int k = 0; k < trace_len; k++) CHECK_EQ(trace[k], k % COROUTINES);
    for (int i = 0; i < COROUTINES; i++) {
        CHECK(cos[i]->is_end);
        if (shared) {
            /* Every switch to another coroutine saved and later restored it. */
            CHECK_EQ(cos[i]->save_stack.ct_save, ROUNDS);
            CHECK_EQ(cos[i]->save_stack.ct_restore, ROUNDS);
        } else {
            CHECK_EQ(cos[i]->save_stack.ct_save, 0);
            CHECK_EQ(cos[i]->save_stack.ct_restore, 0);
        }
    }
    for (int i = 0; i < COROUTINES; i++) aco_destroy(cos[i]);
    for (int i = 0; i < COROUTINES; i++)
        if (!shared || i == 0) aco_share_stack_destroy(stacks[i]);
    aco_destroy(main_co);
}

int main(void) {
    aco_thread_init(NULL);
    run(1);
    run(0);
    test_check_counters_zero();
    puts("round_robin: ok");
    return 0;
}
