/*
 * aco_abi_x86_64_ms.h - what the C side of the core must know of the
 * Microsoft x64 calling convention on Windows (the context switch itself is
 * acosw_x86_64_ms_pe_gas.S). Included once, by aco.c.
 */
#ifndef ACO_ABI_X86_64_MS_H
#define ACO_ABI_X86_64_MS_H

#include "aco.h"

/* Where the context switch reads aco_t.share_fpu_env (SHARE_FPU_ENV in the .S). */
#define ACO_OFFSET_SHARE_FPU_ENV 289

/* Slots of aco_t.reg beyond the System V ones (see the diagram in the .S). */
#define ACO_REG_IDX_R12 0
#define ACO_REG_IDX_TEB_STACK_BASE 11
#define ACO_REG_IDX_TEB_STACK_LIMIT 12
#define ACO_REG_IDX_TEB_DEALLOCATION_STACK 13

/* The new-coroutine trampoline of the .S: calls the entry function kept in
 * the r12 slot, with a home area, returning to aco_funcp_protector_asm. */
extern void aco_entry_ms64(void) __asm__("aco_entry_ms64");

/* Stack layout: an entry starts in aco_entry_ms64 with rsp at the 16-byte
 * aligned align_retptr (== align_highptr); the entry's return address and
 * home area lie below it, in the live stack [saved rsp, align_retptr), which
 * is 16n bytes. The slot at align_retptr holds 0: the return address a stack
 * walk finds above the trampoline, where it stops. */
static inline void aco_abi_layout_stack(aco_share_stack_t* p) {
    uintptr_t high = ((uintptr_t)p->ptr + p->sz - 2 * sizeof(void*)) & ~(uintptr_t)15;
    p->align_highptr = (void*)high;
    p->align_retptr = (void*)high;
    *(void**)p->align_retptr = NULL;
    p->align_limit = p->sz - 16 - 2 * sizeof(void*);
}

/* Storing the 0 again costs nothing and repairs a slot a stray write hit. */
static inline void aco_abi_refresh_stack_top(aco_share_stack_t* p) {
    *(void**)p->align_retptr = NULL;
}

/* A coroutine's TEB stack bounds are its share stack's: the usable bytes
 * [ptr, ptr + sz), and the whole allocation (guard page included) from
 * real_ptr, as Windows records a thread stack's reservation. */
static inline void aco_abi_init_context(aco_t* co, aco_share_stack_t* s, aco_cofuncp_t start) {
    co->reg[ACO_REG_IDX_R12] = (void*)start;
    co->reg[ACO_REG_IDX_RETADDR] = (void*)aco_entry_ms64;
    co->reg[ACO_REG_IDX_SP] = s->align_retptr;
    co->reg[ACO_REG_IDX_TEB_STACK_BASE] = (char*)s->ptr + s->sz;
    co->reg[ACO_REG_IDX_TEB_STACK_LIMIT] = s->ptr;
    co->reg[ACO_REG_IDX_TEB_DEALLOCATION_STACK] = s->real_ptr;
}

#include "aco_abi_x86_64_common.h" /* the save stamp and the stack copy, as on System V */

#endif
