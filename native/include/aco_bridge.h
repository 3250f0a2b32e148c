/*
 * aco_bridge.h - calls from coroutine code into the .NET scheduler.
 *
 * For coroutines spawned by an AcoScheduler (through the run loop in
 * aco_loop.h). Each call writes a request into the coroutine's control block
 * and yields; what it returns is the scheduler's answer. The calls read like
 * blocking calls, but only the coroutine waits, never the thread.
 *
 * Status codes: ACO_BRIDGE_OK, or
 *   ACO_BRIDGE_CANCELLED  the coroutine's cancellation was requested (by its
 *                         token or by the scheduler stopping);
 *   ACO_BRIDGE_ERROR      the request failed (unknown handler or channel, a
 *                         handler that threw, output too small);
 *   ACO_BRIDGE_CLOSED     the channel is closed (completed by .NET);
 *   ACO_BRIDGE_NOT_SCHEDULED  the caller is not a coroutine of the run loop.
 *
 * aco_get_arg() still returns the argument given at spawn.
 */
#ifndef ACO_BRIDGE_H
#define ACO_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "aco.h"
#include "aco_loop.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    ACO_BRIDGE_OK = 0,
    ACO_BRIDGE_CANCELLED = 1,
    ACO_BRIDGE_ERROR = 2,
    ACO_BRIDGE_CLOSED = 3,
    ACO_BRIDGE_NOT_SCHEDULED = 4,
};

/* Stays runnable: goes to the back of the ready queue. Never leaves native
 * code (the run loop resumes the next coroutine directly). */
ACO_EXPORT int aco_bridge_yield(void);

/* Hands `value` to whoever reads the coroutine's yielded values, and waits
 * until it has been taken (nothing is lost or duplicated). Without a reader
 * (a fire-and-forget coroutine) the value is dropped and the call returns. */
ACO_EXPORT int aco_bridge_yield_value(int64_t value);

/* Waits `milliseconds` (0 or more) on the scheduler's TimeProvider. */
ACO_EXPORT int aco_bridge_sleep_ms(int64_t milliseconds);

/* Calls the managed handler registered under `handler_id` with the bytes
 * [input, input + input_len), letting it write up to output_capacity bytes at
 * output; *output_len receives how many it wrote. The buffers may live on the
 * coroutine's stack. */
ACO_EXPORT int aco_bridge_call(int32_t handler_id, const void* input, uint32_t input_len,
                               void* output, uint32_t output_capacity, uint32_t* output_len);

/* Sends `value` on the bridged channel `channel_id`; waits while it is full. */
ACO_EXPORT int aco_bridge_send(int32_t channel_id, int64_t value);

/* Receives the next value of the bridged channel `channel_id` into *value;
 * waits while it is empty. ACO_BRIDGE_CLOSED once it is completed and empty. */
ACO_EXPORT int aco_bridge_receive(int32_t channel_id, int64_t* value);

/* Waits for the .NET operation registered under `operation_id` (see
 * AcoScheduler.RegisterOperation); *value receives its result. */
ACO_EXPORT int aco_bridge_await(int64_t operation_id, int64_t* value);

/* 1 when the coroutine's cancellation has been requested; never yields. */
ACO_EXPORT int aco_bridge_is_cancelled(void);

/* Ends the coroutine with `result` (what awaiting its handle gives). */
ACO_EXPORT void aco_bridge_finish(int64_t result) __attribute__((noreturn));

/* Ends the coroutine with an error: awaiting its handle throws
 * AcoCoroutineException with `code` and a copy of `message` (may be NULL). */
ACO_EXPORT void aco_bridge_fail(int32_t code, const char* message) __attribute__((noreturn));

/* Ends the coroutine as cancelled: awaiting its handle throws
 * OperationCanceledException. */
ACO_EXPORT void aco_bridge_exit_cancelled(void) __attribute__((noreturn));

/* In C, aco_bridge_yield() expands to an inline version: the switch is then
 * called straight from the caller's loop, with no function return after the
 * resume (a return the processor's return-stack predictor always gets wrong
 * across a stack switch). The exported function stays for other callers;
 * define ACO_BRIDGE_NO_INLINE to use it from C too. */
#ifndef ACO_BRIDGE_NO_INLINE
static inline int aco_bridge_yield_inline_(void) {
    aco_t* co = aco_gtls_co;
    if (co == NULL || co->main_co == NULL || co->prefix_bytes != sizeof(aco_task_t))
        return ACO_BRIDGE_NOT_SCHEDULED;
    aco_task_t* t = (aco_task_t*)((char*)co - sizeof(aco_task_t));
    t->op = ACO_OP_YIELD;
    t->status = ACO_BRIDGE_OK;
    aco_yield1(co);
    return t->status;
}
#define aco_bridge_yield() aco_bridge_yield_inline_()
#endif

#ifdef __cplusplus
}
#endif

#endif /* ACO_BRIDGE_H */
