/*
 * aco.c - coroutines, share stacks and save stacks (libaco 1.2.4 semantics).
 *
 * Hot path: aco_resume() of a coroutine that already owns its share stack is
 * a few checks, one thread-local store and the context switch. Copying (save
 * of the leaving owner, restore of the arriving coroutine) lives in a
 * separate, non-inlined function.
 */
#define _GNU_SOURCE
#include "aco.h"

#include <pthread.h>
#include <stdatomic.h>

#include "aco_abi.h"
#include "aco_os.h"

#ifdef ACO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#ifdef ACO_USE_VALGRIND
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
/* Set when a share stack is created under valgrind; client requests are then
 * issued on the copy path (see aco_take_share_stack). */
static int aco_on_valgrind;
#endif

#define ACO_DEFAULT_SHARE_STACK_SIZE ((size_t)2 * 1024 * 1024)
#define ACO_MIN_SHARE_STACK_SIZE ((size_t)4096)
#define ACO_DEFAULT_SAVE_STACK_SIZE ((size_t)64)

/* ---- process-wide counters, kept per thread ------------------------------
 * Each thread adds to its own block with plain (relaxed) stores, so create and
 * destroy pay no locked instruction. Readers sum all blocks under a mutex;
 * a block of an exited thread is folded into `retired` and reused. */

typedef struct aco_counter_block {
    _Atomic int64_t value[4]; /* see ACO_CT_* */
    struct aco_counter_block* next;
    int in_use;
} aco_counter_block;

enum { ACO_CT_COROUTINES, ACO_CT_SHARE_STACKS, ACO_CT_SAVE_BYTES, ACO_CT_COPIED_BYTES, ACO_CT_COUNT };

static pthread_mutex_t aco_counters_lock = PTHREAD_MUTEX_INITIALIZER;
static aco_counter_block* aco_counter_blocks;
static int64_t aco_counters_retired[ACO_CT_COUNT];
static pthread_key_t aco_counter_key;
static pthread_once_t aco_counter_key_once = PTHREAD_ONCE_INIT;

/* ---- per-thread state ---------------------------------------------------- */

struct aco_block_cache;

typedef struct {
    uint32_t fpu_env[2]; /* x87 control word, MXCSR: what new coroutines start with */
    aco_cofuncp_t last_word_fp;
    aco_counter_block* counters;
    struct aco_block_cache* block_cache; /* destroyed coroutines' blocks; NULL until one */
    char* last_malloc_end;               /* end of the last block aco_block_malloc made */
    char* populated_end;                 /* end of the pages it last populated */
    char initialized;
    char return_means_exit;
    char share_fpu_env_set; /* share_fpu_env was set explicitly */
    char share_fpu_env;
#ifdef ACO_ASAN
    const void* main_stack_bottom; /* learned when a coroutine first runs */
    size_t main_stack_size;
#endif
} aco_thread_state;

#ifndef _WIN32 /* Windows: native TLS of the DLL, defined in its .S file */
__thread aco_t* aco_gtls_co ACO_TLS_MODEL;
#endif
static __thread aco_thread_state aco_tls ACO_TLS_MODEL;

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

__attribute__((noinline)) static aco_counter_block* aco_counters_attach(void) {
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
    aco_tls.counters = b;
    return b;
}

/* This thread's counter block, attached on first use. */
static inline aco_counter_block* aco_counters_mine(void) {
    aco_counter_block* b = aco_tls.counters;
    return aco_likely(b != NULL) ? b : aco_counters_attach();
}

static inline void aco_count(int which, int64_t delta) {
    aco_counter_block* b = aco_counters_mine();
    /* Only this thread writes the block: a relaxed load and store, no lock. */
    int64_t v = atomic_load_explicit(&b->value[which], memory_order_relaxed);
    atomic_store_explicit(&b->value[which], v + delta, memory_order_relaxed);
}

/* A coroutine comes or goes: its count and its save-stack bytes, with one
 * look-up of the thread's block (create and destroy are hot). */
static inline void aco_count_coroutine(int64_t one, int64_t save_bytes) {
    aco_counter_block* b = aco_counters_mine();
    int64_t n = atomic_load_explicit(&b->value[ACO_CT_COROUTINES], memory_order_relaxed);
    int64_t bytes = atomic_load_explicit(&b->value[ACO_CT_SAVE_BYTES], memory_order_relaxed);
    atomic_store_explicit(&b->value[ACO_CT_COROUTINES], n + one, memory_order_relaxed);
    atomic_store_explicit(&b->value[ACO_CT_SAVE_BYTES], bytes + save_bytes, memory_order_relaxed);
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

/* ---- per-thread cache of coroutine blocks ----------------------------------
 * A coroutine is one block: [prefix][aco_t][initial save stack]. aco_destroy
 * gives the block to its thread's cache instead of free(), and aco_create takes
 * one of the same size from there before calling malloc.
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

#define ACO_BLOCK_SIZES 4
#define ACO_BLOCK_PREFETCH_AHEAD 8
#define ACO_MAGAZINE_CAPACITY_CHECKED 2 /* under ASan or valgrind */

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
} aco_block_cache;

static pthread_key_t aco_block_cache_key;
static pthread_once_t aco_block_cache_key_once = PTHREAD_ONCE_INIT;

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
    aco_tls.block_cache = NULL;
}

static void aco_block_cache_key_create(void) {
    aco_assert(pthread_key_create(&aco_block_cache_key, aco_block_cache_exit) == 0);
}

void aco_thread_release_free_blocks(void) {
    if (aco_tls.block_cache != NULL) aco_block_cache_release(aco_tls.block_cache);
}

/* Creates come in bursts, and each writes its whole aco_t into a block that is
 * cold by then, so the take starts fetching the block ACO_BLOCK_PREFETCH_AHEAD
 * takes ahead: this one. Takes pop m's addresses, then m's own block (warm:
 * NULL), then the addresses of the magazine under it, whose lines the hop to m
 * began to fetch. (The prefetches stay in the caller: GCC deletes calls to a
 * function that does nothing but prefetch, as if it had no effect.) */
static inline const char* aco_block_ahead(const aco_magazine* m, const aco_block_stack* st) {
    if (m->n >= ACO_BLOCK_PREFETCH_AHEAD) return m->blocks[m->n - ACO_BLOCK_PREFETCH_AHEAD];
    if (m->n + 1 < ACO_BLOCK_PREFETCH_AHEAD && m->under != NULL) {
        const aco_magazine* u = aco_magazine_of(m->under, st);
        size_t skip = ACO_BLOCK_PREFETCH_AHEAD - 1 - m->n; /* takes of u's before the one wanted */
        if (u->n >= skip) return u->blocks[u->n - skip];
    }
    return NULL;
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
    aco_thread_state* t = &aco_tls;
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

/* A block of `bytes` bytes: from the cache when it has one, else malloc. */
static inline void* aco_block_take(size_t bytes) {
    aco_block_cache* c = aco_tls.block_cache;
    if (c != NULL) {
        for (int i = 0; i < ACO_BLOCK_SIZES; i++) {
            aco_block_stack* st = &c->size[i];
            if (st->bytes == bytes && st->top != NULL) {
                void* p;
                aco_magazine* m = aco_magazine_of(st->top, st);
                if (m->n > 0) {
                    p = m->blocks[--m->n];
                    const char* ahead = aco_block_ahead(m, st);
                    if (ahead != NULL)
                        for (size_t off = 0; off < bytes && off < sizeof(aco_t) + 64; off += 64)
                            __builtin_prefetch(ahead + off, 1);
                } else {
                    /* The magazine's own block is the last it gives. */
                    p = st->top;
                    st->top = m->under;
                    if (st->top != NULL) {
                        void* under = aco_magazine_of(st->top, st)->under;
                        if (under != NULL) { /* read when the new top runs out */
                            const char* u = (const char*)aco_magazine_of(under, st);
                            for (size_t off = 0; off < sizeof(*m) + st->capacity * sizeof(void*); off += 64)
                                __builtin_prefetch(u + off, 0);
                        }
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
    aco_block_cache* c = aco_tls.block_cache;
    if (c == NULL) {
        pthread_once(&aco_block_cache_key_once, aco_block_cache_key_create);
        c = calloc(1, sizeof(*c));
        if (c == NULL || pthread_setspecific(aco_block_cache_key, c) != 0) {
            free(c);
            return NULL;
        }
        aco_tls.block_cache = c;
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

/* Takes back a block that aco_block_take gave out. */
static inline void aco_block_give(void* p, size_t bytes) {
    aco_block_cache* c = aco_tls.block_cache;
    aco_block_stack* st = NULL;
    if (c != NULL)
        for (int i = 0; i < ACO_BLOCK_SIZES && st == NULL; i++)
            if (c->size[i].bytes == bytes) st = &c->size[i];
    if (aco_unlikely(st == NULL)) {
        st = aco_block_stack_for(bytes);
        if (st == NULL) {
            free(p);
            return;
        }
    }
    if (st->top != NULL) {
        aco_magazine* m = aco_magazine_of(st->top, st);
        if (m->n < st->capacity) {
            m->blocks[m->n++] = p;
            aco_block_poison(p, bytes);
            return;
        }
    }
    /* The top magazine is full (or there is none): p's block becomes the top. */
    aco_magazine* fresh = aco_magazine_of(p, st);
    fresh->under = st->top;
    fresh->n = 0;
    st->top = p;
    aco_magazine_poison(p, st);
}

/* ---- thread init and the last word ---------------------------------------- */

void aco_runtime_test(void) {
    _Static_assert(sizeof(void*) == 8, "aco needs 64-bit pointers");
    _Static_assert(sizeof(int) >= 4, "aco needs int of at least 32 bits");
    _Static_assert(sizeof(int) <= sizeof(size_t), "aco needs size_t at least as wide as int");
    _Static_assert(offsetof(aco_t, reg) == 0, "the context switch expects reg first");
    _Static_assert(sizeof(((aco_t*)0)->reg) == ACO_REG_COUNT * sizeof(void*), "reg size");
    _Static_assert(offsetof(aco_t, share_fpu_env) == ACO_OFFSET_SHARE_FPU_ENV,
                   "the context switch reads share_fpu_env at this offset");
    size_t pgsz = aco_os_page_size();
    aco_assert(pgsz > 0 && (pgsz & (pgsz - 1)) == 0);
}

void aco_thread_init(aco_cofuncp_t last_word_co_fp) {
    aco_runtime_test();
    aco_save_fpucw_mxcsr(aco_tls.fpu_env);
    /* As libaco: NULL keeps the handler already set (the default at first). */
    if (last_word_co_fp != NULL) aco_tls.last_word_fp = last_word_co_fp;
    aco_tls.initialized = 1;
}

int aco_thread_is_initialized(void) { return aco_tls.initialized; }

void aco_set_return_means_exit(int on) { aco_tls.return_means_exit = (char)(on != 0); }

int aco_get_return_means_exit(void) { return aco_tls.return_means_exit; }

void aco_set_share_fpu_env(int on) {
    aco_tls.share_fpu_env = (char)(on != 0);
    aco_tls.share_fpu_env_set = 1;
}

int aco_get_share_fpu_env(void) {
    return aco_tls.share_fpu_env_set ? aco_tls.share_fpu_env : aco_build_shares_fpu_env();
}

int aco_build_shares_fpu_env(void) {
#ifdef ACO_CONFIG_SHARE_FPU_MXCSR_ENV
    return 1;
#else
    return 0;
#endif
}

int aco_version_number(void) {
    return ACO_VERSION_MAJOR * 10000 + ACO_VERSION_MINOR * 100 + ACO_VERSION_PATCH;
}

static void aco_default_last_word(void) {
    aco_t* co = aco_gtls_co;
    fprintf(stderr,
            "aco: coroutine %p returned from its entry function %p instead of calling "
            "aco_exit(); aborting (install a last-word handler with aco_thread_init, or "
            "call aco_set_return_means_exit(1))\n",
            (void*)co, co != NULL ? (void*)co->fp : NULL);
    fflush(stderr);
    abort();
}

/* Runs on the coroutine's stack when its entry function returned. */
void aco_funcp_protector(void) {
    if (aco_tls.return_means_exit) aco_exit1_fn(aco_gtls_co);
    if (aco_tls.last_word_fp != NULL)
        aco_tls.last_word_fp();
    else
        aco_default_last_word();
    fprintf(stderr, "aco: the last-word handler returned; it must not. Aborting.\n");
    fflush(stderr);
    abort();
}

/* ---- share stacks ---------------------------------------------------------- */

aco_share_stack_t* aco_share_stack_new(size_t sz) { return aco_share_stack_new2(sz, 1); }

aco_share_stack_t* aco_share_stack_new2(size_t sz, char guard_page_enabled) {
    if (sz == 0) sz = ACO_DEFAULT_SHARE_STACK_SIZE;
    if (sz < ACO_MIN_SHARE_STACK_SIZE) sz = ACO_MIN_SHARE_STACK_SIZE;

    aco_share_stack_t* p = calloc(1, sizeof(*p));
    aco_assertalloc_ptr(p);
    if (guard_page_enabled) {
        size_t pgsz = aco_os_page_size();
        size_t usable = (sz + pgsz - 1) & ~(pgsz - 1);
        aco_assert(usable >= sz && usable + pgsz > usable); /* no overflow */
        p->real_sz = usable + pgsz;
        p->real_ptr = aco_os_map(p->real_sz);
        aco_assertalloc_ptr(p->real_ptr);
        /* The lowest page is the guard: an overflow writes to it and faults. */
        aco_assert(aco_os_guard(p->real_ptr, pgsz) == 0);
        p->guard_page_enabled = 1;
        p->ptr = (char*)p->real_ptr + pgsz;
        p->sz = usable;
    } else {
        p->ptr = malloc(sz);
        aco_assertalloc_ptr(p->ptr);
        p->sz = sz;
        p->real_ptr = p->ptr;
        p->real_sz = sz;
    }
#ifdef ACO_USE_VALGRIND
    p->valgrind_stk_id = VALGRIND_STACK_REGISTER(p->ptr, (char*)p->ptr + p->sz);
    if (RUNNING_ON_VALGRIND) aco_on_valgrind = 1;
#endif
    /* The live area of a coroutine is [its saved sp, align_retptr). */
    aco_abi_layout_stack(p);
    p->owner = NULL;
    aco_count(ACO_CT_SHARE_STACKS, 1);
    return p;
}

void aco_share_stack_destroy(aco_share_stack_t* sstk) {
    aco_assert(sstk != NULL && sstk->ptr != NULL);
#ifdef ACO_USE_VALGRIND
    VALGRIND_STACK_DEREGISTER(sstk->valgrind_stk_id);
#endif
    if (sstk->guard_page_enabled)
        aco_assert(aco_os_unmap(sstk->real_ptr, sstk->real_sz) == 0);
    else
        free(sstk->ptr);
    sstk->ptr = NULL;
    sstk->real_ptr = NULL;
    free(sstk);
    aco_count(ACO_CT_SHARE_STACKS, -1);
}

/* ---- coroutines ------------------------------------------------------------ */

/* acosw under a name that binds inside the library (no PLT). */
extern void* aco_switch_internal_(aco_t* from_co, aco_t* to_co) __asm__("aco_switch_internal_");

#ifdef ACO_ASAN
static void aco_asan_entry_(void);
#endif

/* The initial save stack lives right after the aco_t, in the same allocation:
 * one malloc per coroutine, and the bytes a resume touches are adjacent. */
static inline void* aco_inline_save_stack(aco_t* co) { return co + 1; }

/* Bytes the block reserves for an initial save stack of sz bytes: whole 16-byte
 * units, at least one, so that the area can record its own size once the save
 * stack has moved out of it (see aco_save_stack_grow). */
static inline size_t aco_inline_bytes(size_t sz) { return sz <= 16 ? 16 : (sz + 15) & ~(size_t)15; }

/* Size of co's block: prefix, aco_t and the inline save-stack area. */
static inline size_t aco_block_bytes(aco_t* co) {
    size_t inline_bytes = co->save_stack.ptr == aco_inline_save_stack(co)
                              ? aco_inline_bytes(co->save_stack.sz)
                              : *(size_t*)aco_inline_save_stack(co);
    return co->prefix_bytes + sizeof(aco_t) + inline_bytes;
}

static aco_t* aco_create_internal(aco_t* main_co, aco_share_stack_t* share_stack,
                                  size_t save_stack_sz, aco_cofuncp_t fp, void* arg,
                                  size_t prefix_bytes);

aco_t* aco_create(aco_t* main_co, aco_share_stack_t* share_stack, size_t save_stack_sz,
                  aco_cofuncp_t fp, void* arg) {
    return aco_create_internal(main_co, share_stack, save_stack_sz, fp, arg, 0);
}

aco_t* aco_create_with_prefix(aco_t* main_co, aco_share_stack_t* share_stack, size_t save_stack_sz,
                              aco_cofuncp_t fp, void* arg, size_t prefix_bytes) {
    aco_assertptr(main_co);
    aco_assert(prefix_bytes <= 4096 && prefix_bytes % 8 == 0);
    return aco_create_internal(main_co, share_stack, save_stack_sz, fp, arg, prefix_bytes);
}

void* aco_get_prefix(aco_t* co) {
    aco_assertptr(co);
    return (char*)co - co->prefix_bytes;
}

static aco_t* aco_create_internal(aco_t* main_co, aco_share_stack_t* share_stack,
                                  size_t save_stack_sz, aco_cofuncp_t fp, void* arg,
                                  size_t prefix_bytes) {
    if (main_co == NULL) {
        aco_t* p = calloc(1, sizeof(aco_t));
        aco_assertalloc_ptr(p);
        p->arg = arg;
        p->fp = fp;
        p->share_fpu_env = 1; /* defers to the other side of each switch */
        aco_count(ACO_CT_COROUTINES, 1);
        return p;
    }
    aco_assertptr(share_stack);
    aco_assertptr((void*)fp);
    if (save_stack_sz == 0) save_stack_sz = ACO_DEFAULT_SAVE_STACK_SIZE;
    aco_assert(save_stack_sz <= SIZE_MAX - sizeof(aco_t) - prefix_bytes - 16);

    char* block = aco_block_take(prefix_bytes + sizeof(aco_t) + aco_inline_bytes(save_stack_sz));
    aco_assertalloc_ptr(block);
    memset(block, 0, prefix_bytes + sizeof(aco_t));
    aco_t* p = (aco_t*)(block + prefix_bytes);
    p->prefix_bytes = (uint16_t)prefix_bytes;
    if (aco_unlikely(!aco_tls.initialized)) aco_save_fpucw_mxcsr(aco_tls.fpu_env);

    /* The first switch to p starts fp as if aco_funcp_protector_asm had called it. */
#ifdef ACO_ASAN
    aco_abi_init_context(p, share_stack, aco_asan_entry_);
#else
    aco_abi_init_context(p, share_stack, fp);
#endif
    memcpy(&p->reg[ACO_REG_IDX_FPU], aco_tls.fpu_env, sizeof(aco_tls.fpu_env));

    p->main_co = main_co;
    p->arg = arg;
    p->fp = fp;
    p->share_fpu_env = (char)aco_get_share_fpu_env();
    p->share_stack = share_stack;
    p->save_stack.ptr = aco_inline_save_stack(p);
    p->save_stack.sz = save_stack_sz;
    aco_count_coroutine(1, (int64_t)save_stack_sz);
    return p;
}

__attribute__((noinline)) static void aco_save_stack_grow(aco_t* co, size_t need) {
    size_t sz = co->save_stack.sz;
    while (sz < need) {
        aco_assert(sz <= SIZE_MAX / 2);
        sz <<= 1;
    }
    if (co->save_stack.ptr != aco_inline_save_stack(co))
        free(co->save_stack.ptr);
    else /* the block's size must stay known to aco_destroy */
        *(size_t*)aco_inline_save_stack(co) = aco_inline_bytes(co->save_stack.sz);
    co->save_stack.ptr = malloc(sz);
    aco_assertalloc_ptr(co->save_stack.ptr);
    aco_count(ACO_CT_SAVE_BYTES, (int64_t)sz - (int64_t)co->save_stack.sz);
    co->save_stack.sz = sz;
}

/* Prefetching a save stack before restoring it: all of it when it is probably
 * cold, only its first bytes when it was saved so recently (less than
 * ACO_WARM_REUSE bytes copied by this thread since) that it should still be
 * in cache. Measured, 8 KB live stacks: a full prefetch takes 0.63-0.9x
 * libaco's time with 100k coroutines (from DRAM) but 1.07-1.3x with 16 (in
 * cache), where 1 KB gives 0.76-0.92x; prefetching 1 KB only is 0.6-1.3x
 * from DRAM. The clock counts in 64 KiB units (ACO_COPY_CLOCK_SHIFT). */
#define ACO_COPY_CLOCK_SHIFT 16
#define ACO_WARM_REUSE ((int64_t)1 << 20)
#define ACO_WARM_PREFETCH ((size_t)1024)

static inline uint16_t aco_copy_clock(void) {
    aco_counter_block* b = aco_counters_mine();
    int64_t copied = atomic_load_explicit(&b->value[ACO_CT_COPIED_BYTES], memory_order_relaxed);
    return (uint16_t)(copied >> ACO_COPY_CLOCK_SHIFT);
}

/* Makes co the owner of its share stack: saves the current owner's live stack
 * and restores co's. */
__attribute__((noinline)) aco_attr_no_asan static void aco_take_share_stack(aco_t* co) {
    aco_share_stack_t* sstk = co->share_stack;
    uintptr_t retptr = (uintptr_t)sstk->align_retptr;
    aco_t* owner = sstk->owner;
    /* co's saved bytes are usually cold (it ran long ago); start loading them
     * now so the loads overlap the save of the owner's (warm) stack. */
    uint16_t clock = aco_copy_clock();
    const char* saved = co->save_stack.ptr;
    size_t prefetch = co->save_stack.valid_sz;
    if ((uint16_t)(clock - aco_abi_get_save_stamp(co)) < (ACO_WARM_REUSE >> ACO_COPY_CLOCK_SHIFT) &&
        prefetch > ACO_WARM_PREFETCH)
        prefetch = ACO_WARM_PREFETCH;
    for (size_t off = 0; off < prefetch; off += 64) __builtin_prefetch(saved + off);
    if (owner != NULL) {
        aco_assert(owner->share_stack == sstk);
        uintptr_t sp = (uintptr_t)owner->reg[ACO_REG_IDX_SP];
        aco_assert(sp <= retptr && sp >= (uintptr_t)sstk->align_highptr - sstk->align_limit);
        size_t n = retptr - sp;
        owner->save_stack.valid_sz = n;
        if (n > owner->save_stack.sz) aco_save_stack_grow(owner, n);
        if (n > 0) {
            aco_abi_copy_stack(owner->save_stack.ptr, (const void*)sp, n);
            owner->save_stack.ct_save++;
            aco_abi_set_save_stamp(owner, clock);
        }
        if (n > owner->save_stack.max_cpsz) owner->save_stack.max_cpsz = n;
        sstk->owner = NULL;
        sstk->align_validsz = 0;
    }
    size_t n = co->save_stack.valid_sz;
    aco_assert(n <= sstk->align_limit - sizeof(void*));
#ifdef ACO_ASAN
    /* Frames of other coroutines left their redzones' poison in the shadow of
     * this stack; co's frames do not match it. */
    __asan_unpoison_memory_region(sstk->ptr, sstk->sz);
#endif
#ifdef ACO_USE_VALGRIND
    /* memcheck marked parts of this stack inaccessible while the last owner's
     * stack pointer moved; to co the whole stack is as a fresh one. */
    if (aco_on_valgrind)
        VALGRIND_MAKE_MEM_UNDEFINED(sstk->ptr, retptr + sizeof(void*) - (uintptr_t)sstk->ptr);
#endif
    aco_abi_refresh_stack_top(sstk);
    if (n > 0) {
        aco_abi_copy_stack((void*)(retptr - n), co->save_stack.ptr, n);
        co->save_stack.ct_restore++;
    }
    if (n > co->save_stack.max_cpsz) co->save_stack.max_cpsz = n;
    aco_count(ACO_CT_COPIED_BYTES, (int64_t)(n + (owner != NULL ? owner->save_stack.valid_sz : 0)));
    sstk->align_validsz = n + sizeof(void*);
    sstk->owner = co;
}

/* Folds the depth of co's last suspension point (its saved sp) into its
 * high-water mark. A coroutine that never ran has depth 0. */
static inline void aco_fold_stack_hwm(aco_t* co) {
    uintptr_t depth = (uintptr_t)co->share_stack->align_retptr - (uintptr_t)co->reg[ACO_REG_IDX_SP];
    if (aco_unlikely(depth > co->stack_hwm))
        co->stack_hwm = depth > UINT32_MAX ? UINT32_MAX : (uint32_t)depth;
}

void aco_resume(aco_t* resume_co) {
    aco_assert(resume_co != NULL && resume_co->main_co != NULL && resume_co->is_end == 0);
    /* Only a main coroutine resumes: never from inside another coroutine. */
    aco_assert(aco_gtls_co == NULL || aco_gtls_co->main_co == NULL);
    aco_share_stack_t* sstk = resume_co->share_stack;
    if (aco_unlikely(sstk->owner != resume_co)) aco_take_share_stack(resume_co);
    aco_fold_stack_hwm(resume_co);
#ifdef ACO_ASAN
    void* main_fake_stack = NULL;
    __sanitizer_start_switch_fiber(&main_fake_stack, sstk->ptr, sstk->sz);
    aco_switch_internal_(resume_co->main_co, resume_co);
    __sanitizer_finish_switch_fiber(main_fake_stack, NULL, NULL);
#else
    /* A tail call (nothing may follow it): when resume_co yields, the switch
     * continues directly in our caller. acosw sets aco_gtls_co both ways. */
    aco_switch_internal_(resume_co->main_co, resume_co);
#endif
}

void aco_destroy(aco_t* co) {
    aco_assertptr(co);
    /* A thread may create and destroy several main coroutines in turn. */
    if (aco_gtls_co == co) aco_gtls_co = NULL;
    if (co->main_co == NULL) {
        free(co);
        aco_count(ACO_CT_COROUTINES, -1);
        return;
    }
    if (co->share_stack->owner == co) {
        co->share_stack->owner = NULL;
        co->share_stack->align_validsz = 0;
    }
    size_t block_bytes = aco_block_bytes(co);
    if (co->save_stack.ptr != aco_inline_save_stack(co)) free(co->save_stack.ptr);
    aco_count_coroutine(-1, -(int64_t)co->save_stack.sz);
    aco_block_give((char*)co - co->prefix_bytes, block_bytes);
}

size_t aco_get_stack_hwm(const aco_t* co) {
    aco_assertptr(co);
    if (co->main_co == NULL) return 0;
    /* The last suspension point is folded in at the next resume; count it now. */
    uintptr_t depth = (uintptr_t)co->share_stack->align_retptr - (uintptr_t)co->reg[ACO_REG_IDX_SP];
    return depth > co->stack_hwm ? depth : co->stack_hwm;
}

/* ---- the macros as functions ---------------------------------------------- */

void aco_yield1_fn(aco_t* yield_co) { aco_yield1(yield_co); }
void aco_yield_fn(void) { aco_yield(); }
aco_t* aco_get_co_fn(void) { return aco_gtls_co; }
aco_t* aco_co_fn(void) { return aco_gtls_co; }
void* aco_get_arg_fn(void) { return aco_get_arg(); }
int aco_is_main_co_fn(const aco_t* co) { return co->main_co == NULL; }

void aco_exit1_fn(aco_t* co) {
    aco_exit1(co);
    __builtin_unreachable();
}

void aco_exit_fn(void) { aco_exit1_fn(aco_gtls_co); }

/* ---- AddressSanitizer: tell it about every stack switch -------------------- */

#ifdef ACO_ASAN
void aco_asan_yield_(aco_t* yield_co) {
    void* fake_stack = NULL;
    /* A coroutine that has ended never comes back: let ASan drop its fake stack. */
    __sanitizer_start_switch_fiber(yield_co->is_end ? NULL : &fake_stack, aco_tls.main_stack_bottom,
                                   aco_tls.main_stack_size);
    aco_switch_internal_(yield_co, yield_co->main_co);
    __sanitizer_finish_switch_fiber(fake_stack, &aco_tls.main_stack_bottom,
                                    &aco_tls.main_stack_size);
}

static void aco_asan_entry_(void) {
    __sanitizer_finish_switch_fiber(NULL, &aco_tls.main_stack_bottom, &aco_tls.main_stack_size);
    aco_gtls_co->fp();
    aco_funcp_protector();
}
#endif
