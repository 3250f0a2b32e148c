/* aco_destroy keeps a coroutine's block in its thread's cache and the next
 * aco_create of the same size reuses it: also after the save stack moved out of
 * the block (grown), also with a prefix (the run loop's control block). Blocks
 * of other sizes never mix. A thread's cache is freed when it exits (valgrind
 * and LeakSanitizer would report the blocks otherwise) or on request. */
#include <alloca.h>
#include <pthread.h>

#include "aco_test.h"

static void deep_entry(void) {
    size_t n = (size_t)(uintptr_t)aco_get_arg();
    volatile char* buf = alloca(n + 1);
    buf[0] = 1;
    buf[n] = 2;
    for (;;) aco_yield();
}

static void ending_entry(void) { aco_exit(); }

static void reuses_the_block_of_the_same_size(aco_t* main_co, aco_share_stack_t* s) {
    aco_t* a = aco_create(main_co, s, 0, ending_entry, NULL);
    aco_destroy(a);
    aco_t* b = aco_create(main_co, s, 0, ending_entry, NULL);
    CHECK(b == a); /* the warmest block comes back */
    /* It is a fresh coroutine: zeroed state, the new arguments. */
    CHECK(b->is_end == 0 && b->save_stack.valid_sz == 0 && b->save_stack.ct_save == 0);
    CHECK(b->save_stack.ptr == (void*)(b + 1) && b->save_stack.sz == 64);
    aco_resume(b);
    CHECK(b->is_end);
    aco_destroy(b);
}

static void a_grown_save_stack_keeps_the_block_size(aco_t* main_co, aco_share_stack_t* s) {
    aco_t* deep = aco_create(main_co, s, 0, deep_entry, (void*)(uintptr_t)3000);
    aco_t* other = aco_create(main_co, s, 0, ending_entry, NULL);
    aco_resume(deep);
    aco_resume(other); /* saves deep's 3 KB: its save stack leaves the block */
    CHECK(deep->save_stack.ptr != (void*)(deep + 1) && deep->save_stack.sz >= 3000);
    aco_destroy(other);
    aco_destroy(deep);
    /* Both blocks were of the default size: both come back (LIFO). */
    aco_t* x = aco_create(main_co, s, 0, ending_entry, NULL);
    aco_t* y = aco_create(main_co, s, 0, ending_entry, NULL);
    CHECK(x == deep && y == other);
    CHECK(x->save_stack.ptr == (void*)(x + 1) && x->save_stack.sz == 64);
    aco_destroy(y);
    aco_destroy(x);
}

static void sizes_never_mix(aco_t* main_co, aco_share_stack_t* s) {
    aco_t* small = aco_create(main_co, s, 0, ending_entry, NULL);
    aco_t* big = aco_create(main_co, s, 4096, ending_entry, NULL);
    aco_t* odd = aco_create(main_co, s, 1, ending_entry, NULL); /* rounds up inside */
    aco_t* pre = aco_create_with_prefix(main_co, s, 0, ending_entry, NULL, 64);
    memset(aco_get_prefix(pre), 0x5a, 64);
    aco_destroy(small);
    aco_destroy(big);
    aco_destroy(odd);
    aco_destroy(pre);
    aco_t* big2 = aco_create(main_co, s, 4096, ending_entry, NULL);
    CHECK(big2 == big && big2->save_stack.sz == 4096);
    aco_t* pre2 = aco_create_with_prefix(main_co, s, 0, ending_entry, NULL, 64);
    CHECK(pre2 == pre);
    const unsigned char* p = aco_get_prefix(pre2);
    for (int i = 0; i < 64; i++) CHECK(p[i] == 0); /* the prefix is zeroed again */
    aco_t* odd2 = aco_create(main_co, s, 1, ending_entry, NULL);
    CHECK(odd2 == odd && odd2->save_stack.sz == 1);
    aco_t* small2 = aco_create(main_co, s, 0, ending_entry, NULL);
    CHECK(small2 == small);
    aco_resume(odd2); /* even a 1-byte save stack works (it grows) */
    aco_destroy(small2);
    aco_destroy(odd2);
    aco_destroy(pre2);
    aco_destroy(big2);
}

/* More blocks than one magazine holds (a few dozen; two under the checkers):
 * every block comes back, each once, the last destroyed first. */
static void many_blocks_come_back_last_destroyed_first(aco_t* main_co, aco_share_stack_t* s) {
    enum { N = 1000 };
    aco_t** cos = malloc(N * sizeof(*cos));
    aco_t** again = malloc(N * sizeof(*again));
    CHECK(cos != NULL && again != NULL);
    for (int i = 0; i < N; i++) cos[i] = aco_create(main_co, s, 0, ending_entry, NULL);
    for (int i = 0; i < N; i++) aco_destroy(cos[i]);
    for (int i = 0; i < N; i++) {
        again[i] = aco_create(main_co, s, 0, ending_entry, (void*)(uintptr_t)i);
        CHECK(again[i] == cos[N - 1 - i]);
    }
    for (int i = 0; i < N; i++) { /* each is a whole, working coroutine */
        CHECK(again[i]->arg == (void*)(uintptr_t)i && again[i]->save_stack.sz == 64);
        aco_resume(again[i]);
        CHECK(again[i]->is_end);
    }
    /* Destroyed in another order, they still all come back. */
    for (int i = 0; i < N; i += 2) aco_destroy(again[i]);
    for (int i = 1; i < N; i += 2) aco_destroy(again[i]);
    for (int i = 0; i < N; i++) cos[i] = aco_create(main_co, s, 0, ending_entry, NULL);
    for (int i = 0; i < N; i++) CHECK(cos[i] == again[i < N / 2 ? N - 1 - 2 * i : N - 2 - 2 * (i - N / 2)]);
    for (int i = 0; i < N; i++) aco_destroy(cos[i]);
    free(again);
    free(cos);
}

static void many_sizes_overflow_to_malloc(aco_t* main_co, aco_share_stack_t* s) {
    enum { SIZES = 12 };
    aco_t* cos[SIZES];
    for (int i = 0; i < SIZES; i++) cos[i] = aco_create(main_co, s, 64 * (size_t)(i + 1), ending_entry, NULL);
    for (int i = 0; i < SIZES; i++) aco_destroy(cos[i]); /* most go straight back to malloc */
    for (int i = 0; i < SIZES; i++) cos[i] = aco_create(main_co, s, 64 * (size_t)(i + 1), ending_entry, NULL);
    for (int i = 0; i < SIZES; i++) {
        aco_resume(cos[i]);
        CHECK(cos[i]->is_end);
        aco_destroy(cos[i]);
    }
}

static void* churn_and_exit(void* arg) {
    (void)arg;
    aco_thread_init(NULL);
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_share_stack_t* s = aco_share_stack_new(0);
    enum { N = 1000 };
    aco_t** cos = malloc(N * sizeof(*cos));
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) cos[i] = aco_create(main_co, s, 0, ending_entry, NULL);
        for (int i = 0; i < N; i++) aco_resume(cos[i]);
        for (int i = 0; i < N; i++) aco_destroy(cos[i]);
    }
    free(cos);
    aco_share_stack_destroy(s);
    aco_destroy(main_co);
    return NULL; /* the thread's cache holds N blocks: freed at exit */
}

int main(void) {
    aco_thread_init(NULL);
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_share_stack_t* s = aco_share_stack_new(0);

    reuses_the_block_of_the_same_size(main_co, s);
    a_grown_save_stack_keeps_the_block_size(main_co, s);
    sizes_never_mix(main_co, s);
    many_blocks_come_back_last_destroyed_first(main_co, s);
    many_sizes_overflow_to_malloc(main_co, s);

    pthread_t t;
    CHECK(pthread_create(&t, NULL, churn_and_exit, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);

    aco_share_stack_destroy(s);
    aco_destroy(main_co);
    aco_thread_release_free_blocks(); /* nothing left for the leak checkers */
    aco_thread_release_free_blocks(); /* twice is harmless */
    test_check_counters_zero();
    puts("block_cache: ok");
    return 0;
}
