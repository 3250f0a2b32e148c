/* Four threads, each with its own aco_thread_init, main coroutine, share
 * stacks and 1000 coroutines; nothing crosses between them. Then threads that
 * start and exit one after another, each making and destroying coroutines: a
 * thread's exit hands its cached blocks on without touching memory the
 * thread's exit has already released (under mingw, __thread variables live in
 * heap memory freed by a thread-exit destructor of their own). */
#include <pthread.h>

#include "aco_test.h"

enum { THREADS = 4, COROUTINES = 1000, YIELDS = 5, STACKS = 3, THREADS_IN_TURN = 64 };

typedef struct {
    int thread;
    long sum;
} thread_result;

static void entry(void) {
    long* sum = aco_get_arg();
    volatile long mine = (long)(uintptr_t)sum & 0xff;
    for (int i = 0; i < YIELDS; i++) {
        *sum += 1;
        aco_yield();
        CHECK(mine == ((long)(uintptr_t)sum & 0xff));
    }
    aco_exit();
}

static void* thread_main(void* p) {
    thread_result* r = p;
    aco_thread_init(NULL);
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_share_stack_t* stacks[STACKS];
    for (int i = 0; i < STACKS; i++) stacks[i] = aco_share_stack_new(64 * 1024);
    aco_t** cos = malloc(sizeof(aco_t*) * COROUTINES);
    CHECK(cos != NULL);
    for (int i = 0; i < COROUTINES; i++) cos[i] = aco_create(main_co, stacks[i % STACKS], 0, entry, &r->sum);
    for (int round = 0; round <= YIELDS; round++)
        for (int i = 0; i < COROUTINES; i++) {
            aco_resume(cos[i]);
            CHECK(aco_gtls_co == main_co);
        }
    for (int i = 0; i < COROUTINES; i++) {
        CHECK(cos[i]->is_end);
        aco_destroy(cos[i]);
    }
    free(cos);
    for (int i = 0; i < STACKS; i++) aco_share_stack_destroy(stacks[i]);
    aco_destroy(main_co);
    return NULL;
}

static void* short_lived_thread(void* p) {
    long* sum = p;
    aco_thread_init(NULL);
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_share_stack_t* stack = aco_share_stack_new(0);
    enum { N = 100 };
    aco_t* cos[N];
    for (int i = 0; i < N; i++) cos[i] = aco_create(main_co, stack, 0, entry, sum);
    for (int round = 0; round <= YIELDS; round++)
        for (int i = 0; i < N; i++) aco_resume(cos[i]);
    for (int i = 0; i < N; i++) aco_destroy(cos[i]);
    aco_share_stack_destroy(stack);
    aco_destroy(main_co);
    return NULL;
}

static void threads_in_turn(void) {
    long sum = 0;
    for (int i = 0; i < THREADS_IN_TURN; i++) {
        pthread_t t;
        CHECK(pthread_create(&t, NULL, short_lived_thread, &sum) == 0);
        CHECK(pthread_join(t, NULL) == 0);
    }
    CHECK_EQ(sum, (long)THREADS_IN_TURN * 100 * YIELDS);
    test_check_counters_zero();
}

int main(void) {
    pthread_t th[THREADS];
    thread_result res[THREADS];
    for (int i = 0; i < THREADS; i++) {
        res[i] = (thread_result){.thread = i};
        CHECK(pthread_create(&th[i], NULL, thread_main, &res[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) CHECK(pthread_join(th[i], NULL) == 0);
    for (int i = 0; i < THREADS; i++) CHECK_EQ(res[i].sum, (long)COROUTINES * YIELDS);
    test_check_counters_zero(); /* the exited threads' counts were folded in */
    threads_in_turn();
    puts("threads: ok");
    return 0;
}
