/*
 * aco_counters.h - the process-wide counters of aco_get_counters(), kept per
 * thread (internal to the core).
 *
 * Each thread adds to its own block with plain (relaxed) loads and stores, so
 * create and destroy pay no locked instruction. aco_get_counters() sums every
 * block under a mutex; the block of a thread that exits is folded into a
 * retired total and reused by the next thread.
 */
#ifndef ACO_COUNTERS_H
#define ACO_COUNTERS_H

#include <stdatomic.h>
#include <stdint.h>

#include "aco.h"

enum { ACO_CT_COROUTINES, ACO_CT_SHARE_STACKS, ACO_CT_SAVE_BYTES, ACO_CT_COPIED_BYTES, ACO_CT_COUNT };

typedef struct aco_counter_block {
    _Atomic int64_t value[ACO_CT_COUNT];
    struct aco_counter_block* next;
    int in_use;
} aco_counter_block;

/* This thread's block; NULL until its first count. */
extern __thread aco_counter_block* aco_counters_tls ACO_TLS_MODEL;

/* Attaches a block to this thread (first use). */
aco_counter_block* aco_counters_attach(void);

/* This thread's counter block, attached on first use. */
static inline aco_counter_block* aco_counters_mine(void) {
    aco_counter_block* b = aco_counters_tls;
    return aco_likely(b != NULL) ? b : aco_counters_attach();
}

/* Only this thread writes its block: a relaxed load and store, no lock. */
static inline void aco_counter_add(aco_counter_block* b, int which, int64_t delta) {
    int64_t v = atomic_load_explicit(&b->value[which], memory_order_relaxed);
    atomic_store_explicit(&b->value[which], v + delta, memory_order_relaxed);
}

static inline int64_t aco_counter_get(aco_counter_block* b, int which) {
    return atomic_load_explicit(&b->value[which], memory_order_relaxed);
}

static inline void aco_count(int which, int64_t delta) {
    aco_counter_add(aco_counters_mine(), which, delta);
}

/* A coroutine comes or goes: its count and its save-stack bytes, with one
 * look-up of the thread's block (create and destroy are hot). */
static inline void aco_count_coroutine(int64_t one, int64_t save_bytes) {
    aco_counter_block* b = aco_counters_mine();
    aco_counter_add(b, ACO_CT_COROUTINES, one);
    aco_counter_add(b, ACO_CT_SAVE_BYTES, save_bytes);
}

#endif
