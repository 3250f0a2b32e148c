/* aco_get_layout publishes this build's layout: what a foreign caller (the .NET
 * layer) reads instead of assuming one ABI. Checked here against the compiler's
 * own offsets, and the stack-pointer slot against a suspended coroutine. */
#include <stddef.h>

#include "aco_layout.h"
#include "aco_test.h"

static void *volatile seen_sp;

static void entry(void) {
    volatile char here = 0;
    seen_sp = (void*)&here;
    aco_yield();
    aco_exit();
}

int main(void) {
    aco_layout_t l;
    aco_get_layout(&l);
    CHECK_EQ(l.version, ACO_LAYOUT_VERSION);
    CHECK_EQ(l.pointer_size, sizeof(void*));
    CHECK_EQ(l.reg_count, ACO_REG_COUNT);
    CHECK(l.reg_idx_sp < l.reg_count);
    /* The saved-context slots come first; every later field has one layout on every ABI. */
    CHECK_EQ(l.aco_main_co, l.reg_count * sizeof(void*));
    CHECK_EQ(l.aco_main_co, offsetof(aco_t, main_co));
    CHECK_EQ(l.aco_is_end, offsetof(aco_t, is_end));
    CHECK_EQ(l.aco_save_stack, offsetof(aco_t, save_stack));
    CHECK_EQ(l.aco_share_stack, offsetof(aco_t, share_stack));
    CHECK_EQ(l.aco_size, sizeof(aco_t));
    CHECK_EQ(l.share_stack_size, sizeof(aco_share_stack_t));
    CHECK_EQ(l.share_stack_owner, offsetof(aco_share_stack_t, owner));
    CHECK_EQ(l.share_stack_align_retptr, offsetof(aco_share_stack_t, align_retptr));

    /* The published stack-pointer slot of a suspended coroutine lies in its live stack. */
    aco_thread_init(NULL);
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_share_stack_t* s = aco_share_stack_new(0);
    aco_t* co = aco_create(main_co, s, 0, entry, NULL);
    aco_resume(co);
    char* sp = (char*)co->reg[l.reg_idx_sp];
    CHECK(sp > (char*)s->ptr && sp <= (char*)s->align_retptr);
    CHECK(sp <= (char*)seen_sp && (char*)seen_sp < (char*)s->align_retptr);
    aco_resume(co);
    CHECK(co->is_end);
    aco_destroy(co);
    aco_share_stack_destroy(s);
    aco_destroy(main_co);
    test_check_counters_zero();
    return 0;
}
