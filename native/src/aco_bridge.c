/*
 * aco_bridge.c - the coroutine side of the bridge (aco_bridge.h): each call
 * writes a request into the running coroutine's control block and yields;
 * its loop (aco_loop.c) or the .NET scheduler answers.
 */
#define _GNU_SOURCE
#define ACO_BRIDGE_NO_INLINE /* this file defines the exported functions */
#include "aco_bridge.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aco_loop_internal.h"

#ifndef _WIN32
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

/* Writes the request, yields, and returns the answer. */
static inline int request(aco_task_t* t, uint8_t op) {
    t->op = op;
    t->status = ACO_BRIDGE_OK;
    aco_yield1(aco_task_co(t));
    return t->status;
}

int aco_bridge_yield(void) {
    aco_task_t* t = aco_task_of(aco_gtls_co);
    return t == NULL ? ACO_BRIDGE_NOT_SCHEDULED : request(t, ACO_OP_YIELD);
}

int aco_bridge_yield_value(int64_t value) {
    aco_task_t* t = aco_task_of(aco_gtls_co);
    if (t == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    t->value = value;
    return request(t, ACO_OP_YIELD_VALUE);
}

int aco_bridge_sleep_ms(int64_t milliseconds) {
    aco_task_t* t = aco_task_of(aco_gtls_co);
    if (t == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    t->value = milliseconds < 0 ? 0 : milliseconds;
    return request(t, ACO_OP_SLEEP);
}

int aco_bridge_call(int32_t handler_id, const void* input, uint32_t input_len, void* output,
                    uint32_t output_capacity, uint32_t* output_len) {
    aco_task_t* t = aco_task_of(aco_gtls_co);
    if (t == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    t->code = handler_id;
    t->in = input;
    t->in_len = input == NULL ? 0 : input_len;
    t->out = output;
    t->out_len = output == NULL ? 0 : output_capacity;
    int status = request(t, ACO_OP_CALL);
    if (output_len != NULL) *output_len = status == ACO_BRIDGE_OK ? t->out_len : 0;
    return status;
}

int aco_bridge_send(int32_t channel_id, int64_t value) {
    aco_task_t* t = aco_task_of(aco_gtls_co);
    if (t == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    t->code = channel_id;
    t->value = value;
    return request(t, ACO_OP_SEND);
}

int aco_bridge_receive(int32_t channel_id, int64_t* value) {
    aco_task_t* t = aco_task_of(aco_gtls_co);
    if (t == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    t->code = channel_id;
    int status = request(t, ACO_OP_RECEIVE);
    if (value != NULL) *value = status == ACO_BRIDGE_OK ? t->value : 0;
    return status;
}

int aco_bridge_await(int64_t operation_id, int64_t* value) {
    aco_task_t* t = aco_task_of(aco_gtls_co);
    if (t == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    t->value = operation_id;
    int status = request(t, ACO_OP_AWAIT);
    if (value != NULL) *value = status == ACO_BRIDGE_OK ? t->value : 0;
    return status;
}

int aco_bridge_spawn(aco_cofuncp_t fp, void* arg) {
    aco_task_t* t = aco_task_of(aco_gtls_co);
    aco_loop_t* loop = aco_loop_running;
    if (t == NULL || loop == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    if (fp == NULL) {
        errno = EINVAL;
        return ACO_BRIDGE_ERROR;
    }
    if (t->cancel) return ACO_BRIDGE_CANCELLED;
    aco_loop_spawn(loop, fp, arg, 0, 0);
    loop->stats.spawned++;
    return ACO_BRIDGE_OK;
}

int aco_bridge_is_cancelled(void) {
    aco_task_t* t = aco_task_of(aco_gtls_co);
    return t != NULL && t->cancel;
}

__attribute__((noreturn)) static void end_with(aco_task_t* t, uint8_t op) {
    t->op = op;
    aco_exit1(aco_task_co(t));
    __builtin_unreachable();
}

void aco_bridge_finish(int64_t result) {
    aco_task_t* t = aco_task_of(aco_gtls_co);
    if (t == NULL) aco_exit_fn();
    t->value = result;
    end_with(t, ACO_OP_FINISH);
}

void aco_bridge_fail(int32_t code, const char* message) {
    aco_task_t* t = aco_task_of(aco_gtls_co);
    if (t == NULL) aco_exit_fn();
    /* The message may be on this coroutine's stack, which another coroutine
     * may overwrite before .NET reads it: keep a copy (freed with the task). */
    size_t len = message == NULL ? 0 : strnlen(message, 4096);
    char* copy = malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, message == NULL ? "" : message, len);
        copy[len] = 0;
    }
    t->code = code;
    t->in = copy;
    t->in_len = copy == NULL ? 0 : (uint32_t)len;
    end_with(t, ACO_OP_FAIL);
}

void aco_bridge_exit_cancelled(void) {
    aco_task_t* t = aco_task_of(aco_gtls_co);
    if (t == NULL) aco_exit_fn();
    end_with(t, ACO_OP_CANCELLED);
}

/* ---- sockets ------------------------------------------------------------------ */

#ifdef _WIN32

/* Socket calls are not supported on Windows; outside a coroutine they say that first. */
static int unsupported(void) {
    return aco_task_of(aco_gtls_co) != NULL && aco_loop_running != NULL ? ACO_BRIDGE_NOT_SUPPORTED
                                                                         : ACO_BRIDGE_NOT_SCHEDULED;
}

int aco_bridge_accept(int fd, void* address, uint32_t* address_len, int64_t timeout_ms,
                      int* accepted_fd) {
    (void)fd, (void)address, (void)address_len, (void)timeout_ms;
    if (accepted_fd != NULL) *accepted_fd = -1;
    return unsupported();
}
int aco_bridge_connect(int fd, const void* address, uint32_t address_len, int64_t timeout_ms) {
    (void)fd, (void)address, (void)address_len, (void)timeout_ms;
    return unsupported();
}
int aco_bridge_read(int fd, void* buffer, size_t length, int64_t timeout_ms, size_t* read_len) {
    (void)fd, (void)buffer, (void)length, (void)timeout_ms;
    if (read_len != NULL) *read_len = 0;
    return unsupported();
}
int aco_bridge_write(int fd, const void* buffer, size_t length, int64_t timeout_ms, size_t* written) {
    (void)fd, (void)buffer, (void)length, (void)timeout_ms;
    if (written != NULL) *written = 0;
    return unsupported();
}
int aco_bridge_write_all(int fd, const void* buffer, size_t length, int64_t timeout_ms,
                         size_t* written) {
    return aco_bridge_write(fd, buffer, length, timeout_ms, written);
}
int aco_bridge_poll(int fd, int events, int64_t timeout_ms, int* ready_events) {
    (void)fd, (void)events, (void)timeout_ms;
    if (ready_events != NULL) *ready_events = 0;
    return unsupported();
}
int aco_bridge_wait(int fd, int events, int64_t timeout_ms, int* ready_events) {
    return aco_bridge_poll(fd, events, timeout_ms, ready_events);
}
int aco_bridge_shutdown(int fd, int how) {
    (void)fd, (void)how;
    return unsupported();
}
int aco_bridge_close(int fd) {
    (void)fd;
    return unsupported();
}

#else

/* The running coroutine's control block and loop, with fd watched by that
 * loop; or the status that ends the call before it starts. */
typedef struct {
    aco_task_t* task;
    aco_loop_t* loop;
    int64_t deadline;
    int status;
} io_call;

static io_call io_begin(int fd, int64_t timeout_ms) {
    io_call c = {.task = aco_task_of(aco_gtls_co), .loop = aco_loop_running, .status = ACO_BRIDGE_OK};
    if (c.task == NULL || c.loop == NULL) {
        c.status = ACO_BRIDGE_NOT_SCHEDULED;
        return c;
    }
    if (c.task->cancel) {
        errno = ECANCELED;
        c.status = ACO_BRIDGE_CANCELLED;
        return c;
    }
    int err = aco_poller_watch(c.loop, fd);
    if (err != 0) {
        errno = err;
        c.status = ACO_BRIDGE_ERROR;
        return c;
    }
    /* One deadline for the whole call, however many waits it takes. An
     * external clock reads as its owner set it at the start of the turn. */
    if (timeout_ms < 0) {
        c.deadline = ACO_LOOP_NEVER;
    } else {
        aco_loop_t* l = c.loop;
        int64_t now = l->external_clock ? l->now : aco_loop_clock_now();
        int64_t ticks = timeout_ms <= INT64_MAX / l->frequency ? timeout_ms * l->frequency / 1000 : INT64_MAX;
        c.deadline = ticks < ACO_LOOP_NEVER - 1 - now ? now + ticks : ACO_LOOP_NEVER - 1;
    }
    return c;
}

/* Waits until fd is ready as `op` asks, the deadline passes, or the coroutine
 * is cancelled. ACO_BRIDGE_OK means "try again". */
static int io_wait(io_call* c, int fd, uint8_t op) {
    aco_task_t* t = c->task;
    t->code = fd;
    t->value = c->deadline;
    int status = request(t, op);
    switch (status) {
    case ACO_BRIDGE_ERROR: errno = (int)t->value; break;
    case ACO_BRIDGE_TIMEOUT: errno = ETIMEDOUT; break;
    case ACO_BRIDGE_CANCELLED: errno = ECANCELED; break;
    }
    return status;
}

static inline int would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

int aco_bridge_accept(int fd, void* address, uint32_t* address_len, int64_t timeout_ms,
                      int* accepted_fd) {
    if (accepted_fd != NULL) *accepted_fd = -1;
    io_call c = io_begin(fd, timeout_ms);
    if (c.status != ACO_BRIDGE_OK) return c.status;
    for (;;) {
        socklen_t len = address_len != NULL ? *address_len : 0;
        int s = accept4(fd, address_len != NULL ? address : NULL, address_len != NULL ? &len : NULL,
                        SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (s >= 0) {
            if (address_len != NULL) *address_len = len;
            if (accepted_fd != NULL)
                *accepted_fd = s;
            else
                close(s);
            return ACO_BRIDGE_OK;
        }
        /* A connection that failed before it was accepted is not the listener's error. */
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (!would_block(errno)) return ACO_BRIDGE_ERROR;
        int status = io_wait(&c, fd, ACO_OP_WAIT_READ);
        if (status != ACO_BRIDGE_OK) return status;
    }
}

int aco_bridge_connect(int fd, const void* address, uint32_t address_len, int64_t timeout_ms) {
    io_call c = io_begin(fd, timeout_ms);
    if (c.status != ACO_BRIDGE_OK) return c.status;
    int r;
    do {
        r = connect(fd, address, address_len);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return ACO_BRIDGE_OK;
    if (errno != EINPROGRESS) return ACO_BRIDGE_ERROR;
    for (;;) {
        int status = io_wait(&c, fd, ACO_OP_WAIT_WRITE);
        if (status != ACO_BRIDGE_OK) return status;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, 0) == 0) continue; /* not yet: a readiness report from before */
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return ACO_BRIDGE_ERROR;
        if (err == 0) return ACO_BRIDGE_OK;
        errno = err;
        return ACO_BRIDGE_ERROR;
    }
}

/* recv/send on a socket, read/write on any other descriptor (a pipe). send
 * never raises SIGPIPE: a closed connection is EPIPE, an error like others. */
static ssize_t io_read(int fd, void* buffer, size_t length) {
    ssize_t r = recv(fd, buffer, length, 0);
    return r < 0 && errno == ENOTSOCK ? read(fd, buffer, length) : r;
}

static ssize_t io_write(int fd, const void* buffer, size_t length) {
    ssize_t r = send(fd, buffer, length, MSG_NOSIGNAL);
    return r < 0 && errno == ENOTSOCK ? write(fd, buffer, length) : r;
}

int aco_bridge_read(int fd, void* buffer, size_t length, int64_t timeout_ms, size_t* read_len) {
    if (read_len != NULL) *read_len = 0;
    io_call c = io_begin(fd, timeout_ms);
    if (c.status != ACO_BRIDGE_OK) return c.status;
    for (;;) {
        ssize_t r = io_read(fd, buffer, length);
        if (r > 0 || (r == 0 && length == 0)) {
            if (read_len != NULL) *read_len = (size_t)r;
            return ACO_BRIDGE_OK;
        }
        if (r == 0) return ACO_BRIDGE_CLOSED;
        if (errno == EINTR) continue;
        if (!would_block(errno)) return ACO_BRIDGE_ERROR;
        int status = io_wait(&c, fd, ACO_OP_WAIT_READ);
        if (status != ACO_BRIDGE_OK) return status;
    }
}

/* Writes until `length` bytes went out (all = 1) or some did (all = 0). */
static int write_some(int fd, const char* buffer, size_t length, int64_t timeout_ms, size_t* written,
                      int all) {
    size_t done = 0;
    if (written != NULL) *written = 0;
    io_call c = io_begin(fd, timeout_ms);
    if (c.status != ACO_BRIDGE_OK) return c.status;
    int status = ACO_BRIDGE_OK;
    while (done < length || (length == 0 && done == 0)) {
        ssize_t r = io_write(fd, buffer + done, length - done);
        if (r >= 0) {
            done += (size_t)r;
            if (!all || length == 0) break;
            continue;
        }
        if (errno == EINTR) continue;
        if (!would_block(errno)) {
            status = ACO_BRIDGE_ERROR;
            break;
        }
        if (!all && done > 0) break;
        status = io_wait(&c, fd, ACO_OP_WAIT_WRITE);
        if (status != ACO_BRIDGE_OK) break;
    }
    if (written != NULL) *written = done;
    return status;
}

int aco_bridge_write(int fd, const void* buffer, size_t length, int64_t timeout_ms, size_t* written) {
    return write_some(fd, buffer, length, timeout_ms, written, 0);
}

int aco_bridge_write_all(int fd, const void* buffer, size_t length, int64_t timeout_ms,
                         size_t* written) {
    return write_some(fd, buffer, length, timeout_ms, written, 1);
}

static inline uint8_t wait_op(int events) {
    return events == ACO_BRIDGE_POLL_IN    ? ACO_OP_WAIT_READ
           : events == ACO_BRIDGE_POLL_OUT ? ACO_OP_WAIT_WRITE
                                           : ACO_OP_WAIT_ANY;
}

int aco_bridge_wait(int fd, int events, int64_t timeout_ms, int* ready_events) {
    if (ready_events != NULL) *ready_events = 0;
    events &= ACO_BRIDGE_POLL_IN | ACO_BRIDGE_POLL_OUT;
    if (events == 0) {
        errno = EINVAL;
        return ACO_BRIDGE_ERROR;
    }
    io_call c = io_begin(fd, timeout_ms);
    if (c.status != ACO_BRIDGE_OK) return c.status;
    int status = io_wait(&c, fd, wait_op(events));
    if (status == ACO_BRIDGE_OK && ready_events != NULL) *ready_events = events;
    return status;
}

int aco_bridge_poll(int fd, int events, int64_t timeout_ms, int* ready_events) {
    if (ready_events != NULL) *ready_events = 0;
    events &= ACO_BRIDGE_POLL_IN | ACO_BRIDGE_POLL_OUT;
    if (events == 0) {
        errno = EINVAL;
        return ACO_BRIDGE_ERROR;
    }
    io_call c = io_begin(fd, timeout_ms);
    if (c.status != ACO_BRIDGE_OK) return c.status;
    uint8_t op = wait_op(events);
    for (;;) {
        /* Asked of the system each time: a readiness report can be older than the state. */
        struct pollfd p = {.fd = fd, .events = (short)events};
        int r = poll(&p, 1, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return ACO_BRIDGE_ERROR;
        if (r > 0) {
            if (p.revents & POLLNVAL) {
                errno = EBADF;
                return ACO_BRIDGE_ERROR;
            }
            int ready = p.revents & events;
            if (p.revents & (POLLERR | POLLHUP)) ready = events; /* the next call reports it */
            if (ready_events != NULL) *ready_events = ready;
            return ACO_BRIDGE_OK;
        }
        int status = io_wait(&c, fd, op);
        if (status != ACO_BRIDGE_OK) return status;
    }
}

int aco_bridge_shutdown(int fd, int how) {
    if (aco_task_of(aco_gtls_co) == NULL || aco_loop_running == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    int h = how == 0 ? SHUT_RD : how == 1 ? SHUT_WR : SHUT_RDWR;
    return shutdown(fd, h) == 0 ? ACO_BRIDGE_OK : ACO_BRIDGE_ERROR;
}

int aco_bridge_close(int fd) {
    aco_loop_t* loop = aco_loop_running;
    if (aco_task_of(aco_gtls_co) == NULL || loop == NULL) return ACO_BRIDGE_NOT_SCHEDULED;
    aco_poller_forget(loop, fd);
    /* Linux releases the descriptor also when close reports EINTR: never retry. */
    return close(fd) == 0 || errno == EINTR ? ACO_BRIDGE_OK : ACO_BRIDGE_ERROR;
}

#endif
