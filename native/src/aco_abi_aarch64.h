/*
 * aco_abi_aarch64.h - what the C side of the core must know of AAPCS64 (the
 * context switch itself is acosw_aarch64_aapcs_elf_gas.S). Included once, by aco.c.
 */
#ifndef ACO_ABI_AARCH64_H
#define ACO_ABI_AARCH64_H

#include "aco.h"

/* Where the context switch reads aco_t.share_fpu_env (SHARE_FPU_ENV in the .S). */
#define ACO_OFFSET_SHARE_FPU_ENV 193

/* The new-coroutine trampoline of the .S: calls the entry function kept in
 * the x19 slot with lr = aco_funcp_protector_asm. */
extern void aco_entry_aarch64(void) __asm__("aco_entry_aarch64");

/* Stack layout: sp must always be 16-byte aligned and return addresses live in
 * lr, not on the stack. An entry starts with sp at the aligned top
 * (align_retptr == align_highptr); a live stack is [saved sp, top): 16n bytes. */
static inline void aco_abi_layout_stack(aco_share_stack_t* p) {
    uintptr_t high = ((uintptr_t)p->ptr + p->sz - 2 * sizeof(void*)) & ~(uintptr_t)15;
    p->align_highptr = (void*)high;
    p->align_retptr = (void*)high;
    p->align_limit = p->sz - 16 - 2 * sizeof(void*);
}

static inline void aco_abi_refresh_stack_top(aco_share_stack_t* p) { (void)p; }

static inline void aco_abi_init_context(aco_t* co, aco_share_stack_t* s, aco_cofuncp_t start) {
    co->reg[0] = (void*)start; /* x19: the trampoline branches to it */
    co->reg[ACO_REG_IDX_RETADDR] = (void*)aco_entry_aarch64;
    co->reg[ACO_REG_IDX_SP] = s->align_retptr;
}

/* aco_resume enters the switch as acosw does: FPCR is read inside it. */
static inline int aco_abi_resume_save_fpu(aco_t* main_co, const aco_t* co) {
    (void)main_co;
    (void)co;
    return 0;
}
static inline void aco_abi_resume_switch(aco_t* main_co, aco_t* co, int fpu_saved) {
    (void)fpu_saved;
    aco_switch_internal_(main_co, co);
}

/* No spare bits in the saved context here (FPCR is saved as 64 bits): every
 * save stack counts as cold (aco.c then prefetches all of it). */
static inline uint16_t aco_abi_get_save_stamp(const aco_t* co) {
    (void)co;
    return 0x8000;
}
static inline void aco_abi_set_save_stamp(aco_t* co, uint16_t v) {
    (void)co;
    (void)v;
}

aco_attr_no_asan static inline void aco_abi_copy_stack(void* restrict dst, const void* restrict src,
                                                       size_t n) {
#ifndef ACO_ASAN
    memcpy(dst, src, n);
#else
    volatile uint64_t* d = dst; /* a loop ASan does not see through memcpy */
    const uint64_t* s = src;
    for (size_t i = 0; i < n / 8; i++) d[i] = s[i];
#endif
}

#endif
