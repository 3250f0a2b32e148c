/*
 * aco_abi_i386.h - what the C side of the core must know of the System V i386
 * ABI (the context switch itself is acosw_i386_sysv_elf_gas.S).
 * Included once, by aco.c.
 */
#ifndef ACO_ABI_I386_H
#define ACO_ABI_I386_H

#include <stdint.h>
#include <string.h>

#include "aco.h"

/* Where the context switch reads aco_t.share_fpu_env (SHARE_FPU_ENV in the .S). */
#define ACO_OFFSET_SHARE_FPU_ENV 41

/* Stack layout, as on x86-64 with 4-byte slots: below a 16-byte aligned top,
 * one slot that holds the return address every entry function sees
 * (aco_funcp_protector_asm). An entry starts with esp at that slot, exactly as
 * after a call (esp = 16n + 12, so that esp + 4 is aligned). A coroutine's live
 * stack is [saved esp, slot): 16n + 12 bytes when suspended in acosw. */
static inline void aco_abi_layout_stack(aco_share_stack_t* p) {
    uintptr_t high = ((uintptr_t)p->ptr + p->sz - 2 * sizeof(void*)) & ~(uintptr_t)15;
    p->align_highptr = (void*)high;
    p->align_retptr = (void*)(high - sizeof(void*));
    *(void**)p->align_retptr = (void*)aco_funcp_protector_asm;
    p->align_limit = p->sz - 16 - 2 * sizeof(void*);
}

/* The slot's value is the same for every coroutine of the stack; storing it
 * again costs nothing and repairs a slot a stray write hit. */
static inline void aco_abi_refresh_stack_top(aco_share_stack_t* p) {
    *(void**)p->align_retptr = (void*)aco_funcp_protector_asm;
}

/* The first switch to a new coroutine "returns" into start (its entry function,
 * or a sanitizer trampoline) with esp at the return-address slot. */
static inline void aco_abi_init_context(aco_t* co, aco_share_stack_t* s, aco_cofuncp_t start) {
    co->reg[ACO_REG_IDX_RETADDR] = (void*)start;
    co->reg[ACO_REG_IDX_SP] = s->align_retptr;
}

/* Where a coroutine's save stack was last written, in the thread's copy clock
 * (see aco.c): kept in bytes 26-27 of aco_t.reg, the upper half of the slot
 * whose lower half is the x87 control word, which the switch never touches. */
static inline uint16_t aco_abi_get_save_stamp(const aco_t* co) {
    uint16_t v;
    memcpy(&v, (const char*)&co->reg[ACO_REG_IDX_FPU] + 2, sizeof v);
    return v;
}
static inline void aco_abi_set_save_stamp(aco_t* co, uint16_t v) {
    memcpy((char*)&co->reg[ACO_REG_IDX_FPU] + 2, &v, sizeof v);
}

/* Copies a live stack (both sides 4-byte aligned, 4n bytes): a loop of words
 * for small stacks (no call), memcpy in between, rep movsb for large ones.
 * AddressSanitizer must not instrument the copy (a suspended stack holds its
 * frames' poisoned redzones): ASan builds always use rep movsb, which it does
 * not see. */
#define ACO_INLINE_COPY_MAX 128
#define ACO_REP_MOVSB_MIN 4096

aco_attr_no_asan static inline void aco_abi_copy_stack(void* restrict dst, const void* restrict src,
                                                       size_t n) {
#ifndef ACO_ASAN
    if (n <= ACO_INLINE_COPY_MAX) {
        uint32_t* d = dst;
        const uint32_t* s = src;
        for (size_t i = 0; i < n / 4; i++) d[i] = s[i];
        return;
    }
    if (n < ACO_REP_MOVSB_MIN) {
        memcpy(dst, src, n);
        return;
    }
#endif
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

/* aco_resume enters the switch as acosw does: the x87 control word and MXCSR
 * are read inside it. */
static inline int aco_abi_resume_save_fpu(aco_t* main_co, const aco_t* co) {
    (void)main_co;
    (void)co;
    return 0;
}
static inline void aco_abi_resume_switch(aco_t* main_co, aco_t* co, int fpu_saved) {
    (void)fpu_saved;
    aco_switch_internal_(main_co, co);
}

#endif
