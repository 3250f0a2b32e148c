/* Each coroutine keeps its own FPU control state (rounding mode, exception
 * masks, DAZ and FZ, x87 control word) unless it shares the thread's; sticky
 * exception flags are not context and never cause a reload. One behaviour per
 * test function; each leaves the thread's env as it found it. */
#include <fenv.h>
#include <math.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "aco_test.h"

static volatile double one = 1.0, three = 3.0, zero = 0.0;
static volatile double fp_sink;

static double third(void) { return one / three; }

/* valgrind emulates neither SSE rounding modes nor x87 precision, exception
 * masks, DAZ/FZ or exception flags: checks of those are skipped under it (the
 * rounding-mode state is still checked). */
static int fpu_fully_emulated;

/* third_upward_single: 1/3 in the upward coroutine's env (upward, and x87
 * single precision, which only x87 arithmetic (i386) sees). */
static double third_nearest, third_upward, third_upward_single;

static aco_t* main_co;

#if defined(__x86_64__) || defined(__i386__)
#define TEST_X87 1
static unsigned short x87_cw(void) {
    unsigned short cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return cw;
}
static void set_x87_cw(unsigned short cw) { __asm__ volatile("fldcw %0" : : "m"(cw)); }
#endif

#if defined(__x86_64__)
#define MXCSR_CONTROL 0xffc0u
#define MXCSR_DEFAULT 0x1f80u /* all exceptions masked, round to nearest */
#define MXCSR_DAZ 0x0040u
#define MXCSR_ZM 0x0200u /* divide-by-zero masked */
#define MXCSR_OM 0x0400u /* overflow masked */
#define MXCSR_FZ 0x8000u
#define X87_DEFAULT 0x037fu /* all masked, extended precision, round to nearest */

/* Sets MXCSR's control bits, leaving its flags as they are. */
static void set_mxcsr_control(unsigned ctl) { _mm_setcsr((_mm_getcsr() & ~MXCSR_CONTROL) | ctl); }
static unsigned mxcsr_control(void) { return _mm_getcsr() & MXCSR_CONTROL; }
#endif

/* ---- a coroutine's rounding mode and x87 precision are its own ------------- */

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

static void test_rounding_mode_and_x87_precision_are_the_coroutines_own(void) {
    aco_share_stack_t* s1 = aco_share_stack_new(0);
    aco_share_stack_t* s2 = aco_share_stack_new(0);
    int up_rounds = 0, plain_rounds = 0;
    aco_t* up = aco_create(main_co, s1, 0, upward_entry, &up_rounds);
    aco_t* plain = aco_create(main_co, s2, 0, plain_entry, &plain_rounds);
#ifdef TEST_X87
    unsigned short main_cw = x87_cw();
#endif
    for (int i = 0; i < 1000; i++) {
        aco_resume(up);
        CHECK_EQ(fegetround(), FE_TONEAREST); /* main does not see the coroutine's mode */
        if (fpu_fully_emulated) CHECK(third() == third_nearest);
#ifdef TEST_X87
        CHECK_EQ(x87_cw(), main_cw);
#endif
        feraiseexcept(FE_OVERFLOW); /* flags differ on every switch */
        aco_resume(plain);
    }
    CHECK_EQ(up_rounds, 1000);
    CHECK_EQ(plain_rounds, 1000);
    aco_destroy(up);
    aco_destroy(plain);
    aco_share_stack_destroy(s1);
    aco_share_stack_destroy(s2);
    feclearexcept(FE_ALL_EXCEPT);
}

/* ---- new coroutines start with the env recorded by aco_thread_init --------- */

static void test_new_coroutines_start_with_the_recorded_env(void) {
    aco_share_stack_t* s = aco_share_stack_new(0);
    int rounds = 0;
    fesetround(FE_DOWNWARD); /* whatever the thread's env is when they are created */
    aco_t* late = aco_create(main_co, s, 0, plain_entry, &rounds);
    fesetround(FE_TONEAREST);
    aco_resume(late);
    CHECK_EQ(rounds, 1);
    aco_destroy(late);
    aco_share_stack_destroy(s);
}

/* ---- a sharing coroutine uses and changes the thread's env ----------------- */

static void sharing_entry(void) {
    fesetround(FE_UPWARD);
    aco_yield();
    CHECK_EQ(fegetround(), FE_DOWNWARD);
    aco_exit();
}

static void test_a_sharing_coroutine_uses_and_changes_the_threads_env(void) {
    aco_share_stack_t* s = aco_share_stack_new(0);
    CHECK_EQ(aco_get_share_fpu_env(), aco_build_shares_fpu_env()); /* the default */
    aco_set_share_fpu_env(1);
    CHECK(aco_get_share_fpu_env());
    aco_t* sharing = aco_create(main_co, s, 0, sharing_entry, NULL);
    aco_set_share_fpu_env(0);
    CHECK_EQ(sharing->share_fpu_env, 1);
    aco_resume(sharing);
    CHECK_EQ(fegetround(), FE_UPWARD); /* main sees the shared change */
    fesetround(FE_DOWNWARD);
    aco_resume(sharing); /* checks it sees main's FE_DOWNWARD */
    CHECK(sharing->is_end);
    fesetround(FE_TONEAREST);
    int rounds = 0;
    aco_t* own = aco_create(main_co, s, 0, plain_entry, &rounds);
    CHECK_EQ(own->share_fpu_env, 0);
    aco_destroy(own);
    aco_destroy(sharing);
    aco_share_stack_destroy(s);
}

/* ---- main's own changes between resumes stay main's ------------------------- */

static void keeps_upward_entry(void) {
    fesetround(FE_UPWARD);
    for (;;) {
        CHECK_EQ(fegetround(), FE_UPWARD);
        aco_yield();
    }
}

static void keeps_downward_entry(void) {
    fesetround(FE_DOWNWARD);
    for (;;) {
        CHECK_EQ(fegetround(), FE_DOWNWARD);
        aco_yield();
    }
}

/* Main changes its rounding mode right before each resume; the coroutines
 * share one stack, so every other resume also copies stacks between reading
 * main's env and switching. */
static void test_mains_changes_between_resumes_stay_mains(void) {
    static const int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
    aco_share_stack_t* s = aco_share_stack_new(0);
    aco_t* up = aco_create(main_co, s, 0, keeps_upward_entry, NULL);
    aco_t* down = aco_create(main_co, s, 0, keeps_downward_entry, NULL);
    for (int i = 0; i < 400; i++) {
        int mode = modes[i % 4];
        CHECK_EQ(fesetround(mode), 0);
        aco_resume(i % 3 == 0 ? down : up);
        CHECK_EQ(fegetround(), mode);
    }
    CHECK(up->save_stack.ct_restore > 0 && down->save_stack.ct_restore > 0); /* copies ran */
    fesetround(FE_TONEAREST);
    aco_destroy(up);
    aco_destroy(down);
    aco_share_stack_destroy(s);
}

/* ---- exception masks, DAZ and FZ are per coroutine (x86-64) ----------------- */

#if defined(__x86_64__)
static void unmasks_entry(void) {
    unsigned* expect = aco_get_arg();
    for (;;) {
        if (fpu_fully_emulated) CHECK_EQ(mxcsr_control(), *expect);
        set_mxcsr_control(*expect = (MXCSR_DEFAULT & ~MXCSR_ZM) | MXCSR_FZ | MXCSR_DAZ);
        aco_yield();
    }
}

static void test_exception_masks_daz_and_fz_are_the_coroutines_own(void) {
    aco_share_stack_t* s1 = aco_share_stack_new(0);
    aco_share_stack_t* s2 = aco_share_stack_new(0);
    unsigned expect = mxcsr_control(); /* what it starts with: the recorded env */
    int plain_rounds = 0;
    aco_t* unmasking = aco_create(main_co, s1, 0, unmasks_entry, &expect);
    aco_t* plain = aco_create(main_co, s2, 0, plain_entry, &plain_rounds);
    for (int i = 0; i < 100; i++) {
        /* main unmasks overflow on odd rounds: the coroutine keeps its own masks */
        unsigned main_ctl = i % 2 ? MXCSR_DEFAULT & ~MXCSR_OM : MXCSR_DEFAULT;
        set_mxcsr_control(main_ctl);
        aco_resume(unmasking);
        if (fpu_fully_emulated) CHECK_EQ(mxcsr_control(), main_ctl);
        set_mxcsr_control(MXCSR_DEFAULT);
        aco_resume(plain); /* a third side with the recorded env */
        if (fpu_fully_emulated) CHECK_EQ(mxcsr_control(), MXCSR_DEFAULT);
    }
    CHECK_EQ(plain_rounds, 100);
    aco_destroy(unmasking);
    aco_destroy(plain);
    aco_share_stack_destroy(s1);
    aco_share_stack_destroy(s2);
}
#endif

/* ---- exception flags never cause a reload ------------------------------------ */

/* A switch between two sides whose control state is the same leaves MXCSR as
 * it is: the flags one side raised are still raised on the other side. A
 * reload would bring back the other side's saved flags. */
static void flags_entry(void) {
    for (;;) {
        CHECK(fetestexcept(FE_DIVBYZERO)); /* main's, raised after the last yield */
        feclearexcept(FE_ALL_EXCEPT);
        fp_sink = zero / zero; /* FE_INVALID (masked: only the flag) */
        aco_yield();
    }
}

static void test_exception_flags_never_cause_a_reload(void) {
    if (!fpu_fully_emulated) return;
    aco_share_stack_t* s = aco_share_stack_new(0);
    aco_t* co = aco_create(main_co, s, 0, flags_entry, NULL);
    for (int i = 0; i < 100; i++) {
        feclearexcept(FE_ALL_EXCEPT);
        fp_sink = one / zero; /* FE_DIVBYZERO */
        aco_resume(co);
        CHECK(fetestexcept(FE_INVALID));
        CHECK(!fetestexcept(FE_DIVBYZERO));
    }
    feclearexcept(FE_ALL_EXCEPT);
    aco_destroy(co);
    aco_share_stack_destroy(s);
}

/* ---- random interleavings keep every side's state ----------------------------
 *
 * A model: main and several coroutines (some sharing the thread's env, some on
 * one share stack so that resumes copy) each change their FPU control state at
 * random points, between resumes and before yields, zero, one or two times per
 * turn; every side checks, whenever it runs, that it finds exactly the state it
 * expects: its own last one, or for a sharing coroutine main's. */

typedef struct {
    int round;            /* fegetround() */
#if defined(__x86_64__)
    unsigned mxcsr;       /* MXCSR control bits */
    unsigned short x87;   /* x87 control word */
#endif
} fpu_state;

static fpu_state read_state(void) {
    fpu_state s;
    s.round = fegetround();
#if defined(__x86_64__)
    s.mxcsr = mxcsr_control();
    s.x87 = x87_cw();
#endif
    return s;
}

static void write_state(fpu_state s) {
#if defined(__x86_64__)
    set_mxcsr_control(s.mxcsr); /* also sets the SSE rounding mode */
    set_x87_cw(s.x87);          /* and the x87 one */
#else
    CHECK_EQ(fesetround(s.round), 0);
#endif
}

/* What this machine shows of a state: valgrind keeps only rounding modes. */
static void check_state(fpu_state want) {
    fpu_state got = read_state();
    CHECK_EQ(got.round, want.round);
#if defined(__x86_64__)
    CHECK_EQ(got.mxcsr & 0x6000u, want.mxcsr & 0x6000u);
    CHECK_EQ(got.x87 & 0x0c00u, want.x87 & 0x0c00u);
    if (fpu_fully_emulated) {
        CHECK_EQ(got.mxcsr, want.mxcsr);
        CHECK_EQ(got.x87, want.x87);
    }
#endif
}

static uint64_t model_rng = 0x9e3779b97f4a7c15ULL;

static fpu_state random_state(void) {
    static const int modes[] = {FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO};
    uint64_t r = test_rand(&model_rng);
    fpu_state s;
    unsigned rc = (unsigned)(r & 3); /* MXCSR and x87 encode rounding alike */
    s.round = modes[rc];
#if defined(__x86_64__)
    s.mxcsr = (MXCSR_DEFAULT & ~0x6000u) | rc << 13;
    s.x87 = (unsigned short)((X87_DEFAULT & ~0x0c00u) | rc << 10);
    if (fpu_fully_emulated) { /* the rest only where the CPU runs it */
        if (r >> 8 & 1) s.mxcsr &= ~MXCSR_ZM;
        if (r >> 9 & 1) s.mxcsr &= ~MXCSR_OM;
        if (r >> 10 & 1) s.mxcsr |= MXCSR_FZ;
        if (r >> 11 & 1) s.mxcsr |= MXCSR_DAZ;
        static const unsigned short precision[] = {0x0000, 0x0200, 0x0300, 0x0300};
        s.x87 = (unsigned short)((s.x87 & ~0x0300u) | precision[r >> 12 & 3]);
    }
#endif
    return s;
}

typedef struct {
    fpu_state expect; /* what the coroutine finds when it runs next */
    int turns;
} model_co;

static void model_entry(void) {
    model_co* m = aco_get_arg();
    for (;;) {
        check_state(m->expect);
        int changes = (int)(test_rand(&model_rng) % 3);
        for (int i = 0; i < changes; i++) write_state(m->expect = random_state());
        m->turns++;
        aco_yield();
    }
}

static void test_random_interleavings_keep_every_sides_state(void) {
    enum { OWN_ON_ONE_STACK = 4, OWN_ALONE = 2, SHARING = 2, N = OWN_ON_ONE_STACK + OWN_ALONE + SHARING };
    fpu_state recorded = read_state(); /* the thread's env as aco_thread_init recorded it */
    aco_share_stack_t* common = aco_share_stack_new(0);
    aco_share_stack_t* alone[OWN_ALONE];
    aco_t* co[N];
    model_co m[N];
    for (int i = 0; i < N; i++) {
        int sharing = i >= OWN_ON_ONE_STACK + OWN_ALONE;
        aco_share_stack_t* s = common;
        if (i >= OWN_ON_ONE_STACK && !sharing) s = alone[i - OWN_ON_ONE_STACK] = aco_share_stack_new(0);
        m[i].expect = recorded;
        m[i].turns = 0;
        aco_set_share_fpu_env(sharing);
        co[i] = aco_create(main_co, s, 0, model_entry, &m[i]);
        aco_set_share_fpu_env(0);
    }
    fpu_state main_expect = recorded;
    int steps = 3000 / test_slow_divisor();
    for (int step = 0; step < steps; step++) {
        int changes = (int)(test_rand(&model_rng) % 3);
        for (int i = 0; i < changes; i++) write_state(main_expect = random_state());
        int k = (int)(test_rand(&model_rng) % N);
        int sharing = co[k]->share_fpu_env;
        if (sharing) m[k].expect = main_expect;
        aco_resume(co[k]);
        if (sharing) main_expect = m[k].expect; /* its changes are the thread's */
        check_state(main_expect);
    }
    int total = 0;
    for (int i = 0; i < N; i++) total += m[i].turns;
    CHECK_EQ(total, steps);
    write_state(recorded);
    for (int i = 0; i < N; i++) aco_destroy(co[i]);
    for (int i = 0; i < OWN_ALONE; i++) aco_share_stack_destroy(alone[i]);
    aco_share_stack_destroy(common);
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
    main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    test_rounding_mode_and_x87_precision_are_the_coroutines_own();
    test_new_coroutines_start_with_the_recorded_env();
    test_a_sharing_coroutine_uses_and_changes_the_threads_env();
    test_mains_changes_between_resumes_stay_mains();
#if defined(__x86_64__)
    test_exception_masks_daz_and_fz_are_the_coroutines_own();
#endif
    test_exception_flags_never_cause_a_reload();
    test_random_interleavings_keep_every_sides_state();
    aco_destroy(main_co);
    test_check_counters_zero();
    puts("fpu: ok");
    return 0;
}
