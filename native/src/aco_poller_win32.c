/*
 * aco_poller_win32.c - a loop's poller on Windows: the one place its thread
 * blocks (an auto-reset event that aco_loop_wake sets, so a wake-up that
 * comes before the wait is not lost). Socket waits are not supported here:
 * the bridge's socket calls answer ACO_BRIDGE_NOT_SUPPORTED before they wait.
 */
#include <errno.h>
#include <windows.h>

#include "aco_bridge.h"
#include "aco_loop_internal.h"

int aco_poller_init(aco_loop_t* loop) {
    loop->poll_fd = -1;
    loop->wake_fd = -1;
    loop->wake_event = CreateEventW(NULL, FALSE, FALSE, NULL);
    return loop->wake_event != NULL ? 0 : ENOMEM;
}

void aco_poller_close(aco_loop_t* loop) { CloseHandle(loop->wake_event); }

int aco_poller_watch(aco_loop_t* loop, int fd) {
    (void)loop;
    (void)fd;
    return ENOSYS;
}

int aco_poller_park(aco_loop_t* loop, aco_task_t* t) {
    aco_loop_answer_error(loop, t, ENOSYS);
    return 0;
}

void aco_poller_unpark(aco_loop_t* loop, aco_task_t* t) {
    (void)loop;
    (void)t;
}

size_t aco_poller_admit(aco_loop_t* loop, size_t quota) {
    (void)loop;
    (void)quota;
    return 0;
}

int aco_poller_wait(aco_loop_t* loop, int64_t timeout_ns) {
    DWORD ms = timeout_ns < 0                         ? INFINITE
               : timeout_ns >= (int64_t)0xfffffffe * 1000000 ? 0xfffffffe
                                                             : (DWORD)((timeout_ns + 999999) / 1000000);
    return WaitForSingleObject(loop->wake_event, ms) == WAIT_OBJECT_0;
}

void aco_poller_wake(aco_loop_t* loop) { SetEvent(loop->wake_event); }

void aco_poller_forget(aco_loop_t* loop, int fd) {
    (void)loop;
    (void)fd;
}

size_t aco_poller_list(aco_loop_t* loop, aco_task_t** out, size_t capacity) {
    (void)loop;
    (void)out;
    (void)capacity;
    return 0;
}
