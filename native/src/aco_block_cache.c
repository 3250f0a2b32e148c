/*
 * aco_block_cache.c - memory for coroutine blocks: a per-thread cache of
 * destroyed coroutines' blocks, and fresh memory populated ahead.
 */
#define _GNU_SOURCE
#include "aco_block_cache.h"

#include <pthread.h>
#include <stdatomic.h>

#include "aco_os.h"

__thread aco_block_cache* aco_block_cache_tls ACO_TLS_MODEL;

/* Where this thread's fresh blocks come from (see aco_block_malloc). */
typedef struct {
    char* last_malloc_end; /* end of the last block aco_block_malloc made */
    char* populated_end;   /* end of the pages it last populated */
} aco_block_fresh_state;

static __thread aco_block_fresh_state aco_block_fresh ACO_TLS_MODEL;

/* aco_destroy gives a coroutine's block to its thread's cache instead of
 * free(), and aco_create takes one of the same size from there before calling
 * malloc.
 *
 * Why: freeing millions of blocks in a row lets malloc coalesce them into the
 * top of its heap and return that to the kernel; the next round of creates
 * then faults every page in again (measured: one page fault per ~16 creates,
 * create 2x libaco's time in every churn round after the first). The cache
 * keeps the memory and the pages mapped, as a pool allocator does.
 *
 * Per size, the cache is a LIFO stack of blocks (the block destroyed last, the
 * warmest, is reused first) kept in the cached blocks themselves: the top
 * block is a "magazine" holding the addresses of up to (size - 16) / 8 more
 * blocks and the address of the magazine under it. So the cache needs no
 * memory of its own (a separate array of addresses cost the first round of a
 * churn 16 MB of fresh pages, a fault per 512 destroys), and a take reads an
 * address from a warm magazine instead of chasing cold blocks. A few sizes are
 * kept (aco_create's default, the run loop's); blocks of any other size go
 * back to malloc. A thread's cache is freed when it exits or calls
 * aco_thread_release_free_blocks().
 *
 * Cached blocks stay poisoned for AddressSanitizer and inaccessible for
 * valgrind, so a use after aco_destroy is still reported. The leak checkers do
 * not look for addresses in poisoned memory, so under them a magazine holds
 * only two addresses, at the very end of its block (the initial save stack),
 * and that part stays open: the aco_t of every cached block stays poisoned. */

static pthread_key_t aco_block_cache_key;
static pthread_once_t aco_block_cache_key_once = PTHREAD_ONCE_INIT;

/* Poisons a block given to the cache as a magazine, all but the magazine. */
static inline void aco_magazine_poison(void* block, const aco_block_stack* st) {
    (void)block;
    (void)st;
#if defined(ACO_ASAN) || defined(ACO_USE_VALGRIND)
    aco_block_poison(block, st->bytes);
    aco_magazine* m = aco_magazine_of(block, st);
    size_t open = sizeof(*m) + st->capacity * sizeof(void*);
#ifdef ACO_ASAN
    __asan_unpoison_memory_region(m, open);
#endif
#ifdef ACO_USE_VALGRIND
    if (aco_on_valgrind) VALGRIND_MAKE_MEM_DEFINED(m, open);
#endif
#endif
}

static void aco_block_cache_release(aco_block_cache* c) {
    for (int i = 0; i < ACO_BLOCK_SIZES; i++) {
        aco_block_stack* st = &c->size[i];
        for (void* block = st->top; block != NULL;) {
            aco_magazine* m = aco_magazine_of(block, st);
            void* under = m->under;
            for (size_t k = 0; k < m->n; k++) {
                aco_block_unpoison(m->blocks[k], st->bytes);
                free(m->blocks[k]);
            }
            aco_block_unpoison(block, st->bytes);
            free(block);
            block = under;
        }
        memset(st, 0, sizeof(*st));
    }
}

static void aco_block_cache_exit(void* p) {
    aco_block_cache_release(p);
    free(p);
    aco_block_cache_tls = NULL;
}

static void aco_block_cache_key_create(void) {
    aco_assert(pthread_key_create(&aco_block_cache_key, aco_block_cache_exit) == 0);
}

void aco_thread_release_free_blocks(void) {
    if (aco_block_cache_tls != NULL) aco_block_cache_release(aco_block_cache_tls);
}

/* Fresh memory for a block the cache cannot give. A burst of creates into
 * fresh memory gets its blocks one after another from the top of malloc's
 * heap and would fault a page in every ~17 blocks; instead, when a block ends
 * past the pages populated last and starts right after the previous block,
 * the next ACO_POPULATE_BYTES are populated by one system call, which costs
 * a third less per page than the faults (docs/benchmarks.md, churn round 1).
 * Blocks elsewhere (reused free chunks, other threads' heaps) change nothing. */
#define ACO_POPULATE_BYTES ((size_t)64 * 1024)
#define ACO_MALLOC_ADJACENT 64 /* most malloc puts between two chunks */

static _Atomic int aco_populate_unsupported;

__attribute__((noinline)) static void* aco_block_malloc(size_t bytes) {
    char* p = malloc(bytes);
    if (p == NULL) return NULL;
    char* end = p + bytes;
    aco_block_fresh_state* t = &aco_block_fresh;
    int adjacent = p >= t->last_malloc_end && p <= t->last_malloc_end + ACO_MALLOC_ADJACENT;
    t->last_malloc_end = end;
    if (adjacent && end > t->populated_end &&
        !atomic_load_explicit(&aco_populate_unsupported, memory_order_relaxed)) {
        /* The page holding `end` is in already (malloc wrote the next chunk's
         * header there); populate from the next one. */
        size_t page = aco_os_page_size();
        char* from = (char*)(((uintptr_t)end + page - 1) & ~(uintptr_t)(page - 1));
        char* to = from + ACO_POPULATE_BYTES;
        /* Only in malloc's main heap, which is private memory of this process
         * (elsewhere the next pages could be another mapping, even a shared
         * file), and only up to its end, the break: malloc moves it when it
         * needs more, and the first block past it brings the next call. */
        char* heap_end = aco_os_heap_end(p);
        if (heap_end != NULL && heap_end < to) to = heap_end;
        t->populated_end = to; /* elsewhere: look again only past `to` */
        if (heap_end != NULL && from < to && aco_os_populate(from, (size_t)(to - from)) < 0)
            atomic_store_explicit(&aco_populate_unsupported, 1, memory_order_relaxed);
    }
    return p;
}

/* The slow path of aco_block_take: the top magazine of blocks of `bytes` is
 * empty (its own block is the last it gives), or there is none, or no cache:
 * then fresh memory. */
void* aco_block_take_slow(size_t bytes) {
    aco_block_cache* c = aco_block_cache_tls;
    if (c != NULL) {
        for (int i = 0; i < ACO_BLOCK_SIZES; i++) {
            aco_block_stack* st = &c->size[i];
            if (st->bytes == bytes && st->top != NULL) {
                aco_magazine* m = aco_magazine_of(st->top, st);
                void* p = st->top;
                st->top = m->under;
                if (st->top != NULL) {
                    void* under = aco_magazine_of(st->top, st)->under;
                    if (under != NULL) { /* read when the new top runs out */
                        const char* u = (const char*)aco_magazine_of(under, st);
                        for (size_t off = 0; off < sizeof(*m) + st->capacity * sizeof(void*); off += 64)
                            __builtin_prefetch(u + off, 0);
                    }
                }
                aco_block_unpoison(p, bytes);
                return p;
            }
        }
    }
    return aco_block_malloc(bytes);
}

/* Slow path of aco_block_give: finds or makes the stack for blocks of `bytes`,
 * creating the thread's cache first when there is none. NULL when the block
 * should go back to malloc. */
__attribute__((noinline)) static aco_block_stack* aco_block_stack_for(size_t bytes) {
    aco_block_cache* c = aco_block_cache_tls;
    if (c == NULL) {
        pthread_once(&aco_block_cache_key_once, aco_block_cache_key_create);
        c = calloc(1, sizeof(*c));
        if (c == NULL || pthread_setspecific(aco_block_cache_key, c) != 0) {
            free(c);
            return NULL;
        }
        aco_block_cache_tls = c;
    }
    for (int i = 0; i < ACO_BLOCK_SIZES; i++) {
        aco_block_stack* st = &c->size[i];
        if (st->top != NULL) continue; /* holds blocks of another size */
        size_t capacity = (bytes - sizeof(aco_magazine)) / sizeof(void*);
#ifdef ACO_ASAN
        capacity = ACO_MAGAZINE_CAPACITY_CHECKED;
#endif
#ifdef ACO_USE_VALGRIND
        if (aco_on_valgrind) capacity = ACO_MAGAZINE_CAPACITY_CHECKED; /* the same switch as the poisoning */
#endif
        st->bytes = bytes;
        st->capacity = capacity;
        st->magazine_offset = bytes - sizeof(aco_magazine) - capacity * sizeof(void*);
        return st;
    }
    return NULL;
}

/* The slow path of aco_block_give: no stack for blocks of this size yet, or
 * its top magazine is full (or there is none): p's block becomes the top. */
void aco_block_give_slow(void* p, size_t bytes) {
    aco_block_stack* st = aco_block_stack_of(bytes);
    if (st == NULL) {
        st = aco_block_stack_for(bytes);
        if (st == NULL) {
            free(p);
            return;
        }
    }
    aco_magazine* fresh = aco_magazine_of(p, st);
    fresh->under = st->top;
    fresh->n = 0;
    st->top = p;
    aco_magazine_poison(p, st);
}
