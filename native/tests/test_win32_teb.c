/* Windows: a coroutine runs with its share stack's bounds in the thread's TEB
 * (StackBase, StackLimit, DeallocationStack), and its thread's again after
 * each yield. What relies on them works inside coroutines: longjmp (which
 * unwinds with RtlUnwindEx, checking every frame against the bounds), also
 * across a yield while another coroutine used the same share stack, and a
 * stack walk, which ends at the coroutine's first frame. */
#include <setjmp.h>

#include "aco_test.h"

typedef struct {
    ULONG_PTR base, limit, deallocation;
} teb_bounds;

static teb_bounds current_bounds(void) {
    NT_TIB* tib; /* the TEB's own address */
#ifdef _WIN64
    __asm__("movq %%gs:0x30, %0" : "=r"(tib));
#else
    __asm__("movl %%fs:0x18, %0" : "=r"(tib));
#endif
    teb_bounds b = {(ULONG_PTR)tib->StackBase, (ULONG_PTR)tib->StackLimit, 0};
    ULONG_PTR low, high;
    GetCurrentThreadStackLimits(&low, &high); /* DeallocationStack, StackBase */
    CHECK(high == b.base);
    b.deallocation = low;
    return b;
}

static aco_share_stack_t* stack;

static void check_on_share_stack(void) {
    teb_bounds b = current_bounds();
    CHECK(b.base == (ULONG_PTR)stack->ptr + stack->sz);
    CHECK(b.limit == (ULONG_PTR)stack->ptr);
    CHECK(b.deallocation == (ULONG_PTR)stack->real_ptr);
    volatile char here = 0;
    CHECK((ULONG_PTR)&here > b.limit && (ULONG_PTR)&here < b.base);
}

/* Called through a volatile pointer: a real frame per level for longjmp to unwind. */
static void jump_back(jmp_buf* env, int depth);
static void (*volatile jump_back_ptr)(jmp_buf*, int) = jump_back;

static void jump_back(jmp_buf* env, int depth) {
    volatile char frame[256];
    frame[0] = (char)depth;
    if (depth > 0) jump_back_ptr(env, depth - 1);
    longjmp(*env, 1 + frame[0]);
}

static void entry(void) {
    int* rounds = aco_get_arg();
    for (int i = 0; i < 3; i++) {
        check_on_share_stack();
        jmp_buf env;
        volatile int jumped = 0;
        int v = setjmp(env);
        if (v == 0) {
            aco_yield(); /* the other coroutine of this stack runs meanwhile */
            check_on_share_stack();
            jump_back(&env, 8);
        } else {
            jumped = v;
        }
        CHECK_EQ(jumped, 1);
        void* frames[64];
        USHORT n = CaptureStackBackTrace(0, 64, frames, NULL);
        CHECK(n >= 1 && n < 64); /* the walk stops at the coroutine's first frame */
        ++*rounds;
        aco_yield();
    }
    aco_exit();
}

int main(void) {
    aco_thread_init(NULL);
    teb_bounds main_bounds = current_bounds();
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    stack = aco_share_stack_new(0);
    int rounds[2] = {0, 0};
    aco_t* co[2];
    for (int k = 0; k < 2; k++) co[k] = aco_create(main_co, stack, 0, entry, &rounds[k]);
    while (!co[0]->is_end || !co[1]->is_end) {
        for (int k = 0; k < 2; k++) {
            if (co[k]->is_end) continue;
            aco_resume(co[k]);
            teb_bounds b = current_bounds();
            CHECK(b.base == main_bounds.base && b.limit == main_bounds.limit &&
                  b.deallocation == main_bounds.deallocation);
        }
    }
    CHECK_EQ(rounds[0], 3);
    CHECK_EQ(rounds[1], 3);
    CHECK(co[0]->save_stack.ct_save > 0); /* the two really took turns on one stack */
    for (int k = 0; k < 2; k++) aco_destroy(co[k]);
    aco_share_stack_destroy(stack);
    aco_destroy(main_co);
    test_check_counters_zero();
    puts("win32_teb: ok");
    return 0;
}
