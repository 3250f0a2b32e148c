/* Share stack sizes and guard pages; overflowing a guarded stack faults
 * (SIGSEGV) instead of silently corrupting memory. */
#include "aco_test.h"

static size_t page;

static void check_sizes(void) {
    aco_share_stack_t* s = aco_share_stack_new(0);
    CHECK_EQ(s->sz, 2 * 1024 * 1024);
    CHECK_EQ(s->guard_page_enabled, 1);
    CHECK((uintptr_t)s->ptr % page == 0);
    CHECK((char*)s->ptr == (char*)s->real_ptr + page);
    CHECK_EQ(s->real_sz, s->sz + page);
    aco_share_stack_destroy(s);

    s = aco_share_stack_new2(page + 1, 1); /* rounded up to whole pages */
    CHECK_EQ(s->sz, 2 * page);
    aco_share_stack_destroy(s);

    s = aco_share_stack_new2(100, 1); /* below 4096 becomes 4096 */
    CHECK_EQ(s->sz, page > 4096 ? page : 4096);
    aco_share_stack_destroy(s);

    s = aco_share_stack_new2(100, 0);
    CHECK_EQ(s->sz, 4096);
    CHECK_EQ(s->guard_page_enabled, 0);
    aco_share_stack_destroy(s);

    s = aco_share_stack_new2(10000, 0); /* no guard: no rounding */
    CHECK_EQ(s->sz, 10000);
    CHECK((uintptr_t)s->align_highptr % 16 == 0);
#if (defined(__x86_64__) && !defined(_WIN32)) || defined(__i386__)
    CHECK((uintptr_t)s->align_retptr == (uintptr_t)s->align_highptr - sizeof(void*)); /* the return-address slot */
#elif defined(_WIN32)
    CHECK(s->align_retptr == s->align_highptr); /* entries start in a trampoline there */
    CHECK(*(void**)s->align_retptr == NULL);   /* where a stack walk stops */
#else
    CHECK(s->align_retptr == s->align_highptr); /* AArch64: return addresses live in lr */
#endif
    CHECK((char*)s->align_highptr <= (char*)s->ptr + s->sz);
    aco_share_stack_destroy(s);
}

static volatile int keep_going = 1;

static int touch(volatile char* prev, int n) {
    volatile char frame[512];
    frame[0] = (char)n;
    frame[511] = prev != NULL ? prev[0] : 0;
    if (!keep_going) return frame[0];
    return touch(frame, n + 1) + frame[511]; /* not a tail call */
}

static void overflow_entry(void) {
    touch(NULL, 0);
    aco_exit();
}

static void overflow_in_child(void) {
    aco_thread_init(NULL);
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_share_stack_t* s = aco_share_stack_new(64 * 1024);
    aco_t* co = aco_create(main_co, s, 0, overflow_entry, NULL);
    aco_resume(co);
    _exit(0); /* not reached: the overflow must fault */
}

int main(void) {
    page = (size_t)sysconf(_SC_PAGESIZE);
    check_sizes();
    test_check_counters_zero();

    char err[4096];
    int status = test_run_child(overflow_in_child, err, sizeof err);
    int faulted = WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
#ifdef ACO_ASAN
    /* AddressSanitizer catches the fault itself, reports it and exits. */
    faulted = faulted || (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
                          strstr(err, "AddressSanitizer: stack-overflow") != NULL);
#endif
    if (!faulted) {
        fprintf(stderr, "child status %#x, stderr:\n%s\n", status, err);
        CHECK(!"the overflow did not die with SIGSEGV");
    }
    puts("guard_page: ok");
    return 0;
}
