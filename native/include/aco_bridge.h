/*
 * aco_bridge.h - calls from coroutine code into its scheduler.
 *
 * For coroutines spawned by a run loop (aco_loop.h), which is what an
 * AcoScheduler runs. Each call writes a request into the coroutine's control
 * block and yields; what it returns is the answer. The calls read like
 * blocking calls, but only the coroutine waits, never the thread.
 *
 * Status codes: ACO_BRIDGE_OK, or
 *   ACO_BRIDGE_CANCELLED  the coroutine's cancellation was requested (by its
 *                         token or by the scheduler stopping);
 *   ACO_BRIDGE_ERROR      the request failed: an unknown handler or channel, a
 *                         handler that threw, output too small; for socket
 *                         calls, an error of the system, in errno;
 *   ACO_BRIDGE_CLOSED     the channel is closed (completed by .NET); for
 *                         socket calls, the peer closed its end (end of file);
 *   ACO_BRIDGE_NOT_SCHEDULED  the caller is not a coroutine of a run loop;
 *   ACO_BRIDGE_TIMEOUT    the call's timeout passed first;
 *   ACO_BRIDGE_NOT_SUPPORTED  socket calls on a system without them (Windows).
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
    ACO_BRIDGE_TIMEOUT = 5,
    ACO_BRIDGE_NOT_SUPPORTED = 6,
};

/* Stays runnable: goes to the back of the ready queue. Never leaves native
 * code (the run loop resumes the next coroutine directly). */
ACO_EXPORT int aco_bridge_yield(void);

/* Hands `value` to whoever reads the coroutine's yielded values, and waits
 * until it has been taken (nothing is lost or duplicated). Without a reader
 * (a detached coroutine) the value is dropped and the call returns. */
ACO_EXPORT int aco_bridge_yield_value(int64_t value);

/* Waits `milliseconds` (0 or more) on the scheduler's clock. */
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

/* Starts a detached coroutine running fp with arg (what its aco_get_arg()
 * returns) on the caller's loop, at the back of its ready queue; never yields.
 * ACO_BRIDGE_CANCELLED once the caller is cancelled (a stopping scheduler
 * starts nothing new). An acceptor spawns a coroutine per connection so. */
ACO_EXPORT int aco_bridge_spawn(aco_cofuncp_t fp, void* arg);

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

/* ---- sockets ----------------------------------------------------------------
 * Each call does the system call inside the coroutine, on its own stack, so
 * buffers may live there (also on a share stack that other coroutines use
 * while this one waits). When the descriptor is not ready, the coroutine
 * waits in its loop's poller; the thread serves the others meanwhile.
 *
 * A descriptor belongs to the loop that first uses it in a bridge call: it is
 * made non-blocking and watched by that loop's poller until aco_bridge_close.
 * Close it with aco_bridge_close (closing it another way leaves the loop
 * watching a descriptor number that the system may give to a new socket).
 *
 * timeout_ms bounds the whole call: 0 or more milliseconds on the loop's clock,
 * or -1 for no bound. Errors: ACO_BRIDGE_ERROR with the system's errno
 * (ECONNRESET for a reset, EPIPE for a write to a closed connection, ...),
 * ACO_BRIDGE_CLOSED for the end of a stream, ACO_BRIDGE_TIMEOUT, and
 * ACO_BRIDGE_CANCELLED when the coroutine is cancelled while it waits (or
 * before). Counts of bytes are set on every outcome (what was done). */

/* Readiness for aco_bridge_poll (the values of POLLIN and POLLOUT). */
enum { ACO_BRIDGE_POLL_IN = 0x001, ACO_BRIDGE_POLL_OUT = 0x004 };

/* Accepts a connection on the listening socket `fd`. *accepted_fd receives
 * the new socket (non-blocking, close-on-exec); when address is not NULL, the
 * peer's address is written there, *address_len bytes at most (updated). */
ACO_EXPORT int aco_bridge_accept(int fd, void* address, uint32_t* address_len, int64_t timeout_ms,
                                 int* accepted_fd);

/* Connects the socket `fd` to `address` (address_len bytes). */
ACO_EXPORT int aco_bridge_connect(int fd, const void* address, uint32_t address_len,
                                  int64_t timeout_ms);

/* Reads what is there, up to `length` bytes, waiting until some is. *read_len
 * receives how many; ACO_BRIDGE_CLOSED at the end of the stream. */
ACO_EXPORT int aco_bridge_read(int fd, void* buffer, size_t length, int64_t timeout_ms,
                               size_t* read_len);

/* Writes what the socket takes now, up to `length` bytes, waiting until it
 * takes some. *written receives how many. */
ACO_EXPORT int aco_bridge_write(int fd, const void* buffer, size_t length, int64_t timeout_ms,
                                size_t* written);

/* Writes all `length` bytes, waiting as often as needed; *written receives how
 * many went out (all of them, unless the status is not ACO_BRIDGE_OK). */
ACO_EXPORT int aco_bridge_write_all(int fd, const void* buffer, size_t length, int64_t timeout_ms,
                                    size_t* written);

/* Waits until `fd` is readable or writable, as `events` (ACO_BRIDGE_POLL_*)
 * asks; *ready_events receives which are. */
ACO_EXPORT int aco_bridge_poll(int fd, int events, int64_t timeout_ms, int* ready_events);

/* Waits for a readiness report of `fd` (events: ACO_BRIDGE_POLL_*) without
 * asking the system first: for a coroutine that has just read or written
 * until EAGAIN, or that is going idle between requests. The next call may
 * still find nothing (call it again); what it saves is a system call each
 * time. *ready_events as aco_bridge_poll. */
ACO_EXPORT int aco_bridge_wait(int fd, int events, int64_t timeout_ms, int* ready_events);

/* Shuts down reading (0), writing (1) or both (2), as shutdown(2); never waits. */
ACO_EXPORT int aco_bridge_shutdown(int fd, int how);

/* Closes `fd`. Other coroutines of the loop waiting on it wake with
 * ACO_BRIDGE_ERROR and errno EBADF. */
ACO_EXPORT int aco_bridge_close(int fd);

/* In C, aco_bridge_yield() expands to an inline version: the switch is then
 * called straight from the caller's loop, with no function return after the
 * resume (a return the processor's return-stack predictor always gets wrong
 * across a stack switch). The exported function stays for other callers;
 * define ACO_BRIDGE_NO_INLINE to use it from C too. */
#ifndef ACO_BRIDGE_NO_INLINE
static inline int aco_bridge_yield_inline_(void) {
    aco_task_t* t = aco_task_of(aco_gtls_co);
    if (t == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    t->op = ACO_OP_YIELD;
    t->status = ACO_BRIDGE_OK;
    aco_yield1(aco_task_co(t));
    return t->status;
}
#define aco_bridge_yield() aco_bridge_yield_inline_()
#endif

#ifdef __cplusplus
}
#endif

#endif /* ACO_BRIDGE_H */
