/* A small scheduler written in C for the tests of the run loop: it admits,
 * runs and waits as the .NET scheduler does, destroys the coroutines that end,
 * and fails the test on any request it does not expect, or when a run takes
 * longer than its bound (a hang). */
#ifndef ACO_TEST_LOOP_H
#define ACO_TEST_LOOP_H

#include "aco_bridge.h"
#include "aco_loop.h"
#include "aco_test.h"

#define TEST_LOOP_MAX_STACKS 4
#define TEST_LOOP_BUDGET 1024

typedef struct {
    aco_t* main_co;
    aco_loop_t* loop;
    const aco_loop_stats_t* stats;
    aco_share_stack_t* stacks[TEST_LOOP_MAX_STACKS];
    int stack_count;
    int64_t ended;        /* tasks that ended (any way) */
    int64_t ended_failed; /* of those, by aco_bridge_fail */
} test_loop;

static inline void test_loop_init(test_loop* l, int stacks, size_t stack_size) {
    memset(l, 0, sizeof *l);
    aco_thread_init(NULL);
    aco_set_return_means_exit(1); /* bodies may return, as under .NET */
    l->main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    l->loop = aco_loop_new(l->main_co);
    CHECK(l->loop != NULL);
    l->stats = aco_loop_stats(l->loop);
    CHECK(stacks >= 1 && stacks <= TEST_LOOP_MAX_STACKS);
    for (int i = 0; i < stacks; i++) {
        l->stacks[i] = aco_share_stack_new(stack_size);
        aco_loop_add_stack(l->loop, l->stacks[i]);
    }
    l->stack_count = stacks;
}

static inline void test_loop_free(test_loop* l) {
    aco_loop_destroy(l->loop);
    for (int i = 0; i < l->stack_count; i++) aco_share_stack_destroy(l->stacks[i]);
    aco_destroy(l->main_co);
}

static inline double test_seconds(void) {
    return (double)aco_loop_clock_now() / (double)aco_loop_clock_frequency();
}

/* One turn: admission, a run, the batch; waits when there was nothing to do.
 * Returns how many tasks ended in it. */
static inline int test_loop_turn(test_loop* l) {
    aco_task_t* batch[64];
    int ended = 0;
    size_t moved = aco_loop_admit(l->loop, TEST_LOOP_BUDGET, TEST_LOOP_BUDGET / 8);
    int64_t resumes = l->stats->resumes;
    size_t budget = TEST_LOOP_BUDGET;
    while (budget > 0 && l->stats->ready > 0) {
        int64_t before = l->stats->resumes;
        size_t n = aco_loop_run(l->loop, budget, batch, 64);
        budget -= (size_t)(l->stats->resumes - before);
        for (size_t i = 0; i < n; i++) {
            aco_task_t* t = batch[i];
            if (t->op == ACO_OP_FINISH || t->op == ACO_OP_CANCELLED || t->op == ACO_OP_FAIL) {
                if (t->op == ACO_OP_FAIL) {
                    fprintf(stderr, "coroutine %lld failed: %s\n", (long long)t->id, (const char*)t->in);
                    l->ended_failed++;
                }
                aco_loop_destroy_task(l->loop, t);
                ended++;
            } else {
                fprintf(stderr, "unexpected request %d from coroutine %lld\n", t->op, (long long)t->id);
                CHECK(!"a request the test scheduler does not serve");
            }
        }
    }
    /* Idle: wait for a descriptor or a deadline (bounded, so a test's own
     * condition is looked at again now and then). */
    if (moved == 0 && l->stats->resumes == resumes && l->stats->ready == 0) aco_loop_wait(l->loop, 100 * 1000000);
    l->ended += ended;
    return ended;
}

/* Turns until `live` tasks are left alive (detached ones end by themselves),
 * failing after bound_seconds. */
static inline void test_loop_run_until_live(test_loop* l, int64_t live, double bound_seconds) {
    double until = test_seconds() + bound_seconds;
    while (l->stats->live > live) {
        test_loop_turn(l);
        if (test_seconds() > until) {
            fprintf(stderr, "still %lld live after %.0f s (ready %lld, sleeping %lld, on sockets %lld)\n",
                    (long long)l->stats->live, bound_seconds, (long long)l->stats->ready,
                    (long long)l->stats->sleeping, (long long)l->stats->waiting_io);
            CHECK(!"the loop did not get there in time");
        }
    }
}

/* Turns until cond(ctx) holds, failing after bound_seconds. */
static inline void test_loop_run_until(test_loop* l, int (*cond)(void*), void* ctx, double bound_seconds) {
    double until = test_seconds() + bound_seconds;
    while (!cond(ctx)) {
        test_loop_turn(l);
        CHECK(test_seconds() <= until);
    }
}

#endif
