/*
 * aco_abi_x86_64_common.h - what both x86-64 ABIs (System V and Microsoft x64)
 * share on the C side: how aco_resume enters the switch, the save stamp kept
 * in the FPU slot, and the stack copy.
 * Included by aco_abi_x86_64.h and aco_abi_x86_64_ms.h, after ACO_REG_IDX_FPU.
 */
#ifndef ACO_ABI_X86_64_COMMON_H
#define ACO_ABI_X86_64_COMMON_H

#include <stdint.h>
#include <string.h>

#include "aco.h"

/* The switch's entries for aco_resume (see the .S): one for a switch whose
 * leaving side's FPU control state is already stored, one for two sides that
 * share the thread's. */
extern void* aco_switch_fpu_saved_(aco_t* from_co, aco_t* to_co) __asm__("aco_switch_fpu_saved_");
extern void* aco_switch_shared_(aco_t* from_co, aco_t* to_co) __asm__("aco_switch_shared_");

/* aco_resume's first step: when the switch keeps FPU control state (not both
 * sides share the thread's), stores main_co's x87 control word and MXCSR in
 * its slot 8 now, before aco_resume's checks, and returns 1. stmxcsr waits for
 * every older instruction to retire, and the switch compares its value at its
 * very end: reading it here lets the checks run in that shadow instead of
 * after it (about 2 of a round trip's 50 cycles on AMD Zen 5). Nothing between
 * here and the switch changes the FPU control state. */
static inline int aco_abi_resume_save_fpu(aco_t* main_co, const aco_t* co) {
    if (aco_unlikely(main_co->share_fpu_env & co->share_fpu_env)) return 0;
    /* Slot 8: the x87 control word at +0, MXCSR at +4 (the .S diagram); "+m":
     * bytes 2-3 hold the save stamp and stay. */
    __asm__ volatile("stmxcsr 4+%0\n\tfnstcw %0" : "+m"(main_co->reg[ACO_REG_IDX_FPU]));
    return 1;
}

/* aco_resume's last step, a tail call: fpu_saved is what
 * aco_abi_resume_save_fpu returned. */
static inline void aco_abi_resume_switch(aco_t* main_co, aco_t* co, int fpu_saved) {
    if (aco_likely(fpu_saved))
        aco_switch_fpu_saved_(main_co, co);
    else
        aco_switch_shared_(main_co, co);
}

/* Where a coroutine's save stack was last written, in the thread's copy
 * clock (bytes copied between share and save stacks, in units of 64 KiB, modulo
 * 2^16): kept in bytes 66-67 of aco_t.reg, between the x87 control word and
 * MXCSR, which the context switch never touches. aco.c reads it to guess
 * whether the saved bytes are still in cache. */
static inline uint16_t aco_abi_get_save_stamp(const aco_t* co) {
    uint16_t v;
    memcpy(&v, (const char*)&co->reg[ACO_REG_IDX_FPU] + 2, sizeof v);
    return v;
}
static inline void aco_abi_set_save_stamp(aco_t* co, uint16_t v) {
    memcpy((char*)&co->reg[ACO_REG_IDX_FPU] + 2, &v, sizeof v);
}

/* Copies a live stack (both sides 8-byte aligned; 16n + 8 bytes on System V,
 * 16n on Microsoft x64). Measured here: an inline loop beats memcpy's call up
 * to 128 bytes, memcpy wins in between, rep movsb wins from 4 KiB.
 * AddressSanitizer must not instrument the copy (a suspended stack holds its
 * frames' poisoned redzones): ASan builds always use rep movsb, which it does
 * not see. */
#define ACO_INLINE_COPY_MAX 128
#define ACO_REP_MOVSB_MIN 4096

aco_attr_no_asan static inline void aco_abi_copy_stack(void* restrict dst, const void* restrict src,
                                                       size_t n) {
#ifndef ACO_ASAN
    if (n <= ACO_INLINE_COPY_MAX) {
        typedef struct { uint64_t lo, hi; } block16; /* 8-byte aligned is enough */
        block16* d = dst;
        const block16* s = src;
        for (size_t i = 0; i < n / 16; i++) d[i] = s[i];
        if (n & 8) ((uint64_t*)dst)[n / 8 - 1] = ((const uint64_t*)src)[n / 8 - 1];
        return;
    }
    if (n < ACO_REP_MOVSB_MIN) {
        memcpy(dst, src, n);
        return;
    }
#endif
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

#endif
