/*
 * aco_abi_x86_64.h - what the C side of the core must know of the System V
 * AMD64 ABI (the context switch itself is acosw_x86_64_sysv_elf_gas.S).
 * Included once, by aco.c.
 */
#ifndef ACO_ABI_X86_64_H
#define ACO_ABI_X86_64_H

#include "aco.h"

/* Where the context switch reads aco_t.share_fpu_env (SHARE_FPU_ENV in the .S). */
#define ACO_OFFSET_SHARE_FPU_ENV 89

/* Stack layout: below a 16-byte aligned top, one slot that holds the return
 * address every entry function sees (aco_funcp_protector_asm). An entry starts
 * with rsp at that slot, exactly as after a call (rsp = 16n + 8). A coroutine's
 * live stack is [saved rsp, slot): 16n + 8 bytes. */
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
 * or a sanitizer trampoline) with rsp at the return-address slot. */
static inline void aco_abi_init_context(aco_t* co, aco_share_stack_t* s, aco_cofuncp_t start) {
    co->reg[ACO_REG_IDX_RETADDR] = (void*)start;
    co->reg[ACO_REG_IDX_SP] = s->align_retptr;
}

#include "aco_abi_x86_64_common.h" /* the save stamp and the stack copy */

#endif
