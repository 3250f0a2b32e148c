/*
 * aco_layout.h - the layout of the structures a foreign caller (the .NET
 * layer) reads and writes directly, as this build lays them out.
 *
 * aco_t starts with its saved-context slots, whose count depends on the ABI
 * (9 on x86-64 System V, 22 on AArch64, 34 on Microsoft x64); every field
 * after them has the same layout everywhere. The run loop's task control
 * block (aco_task_t) and its counts (aco_loop_stats_t) are read and written
 * by the .NET scheduler. A caller reads this once and checks it against its
 * own mirrors, instead of assuming one ABI or one version of the structures.
 */
#ifndef ACO_LAYOUT_H
#define ACO_LAYOUT_H

#include <stdint.h>

#include "aco.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ACO_LAYOUT_VERSION 2

typedef struct {
    uint32_t version;                /* ACO_LAYOUT_VERSION */
    uint32_t pointer_size;           /* sizeof(void*) */
    /* aco_t and aco_share_stack_t */
    uint32_t reg_count;              /* ACO_REG_COUNT: saved-context slots at the start of aco_t */
    uint32_t reg_idx_sp;             /* ACO_REG_IDX_SP: the slot holding a suspended coroutine's stack pointer */
    uint32_t reg_idx_bp;             /* ACO_REG_IDX_BP: its frame pointer */
    uint32_t reg_idx_retaddr;        /* ACO_REG_IDX_RETADDR: where it resumes */
    uint32_t aco_size;               /* sizeof(aco_t) */
    uint32_t aco_main_co;            /* offsetof(aco_t, main_co): the first field after the slots */
    uint32_t aco_is_end;             /* offsetof(aco_t, is_end) */
    uint32_t aco_fp;                 /* offsetof(aco_t, fp) */
    uint32_t aco_save_stack;         /* offsetof(aco_t, save_stack) */
    uint32_t aco_share_stack;        /* offsetof(aco_t, share_stack) */
    uint32_t share_stack_size;       /* sizeof(aco_share_stack_t) */
    uint32_t share_stack_owner;      /* offsetof(aco_share_stack_t, owner) */
    uint32_t share_stack_align_retptr; /* offsetof(aco_share_stack_t, align_retptr) */
    /* aco_task_t (aco_loop.h) */
    uint32_t task_size;              /* sizeof(aco_task_t): also the distance from a task to its aco_t */
    uint32_t task_id;                /* offsetof(aco_task_t, id) */
    uint32_t task_value;
    uint32_t task_in;
    uint32_t task_out;
    uint32_t task_in_len;
    uint32_t task_out_len;           /* shared with timer_slot */
    uint32_t task_code;
    uint32_t task_born_ms;
    uint32_t task_since_ms;
    uint32_t task_state;
    uint32_t task_op;
    uint32_t task_status;
    uint32_t task_cancel;
    /* aco_loop_stats_t */
    uint32_t loop_stats_size;        /* sizeof(aco_loop_stats_t): int64_t counts, in the order of aco_loop.h */
    /* limits the core applies */
    uint32_t share_stack_min_size;     /* a smaller share stack is made this size */
    uint32_t share_stack_default_size; /* the size of a share stack asked for with 0 */
    uint32_t save_stack_default_size;  /* the initial save stack asked for with 0 */
} aco_layout_t;

/* Fills *out with this build's layout. */
ACO_EXPORT void aco_get_layout(aco_layout_t* out);

#ifdef __cplusplus
}
#endif

#endif /* ACO_LAYOUT_H */
