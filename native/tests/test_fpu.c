/* Each coroutine keeps its own FPU control state (rounding mode, exception
 * masks, x87 control word); sticky exception flags are not context and never
 * disturb another coroutine. */
#include <fenv.h>
#include <math.h>

#include "aco_test.h"

static volatile double one = 1.0, three = 3.0;

static double third(void) { return one / three; }

/* valgrind emulates neither SSE rounding modes nor x87 precision: those
 * checks are skipped under it (the rounding-mode state is still checked). */
static int fpu_fully_emulated;

#if defined(__x86_64__) || defined(__i386__)
#define TEST_X87 1
static unsigned short x87_cw(void) {
    unsigned short cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return cw;
}
static void set_x87_cw(unsigned short cw) { __asm__ volatile("fldcw %0" : : "m"(cw)); }
#endif

/* third_upward_single: 1/3 in the upward coroutine's env (upward, and x87
 * single precision, which only x87 arithmetic (i386) sees). */
static double third_nearest, third_upward, third_upward_single;

static void upward_entry(void) {
    int* rounds = aco_get_arg();
    CHECK_EQ(fegetround(), FE_TONEAREST); /* starts with the thread's recorded env */
    CHECK_EQ(fesetround(FE_UPWARD), 0);
#ifdef TEST_X87
    set_x87_cw((unsigned short)((x87_cw() & ~0x0300) | 0x0000)); /* single precision */
#endif
    for (;;) {
        CHECK_EQ(fegetround(), FE_UPWARD);
        if (fpu_fully_emulated) CHECK(third() == third_upward_single);
#ifdef TEST_X87
        if (fpu_fully_emulated) CHECK_EQ(x87_cw() & 0x0300, 0x0000);
#endif
        feraiseexcept(FE_INEXACT | FE_DIVBYZERO); /* masked: only sets flags */
        *rounds += 1;
        aco_yield();
    }
}

static void plain_entry(void) {
    int* rounds = aco_get_arg();
    for (;;) {
        CHECK_EQ(fegetround(), FE_TONEAREST);
        if (fpu_fully_emulated) CHECK(third() == third_nearest);
        feclearexcept(FE_ALL_EXCEPT);
        *rounds += 1;
        aco_yield();
    }
}

static void sharing_entry(void) {
    fesetround(FE_UPWARD);
    aco_yield();
    CHECK_EQ(fegetround(), FE_DOWNWARD);
    aco_exit();
}

int main(void) {
    third_nearest = third();
    fesetround(FE_UPWARD);
    third_upward = third();
#ifdef TEST_X87
    unsigned short cw = x87_cw();
    set_x87_cw((unsigned short)((cw & ~0x0300) | 0x0000));
    third_upward_single = third();
    set_x87_cw(cw);
#else
    third_upward_single = third_upward;
#endif
    fesetround(FE_TONEAREST);
    fpu_fully_emulated = third_upward > third_nearest;
    const char* vg = getenv("ACO_TEST_VALGRIND");
    CHECK(fpu_fully_emulated || (vg != NULL && vg[0] == '1'));

    aco_thread_init(NULL);
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_share_stack_t* s1 = aco_share_stack_new(0);
    aco_share_stack_t* s2 = aco_share_stack_new(0);
    int up_rounds = 0, plain_rounds = 0;
    aco_t* up = aco_create(main_co, s1, 0, upward_entry, &up_rounds);
    aco_t* plain = aco_create(main_co, s2, 0, plain_entry, &plain_rounds);
#ifdef TEST_X87
    unsigned short main_cw = x87_cw();
#endif
    int shared_env = aco_get_share_fpu_env();
    CHECK_EQ(shared_env, aco_build_shares_fpu_env()); /* the default */
    for (int i = 0; i < 1000; i++) {
        aco_resume(up);
        if (!shared_env) {
            CHECK_EQ(fegetround(), FE_TONEAREST); /* main does not see the coroutine's mode */
            if (fpu_fully_emulated) CHECK(third() == third_nearest);
#ifdef TEST_X87
            CHECK_EQ(x87_cw(), main_cw);
#endif
        }
        feraiseexcept(FE_OVERFLOW); /* flags differ on every switch */
        aco_resume(plain);
    }
    CHECK_EQ(up_rounds, 1000);
    CHECK_EQ(plain_rounds, 1000);

    /* New coroutines start with the env recorded by aco_thread_init, whatever
     * the thread's env is when they are created. */
    fesetround(FE_DOWNWARD);
    aco_t* late = aco_create(main_co, s2, 0, plain_entry, &plain_rounds);
    fesetround(FE_TONEAREST);
    aco_resume(late);
    CHECK_EQ(plain_rounds, 1001);

    /* Sharing, per thread: a coroutine created while it is on uses (and
     * changes) the thread's FPU control state. */
    aco_set_share_fpu_env(1);
    CHECK(aco_get_share_fpu_env());
    aco_t* sharing = aco_create(main_co, s2, 0, sharing_entry, NULL);
    aco_set_share_fpu_env(0);
    CHECK_EQ(sharing->share_fpu_env, 1);
    aco_resume(sharing);
    CHECK_EQ(fegetround(), FE_UPWARD); /* main sees the shared change */
    fesetround(FE_DOWNWARD);
    aco_resume(sharing); /* checks it sees main's FE_DOWNWARD */
    CHECK(sharing->is_end);
    fesetround(FE_TONEAREST);
    aco_t* own = aco_create(main_co, s2, 0, plain_entry, &plain_rounds);
    CHECK_EQ(own->share_fpu_env, 0);

    aco_destroy(own);
    aco_destroy(sharing);
    aco_destroy(up);
    aco_destroy(plain);
    aco_destroy(late);
    aco_share_stack_destroy(s1);
    aco_share_stack_destroy(s2);
    aco_destroy(main_co);
    test_check_counters_zero();
    puts("fpu: ok");
    return 0;
}
