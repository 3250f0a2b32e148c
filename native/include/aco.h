/*
 * aco.h - Aco.NET's native coroutine core.
 *
 * Source compatible with libaco 1.2.4: the same functions, macros, thread-local
 * and struct fields, so a program written for libaco builds against this
 * header and runs unchanged. What we add is marked "Beyond libaco" below.
 *
 * Model (as libaco): asymmetric stackful coroutines. Each thread has one main
 * coroutine (the thread's own stack). Every other coroutine runs on a share
 * stack; many coroutines may share one. When a coroutine is resumed and does
 * not own its share stack, the owner's live stack (from its saved stack
 * pointer to the stack top) is copied out to the owner's private save stack
 * and the arriving coroutine's saved bytes are copied back.
 *
 * Context switch ABI (System V AMD64 ABI, section 3.2.1 "Registers"; Intel386
 * psABI section 2.2.1 on i386; AAPCS64 section 6.1.1 on AArch64): only
 * callee-saved registers, the stack pointer and the return address are
 * switched, plus the FPU control state that the ABI says a callee must
 * preserve (x87 control word and MXCSR control bits on x86-64 and i386, FPCR
 * on AArch64). Status flags (MXCSR exception flags, FPSR) are
 * not context: they are never reloaded just because they differ.
 *
 * Pitfall (documented by libaco too): never let a signal handler run on a
 * share stack that another coroutine may copy over; use sigaltstack.
 *
 * C-level misuse (resuming an ended coroutine, yielding from main, ...)
 * aborts, as in libaco. The .NET layer checks these preconditions first.
 */
#ifndef ACO_H
#define ACO_H

/* Programs written for libaco rely on these coming through aco.h. */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/mman.h>
#endif
#include <time.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACO_VERSION_MAJOR 1
#define ACO_VERSION_MINOR 2
#define ACO_VERSION_PATCH 4

#if !defined(__x86_64__) && !defined(__i386__) && !defined(__aarch64__)
#error "aco: only x86-64, i386 and AArch64 are supported"
#endif

#if defined(_WIN32)
/* Windows (mingw-w64): aco.dll exports what ACO_BUILD_DLL marks; users call
 * through the import library. A DLL's thread-locals cannot be imported: see
 * aco_gtls_co below. */
#ifdef ACO_BUILD_DLL
#define ACO_EXPORT __declspec(dllexport)
#else
#define ACO_EXPORT
#endif
#define ACO_TLS_MODEL
#elif defined(__GNUC__) || defined(__clang__)
#define ACO_EXPORT __attribute__((visibility("default")))
/* The library is loaded by dlopen from .NET; initial-exec keeps each access to
 * the coroutine thread-locals a single %fs-relative load instead of a call to
 * __tls_get_addr (the general-dynamic default for shared objects). */
#define ACO_TLS_MODEL __attribute__((tls_model("initial-exec")))
#else
#define ACO_EXPORT
#define ACO_TLS_MODEL
#endif

/* The symbol of a function the assembly defines: its C name, plus the prefix
 * the platform gives C symbols ("_" on 32-bit Windows, none elsewhere). */
#define ACO_STR2_(x) #x
#define ACO_STR_(x) ACO_STR2_(x)
#define ACO_ASM_NAME(name) __asm__(ACO_STR_(__USER_LABEL_PREFIX__) name)

/* Saved-context slots in aco_t.reg (see the diagram in the ABI's .S file). */
#if defined(__x86_64__)
#define ACO_REG_IDX_RETADDR 4
#define ACO_REG_IDX_SP 5
#define ACO_REG_IDX_BP 7
#define ACO_REG_IDX_FPU 8
#ifdef _WIN32
/* Microsoft x64: also rdi, rsi, the TEB stack bounds and xmm6-xmm15. */
#define ACO_REG_COUNT 34
#else
#define ACO_REG_COUNT 9
#endif
#elif defined(__i386__)
/* libaco's slots: eip (0), esp (1), ebp (2), edi, esi, ebx, x87 control word
 * (6), MXCSR (7). */
#define ACO_REG_IDX_RETADDR 0
#define ACO_REG_IDX_SP 1
#define ACO_REG_IDX_BP 2
#define ACO_REG_IDX_FPU 6
#ifdef _WIN32
/* Windows: also the TEB's exception list and stack bounds. */
#define ACO_REG_COUNT 12
#else
#define ACO_REG_COUNT 8
#endif
#elif defined(__aarch64__)
/* x19-x28 (0-9), fp (10), lr = resume address (11), sp (12), d8-d15 (13-20), fpcr (21). */
#define ACO_REG_IDX_BP 10
#define ACO_REG_IDX_RETADDR 11
#define ACO_REG_IDX_SP 12
#define ACO_REG_IDX_FPU 21
#define ACO_REG_COUNT 22
#endif

/* A coroutine's private copy of its live stack while another coroutine owns
 * the share stack. */
typedef struct {
    void* ptr;
    size_t sz;         /* bytes allocated at ptr; grows (doubling) on demand */
    size_t valid_sz;   /* bytes of live stack currently held */
    size_t max_cpsz;   /* largest copy, in either direction, in bytes */
    size_t ct_save;    /* copies from the share stack into this save stack */
    size_t ct_restore; /* copies from this save stack back to the share stack */
} aco_save_stack_t;

struct aco_s;
typedef struct aco_s aco_t;

typedef struct {
    void* ptr; /* lowest usable byte */
    size_t sz; /* usable bytes (the guard page is not counted) */
    void* align_highptr; /* 16-byte aligned top of the live area */
    void* align_retptr;  /* slot holding the entry functions' return address */
    size_t align_validsz;
    size_t align_limit;
    aco_t* owner; /* coroutine whose live stack is on this stack, or NULL */

    char guard_page_enabled;
    void* real_ptr; /* the whole mapping (guard page included) */
    size_t real_sz;

    /* libaco declares this only under ACO_USE_VALGRIND; we keep it always so
     * the layout does not depend on the option. */
    unsigned long valgrind_stk_id;
} aco_share_stack_t;

typedef void (*aco_cofuncp_t)(void);

struct aco_s {
    void* reg[ACO_REG_COUNT]; /* saved context: ACO_REG_IDX_* */
    aco_t* main_co;           /* NULL for a main coroutine */
    void* arg;
    char is_end;
    /* Beyond libaco, in what would otherwise be padding: */
    /* 1: this coroutine shares the thread's FPU control state instead of
     * keeping its own (set from aco_set_share_fpu_env() at creation; 1 for
     * main coroutines). A switch skips the FPU only when both sides share. */
    char share_fpu_env;
    /* Bytes allocated right before this aco_t for its owner (the run loop keeps
     * a coroutine's control block there); 0 for aco_create(). */
    uint16_t prefix_bytes;
    /* Deepest stack extent, in bytes from the stack top, seen at this
     * coroutine's suspension points. Read it with aco_get_stack_hwm(). */
    uint32_t stack_hwm;

    aco_cofuncp_t fp;

    aco_save_stack_t save_stack;
    aco_share_stack_t* share_stack;
};

#define aco_likely(x) (__builtin_expect(!!(x), 1))
#define aco_unlikely(x) (__builtin_expect(!!(x), 0))
#define aco_assert(EX) ((aco_likely(EX)) ? ((void)0) : (abort()))
#define aco_assertptr(ptr) ((aco_likely((ptr) != NULL)) ? ((void)0) : (abort()))

#define aco_assertalloc_bool(b)                                                \
    do {                                                                       \
        if (aco_unlikely(!(b))) {                                              \
            fprintf(stderr, "Aborting: failed to allocate memory: %s:%d:%s\n", \
                    __FILE__, __LINE__, __func__);                             \
            abort();                                                           \
        }                                                                      \
    } while (0)

#define aco_assertalloc_ptr(ptr) aco_assertalloc_bool((ptr) != NULL)

#if defined(__SANITIZE_ADDRESS__)
#define ACO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ACO_ASAN 1
#endif
#endif

#ifdef ACO_ASAN
#define aco_attr_no_asan __attribute__((__no_sanitize_address__))
#else
#define aco_attr_no_asan
#endif

/* ---- libaco 1.2.4 functions ------------------------------------------- */

/* Checks at run time what the library assumes of the platform; aborts if not. */
ACO_EXPORT extern void aco_runtime_test(void);

/* Once per thread, before any other call on it. Records the thread's FPU
 * control state, which new coroutines start with. last_word_co_fp (may be
 * NULL) runs, on the coroutine, when an entry function returns instead of
 * calling aco_exit(); the default prints the coroutine and entry and aborts.
 * See aco_set_return_means_exit() for the alternative. */
ACO_EXPORT extern void aco_thread_init(aco_cofuncp_t last_word_co_fp);

/* The context switch (assembly). Coroutine code calls it through the macros. */
ACO_EXPORT extern void* acosw(aco_t* from_co, aco_t* to_co) ACO_ASM_NAME("acosw");
ACO_EXPORT extern void aco_save_fpucw_mxcsr(void* p) ACO_ASM_NAME("aco_save_fpucw_mxcsr");
ACO_EXPORT extern void aco_funcp_protector_asm(void) ACO_ASM_NAME("aco_funcp_protector_asm");
ACO_EXPORT extern void aco_funcp_protector(void);

/* Sizes the core applies (beyond libaco, which has the same values inline). */
#define ACO_SHARE_STACK_DEFAULT_SIZE ((size_t)2 * 1024 * 1024) /* a share stack asked for with 0 */
#define ACO_SHARE_STACK_MIN_SIZE ((size_t)4096)                /* a smaller one is made this size */
#define ACO_SAVE_STACK_DEFAULT_SIZE ((size_t)64)               /* an initial save stack asked for with 0 */

/* = aco_share_stack_new2(sz, 1). */
ACO_EXPORT extern aco_share_stack_t* aco_share_stack_new(size_t sz);

/* sz == 0 means 2 MiB; below 4096 it becomes 4096. With a guard page, sz is
 * rounded up to whole pages and one read-only page is mapped below the stack. */
ACO_EXPORT extern aco_share_stack_t* aco_share_stack_new2(size_t sz, char guard_page_enabled);

/* The stack must no longer be used by any coroutine. */
ACO_EXPORT extern void aco_share_stack_destroy(aco_share_stack_t* sstk);

/* main_co == NULL: the thread's main coroutine (share_stack ignored).
 * Otherwise a coroutine on share_stack whose private save stack starts at
 * save_stack_sz bytes (0 means 64) and grows on demand. */
ACO_EXPORT extern aco_t* aco_create(aco_t* main_co, aco_share_stack_t* share_stack,
                                    size_t save_stack_sz, aco_cofuncp_t fp, void* arg);

/* The running coroutine of this thread (its main coroutine when none runs). */
#ifdef _WIN32
/* Windows: the DLL's native thread-local, read and written through its
 * address (aco_gtls_co stays an lvalue, so libaco programs build unchanged). */
ACO_EXPORT extern aco_t** aco_gtls_co_addr(void) ACO_ASM_NAME("aco_gtls_co_addr");
#define aco_gtls_co (*aco_gtls_co_addr())
#else
ACO_EXPORT extern __thread aco_t* aco_gtls_co ACO_TLS_MODEL;
#endif

/* From the main coroutine only; co must not have ended. */
ACO_EXPORT extern aco_attr_no_asan void aco_resume(aco_t* resume_co);

/* Frees co, main or not, also one that is suspended and has not ended (its
 * stack is dropped, nothing on it is unwound). */
ACO_EXPORT extern void aco_destroy(aco_t* co);

/* ---- libaco 1.2.4 macros ----------------------------------------------- */

#ifdef ACO_ASAN
/* AddressSanitizer must be told about each stack switch; see aco.c. */
ACO_EXPORT extern void aco_asan_yield_(aco_t* yield_co);
#define aco_switch_to_main_(co) aco_asan_yield_(co)
#else
#define aco_switch_to_main_(co) acosw((co), (co)->main_co)
#endif

#define aco_yield1(yield_co)                   \
    do {                                       \
        aco_assertptr((yield_co));             \
        aco_assertptr((yield_co)->main_co);    \
        aco_switch_to_main_((yield_co));       \
    } while (0)

#define aco_yield() aco_yield1(aco_gtls_co)

#define aco_get_arg() (aco_gtls_co->arg)
#define aco_get_co() ({ (void)0; aco_gtls_co; })
#define aco_co() ({ (void)0; aco_gtls_co; })
#define aco_is_main_co(co) ({ ((co)->main_co) == NULL; })

#define aco_exit1(co)                                  \
    do {                                               \
        (co)->is_end = 1;                              \
        aco_assert((co)->share_stack->owner == (co));  \
        (co)->share_stack->owner = NULL;               \
        (co)->share_stack->align_validsz = 0;          \
        aco_yield1((co));                              \
        aco_assert(0);                                 \
    } while (0)

#define aco_exit() aco_exit1(aco_gtls_co)

/* ---- Beyond libaco ------------------------------------------------------ */

/* Every macro above as a real function, for foreign callers (FFI) that cannot
 * expand C macros or read thread-locals. Same meaning as the macro of the same
 * name without the "_fn" suffix. */
ACO_EXPORT extern void aco_yield_fn(void);
ACO_EXPORT extern void aco_yield1_fn(aco_t* yield_co);
ACO_EXPORT extern aco_t* aco_get_co_fn(void);
ACO_EXPORT extern aco_t* aco_co_fn(void);
ACO_EXPORT extern void* aco_get_arg_fn(void);
ACO_EXPORT extern void aco_exit_fn(void) __attribute__((noreturn));
ACO_EXPORT extern void aco_exit1_fn(aco_t* co) __attribute__((noreturn));
ACO_EXPORT extern int aco_is_main_co_fn(const aco_t* co);

/* aco_create() for a non-main coroutine, with prefix_bytes (at most 4096, a
 * multiple of the pointer size) of zeroed memory allocated right before the
 * aco_t, in the same allocation: aco_get_prefix() returns it, aco_destroy()
 * frees it. */
ACO_EXPORT extern aco_t* aco_create_with_prefix(aco_t* main_co, aco_share_stack_t* share_stack,
                                                size_t save_stack_sz, aco_cofuncp_t fp, void* arg,
                                                size_t prefix_bytes);
ACO_EXPORT extern void* aco_get_prefix(aco_t* co);

/* ACO_VERSION_MAJOR * 10000 + ACO_VERSION_MINOR * 100 + ACO_VERSION_PATCH. */
ACO_EXPORT extern int aco_version_number(void);

/* 1 if this thread has called aco_thread_init(). */
ACO_EXPORT extern int aco_thread_is_initialized(void);

/* Per thread. When on, an entry function that returns ends its coroutine as
 * if it had called aco_exit(), instead of running the last-word handler.
 * Off by default (libaco's behaviour). */
ACO_EXPORT extern void aco_set_return_means_exit(int on);
ACO_EXPORT extern int aco_get_return_means_exit(void);

/* Per thread: whether coroutines created from now on share the thread's FPU
 * control state (rounding modes, exception masks) instead of keeping their
 * own. Sharing saves the MXCSR read on every switch (about 6 ns per round
 * trip on AMD Zen 5). The default is off (libaco's default), or on
 * when the library was built with ACO_CONFIG_SHARE_FPU_MXCSR_ENV. */
ACO_EXPORT extern void aco_set_share_fpu_env(int on);
ACO_EXPORT extern int aco_get_share_fpu_env(void);

/* 1 if the library was built with ACO_CONFIG_SHARE_FPU_MXCSR_ENV, which makes
 * sharing the default of aco_set_share_fpu_env(). */
ACO_EXPORT extern int aco_build_shares_fpu_env(void);

/* Deepest stack extent of co, in bytes from the stack top, seen at any of its
 * suspension points (each yield and the exit). */
ACO_EXPORT extern size_t aco_get_stack_hwm(const aco_t* co);

/* aco_destroy keeps each destroyed coroutine's memory in a cache of its thread
 * for the next aco_create of the same size (no page faults when coroutines come
 * and go by the million). The cache is freed when the thread exits; this frees
 * the calling thread's cache now. */
ACO_EXPORT extern void aco_thread_release_free_blocks(void);

/* Process-wide totals, for diagnostics and leak checks. */
typedef struct {
    int64_t live_coroutines;   /* created and not yet destroyed, main included */
    int64_t live_share_stacks; /* created and not yet destroyed */
    int64_t save_stack_bytes;  /* bytes allocated for save stacks */
    int64_t copied_bytes;      /* bytes copied between share and save stacks, ever */
} aco_counters_t;

ACO_EXPORT extern void aco_get_counters(aco_counters_t* out);

#ifdef __cplusplus
}
#endif

#endif /* ACO_H */
