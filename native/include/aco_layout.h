/*
 * aco_layout.h - where the fields of aco_t and aco_share_stack_t lie in this
 * build, for foreign callers (the .NET layer) that read them directly.
 *
 * aco_t starts with its saved-context slots, whose count depends on the ABI
 * (9 on x86-64 System V, 22 on AArch64, 34 on Microsoft x64); every field
 * after them has the same layout everywhere. A caller reads this once and
 * checks it against its own mirror, instead of assuming one ABI.
 */
#ifndef ACO_LAYOUT_H
#define ACO_LAYOUT_H

#include <stdint.h>

#include "aco.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ACO_LAYOUT_VERSION 1

typedef struct {
    uint32_t version;                /* ACO_LAYOUT_VERSION */
    uint32_t pointer_size;           /* sizeof(void*) */
    uint32_t reg_count;              /* ACO_REG_COUNT: saved-context slots at the start of aco_t */
    uint32_t reg_idx_sp;             /* ACO_REG_IDX_SP: the slot holding a suspended coroutine's stack pointer */
    uint32_t aco_size;               /* sizeof(aco_t) */
    uint32_t aco_main_co;            /* offsetof(aco_t, main_co): the first field after the slots */
    uint32_t aco_is_end;             /* offsetof(aco_t, is_end) */
    uint32_t aco_save_stack;         /* offsetof(aco_t, save_stack) */
    uint32_t aco_share_stack;        /* offsetof(aco_t, share_stack) */
    uint32_t share_stack_size;       /* sizeof(aco_share_stack_t) */
    uint32_t share_stack_owner;      /* offsetof(aco_share_stack_t, owner) */
    uint32_t share_stack_align_retptr; /* offsetof(aco_share_stack_t, align_retptr) */
} aco_layout_t;

/* Fills *out with this build's layout. */
ACO_EXPORT void aco_get_layout(aco_layout_t* out);

#ifdef __cplusplus
}
#endif

#endif /* ACO_LAYOUT_H */
