/*
 * aco_dump.h - reading suspended coroutines without resuming them, for dumps.
 *
 * Frames: a suspended coroutine's saved context holds its stack pointer, its
 * frame pointer and the address it resumes at (aco_t.reg); the bytes of its
 * stack are on its share stack while it owns it, else in its save stack, where
 * an address a in [sp, align_retptr) is at save_stack.ptr + (a - sp). The walk
 * follows the frame-pointer chain through that mapping: each frame record is
 * two words, {the caller's frame pointer, the return address}, as x86-64,
 * i386 and AArch64 (AAPCS64 6.2.3) lay them out when code keeps frame
 * pointers (-fno-omit-frame-pointer). Every record is checked before it is
 * read (inside the live stack, aligned, above the one before), so a stack
 * whose code kept no frame pointers ends the walk early, never a fault.
 *
 * Windows x64: GCC points rbp into the middle of a frame (past the home area,
 * or further in a large frame, as its SEH unwind data allows), so rbp does not
 * lead to a frame record there; a walk gives where the coroutine resumes only
 * (ACO_FRAMES_UNSUPPORTED). Unwinding by the unwind data (RtlVirtualUnwind)
 * through a save-stack copy would be the way.
 *
 * Holds: a dump of many coroutines reads them in slices, one per turn of the
 * loop, so that no turn waits long; between slices coroutines end. A hold
 * keeps the memory of every task the loop had when it began: one that ends
 * meanwhile is destroyed when the hold ends, so a pointer taken at the start
 * stays readable. Without a hold nothing of this costs anything.
 *
 * Every function must be called on the loop's (the coroutine's) thread, while
 * no coroutine of it runs.
 */
#ifndef ACO_DUMP_H
#define ACO_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "aco.h"
#include "aco_loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How a walk ended (*end of aco_get_frames). */
enum {
    ACO_FRAMES_COMPLETE = 0,      /* reached the entry function's frame */
    ACO_FRAMES_TRUNCATED = 1,     /* more frames than `max` */
    ACO_FRAMES_BROKEN = 2,        /* a frame pointer that is no frame of this stack: code without frame pointers */
    ACO_FRAMES_NOT_STARTED = 3,   /* never resumed: no frames yet (it starts at aco_t.fp) */
    ACO_FRAMES_NOT_SUSPENDED = 4, /* a main coroutine, the running one, or one that ended */
    ACO_FRAMES_UNSUPPORTED = 5,   /* only where it resumes: this platform's frames do not chain (Windows x64) */
};

/* Copies the return addresses of a suspended coroutine's frames, innermost
 * first, into pcs (at most max): pcs[0] is where it resumes (in the function
 * that yielded), then one per caller. *end (may be NULL) says how the walk
 * ended. Returns how many it copied. */
ACO_EXPORT size_t aco_get_frames(const aco_t* co, void** pcs, size_t max, int* end);

/* aco_get_frames for a task of a run loop (ACO_FRAMES_NOT_SUSPENDED while it runs). */
ACO_EXPORT size_t aco_task_frames(const aco_task_t* task, void** pcs, size_t max, int* end);

/* When the task's wait ends by itself, on the loop's clock: a sleep's due
 * time, a descriptor wait's deadline; ACO_LOOP_NEVER for any other task. */
ACO_EXPORT int64_t aco_loop_task_deadline(const aco_loop_t* loop, const aco_task_t* task);

/* Begins a hold on every task the loop holds now (ready, asleep, on a
 * descriptor) and on the `extra_count` tasks at `extra` (those waiting for the
 * caller's answer, which the loop does not list). A hold already in place is
 * ended first. Returns how many tasks the hold keeps. */
ACO_EXPORT size_t aco_loop_hold_begin(aco_loop_t* loop, aco_task_t* const* extra, size_t extra_count);

/* Copies up to `capacity` of the held tasks into out, from *cursor on (0 at
 * first), and advances *cursor; 0 when all have been given. A held task that
 * has ended since the hold began is given too: its aco_t says is_end. */
ACO_EXPORT size_t aco_loop_hold_next(aco_loop_t* loop, size_t* cursor, aco_task_t** out, size_t capacity);

/* Ends the hold: the held tasks that ended meanwhile are destroyed now.
 * aco_loop_destroy_tasks and aco_loop_destroy end a hold themselves. */
ACO_EXPORT void aco_loop_hold_end(aco_loop_t* loop);

#ifdef __cplusplus
}
#endif

#endif /* ACO_DUMP_H */
