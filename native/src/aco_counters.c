/* aco_counters.c - process-wide counters kept per thread (see aco_counters.h). */
#define _GNU_SOURCE
#include "aco_counters.h"

#include <pthread.h>

__thread aco_counter_block* aco_counters_tls ACO_TLS_MODEL;

static pthread_mutex_t aco_counters_lock = PTHREAD_MUTEX_INITIALIZER;
static aco_counter_block* aco_counter_blocks;
static int64_t aco_counters_retired[ACO_CT_COUNT];
static pthread_key_t aco_counter_key;
static pthread_once_t aco_counter_key_once = PTHREAD_ONCE_INIT;

/* At thread exit: the block's counts move to the retired totals, and the block
 * is free for the next thread. */
static void aco_counter_block_retire(void* p) {
    aco_counter_block* b = p;
    pthread_mutex_lock(&aco_counters_lock);
    for (int i = 0; i < ACO_CT_COUNT; i++) {
        aco_counters_retired[i] += atomic_load_explicit(&b->value[i], memory_order_relaxed);
        atomic_store_explicit(&b->value[i], 0, memory_order_relaxed);
    }
    b->in_use = 0;
    pthread_mutex_unlock(&aco_counters_lock);
}

static void aco_counter_key_create(void) {
    aco_assert(pthread_key_create(&aco_counter_key, aco_counter_block_retire) == 0);
}

__attribute__((noinline)) aco_counter_block* aco_counters_attach(void) {
    pthread_once(&aco_counter_key_once, aco_counter_key_create);
    pthread_mutex_lock(&aco_counters_lock);
    aco_counter_block* b = aco_counter_blocks;
    while (b != NULL && b->in_use) b = b->next;
    if (b == NULL) {
        b = calloc(1, sizeof(*b));
        aco_assertalloc_ptr(b);
        b->next = aco_counter_blocks;
        aco_counter_blocks = b;
    }
    b->in_use = 1;
    pthread_mutex_unlock(&aco_counters_lock);
    aco_assert(pthread_setspecific(aco_counter_key, b) == 0);
    aco_counters_tls = b;
    return b;
}

void aco_get_counters(aco_counters_t* out) {
    aco_assertptr(out);
    int64_t sum[ACO_CT_COUNT];
    pthread_mutex_lock(&aco_counters_lock);
    for (int i = 0; i < ACO_CT_COUNT; i++) sum[i] = aco_counters_retired[i];
    for (aco_counter_block* b = aco_counter_blocks; b != NULL; b = b->next)
        for (int i = 0; i < ACO_CT_COUNT; i++)
            sum[i] += atomic_load_explicit(&b->value[i], memory_order_relaxed);
    pthread_mutex_unlock(&aco_counters_lock);
    out->live_coroutines = sum[ACO_CT_COROUTINES];
    out->live_share_stacks = sum[ACO_CT_SHARE_STACKS];
    out->save_stack_bytes = sum[ACO_CT_SAVE_BYTES];
    out->copied_bytes = sum[ACO_CT_COPIED_BYTES];
}
