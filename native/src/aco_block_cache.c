/*
 * aco_block_cache.c - memory for coroutine blocks: a per-thread cache of
 * destroyed coroutines' blocks, a process-wide pool behind it, and fresh
 * memory from large mapped chunks, populated ahead.
 */
#define _GNU_SOURCE
#include "aco_block_cache.h"

#include <pthread.h>
#include <stdatomic.h>

#include "aco_os.h"

__thread aco_block_cache* aco_block_cache_tls ACO_TLS_MODEL;

/* aco_destroy gives a coroutine's block to its thread's cache, and aco_create
 * takes one of the same size from there first.
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
 * kept per thread (aco_create's default, the run loop's).
 *
 * Fresh blocks of those sizes are carved from chunks the cache maps itself
 * (256 KiB at first, doubling up to 16 MiB), the next 64 KiB populated ahead
 * by one system call: a burst of creates on any thread then faults no page in
 * one by one, where malloc's per-thread arenas grow a page or so at a time
 * (an mprotect each) and fault every page in. Chunk memory is never given
 * back to the system: its blocks live in caches, and a thread that exits (or
 * calls aco_thread_release_free_blocks()) hands its cached blocks to the
 * process-wide pool, where other threads find them before they carve more.
 * Blocks of any other size come from malloc and go back to it.
 *
 * Cached blocks stay poisoned for AddressSanitizer and inaccessible for
 * valgrind, so a use after aco_destroy is still reported. The leak checkers do
 * not look for addresses in poisoned memory, so under them a magazine holds
 * only two addresses, at the very end of its block (the initial save stack),
 * and that part stays open: the aco_t of every cached block stays poisoned. */

#define ACO_CHUNK_FIRST ((size_t)256 * 1024)
#define ACO_CHUNK_LAST ((size_t)16 * 1024 * 1024)
#define ACO_POPULATE_BYTES ((size_t)64 * 1024)
#define ACO_POOL_SIZES 8 /* block sizes the process-wide pool keeps */
#define ACO_CHUNKS_MAX 4096

static pthread_key_t aco_block_cache_key;
static pthread_once_t aco_block_cache_key_once = PTHREAD_ONCE_INIT;

/* ---- chunks ------------------------------------------------------------------------- */

/* Where this thread carves fresh blocks. */
typedef struct {
    char* next;        /* the next free byte of the current chunk */
    char* end;         /* its end */
    char* populated;   /* where the populated pages end */
    size_t last_bytes; /* the size of the last chunk mapped */
} aco_block_fresh_state;

static __thread aco_block_fresh_state aco_block_fresh ACO_TLS_MODEL;

/* Every chunk mapped, so that a block can be told apart from malloc's. */
static pthread_mutex_t aco_chunks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char* base;
    size_t bytes;
} aco_chunks[ACO_CHUNKS_MAX];
static size_t aco_chunk_count;

static _Atomic int aco_populate_unsupported;

static int aco_chunk_contains(const void* p) {
    int found = 0;
    pthread_mutex_lock(&aco_chunks_lock);
    for (size_t i = 0; i < aco_chunk_count && !found; i++)
        found = (const char*)p >= aco_chunks[i].base && (const char*)p < aco_chunks[i].base + aco_chunks[i].bytes;
    pthread_mutex_unlock(&aco_chunks_lock);
    return found;
}

/* Maps the next chunk of this thread; 0 when memory (or the registry) is exhausted. */
static int aco_chunk_next(aco_block_fresh_state* t, size_t at_least) {
    size_t bytes = t->last_bytes == 0 ? ACO_CHUNK_FIRST : t->last_bytes * 2;
    if (bytes > ACO_CHUNK_LAST) bytes = ACO_CHUNK_LAST;
    while (bytes < at_least) bytes *= 2;
    pthread_mutex_lock(&aco_chunks_lock);
    int room = aco_chunk_count < ACO_CHUNKS_MAX;
    char* base = room ? aco_os_map(bytes) : NULL;
    if (base != NULL) {
        aco_chunks[aco_chunk_count].base = base;
        aco_chunks[aco_chunk_count].bytes = bytes;
        aco_chunk_count++;
    }
    pthread_mutex_unlock(&aco_chunks_lock);
    if (base == NULL) return 0;
    t->next = t->populated = base;
    t->end = base + bytes;
    t->last_bytes = bytes;
    return 1;
}

/* A fresh block from this thread's chunk. */
static void* aco_block_carve(size_t bytes) {
    aco_block_fresh_state* t = &aco_block_fresh;
    size_t rounded = (bytes + 15) & ~(size_t)15;
    if ((size_t)(t->end - t->next) < rounded && !aco_chunk_next(t, rounded)) return NULL;
    char* p = t->next;
    t->next += rounded;
    if (t->next > t->populated) {
        /* One system call populates the next pages, a third cheaper per page
         * than a fault each (docs/benchmarks.md, "fresh pages"). */
        char* to = t->populated + ACO_POPULATE_BYTES;
        if (to < t->next) to = t->next;
        if (to > t->end) to = t->end;
        if (!atomic_load_explicit(&aco_populate_unsupported, memory_order_relaxed) &&
            aco_os_populate(t->populated, (size_t)(to - t->populated)) < 0)
            atomic_store_explicit(&aco_populate_unsupported, 1, memory_order_relaxed);
        t->populated = to;
    }
    return p;
}

/* ---- magazines ------------------------------------------------------------------------ */

/* The layout of the magazines of blocks of `bytes`: the same on every thread. */
static void aco_block_stack_init(aco_block_stack* st, size_t bytes) {
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
    st->top = NULL;
}

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

/* Makes p's block the top magazine of st, empty. */
static void aco_magazine_push(aco_block_stack* st, void* p) {
    aco_magazine* fresh = aco_magazine_of(p, st);
    fresh->under = st->top;
    fresh->n = 0;
    st->top = p;
    aco_magazine_poison(p, st);
}

/* Takes the top magazine's own block (its addresses are all taken). */
static void* aco_magazine_pop(aco_block_stack* st) {
    void* p = st->top;
    aco_magazine* m = aco_magazine_of(p, st);
    st->top = m->under;
    if (st->top != NULL) {
        void* under = aco_magazine_of(st->top, st)->under;
        if (under != NULL) { /* read when the new top runs out */
            const char* u = (const char*)aco_magazine_of(under, st);
            for (size_t off = 0; off < sizeof(*m) + st->capacity * sizeof(void*); off += 64)
                __builtin_prefetch(u + off, 0);
        }
    }
    aco_block_unpoison(p, st->bytes);
    return p;
}

/* ---- the process-wide pool ------------------------------------------------------------------ */

static pthread_mutex_t aco_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static aco_block_stack aco_pool[ACO_POOL_SIZES]; /* bytes == 0: unused */

static aco_block_stack* aco_pool_for(size_t bytes, int create) {
    for (int i = 0; i < ACO_POOL_SIZES; i++)
        if (aco_pool[i].bytes == bytes) return &aco_pool[i];
    if (!create) return NULL;
    for (int i = 0; i < ACO_POOL_SIZES; i++)
        if (aco_pool[i].bytes == 0) {
            aco_block_stack_init(&aco_pool[i], bytes);
            return &aco_pool[i];
        }
    return NULL;
}

/* Moves a whole stack of magazines onto the pool's. 0 when the pool has no
 * room for this size (the blocks then stay where they are). */
static int aco_pool_put(aco_block_stack* st) {
    if (st->top == NULL) return 1;
    pthread_mutex_lock(&aco_pool_lock);
    aco_block_stack* pool = aco_pool_for(st->bytes, 1);
    if (pool != NULL) {
        void* bottom = st->top;
        while (aco_magazine_of(bottom, st)->under != NULL) bottom = aco_magazine_of(bottom, st)->under;
        aco_magazine_of(bottom, st)->under = pool->top;
        pool->top = st->top;
        st->top = NULL;
    }
    pthread_mutex_unlock(&aco_pool_lock);
    return pool != NULL;
}

/* Takes one magazine (with the addresses it holds) from the pool onto st. */
static int aco_pool_take(aco_block_stack* st) {
    pthread_mutex_lock(&aco_pool_lock);
    aco_block_stack* pool = aco_pool_for(st->bytes, 0);
    void* top = pool != NULL ? pool->top : NULL;
    if (top != NULL) {
        pool->top = aco_magazine_of(top, pool)->under;
        aco_magazine_of(top, st)->under = st->top;
        st->top = top;
    }
    pthread_mutex_unlock(&aco_pool_lock);
    return top != NULL;
}

/* ---- the thread's cache --------------------------------------------------------------------- */

static void aco_block_cache_release(aco_block_cache* c) {
    for (int i = 0; i < ACO_BLOCK_SIZES; i++) aco_pool_put(&c->size[i]);
}

/* Caches of exited threads, for new threads to take: a thread's exit never
 * calls into the C heap (on Windows it runs under the loader lock, and a free
 * there was seen to leave the heap's lock held under Wine). Guarded by the
 * pool's lock. */
static aco_block_cache* aco_free_caches;

static void aco_block_cache_exit(void* p) {
    aco_block_cache* c = p;
    aco_block_cache_release(c);
#ifndef _WIN32
    aco_block_cache_tls = NULL;
#endif
    /* Under mingw, __thread variables are emulated in heap memory that a
     * thread-exit destructor of their own may already have freed: writing one
     * here wrote to freed memory (heap corruption, seen under Wine). Nothing
     * on an exiting thread takes blocks after this. */
    pthread_mutex_lock(&aco_pool_lock);
    c->next_free = aco_free_caches;
    aco_free_caches = c;
    pthread_mutex_unlock(&aco_pool_lock);
}

/* A cache for this thread: one an exited thread left, else a new one. */
static aco_block_cache* aco_block_cache_new(void) {
    pthread_mutex_lock(&aco_pool_lock);
    aco_block_cache* c = aco_free_caches;
    if (c != NULL) aco_free_caches = c->next_free;
    pthread_mutex_unlock(&aco_pool_lock);
    if (c == NULL) return calloc(1, sizeof(*c));
    memset(c, 0, sizeof(*c)); /* its blocks went to the pool when its thread exited */
    return c;
}

static void aco_block_cache_key_create(void) {
    aco_assert(pthread_key_create(&aco_block_cache_key, aco_block_cache_exit) == 0);
}

void aco_thread_release_free_blocks(void) {
    if (aco_block_cache_tls != NULL) aco_block_cache_release(aco_block_cache_tls);
}

/* The thread's stack for blocks of `bytes`, made when there is room (the
 * thread's cache too, on first use); NULL when every slot holds another size. */
__attribute__((noinline)) static aco_block_stack* aco_block_stack_for(size_t bytes) {
    aco_block_stack* st = aco_block_stack_of(bytes);
    if (st != NULL) return st;
    aco_block_cache* c = aco_block_cache_tls;
    if (c == NULL) {
        pthread_once(&aco_block_cache_key_once, aco_block_cache_key_create);
        c = aco_block_cache_new();
        if (c == NULL) return NULL;
        if (pthread_setspecific(aco_block_cache_key, c) != 0) {
            aco_block_cache_exit(c);
            return NULL;
        }
        aco_block_cache_tls = c;
    }
    for (int i = 0; i < ACO_BLOCK_SIZES; i++) {
        aco_block_stack* s = &c->size[i];
        if (s->bytes == 0 || (s->top == NULL && aco_pool_put(s))) { /* unused, or empty: take it over */
            aco_block_stack_init(s, bytes);
            return s;
        }
    }
    return NULL;
}

/* The slow path of aco_block_take: the top magazine of blocks of `bytes` is
 * empty (its own block is the last it gives), or there is none: then the
 * pool's, then fresh memory. */
void* aco_block_take_slow(size_t bytes) {
    aco_block_stack* st = aco_block_stack_for(bytes);
    if (st == NULL) return malloc(bytes); /* a size the cache does not keep */
    if (st->top == NULL && !aco_pool_take(st)) return aco_block_carve(bytes);
    aco_magazine* m = aco_magazine_of(st->top, st);
    if (m->n > 0) return aco_block_take(bytes); /* a magazine from the pool: the fast path now */
    return aco_magazine_pop(st);
}

/* The slow path of aco_block_give: no stack for blocks of this size yet, or
 * its top magazine is full (or there is none): p's block becomes the top. */
void aco_block_give_slow(void* p, size_t bytes) {
    aco_block_stack* st = aco_block_stack_for(bytes);
    if (st != NULL) {
        aco_magazine_push(st, p);
        return;
    }
    if (!aco_chunk_contains(p)) {
        free(p); /* from malloc: a size no cache keeps */
        return;
    }
    /* A chunk's block of a size this thread has no room for (made on another
     * thread): to the pool, else kept out of use (a chunk is never freed). */
    aco_block_stack one;
    aco_block_stack_init(&one, bytes);
    aco_magazine_push(&one, p);
    aco_pool_put(&one);
}
