/* aco_layout.c - publishes this build's struct layout (see aco_layout.h). */
#include "aco_layout.h"

#include <stddef.h>

#include "aco_loop.h"

void aco_get_layout(aco_layout_t* out) {
    out->version = ACO_LAYOUT_VERSION;
    out->pointer_size = (uint32_t)sizeof(void*);
    out->reg_count = ACO_REG_COUNT;
    out->reg_idx_sp = ACO_REG_IDX_SP;
    out->reg_idx_bp = ACO_REG_IDX_BP;
    out->reg_idx_retaddr = ACO_REG_IDX_RETADDR;
    out->aco_size = (uint32_t)sizeof(aco_t);
    out->aco_main_co = (uint32_t)offsetof(aco_t, main_co);
    out->aco_is_end = (uint32_t)offsetof(aco_t, is_end);
    out->aco_fp = (uint32_t)offsetof(aco_t, fp);
    out->aco_save_stack = (uint32_t)offsetof(aco_t, save_stack);
    out->aco_share_stack = (uint32_t)offsetof(aco_t, share_stack);
    out->share_stack_size = (uint32_t)sizeof(aco_share_stack_t);
    out->share_stack_owner = (uint32_t)offsetof(aco_share_stack_t, owner);
    out->share_stack_align_retptr = (uint32_t)offsetof(aco_share_stack_t, align_retptr);
    out->task_size = (uint32_t)sizeof(aco_task_t);
    out->task_id = (uint32_t)offsetof(aco_task_t, id);
    out->task_value = (uint32_t)offsetof(aco_task_t, value);
    out->task_in = (uint32_t)offsetof(aco_task_t, in);
    out->task_out = (uint32_t)offsetof(aco_task_t, out);
    out->task_in_len = (uint32_t)offsetof(aco_task_t, in_len);
    out->task_out_len = (uint32_t)offsetof(aco_task_t, out_len);
    out->task_code = (uint32_t)offsetof(aco_task_t, code);
    out->task_born_ms = (uint32_t)offsetof(aco_task_t, born_ms);
    out->task_since_ms = (uint32_t)offsetof(aco_task_t, since_ms);
    out->task_state = (uint32_t)offsetof(aco_task_t, state);
    out->task_op = (uint32_t)offsetof(aco_task_t, op);
    out->task_status = (uint32_t)offsetof(aco_task_t, status);
    out->task_cancel = (uint32_t)offsetof(aco_task_t, cancel);
    out->loop_stats_size = (uint32_t)sizeof(aco_loop_stats_t);
    out->share_stack_min_size = ACO_SHARE_STACK_MIN_SIZE;
    out->share_stack_default_size = ACO_SHARE_STACK_DEFAULT_SIZE;
    out->save_stack_default_size = ACO_SAVE_STACK_DEFAULT_SIZE;
}
