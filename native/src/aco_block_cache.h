/*
 * aco_block_cache.h - memory for coroutine blocks (internal to the core).
 *
 * A coroutine is one block: [prefix][aco_t][initial save stack]. aco_create
 * takes its block here and aco_destroy gives it back to the calling thread's
 * cache, which the next create of the same size reuses (aco_block_cache.c
 * says why and how). The fast paths, a take from a magazine that holds an
 * address and a give to one that has room, are inline: creates and destroys
 * come by the million, and a call each costs them a fifth of their time.
 */
#ifndef ACO_BLOCK_CACHE_H
#define ACO_BLOCK_CACHE_H

#include <stddef.h>

#include "aco.h"

#ifdef ACO_ASAN
#include <sanitizer/asan_interface.h>
#endif
#ifdef ACO_USE_VALGRIND
#include <valgrind/memcheck.h>
/* Set once a share stack has been created under valgrind (aco.c): cached
 * blocks are then made inaccessible to memcheck, as AddressSanitizer poisons
 * them. */
extern int aco_on_valgrind;
#endif

#define ACO_BLOCK_SIZES 4              /* block sizes a thread's cache keeps */
#define ACO_BLOCK_PREFETCH_AHEAD 8     /* takes ahead that a take starts fetching */
#define ACO_MAGAZINE_CAPACITY_CHECKED 2 /* addresses per magazine under ASan or valgrind */

/* The top block of a size's stack holds the addresses of more cached blocks. */
typedef struct {
    void* under; /* block of the next magazine down; NULL at the bottom */
    size_t n;    /* addresses held */
    void* blocks[];
} aco_magazine;

typedef struct {
    size_t bytes;           /* size of every block here; 0: not yet used */
    size_t capacity;        /* addresses a magazine of this size holds */
    size_t magazine_offset; /* where in its block a magazine is */
    void* top;              /* block of the top magazine; NULL: empty */
} aco_block_stack;

typedef struct aco_block_cache {
    aco_block_stack size[ACO_BLOCK_SIZES];
    struct aco_block_cache* next_free; /* in the list of caches of exited threads */
} aco_block_cache;

/* This thread's cache; NULL until its first give. */
extern __thread aco_block_cache* aco_block_cache_tls ACO_TLS_MODEL;

void* aco_block_take_slow(size_t bytes);
void aco_block_give_slow(void* block, size_t bytes);

static inline aco_magazine* aco_magazine_of(void* block, const aco_block_stack* st) {
    return (aco_magazine*)((char*)block + st->magazine_offset);
}

static inline void aco_block_poison(void* p, size_t bytes) {
    (void)p;
    (void)bytes;
#ifdef ACO_ASAN
    __asan_poison_memory_region(p, bytes);
#endif
#ifdef ACO_USE_VALGRIND
    if (aco_on_valgrind) VALGRIND_MAKE_MEM_NOACCESS(p, bytes);
#endif
}

static inline void aco_block_unpoison(void* p, size_t bytes) {
    (void)p;
    (void)bytes;
#ifdef ACO_ASAN
    __asan_unpoison_memory_region(p, bytes);
#endif
#ifdef ACO_USE_VALGRIND
    if (aco_on_valgrind) VALGRIND_MAKE_MEM_UNDEFINED(p, bytes);
#endif
}

/* This thread's stack of cached blocks of `bytes`, or NULL. */
static inline aco_block_stack* aco_block_stack_of(size_t bytes) {
    aco_block_cache* c = aco_block_cache_tls;
    if (c != NULL)
        for (int i = 0; i < ACO_BLOCK_SIZES; i++)
            if (c->size[i].bytes == bytes) return &c->size[i];
    return NULL;
}

/* Creates come in bursts, and each writes its whole aco_t into a block that is
 * cold by then, so a take starts fetching the block ACO_BLOCK_PREFETCH_AHEAD
 * takes ahead: this one. Takes pop m's addresses, then m's own block, then the
 * addresses of the magazine under it, whose lines the hop to m began to fetch.
 * (The prefetches stay in the caller: GCC deletes calls to a function that
 * does nothing but prefetch, as if it had no effect.) */
static inline const char* aco_block_ahead(const aco_magazine* m, const aco_block_stack* st) {
    if (m->n >= ACO_BLOCK_PREFETCH_AHEAD) return m->blocks[m->n - ACO_BLOCK_PREFETCH_AHEAD];
    if (m->n + 1 < ACO_BLOCK_PREFETCH_AHEAD && m->under != NULL) {
        const aco_magazine* u = aco_magazine_of(m->under, st);
        size_t skip = ACO_BLOCK_PREFETCH_AHEAD - 1 - m->n; /* takes of u's before the one wanted */
        if (u->n >= skip) return u->blocks[u->n - skip];
    }
    return NULL;
}

/* A block of `bytes` bytes: the warmest cached one of that size, else fresh
 * memory. NULL when memory is exhausted. */
static inline void* aco_block_take(size_t bytes) {
    aco_block_stack* st = aco_block_stack_of(bytes);
    if (aco_likely(st != NULL && st->top != NULL)) {
        aco_magazine* m = aco_magazine_of(st->top, st);
        if (aco_likely(m->n > 0)) {
            void* p = m->blocks[--m->n];
            const char* ahead = aco_block_ahead(m, st);
            if (ahead != NULL)
                for (size_t off = 0; off < bytes && off < sizeof(aco_t) + 64; off += 64)
                    __builtin_prefetch(ahead + off, 1);
            aco_block_unpoison(p, bytes);
            return p;
        }
    }
    return aco_block_take_slow(bytes);
}

/* Takes back a block that aco_block_take gave out, with the same size. */
static inline void aco_block_give(void* p, size_t bytes) {
    aco_block_stack* st = aco_block_stack_of(bytes);
    if (aco_likely(st != NULL && st->top != NULL)) {
        aco_magazine* m = aco_magazine_of(st->top, st);
        if (aco_likely(m->n < st->capacity)) {
            m->blocks[m->n++] = p;
            aco_block_poison(p, bytes);
            return;
        }
    }
    aco_block_give_slow(p, bytes);
}

#endif
