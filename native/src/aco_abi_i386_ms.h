/*
 * aco_abi_i386_ms.h - what the C side of the core must know of 32-bit x86
 * Windows (the context switch itself is acosw_i386_ms_pe_gas.S). Included
 * once, by aco.c.
 */
#ifndef ACO_ABI_I386_MS_H
#define ACO_ABI_I386_MS_H

#include "aco.h"

/* Slots of aco_t.reg beyond the System V i386 ones (see the diagram in the .S). */
#define ACO_REG_IDX_TEB_EXCEPTION_LIST 8
#define ACO_REG_IDX_TEB_STACK_BASE 9
#define ACO_REG_IDX_TEB_STACK_LIMIT 10
#define ACO_REG_IDX_TEB_DEALLOCATION_STACK 11

/* The System V i386 layout, stamp and copy hold here too: a 16-byte aligned
 * top, the return-address slot below it, entries started as after a call.
 * What Windows adds is the TEB's view of the coroutine's stack. */
#define aco_abi_init_context aco_abi_init_context_sysv_
#include "aco_abi_i386.h"
#undef aco_abi_init_context

/* Where the context switch reads aco_t.share_fpu_env (SHARE_FPU_ENV in the .S):
 * after 12 slots instead of 8. */
#undef ACO_OFFSET_SHARE_FPU_ENV
#define ACO_OFFSET_SHARE_FPU_ENV 57

/* A coroutine's TEB stack bounds are its share stack's: the usable bytes
 * [ptr, ptr + sz), and the whole allocation (guard page included) from
 * real_ptr, as Windows records a thread stack's reservation. Its SEH chain
 * starts empty (the end-of-chain marker). */
static inline void aco_abi_init_context(aco_t* co, aco_share_stack_t* s, aco_cofuncp_t start) {
    aco_abi_init_context_sysv_(co, s, start);
    co->reg[ACO_REG_IDX_TEB_EXCEPTION_LIST] = (void*)(uintptr_t)0xffffffff;
    co->reg[ACO_REG_IDX_TEB_STACK_BASE] = (char*)s->ptr + s->sz;
    co->reg[ACO_REG_IDX_TEB_STACK_LIMIT] = s->ptr;
    co->reg[ACO_REG_IDX_TEB_DEALLOCATION_STACK] = s->real_ptr;
}


#endif
