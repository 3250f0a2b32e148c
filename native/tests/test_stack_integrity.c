/* Coroutines that share one stack keep their locals, deep recursion and large
 * frames intact across every switch, resumed in a seeded random order. */
#include "aco_test.h"

enum { PER_KIND = 4, KINDS = 3, STEPS = 60, DEPTH = 1000, BIG = 80 * 1024 };

typedef struct {
    int id;
    int steps_done;
    uint64_t checksum; /* recomputed by the coroutine, compared by main */
} task_t;

static uint64_t pattern(int id, int i) { return ((uint64_t)id << 40) ^ ((uint64_t)i * 0x9E3779B97F4A7C15ULL); }

/* Kind 0: an array of locals checked after every yield. */
static void locals_entry(void) {
    task_t* t = aco_get_arg();
    volatile uint64_t locals[64];
    for (int i = 0; i < 64; i++) locals[i] = pattern(t->id, i);
    for (int s = 0; s < STEPS; s++) {
        aco_yield();
        for (int i = 0; i < 64; i++) CHECK(locals[i] == pattern(t->id, i));
        t->steps_done++;
    }
    aco_exit();
}

/* Kind 1: recursion DEPTH frames deep, yielding at the bottom and on the way. */
static uint64_t recurse(task_t* t, int depth) {
    volatile uint64_t mine = pattern(t->id, depth);
    uint64_t below = 0;
    if (depth < DEPTH) below = recurse(t, depth + 1);
    if (depth % 100 == 0 || depth == DEPTH) {
        aco_yield();
        t->steps_done++;
    }
    CHECK(mine == pattern(t->id, depth));
    return below + mine;
}

static void recursion_entry(void) {
    task_t* t = aco_get_arg();
    uint64_t expect = 0;
    for (int d = 0; d <= DEPTH; d++) expect += pattern(t->id, d);
    t->checksum = recurse(t, 0);
    CHECK(t->checksum == expect);
    aco_exit();
}

/* Kind 2: a frame larger than 64 KiB. */
static void big_frame_entry(void) {
    task_t* t = aco_get_arg();
    volatile unsigned char big[BIG];
    for (int i = 0; i < BIG; i++) big[i] = (unsigned char)(pattern(t->id, i) >> 13);
    for (int s = 0; s < STEPS; s++) {
        aco_yield();
        for (int i = 0; i < BIG; i += 61) CHECK(big[i] == (unsigned char)(pattern(t->id, i) >> 13));
        t->steps_done++;
    }
    for (int i = 0; i < BIG; i++) CHECK(big[i] == (unsigned char)(pattern(t->id, i) >> 13));
    aco_exit();
}

int main(void) {
    aco_thread_init(NULL);
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_share_stack_t* sstk = aco_share_stack_new(512 * 1024);
    aco_cofuncp_t entries[KINDS] = {locals_entry, recursion_entry, big_frame_entry};
    enum { N = PER_KIND * KINDS };
    task_t tasks[N];
    aco_t* cos[N];
    for (int i = 0; i < N; i++) {
        tasks[i] = (task_t){.id = i + 1};
        cos[i] = aco_create(main_co, sstk, 0, entries[i % KINDS], &tasks[i]);
    }
    uint64_t rng = 20261126;
    int live = N;
    while (live > 0) {
        int i = (int)(test_rand(&rng) % N);
        if (cos[i]->is_end) continue;
        aco_resume(cos[i]);
        if (cos[i]->is_end) live--;
    }
    for (int i = 0; i < N; i++) {
        int kind = i % KINDS;
        if (kind == 1)
            CHECK_EQ(tasks[i].steps_done, DEPTH / 100 + 1); /* every 100th frame, bottom included */
        else
            CHECK_EQ(tasks[i].steps_done, STEPS);
        CHECK(cos[i]->save_stack.ct_save > 0);
        if (kind == 1) CHECK(cos[i]->save_stack.max_cpsz > DEPTH * 16);
        if (kind == 2) CHECK(cos[i]->save_stack.max_cpsz > BIG);
        aco_destroy(cos[i]);
    }
    aco_share_stack_destroy(sstk);
    aco_destroy(main_co);
    test_check_counters_zero();
    puts("stack_integrity: ok");
    return 0;
}
