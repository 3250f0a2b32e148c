/* Save stacks: the copy counters, max_cpsz, owner and growth, step by step. */
#include <alloca.h>

#include "aco_test.h"

static aco_share_stack_t* sstk;

/* Yields with about n bytes of live stack. */
__attribute__((noinline)) static void yield_deep(size_t n) {
    volatile unsigned char* buf = alloca(n);
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)i;
    aco_yield();
    for (size_t i = 0; i < n; i++) CHECK(buf[i] == (unsigned char)i);
}

/* Yields deep (about `arg` bytes), then shallow, then exits. */
static void deep_then_shallow(void) {
    yield_deep((size_t)(uintptr_t)aco_get_arg());
    aco_yield();
    aco_exit();
}

static size_t live_bytes(aco_t* co) {
    return (uintptr_t)co->share_stack->align_retptr - (uintptr_t)co->reg[ACO_REG_IDX_SP];
}

static int is_power_of_two_times_64(size_t sz) {
    if (sz < 64 || sz % 64 != 0) return 0;
    sz /= 64;
    return (sz & (sz - 1)) == 0;
}

int main(void) {
    aco_thread_init(NULL);
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    sstk = aco_share_stack_new(0);
    aco_t* a = aco_create(main_co, sstk, 0, deep_then_shallow, (void*)(uintptr_t)1000);
    aco_t* b = aco_create(main_co, sstk, 0, deep_then_shallow, (void*)(uintptr_t)40);
    aco_counters_t c0;
    aco_get_counters(&c0);
    CHECK_EQ(c0.save_stack_bytes, 128);
    CHECK(sstk->owner == NULL);

    /* 1. a runs first: nothing to save, nothing to restore. */
    aco_resume(a);
    CHECK(sstk->owner == a);
    CHECK_EQ(a->save_stack.ct_save, 0);
    CHECK_EQ(a->save_stack.ct_restore, 0);
    size_t a_deep = live_bytes(a);
    CHECK(a_deep >= 1000);
    CHECK(aco_get_stack_hwm(a) == a_deep);

    /* 2. b takes the stack: a's live stack is saved (its save stack grows). */
    aco_resume(b);
    CHECK(sstk->owner == b);
    CHECK_EQ(a->save_stack.ct_save, 1);
    CHECK_EQ(a->save_stack.valid_sz, a_deep);
    CHECK_EQ(a->save_stack.max_cpsz, a_deep);
    CHECK(a->save_stack.sz >= a_deep && is_power_of_two_times_64(a->save_stack.sz));
    CHECK(a->save_stack.sz < 2 * a_deep + 64);
    CHECK_EQ(b->save_stack.ct_restore, 0); /* b had nothing saved */
    size_t b_deep = live_bytes(b);
    aco_counters_t c1;
    aco_get_counters(&c1);
    CHECK_EQ(c1.save_stack_bytes, (int64_t)(a->save_stack.sz + b->save_stack.sz));

    /* 3. a again: b is saved, a is restored. */
    aco_resume(a);
    CHECK(sstk->owner == a);
    CHECK_EQ(b->save_stack.ct_save, 1);
    CHECK_EQ(b->save_stack.valid_sz, b_deep);
    CHECK_EQ(a->save_stack.ct_restore, 1);
    size_t a_shallow = live_bytes(a);
    CHECK(a_shallow < a_deep);

    /* 4. a again while it owns the stack: no copy at all. */
    aco_resume(a);
    CHECK(a->is_end);
    CHECK(sstk->owner == NULL);
    CHECK_EQ(a->save_stack.ct_save, 1);
    CHECK_EQ(a->save_stack.ct_restore, 1);
    CHECK_EQ(a->save_stack.max_cpsz, a_deep);
    CHECK_EQ(aco_get_stack_hwm(a), a_deep); /* the deepest suspension point */

    /* 5. b resumes after a ended: a is not saved again, b is restored. */
    aco_resume(b);
    CHECK(sstk->owner == b);
    CHECK_EQ(a->save_stack.ct_save, 1);
    CHECK_EQ(b->save_stack.ct_restore, 1);
    aco_resume(b);
    CHECK(b->is_end);
    CHECK_EQ(b->save_stack.ct_save, 1);
    CHECK_EQ(b->save_stack.max_cpsz, b_deep);

    /* An initial save stack that is large enough never grows. */
    aco_t* big = aco_create(main_co, sstk, 4096, deep_then_shallow, (void*)(uintptr_t)1000);
    aco_t* other = aco_create(main_co, sstk, 0, deep_then_shallow, (void*)(uintptr_t)8);
    CHECK_EQ(big->save_stack.sz, 4096);
    aco_resume(big);
    aco_resume(other);
    CHECK_EQ(big->save_stack.sz, 4096);
    CHECK_EQ(big->save_stack.ct_save, 1);
    aco_destroy(big);
    aco_destroy(other);

    aco_destroy(a);
    aco_destroy(b);
    aco_share_stack_destroy(sstk);
    aco_destroy(main_co);
    test_check_counters_zero();
    puts("save_stack: ok");
    return 0;
}
