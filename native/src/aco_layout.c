/* aco_layout.c - publishes this build's struct layout (see aco_layout.h). */
#include "aco_layout.h"

#include <stddef.h>

void aco_get_layout(aco_layout_t* out) {
    out->version = ACO_LAYOUT_VERSION;
    out->pointer_size = (uint32_t)sizeof(void*);
    out->reg_count = ACO_REG_COUNT;
    out->reg_idx_sp = ACO_REG_IDX_SP;
    out->aco_size = (uint32_t)sizeof(aco_t);
    out->aco_main_co = (uint32_t)offsetof(aco_t, main_co);
    out->aco_is_end = (uint32_t)offsetof(aco_t, is_end);
    out->aco_save_stack = (uint32_t)offsetof(aco_t, save_stack);
    out->aco_share_stack = (uint32_t)offsetof(aco_t, share_stack);
    out->share_stack_size = (uint32_t)sizeof(aco_share_stack_t);
    out->share_stack_owner = (uint32_t)offsetof(aco_share_stack_t, owner);
    out->share_stack_align_retptr = (uint32_t)offsetof(aco_share_stack_t, align_retptr);
}
