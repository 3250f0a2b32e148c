/* test_dump: the frames of suspended coroutines (read in place and from their
 * save stacks, never by resuming them), walks that end early instead of
 * faulting, deadlines, and holds that keep tasks readable while they end. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#ifndef _WIN32
#include <dlfcn.h>
#endif

#include "aco_bridge.h"
#include "aco_dump.h"
#include "aco_loop.h"
#include "aco_test.h"

#if defined(__clang__)
#define FRAME __attribute__((noinline))
#else
#define FRAME __attribute__((noinline, noclone))
#endif

/* f_entry -> f_outer -> f_inner -> aco_bridge_receive(7): each keeps a frame
 * (the file is built with frame pointers) and uses the result, so no call is a
 * tail call. */
static volatile int sink;

FRAME static int f_inner(int channel) {
    int64_t v = 0;
    int status = aco_bridge_receive(channel, &v);
    sink = status;
    return status + (int)v;
}

FRAME static int f_outer(int channel) {
    int r = f_inner(channel);
    sink = r;
    return r + 1;
}

FRAME static void f_entry(void) {
    sink = f_outer(7);
    aco_bridge_finish(sink);
}

/* Recurses `depth` times, then sleeps: a deep stack (called through a
 * volatile pointer, so the compiler cannot fold the recursion). */
FRAME static int f_deep(int depth);
static int (*volatile f_deep_call)(int) = f_deep;

FRAME static int f_deep(int depth) {
    int r = depth == 0 ? aco_bridge_sleep_ms(1000000) : f_deep_call(depth - 1);
    sink = r;
    return r;
}

FRAME static void deep_entry(void) {
    sink = f_deep_call((int)(intptr_t)aco_get_arg());
    aco_bridge_exit_cancelled();
}

static void yield_forever(void) {
    while (aco_bridge_yield() != ACO_BRIDGE_CANCELLED) {
    }
    aco_bridge_exit_cancelled();
}

static void sleeper(void) {
    aco_bridge_sleep_ms((int64_t)(intptr_t)aco_get_arg());
    aco_bridge_exit_cancelled();
}

/* Under AddressSanitizer an entry is called by aco_asan_entry_ (aco.c): one
 * frame more at the outer end. */
/* Windows x64: frames do not chain through rbp (aco_dump.h); a walk gives
 * where the coroutine resumes only. */
#if defined(_WIN32) && defined(__x86_64__)
#define WALKS 0
#else
#define WALKS 1
#endif

#ifdef ACO_ASAN
#define OUTER_EXTRA 1
#else
#define OUTER_EXTRA 0
#endif

/* Whether pc is a return address inside fn (the functions above are small). */
static int within(void* pc, void (*fn)(void)) {
    uintptr_t p = (uintptr_t)pc, f = (uintptr_t)fn;
    return p > f && p - f < 512;
}
#define WITHIN(pc, fn) within((pc), (void (*)(void))(fn))

static void check_receive_frames(aco_task_t* t, const char* where) {
    void* pcs[16];
    int end = -1;
    size_t n = aco_task_frames(t, pcs, 16, &end);
    if (!WALKS) {
        CHECK_EQ(end, ACO_FRAMES_UNSUPPORTED);
        CHECK(n == 1 && pcs[0] == aco_task_co(t)->reg[ACO_REG_IDX_RETADDR]);
        return;
    }
    if (end != ACO_FRAMES_COMPLETE || n < 4 + OUTER_EXTRA) fprintf(stderr, "%s: %zu frames, end %d\n", where, n, end);
    CHECK_EQ(end, ACO_FRAMES_COMPLETE);
    CHECK(n >= 4 + OUTER_EXTRA);
    /* Innermost, the library's own frames (aco_bridge_receive, and what it
     * calls where the build inlines nothing); then the callers. */
    size_t e = n - 3 - OUTER_EXTRA;
#if !defined(_WIN32) && !defined(ACO_ASAN)
    for (size_t i = 0; i < e; i++) {
        Dl_info info; /* the library's exports (the ASan build links a static copy) */
        CHECK(dladdr(pcs[i], &info) != 0 && strstr(info.dli_fname, "libaco") != NULL);
    }
#endif
    CHECK(WITHIN(pcs[e], f_inner));
    CHECK(WITHIN(pcs[e + 1], f_outer));
    CHECK(WITHIN(pcs[e + 2], f_entry));
}

/* A coroutine's frames, read where its stack is now: on the share stack while
 * it owns it, in its save stack once another coroutine took the stack; the
 * walk never resumes it. */
static void test_frames_in_place_and_saved(void) {
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_loop_t* loop = aco_loop_new(main_co);
    aco_share_stack_t* s = aco_share_stack_new(64 * 1024);
    aco_loop_add_stack(loop, s); /* one stack: the second coroutine saves the first */
    const aco_loop_stats_t* stats = aco_loop_stats(loop);
    aco_task_t* batch[4];

    aco_task_t* t = aco_loop_spawn(loop, f_entry, NULL, 1, 0);
    void* pcs[16];
    int end = -1;
    CHECK_EQ(aco_task_frames(t, pcs, 16, &end), 0);
    CHECK_EQ(end, ACO_FRAMES_NOT_STARTED);

    CHECK_EQ(aco_loop_run(loop, 1, batch, 4), 1);
    CHECK(batch[0] == t && t->op == ACO_OP_RECEIVE && t->code == 7);
    CHECK(s->owner == aco_task_co(t));
    int64_t resumes = stats->resumes;
    check_receive_frames(t, "in place");
    check_receive_frames(t, "in place, again");
    CHECK_EQ(stats->resumes, resumes);

    /* Another coroutine runs on the same stack: t's bytes move to its save stack. */
    aco_task_t* other = aco_loop_spawn(loop, yield_forever, NULL, 2, 0);
    CHECK_EQ(aco_loop_run(loop, 3, batch, 4), 0);
    CHECK(s->owner == aco_task_co(other));
    CHECK(aco_task_co(t)->save_stack.valid_sz > 0);
    check_receive_frames(t, "saved");

    /* Truncated: only as many as asked. */
    CHECK_EQ(aco_task_frames(t, pcs, 2, &end), WALKS ? 2 : 1);
    CHECK_EQ(end, WALKS ? ACO_FRAMES_TRUNCATED : ACO_FRAMES_UNSUPPORTED);
    CHECK_EQ(aco_task_frames(t, pcs, 0, &end), 0);
    CHECK_EQ(end, ACO_FRAMES_TRUNCATED);

    /* Answered, it continues where it was and ends normally. */
    t->value = 41;
    t->status = ACO_BRIDGE_OK;
    aco_loop_ready(loop, t);
    aco_loop_cancel(loop, other);
    size_t n = aco_loop_run(loop, 16, batch, 4);
    CHECK_EQ(n, 2);
    for (size_t i = 0; i < n; i++) {
        if (batch[i] == t) CHECK(t->op == ACO_OP_FINISH && t->value == 41 + 1);
        CHECK_EQ(aco_task_frames(batch[i], pcs, 16, &end), 0);
        CHECK_EQ(end, ACO_FRAMES_NOT_SUSPENDED);
        aco_loop_destroy_task(loop, batch[i]);
    }
    aco_loop_destroy(loop);
    aco_share_stack_destroy(s);
    aco_destroy(main_co);
}

/* A deep stack: every frame read, or truncated at the caller's limit. */
static void test_deep_stack(void) {
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_loop_t* loop = aco_loop_new(main_co);
    aco_share_stack_t* s = aco_share_stack_new(256 * 1024);
    aco_loop_add_stack(loop, s);
    aco_task_t* batch[4];
    aco_task_t* t = aco_loop_spawn(loop, deep_entry, (void*)(intptr_t)100, 1, 0);
    aco_task_t* other = aco_loop_spawn(loop, yield_forever, NULL, 2, 0);
    CHECK_EQ(aco_loop_run(loop, 3, batch, 4), 0);
    CHECK(s->owner == aco_task_co(other)); /* t was saved away */
    void* pcs[200];
    int end = -1;
    size_t n = aco_task_frames(t, pcs, 200, &end);
    if (!WALKS) {
        CHECK(n == 1 && end == ACO_FRAMES_UNSUPPORTED);
        aco_loop_destroy(loop);
        aco_share_stack_destroy(s);
        aco_destroy(main_co);
        return;
    }
    CHECK_EQ(end, ACO_FRAMES_COMPLETE);
    CHECK(n >= 1 + 101 + 1 + OUTER_EXTRA); /* the library's, f_deep x 101, deep_entry */
    size_t e = n - 102 - OUTER_EXTRA;
    for (size_t i = 0; i < 101; i++) CHECK(WITHIN(pcs[e + i], f_deep));
    CHECK(WITHIN(pcs[e + 101], deep_entry));
    CHECK_EQ(aco_task_frames(t, pcs, 50, &end), 50);
    CHECK_EQ(end, ACO_FRAMES_TRUNCATED);
    aco_loop_destroy(loop); /* cancels and destroys both, never resuming them */
    aco_share_stack_destroy(s);
    aco_destroy(main_co);
}

/* Frame pointers that are no frames of the stack end the walk: outside the
 * stack, below the stack pointer, misaligned, or pointing down; and any value
 * at all never makes it read outside the live stack or loop forever. */
static void test_bad_frame_pointers(void) {
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_loop_t* loop = aco_loop_new(main_co);
    aco_share_stack_t* s = aco_share_stack_new(64 * 1024);
    aco_loop_add_stack(loop, s);
    aco_task_t* batch[4];
    aco_task_t* t = aco_loop_spawn(loop, f_entry, NULL, 1, 0);
    aco_task_t* other = aco_loop_spawn(loop, yield_forever, NULL, 2, 0);
    CHECK_EQ(aco_loop_run(loop, 2, batch, 4), 1);
    aco_t* co = aco_task_co(t);
    CHECK(s->owner == aco_task_co(other) || s->owner == co);
    void* saved_bp = co->reg[ACO_REG_IDX_BP];
    uintptr_t sp = (uintptr_t)co->reg[ACO_REG_IDX_SP];
    uintptr_t top = (uintptr_t)s->align_retptr;
    void* pcs[64];
    int end = -1;
    uintptr_t bad[] = {1, 0x1000, sp - 16, sp + 1, top, top + 4096, UINTPTR_MAX - 7, (uintptr_t)s->ptr};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        co->reg[ACO_REG_IDX_BP] = (void*)bad[i];
        size_t n = aco_task_frames(t, pcs, 64, &end);
        CHECK(n == 1 && pcs[0] == co->reg[ACO_REG_IDX_RETADDR]); /* only where it resumes */
        CHECK_EQ(end, WALKS ? ACO_FRAMES_BROKEN : ACO_FRAMES_UNSUPPORTED);
    }
    /* Every word of the live stack as a frame pointer: the walk ends, within bounds. */
    for (uintptr_t a = sp; a < top; a += sizeof(void*)) {
        co->reg[ACO_REG_IDX_BP] = (void*)a;
        size_t n = aco_task_frames(t, pcs, 64, &end);
        CHECK(n >= 1 && n <= 64);
    }
    co->reg[ACO_REG_IDX_BP] = saved_bp;
    check_receive_frames(t, "restored");
    /* A stack pointer that is not in its stack: nothing is read. */
    void* saved_sp = co->reg[ACO_REG_IDX_SP];
    co->reg[ACO_REG_IDX_SP] = (void*)((uintptr_t)s->ptr - 64);
    CHECK_EQ(aco_task_frames(t, pcs, 64, &end), 0);
    CHECK_EQ(end, ACO_FRAMES_BROKEN);
    co->reg[ACO_REG_IDX_SP] = saved_sp;
    aco_loop_cancel(loop, other);
    aco_loop_destroy_task(loop, t); /* waiting for an answer: the caller destroys it */
    aco_loop_destroy(loop);
    aco_share_stack_destroy(s);
    aco_destroy(main_co);
}

/* A sleep's deadline is its due time on the loop's clock; a descriptor wait's
 * is the one it asked for; other tasks have none. */
static void test_deadlines(void) {
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_loop_t* loop = aco_loop_new(main_co);
    aco_loop_use_external_clock(loop, 1000); /* ms */
    aco_loop_set_time(loop, 5000);
    aco_share_stack_t* s = aco_share_stack_new(64 * 1024);
    aco_loop_add_stack(loop, s);
    aco_task_t* batch[4];
    aco_task_t* t = aco_loop_spawn(loop, sleeper, (void*)(intptr_t)250, 1, 0);
    aco_task_t* y = aco_loop_spawn(loop, yield_forever, NULL, 2, 0);
    CHECK_EQ(aco_loop_task_deadline(loop, t), ACO_LOOP_NEVER); /* ready */
    CHECK_EQ(aco_loop_run(loop, 1, batch, 4), 1); /* an external clock's sleeps come back to the caller */
    CHECK(batch[0] == t && t->op == ACO_OP_SLEEP);
    CHECK_EQ(aco_loop_task_deadline(loop, t), ACO_LOOP_NEVER); /* not yet in the heap */
    aco_loop_sleep_until(loop, t, 5250);
    CHECK_EQ(aco_loop_task_deadline(loop, t), 5250);
    CHECK_EQ(aco_loop_task_deadline(loop, y), ACO_LOOP_NEVER);
    aco_loop_destroy(loop);
    aco_share_stack_destroy(s);
    aco_destroy(main_co);
}

/* A hold keeps every task the loop had: each is given once, also those that
 * end meanwhile (they read as ended and are destroyed when the hold ends). */
static void test_hold(void) {
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_loop_t* loop = aco_loop_new(main_co);
    aco_share_stack_t* s = aco_share_stack_new(64 * 1024);
    aco_loop_add_stack(loop, s);
    const aco_loop_stats_t* stats = aco_loop_stats(loop);
    aco_task_t* batch[64];
    enum { SLEEPERS = 300, YIELDERS = 20 };
    aco_task_t* tasks[SLEEPERS + YIELDERS + 1];
    for (int i = 0; i < SLEEPERS; i++) tasks[i] = aco_loop_spawn(loop, sleeper, (void*)(intptr_t)1000000, 0, 0);
    for (int i = 0; i < YIELDERS; i++) tasks[SLEEPERS + i] = aco_loop_spawn(loop, yield_forever, NULL, 0, 0);
    CHECK_EQ(aco_loop_run(loop, SLEEPERS + YIELDERS, batch, 64), 0);
    aco_task_t* waiting = aco_loop_spawn(loop, f_entry, NULL, 7, 0); /* waits for the caller's answer */
    tasks[SLEEPERS + YIELDERS] = waiting;
    CHECK_EQ(aco_loop_run(loop, 1 + YIELDERS, batch, 64), 1);
    CHECK(batch[0] == waiting);
    CHECK_EQ(stats->sleeping, SLEEPERS);

    size_t held = aco_loop_hold_begin(loop, &waiting, 1);
    CHECK_EQ(held, SLEEPERS + YIELDERS + 1);
    /* Meanwhile: sleepers and yielders are cancelled and end (detached: the
     * loop releases them), the waiting one is destroyed by its owner, and new
     * coroutines come and go. */
    for (int i = 0; i < SLEEPERS; i += 3) aco_loop_cancel(loop, tasks[i]);
    for (int i = 0; i < YIELDERS; i += 2) aco_loop_cancel(loop, tasks[SLEEPERS + i]);
    aco_loop_destroy_task(loop, waiting);
    for (int i = 0; i < 50; i++) aco_loop_spawn(loop, sleeper, (void*)(intptr_t)1, 0, 0);
    for (int k = 0; k < 20; k++) aco_loop_run(loop, 1000, batch, 64);

    size_t cursor = 0, seen = 0, ended = 0;
    aco_task_t* out[7];
    size_t got;
    while ((got = aco_loop_hold_next(loop, &cursor, out, 7)) > 0)
        for (size_t i = 0; i < got; i++) {
            int found = 0;
            for (int j = 0; j < SLEEPERS + YIELDERS + 1; j++) found |= tasks[j] == out[i];
            CHECK(found);
            seen++;
            if (aco_task_co(out[i])->is_end) {
                ended++;
                continue;
            }
            void* pcs[8];
            int end = -1;
            aco_task_frames(out[i], pcs, 8, &end);
            CHECK(end == (WALKS ? ACO_FRAMES_COMPLETE : ACO_FRAMES_UNSUPPORTED));
        }
    CHECK_EQ(seen, held);
    CHECK_EQ(ended, (SLEEPERS + 2) / 3 + YIELDERS / 2 + 1);
    CHECK_EQ(aco_loop_hold_next(loop, &cursor, out, 7), 0);
    aco_loop_hold_end(loop);
    cursor = 0;
    CHECK_EQ(aco_loop_hold_next(loop, &cursor, out, 7), 0);

    /* A hold still in place when the loop goes is ended by it. */
    aco_loop_hold_begin(loop, NULL, 0);
    aco_loop_destroy(loop);
    aco_share_stack_destroy(s);
    aco_destroy(main_co);
}

int main(void) {
    aco_thread_init(NULL);
    aco_set_return_means_exit(1);
    test_frames_in_place_and_saved();
    test_deep_stack();
    test_bad_frame_pointers();
    test_deadlines();
    test_hold();
    puts("test_dump: ok");
    return 0;
}
