/* A program written in libaco's own style (its header names, its assert
 * override, its struct fields) builds against aco.h and behaves as libaco
 * documents: a generator on a copy stack and a standalone-stack coroutine. */
#include <stdio.h>

#include "aco.h"
#include "aco_assert_override.h"

static void generator(void) {
    int* out = (int*)aco_get_arg();
    for (int ct = 0; ct < 6; ct++) {
        *out = ct;
        aco_yield();
    }
    *out = -1;
    aco_exit();
}

static void standalone(void) {
    int* out = (int*)aco_get_arg();
    aco_t* this_co = aco_get_co();
    assert(!aco_is_main_co(this_co));
    assert(this_co->share_stack->owner == this_co);
    *out = 100;
    aco_yield();
    *out = 200;
    aco_exit();
}

int main(void) {
    aco_runtime_test();
    aco_thread_init(NULL);
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_share_stack_t* sstk = aco_share_stack_new(0);
    aco_share_stack_t* sstk_alone = aco_share_stack_new2(0, 0);

    int a = 0, b = 0, c = 0;
    aco_t* co_a = aco_create(main_co, sstk, 0, generator, &a);
    aco_t* co_b = aco_create(main_co, sstk, 0, generator, &b);
    aco_t* co_c = aco_create(main_co, sstk_alone, 0, standalone, &c);

    for (int ct = 0; ct < 6; ct++) {
        aco_resume(co_a);
        aco_resume(co_b);
        assert(a == ct && b == ct);
        printf("main_co: a=%d b=%d (copies a: %zu saved, %zu restored)\n", a, b,
               co_a->save_stack.ct_save, co_a->save_stack.ct_restore);
    }
    aco_resume(co_a);
    aco_resume(co_b);
    assert(a == -1 && b == -1 && co_a->is_end && co_b->is_end);

    aco_resume(co_c);
    assert(c == 100 && co_c->is_end == 0);
    aco_resume(co_c);
    assert(c == 200 && co_c->is_end);
    assert(co_c->save_stack.ct_save == 0 && co_c->save_stack.max_cpsz == 0);

    aco_destroy(co_a);
    aco_destroy(co_b);
    aco_destroy(co_c);
    aco_share_stack_destroy(sstk);
    aco_share_stack_destroy(sstk_alone);
    aco_destroy(main_co);
    assert(ACO_VERSION_MAJOR == 1 && ACO_VERSION_MINOR == 2 && ACO_VERSION_PATCH == 4);
    puts("libaco_tutorial: ok");
    return 0;
}
