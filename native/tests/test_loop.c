/* The run loop and the bridge, driven by a small scheduler written in C:
 * plain yields stay inside the loop, requests the loop does not serve come
 * back in a batch, answers reach the coroutine, and buffers on a saved stack
 * resolve. The loop runs on an external clock here, so that sleeps come back
 * in the batch too (test_loop_timers covers the loop's own clock). */
#include "aco_bridge.h"
#include "aco_loop.h"
#include "aco_test.h"

static char trace[64];
static int trace_len;

static void yielder(void) {
    char name = (char)(intptr_t)aco_get_arg();
    for (int i = 0; i < 3; i++) {
        trace[trace_len++] = name;
        CHECK_EQ(aco_bridge_yield(), ACO_BRIDGE_OK);
    }
    aco_bridge_finish(name);
}

static void requester(void) {
    /* A call whose buffers live on this (shared) stack. */
    char in[16] = "ping";
    char out[16] = {0};
    uint32_t out_len = 0;
    CHECK_EQ(aco_bridge_call(7, in, 5, out, sizeof out, &out_len), ACO_BRIDGE_OK);
    CHECK_EQ(out_len, 5);
    CHECK(strcmp(out, "pong") == 0);
    CHECK_EQ(aco_bridge_sleep_ms(25), ACO_BRIDGE_OK);
    int64_t v = 0;
    CHECK_EQ(aco_bridge_receive(3, &v), ACO_BRIDGE_OK);
    CHECK_EQ(v, 99);
    int64_t after_close = -1;
    CHECK_EQ(aco_bridge_receive(3, &after_close), ACO_BRIDGE_CLOSED);
    CHECK_EQ(after_close, 0);
    CHECK_EQ(aco_bridge_send(4, v + 1), ACO_BRIDGE_OK);
    CHECK_EQ(aco_bridge_yield_value(11), ACO_BRIDGE_OK);
    CHECK_EQ(aco_bridge_await(5, &v), ACO_BRIDGE_OK);
    CHECK_EQ(v, 1234);
    CHECK(!aco_bridge_is_cancelled());
    char msg[32];
    snprintf(msg, sizeof msg, "failed after %d", 6);
    aco_bridge_fail(17, msg);
}

static void cancellable(void) {
    while (aco_bridge_sleep_ms(1000) != ACO_BRIDGE_CANCELLED) {
    }
    CHECK(aco_bridge_is_cancelled());
    CHECK_EQ(aco_bridge_yield(), ACO_BRIDGE_CANCELLED);
    aco_bridge_exit_cancelled();
}

static void forever(void) {
    for (;;) aco_bridge_yield();
}

static void plain_exit(void) { aco_exit(); }

/* Answers one request the way a scheduler would. */
static void answer(aco_loop_t* loop, aco_task_t* t) {
    switch (t->op) {
    case ACO_OP_CALL: {
        CHECK_EQ(t->code, 7);
        const char* in = aco_task_resolve(t, t->in, t->in_len);
        CHECK(strcmp(in, "ping") == 0);
        char* out = aco_task_resolve(t, t->out, t->out_len);
        memcpy(out, "pong", 5);
        t->out_len = 5;
        break;
    }
    case ACO_OP_SLEEP: CHECK_EQ(t->value, 25); break;
    case ACO_OP_RECEIVE: {
        static int received;
        CHECK_EQ(t->code, 3);
        if (received++ == 0)
            t->value = 99;
        else
            t->status = ACO_BRIDGE_CLOSED;
        break;
    }
    case ACO_OP_SEND: CHECK_EQ(t->code, 4); CHECK_EQ(t->value, 100); break;
    case ACO_OP_YIELD_VALUE: CHECK_EQ(t->value, 11); break;
    case ACO_OP_AWAIT: CHECK_EQ(t->value, 5); t->value = 1234; break;
    default: CHECK(!"unexpected request");
    }
    aco_loop_ready(loop, t);
}

int main(void) {
    aco_thread_init(NULL);
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_loop_t* loop = aco_loop_new(main_co);
    CHECK(loop != NULL);
    aco_loop_use_external_clock(loop, 1000);
    const aco_loop_stats_t* stats = aco_loop_stats(loop);
    aco_share_stack_t* s = aco_share_stack_new(64 * 1024);
    aco_loop_add_stack(loop, s); /* one stack: every switch copies */
    aco_task_t* batch[8];

    /* Round-robin plain yields never leave the loop. */
    aco_loop_spawn(loop, yielder, (void*)(intptr_t)'a', 1, 0);
    aco_loop_spawn(loop, yielder, (void*)(intptr_t)'b', 2, 0);
    aco_loop_spawn(loop, yielder, (void*)(intptr_t)'c', 3, 0);
    CHECK_EQ(stats->live, 3);
    size_t n = aco_loop_run(loop, 1000, batch, 8);
    CHECK_EQ(n, 3); /* only the three finishes */
    trace[trace_len] = 0;
    CHECK(strcmp(trace, "abcabcabc") == 0);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ(batch[i]->op, ACO_OP_FINISH);
        CHECK_EQ(batch[i]->value, batch[i]->id == 1 ? 'a' : batch[i]->id == 2 ? 'b' : 'c');
        aco_loop_destroy_task(loop, batch[i]);
    }
    CHECK_EQ(stats->live, 0);

    /* The budget bounds one turn; the ready queue keeps the rest. */
    aco_task_t* f = aco_loop_spawn(loop, forever, NULL, 9, 0);
    CHECK_EQ(aco_loop_run(loop, 10, batch, 8), 0);
    CHECK_EQ(stats->ready, 1);

    /* Every kind of request, answered; the yielder shares the stack so the
     * requester's buffers are saved away while it waits. */
    aco_task_t* r = aco_loop_spawn(loop, requester, NULL, 10, 0);
    int answered = 0;
    for (;;) {
        n = aco_loop_run(loop, 4, batch, 8);
        if (n == 0) continue;
        CHECK_EQ(n, 1);
        CHECK(batch[0] == r);
        if (r->op == ACO_OP_FAIL) break;
        answer(loop, r);
        answered++;
    }
    CHECK_EQ(answered, 7);
    CHECK_EQ(r->code, 17);
    CHECK(strcmp(r->in, "failed after 6") == 0);
    CHECK_EQ(r->in_len, strlen("failed after 6"));
    aco_loop_destroy_task(loop, r);

    /* Cancellation is a status the coroutine sees. */
    aco_task_t* c = aco_loop_spawn(loop, cancellable, NULL, 11, 0);
    for (int i = 0; i < 3; i++) {
        do n = aco_loop_run(loop, 2, batch, 8); while (n == 0);
        CHECK(batch[0] == c && c->op == ACO_OP_SLEEP);
        if (i == 2) {
            c->cancel = 1;
            c->status = ACO_BRIDGE_CANCELLED;
        }
        aco_loop_ready_front(loop, c);
    }
    do n = aco_loop_run(loop, 2, batch, 8); while (n == 0);
    CHECK(batch[0] == c && c->op == ACO_OP_CANCELLED);
    aco_loop_destroy_task(loop, c);

    /* aco_exit() without the bridge is a finish with result 0. */
    aco_task_t* e = aco_loop_spawn(loop, plain_exit, NULL, 12, 0);
    do n = aco_loop_run(loop, 2, batch, 8); while (n == 0);
    CHECK(batch[0] == e && e->op == ACO_OP_FINISH && e->value == 0);
    aco_loop_destroy_task(loop, e);

    /* A detached coroutine (id 0) that ends is destroyed by the loop itself. */
    aco_loop_spawn(loop, plain_exit, NULL, 0, 0);
    CHECK_EQ(aco_loop_run(loop, 2, batch, 8), 0);
    CHECK_EQ(stats->finished, 1);
    CHECK_EQ(stats->live, 1); /* f */

    /* The task of a coroutine, and back. */
    CHECK(aco_task_co(f) == (aco_t*)(f + 1));
    CHECK(aco_task_of(aco_task_co(f)) == f);
    CHECK(aco_task_of(main_co) == NULL);

    /* Bridge calls outside the loop say so instead of crashing. */
    CHECK_EQ(aco_bridge_yield(), ACO_BRIDGE_NOT_SCHEDULED);
    CHECK_EQ(aco_bridge_sleep_ms(1), ACO_BRIDGE_NOT_SCHEDULED);
    size_t got = 7;
    char buf[4];
    CHECK_EQ(aco_bridge_read(0, buf, sizeof buf, 0, &got), ACO_BRIDGE_NOT_SCHEDULED);
    CHECK_EQ(got, 0);
    CHECK(!aco_bridge_is_cancelled());

    (void)f; /* still ready: destroyed with the loop */
    aco_loop_destroy(loop);
    aco_share_stack_destroy(s);
    aco_destroy(main_co);
    test_check_counters_zero();
    puts("loop: ok");
    return 0;
}
