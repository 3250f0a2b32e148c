/* The loop's deadlines: the timer heap against a model; sleeps on the loop's
 * own clock, which never end early; cancellation of sleepers; an external
 * clock; and admission, which moves a bounded number of due coroutines into
 * the ready queue per turn, earliest first. */
#include "aco_test_loop.h"
#include "aco_timer_heap.h"

/* ---- the heap against a model ------------------------------------------------------ */

#define MODEL_TASKS 3000

static void test_heap_against_a_model(void) {
    static aco_task_t tasks[MODEL_TASKS];
    static int64_t due[MODEL_TASKS]; /* -1: not in the heap */
    aco_timer_heap h = {0};
    uint64_t rng = 42;
    int64_t now = 0;
    size_t in_heap = 0;
    for (int i = 0; i < MODEL_TASKS; i++) due[i] = -1;
    int steps = 200000 / test_slow_divisor();
    for (int step = 0; step < steps; step++) {
        int i = (int)(test_rand(&rng) % MODEL_TASKS);
        uint64_t what = test_rand(&rng) % 10;
        if (what < 5 && due[i] < 0) { /* add */
            due[i] = now + (int64_t)(test_rand(&rng) % 1000);
            aco_timer_heap_add(&h, &tasks[i], due[i]);
            in_heap++;
        } else if (what < 8 && due[i] >= 0) { /* remove before its time */
            aco_timer_heap_remove(&h, &tasks[i]);
            CHECK_EQ(tasks[i].timer_slot, 0);
            due[i] = -1;
            in_heap--;
        } else if (what == 8) { /* time passes: exactly the due ones come out, earliest first */
            now += (int64_t)(test_rand(&rng) % 50);
            int64_t last = INT64_MIN;
            aco_task_t* t;
            while ((t = aco_timer_heap_take_due(&h, now)) != NULL) {
                int k = (int)(t - tasks);
                CHECK(due[k] >= 0 && due[k] <= now && due[k] >= last);
                CHECK_EQ(t->timer_slot, 0);
                last = due[k];
                due[k] = -1;
                in_heap--;
            }
            for (int k = 0; k < MODEL_TASKS; k++) CHECK(due[k] < 0 || due[k] > now);
        }
        CHECK_EQ(aco_timer_heap_live(&h), in_heap);
        if (step % 1000 == 0) {
            /* Every live entry knows its slot; the earliest is never later than any live one. */
            size_t live = 0;
            for (size_t e = 0; e < h.count; e++) {
                aco_task_t* t = aco_timer_heap_at(&h, e);
                if (t == NULL) continue;
                live++;
                CHECK_EQ(t->timer_slot, e + 1);
                CHECK(aco_timer_heap_earliest(&h) <= due[t - tasks]);
            }
            CHECK_EQ(live, in_heap);
            CHECK(h.count <= 2 * in_heap + 64); /* dead entries never pile up */
        }
    }
    /* Removed in due order, as a stop does: each O(1), and the heap empties. */
    aco_task_t* t;
    while ((t = aco_timer_heap_take_any(&h)) != NULL) in_heap--;
    CHECK_EQ(in_heap, 0);
    CHECK_EQ(aco_timer_heap_earliest(&h), ACO_LOOP_NEVER);
    aco_timer_heap_free(&h);
}

/* ---- sleeps on the loop's own clock -------------------------------------------------- */

static test_loop L;

typedef struct {
    int64_t ms;
    double started, woke;
    int status;
} sleep_record;

static void sleeper(void) {
    sleep_record* r = aco_get_arg();
    r->started = test_seconds();
    r->status = aco_bridge_sleep_ms(r->ms);
    r->woke = test_seconds();
}

static void test_sleeps_are_never_early_and_cancels_end_them(void) {
    enum { N = 200 };
    static sleep_record r[N];
    static aco_task_t* t[N];
    uint64_t rng = 7;
    for (int i = 0; i < N; i++) {
        r[i].ms = i % 4 == 0 ? 3600 * 1000 : (int64_t)(test_rand(&rng) % 30); /* some forever */
        t[i] = aco_loop_spawn(L.loop, sleeper, &r[i], 0, 0);
    }
    /* Let every one start its sleep, then cancel the forever ones. */
    while (L.stats->ready > 0) test_loop_turn(&L);
    for (int i = 0; i < N; i += 4) CHECK_EQ(aco_loop_cancel(L.loop, t[i]), 1);
    test_loop_run_until_live(&L, 0, 60);
    for (int i = 0; i < N; i++) {
        if (i % 4 == 0) {
            CHECK_EQ(r[i].status, ACO_BRIDGE_CANCELLED);
        } else {
            CHECK_EQ(r[i].status, ACO_BRIDGE_OK);
            CHECK(r[i].woke - r[i].started >= (double)r[i].ms / 1000.0);
        }
    }
    CHECK_EQ(L.stats->sleeping, 0);
    CHECK_EQ(L.stats->earliest_due, ACO_LOOP_NEVER);
}

/* An idle loop blocks in aco_loop_wait until its earliest sleeper is due,
 * and a wake-up from another thread (here: before the wait) ends a wait. */
static void test_wait_ends_at_the_deadline_and_on_wake(void) {
    sleep_record r = {.ms = 20};
    aco_loop_spawn(L.loop, sleeper, &r, 0, 0);
    aco_task_t* batch[4];
    CHECK_EQ(aco_loop_run(L.loop, 10, batch, 4), 0); /* starts the sleep */
    CHECK_EQ(L.stats->sleeping, 1);
    int64_t due = L.stats->earliest_due;
    CHECK_EQ(aco_loop_wait(L.loop, -1), 0); /* the deadline ends it, not before */
    CHECK(aco_loop_clock_now() >= due);
    test_loop_run_until_live(&L, 0, 30);
    aco_loop_wake(L.loop);
    CHECK_EQ(aco_loop_wait(L.loop, -1), 1); /* a wake-up made before the wait is not lost */
    aco_loop_wake(L.loop);
    aco_loop_wake(L.loop);
    CHECK_EQ(aco_loop_wait(L.loop, -1), 1); /* several are one */
    CHECK_EQ(aco_loop_wait(L.loop, 1000000), 0); /* and consumed: this one times out */
}

/* ---- admission, on an external clock ------------------------------------------------- */

static int order[64];
static int order_len;

static void sleep_then_log(void) {
    int id = (int)(intptr_t)aco_get_arg();
    aco_bridge_sleep_ms(1); /* served by the test: sleep_until below */
    order[order_len++] = id;
}

static void test_admission_is_bounded_and_earliest_first(void) {
    test_loop e;
    test_loop_init(&e, 1, 64 * 1024);
    aco_loop_use_external_clock(e.loop, 1000);
    aco_loop_set_time(e.loop, 0);
    aco_task_t* batch[64];
    for (int i = 0; i < 40; i++) aco_loop_spawn(e.loop, sleep_then_log, (void*)(intptr_t)i, 0, 0);
    CHECK_EQ(aco_loop_run(e.loop, 1000, batch, 64), 40);
    for (int i = 0; i < 40; i++) {
        CHECK_EQ(batch[i]->op, ACO_OP_SLEEP);
        /* Due times in the reverse order of the spawns: 40 - i. */
        int id = (int)(intptr_t)aco_task_co(batch[i])->arg;
        aco_loop_sleep_until(e.loop, batch[i], 40 - id);
    }
    CHECK_EQ(e.stats->sleeping, 40);
    CHECK_EQ(e.stats->earliest_due, 1);
    aco_loop_set_time(e.loop, 100); /* all due */
    CHECK_EQ(aco_loop_admit(e.loop, 16, 4), 16); /* up to the limit */
    CHECK_EQ(aco_loop_admit(e.loop, 16, 4), 4);  /* full: only the floor */
    CHECK_EQ(e.stats->ready, 20);
    CHECK_EQ(aco_loop_run(e.loop, 1000, batch, 64), 0);
    CHECK_EQ(order_len, 20);
    for (int k = 0; k < 20; k++) CHECK_EQ(order[k], 39 - k); /* earliest deadline first */
    CHECK_EQ(aco_loop_admit(e.loop, 16, 4), 16);
    CHECK_EQ(aco_loop_admit(e.loop, 16, 4), 4);
    CHECK_EQ(aco_loop_admit(e.loop, 16, 4), 0); /* nothing more is due */
    CHECK_EQ(aco_loop_run(e.loop, 1000, batch, 64), 0);
    CHECK_EQ(order_len, 40);
    CHECK_EQ(e.stats->live, 0);
    CHECK_EQ(e.stats->finished, 40);
    test_loop_free(&e);
}

int main(void) {
    test_heap_against_a_model();
    test_loop_init(&L, 2, 64 * 1024);
    test_sleeps_are_never_early_and_cancels_end_them();
    test_wait_ends_at_the_deadline_and_on_wake();
    test_admission_is_bounded_and_earliest_first();
    test_loop_free(&L);
    test_check_counters_zero();
    puts("loop_timers: ok");
    return 0;
}
