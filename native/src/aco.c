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

#include "aco_abi.h"
#include "aco_block_cache.h"
#include "aco_counters.h"
#include "aco_os.h"

#ifdef ACO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#ifdef ACO_USE_VALGRIND
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
/* Set when a share stack is created under valgrind; client requests are then
 * issued on the copy path (see aco_take_share_stack) and by the block cache. */
int aco_on_valgrind;
#endif

/* ---- per-thread state ---------------------------------------------------- */

typedef struct {
    uint32_t fpu_env[2]; /* x87 control word, MXCSR: what new coroutines start with */
    aco_cofuncp_t last_word_fp;
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

/* ---- thread init and the last word ---------------------------------------- */

void aco_runtime_test(void) {
    _Static_assert(sizeof(void*) == 8 || sizeof(void*) == 4, "aco needs 32- or 64-bit pointers");
    _Static_assert(sizeof(int) >= 4, "aco needs int of at least 32 bits");
    _Static_assert(sizeof(int) <= sizeof(size_t), "aco needs size_t at least as wide as int");
    _Static_assert(offsetof(aco_t, reg) == 0, "the context switch expects reg first");
    _Static_assert(sizeof(((aco_t*)0)->reg) == ACO_REG_COUNT * sizeof(void*), "reg size");
    _Static_assert(offsetof(aco_t, share_fpu_env) == ACO_OFFSET_SHARE_FPU_ENV,
                   "the context switch reads share_fpu_env at this offset");
    size_t pgsz = aco_os_page_size();
    aco_assert(pgsz > 0 && (pgsz & (pgsz - 1)) == 0);
#ifdef __i386__
    aco_assert(__builtin_cpu_supports("sse")); /* the switch saves MXCSR */
#endif
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
    if (sz == 0) sz = ACO_SHARE_STACK_DEFAULT_SIZE;
    if (sz < ACO_SHARE_STACK_MIN_SIZE) sz = ACO_SHARE_STACK_MIN_SIZE;

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
    aco_assert(prefix_bytes <= 4096 && prefix_bytes % sizeof(void*) == 0);
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
    if (save_stack_sz == 0) save_stack_sz = ACO_SAVE_STACK_DEFAULT_SIZE;
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
    return (uint16_t)(aco_counter_get(aco_counters_mine(), ACO_CT_COPIED_BYTES) >> ACO_COPY_CLOCK_SHIFT);
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

#ifndef ACO_ASAN
/* aco_resume when resume_co must first take its share stack (copies): kept
 * out of line, so that the common path needs no stack frame. */
__attribute__((noinline)) static void aco_resume_taking_stack(aco_t* resume_co, int fpu_saved) {
    aco_take_share_stack(resume_co);
    aco_fold_stack_hwm(resume_co);
    aco_abi_resume_switch(resume_co->main_co, resume_co, fpu_saved);
}
#endif

void aco_resume(aco_t* resume_co) {
    aco_assert(resume_co != NULL && resume_co->main_co != NULL && resume_co->is_end == 0);
#ifdef ACO_ASAN
    /* Only a main coroutine resumes: never from inside another coroutine. */
    aco_assert(aco_gtls_co == NULL || aco_gtls_co->main_co == NULL);
    aco_share_stack_t* sstk = resume_co->share_stack;
    if (aco_unlikely(sstk->owner != resume_co)) aco_take_share_stack(resume_co);
    aco_fold_stack_hwm(resume_co);
    void* main_fake_stack = NULL;
    __sanitizer_start_switch_fiber(&main_fake_stack, sstk->ptr, sstk->sz);
    aco_switch_internal_(resume_co->main_co, resume_co);
    __sanitizer_finish_switch_fiber(main_fake_stack, NULL, NULL);
#else
    /* First, before the checks: see aco_abi_resume_save_fpu. */
    int fpu_saved = aco_abi_resume_save_fpu(resume_co->main_co, resume_co);
    aco_assert(aco_gtls_co == NULL || aco_gtls_co->main_co == NULL); /* resumed from a main coroutine */
    /* Each path ends in a tail call (nothing may follow it): when resume_co
     * yields, the switch continues directly in our caller. The switch sets
     * aco_gtls_co both ways. */
    if (aco_unlikely(resume_co->share_stack->owner != resume_co)) {
        aco_resume_taking_stack(resume_co, fpu_saved);
        return;
    }
    aco_fold_stack_hwm(resume_co);
    aco_abi_resume_switch(resume_co->main_co, resume_co, fpu_saved);
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
