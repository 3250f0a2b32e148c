/*
 * aco_dump.c - frames of suspended coroutines, deadlines, and holds that keep
 * tasks readable across the turns of a dump (see aco_dump.h).
 */
#include "aco_dump.h"

#include <stdlib.h>
#include <string.h>

#include "aco_loop_internal.h"
#include "aco_timer_heap.h"

#ifdef ACO_USE_VALGRIND
#include <valgrind/memcheck.h>
#endif

#define WORD sizeof(void*)

/* ---- frames ------------------------------------------------------------------ */

/* The live stack of a suspended coroutine, as the walk reads it. */
typedef struct {
    const aco_t* co;
    uintptr_t sp;   /* its saved stack pointer: the lowest live byte */
    uintptr_t top;  /* align_retptr: [sp, top) is what a switch saves and restores */
    uintptr_t high; /* align_highptr: [top, high) holds the stack's own return slot (x86), never copied */
    int saved;      /* another coroutine owns the share stack: [sp, top) is in the save stack */
} live_stack;

/* Reads the word at address a of the coroutine's stack, wherever its bytes are
 * now. 0 when a is not a word of the live stack. Not instrumented by ASan: a
 * suspended stack keeps its frames' redzones poisoned, and only the frame
 * records, which are never in a redzone, are read. */
aco_attr_no_asan static int read_word(const live_stack* s, uintptr_t a, uintptr_t* out) {
    if (a % WORD != 0 || a < s->sp || a > s->high - WORD) return 0;
    const uintptr_t* p;
    if (a >= s->top || !s->saved) {
        p = (const uintptr_t*)a;
    } else {
        size_t offset = a - s->sp;
        if (s->co->save_stack.valid_sz < WORD || offset > s->co->save_stack.valid_sz - WORD) return 0;
        p = (const uintptr_t*)((const char*)s->co->save_stack.ptr + offset);
    }
    uintptr_t value = *p;
#ifdef ACO_USE_VALGRIND
    /* A walk that went astray may read padding nobody wrote; it only compares it. */
    VALGRIND_MAKE_MEM_DEFINED(&value, sizeof value);
#endif
    *out = value;
    return 1;
}

size_t aco_get_frames(const aco_t* co, void** pcs, size_t max, int* end) {
    int why = ACO_FRAMES_NOT_SUSPENDED;
    size_t n = 0;
    if (co == NULL || co->main_co == NULL || co->is_end || co == aco_gtls_co || co->share_stack == NULL) goto done;
    const aco_share_stack_t* stack = co->share_stack;
    live_stack s = {co, (uintptr_t)co->reg[ACO_REG_IDX_SP], (uintptr_t)stack->align_retptr,
                    (uintptr_t)stack->align_highptr, stack->owner != co};
    if (s.sp == s.top) {
        why = ACO_FRAMES_NOT_STARTED;
        goto done;
    }
    why = ACO_FRAMES_BROKEN;
    if (s.sp < (uintptr_t)stack->ptr || s.sp > s.top || s.high < s.top) goto done; /* not a context of this stack */
    why = ACO_FRAMES_TRUNCATED;
    if (n == max) goto done;
    pcs[n++] = co->reg[ACO_REG_IDX_RETADDR];
#if defined(_WIN32) && defined(__x86_64__)
    why = ACO_FRAMES_UNSUPPORTED; /* rbp is no frame record here (aco_dump.h) */
    goto done;
#endif
    /* The frame pointer saved by the switch is the record of the function that
     * yielded; each record links to its caller's, higher up the stack. */
    uintptr_t fp = (uintptr_t)co->reg[ACO_REG_IDX_BP];
    uintptr_t floor = s.sp;
    for (;;) {
        if (fp == 0) { /* the entry function starts with no frame above it */
            why = ACO_FRAMES_COMPLETE;
            break;
        }
        uintptr_t next, ret;
        if (fp < floor || !read_word(&s, fp, &next) || !read_word(&s, fp + WORD, &ret)) {
            why = ACO_FRAMES_BROKEN;
            break;
        }
        if (ret == 0 || ret == (uintptr_t)aco_funcp_protector_asm) { /* the entry function's own record */
            why = ACO_FRAMES_COMPLETE;
            break;
        }
        if (n == max) {
            why = ACO_FRAMES_TRUNCATED;
            break;
        }
        pcs[n++] = (void*)ret;
        floor = fp + 2 * WORD; /* a caller's record lies above this one */
        fp = next;
    }
done:
    if (end != NULL) *end = why;
    return n;
}

size_t aco_task_frames(const aco_task_t* task, void** pcs, size_t max, int* end) {
    if (task->state == ACO_TASK_RUNNING) {
        if (end != NULL) *end = ACO_FRAMES_NOT_SUSPENDED;
        return 0;
    }
    return aco_get_frames(aco_task_co((aco_task_t*)task), pcs, max, end);
}

/* ---- deadlines ---------------------------------------------------------------- */

int64_t aco_loop_task_deadline(const aco_loop_t* loop, const aco_task_t* task) {
    if (task->state != ACO_TASK_WAITING) return ACO_LOOP_NEVER;
    switch (task->op) {
    case ACO_OP_SLEEP: {
        size_t index = (size_t)task->timer_slot - 1; /* timer_slot 0: not in the heap (wraps, fails below) */
        return index < loop->timers.count && loop->timers.entries[index].task == task
                   ? loop->timers.entries[index].due
                   : ACO_LOOP_NEVER;
    }
    case ACO_OP_WAIT_READ:
    case ACO_OP_WAIT_WRITE:
    case ACO_OP_WAIT_ANY:
        return task->value;
    default:
        return ACO_LOOP_NEVER;
    }
}

/* ---- holds -------------------------------------------------------------------- */

/* The tasks of a hold: an open-addressing set of pointers (NULL: empty slot),
 * at most half full. */
struct aco_hold {
    aco_task_t** slots;
    size_t mask; /* slots - 1, a power of two minus one */
    size_t count;
    aco_task_t* ended; /* held tasks released meanwhile, through next: destroyed at the end */
};

static inline size_t hold_hash(const aco_task_t* t, size_t mask) {
    uint64_t x = (uint64_t)(uintptr_t)t >> 4;
    return (size_t)((x * 0x9E3779B97F4A7C15ULL) >> 17) & mask;
}

static void hold_add(struct aco_hold* h, aco_task_t* t) {
    for (size_t i = hold_hash(t, h->mask);; i = (i + 1) & h->mask) {
        if (h->slots[i] == t) return;
        if (h->slots[i] == NULL) {
            h->slots[i] = t;
            h->count++;
            return;
        }
    }
}

static int hold_contains(const struct aco_hold* h, const aco_task_t* t) {
    for (size_t i = hold_hash(t, h->mask);; i = (i + 1) & h->mask) {
        if (h->slots[i] == t) return 1;
        if (h->slots[i] == NULL) return 0;
    }
}

size_t aco_loop_hold_begin(aco_loop_t* loop, aco_task_t* const* extra, size_t extra_count) {
    if (loop->hold != NULL) aco_loop_hold_end(loop);
    size_t most = (size_t)loop->stats.ready + loop->timers.count + (size_t)loop->stats.waiting_io + extra_count;
    size_t slots = 16;
    while (slots < 2 * most) slots *= 2;
    struct aco_hold* h = calloc(1, sizeof(*h));
    aco_assertalloc_ptr(h);
    h->slots = calloc(slots, sizeof(*h->slots));
    aco_assertalloc_ptr(h->slots);
    h->mask = slots - 1;
    for (aco_task_t* t = loop->head; t != NULL; t = t->next) hold_add(h, t);
    for (size_t i = 0; i < loop->timers.count; i++)
        if (loop->timers.entries[i].task != NULL) hold_add(h, loop->timers.entries[i].task);
    if (loop->stats.waiting_io != 0)
        for (size_t fd = 0; fd < loop->fd_capacity; fd++) {
            const aco_fd_state* st = &loop->fds[fd];
            aco_task_t* lists[3] = {st->readers, st->writers, st->any};
            for (int k = 0; k < 3; k++)
                for (aco_task_t* t = lists[k]; t != NULL; t = t->next) hold_add(h, t);
        }
    for (size_t i = 0; i < extra_count; i++)
        if (extra[i] != NULL) hold_add(h, extra[i]);
    loop->hold = h;
    return h->count;
}

size_t aco_loop_hold_next(aco_loop_t* loop, size_t* cursor, aco_task_t** out, size_t capacity) {
    const struct aco_hold* h = loop->hold;
    size_t n = 0;
    if (h == NULL) return 0;
    size_t i = *cursor;
    for (; i <= h->mask && n < capacity; i++)
        if (h->slots[i] != NULL) out[n++] = h->slots[i];
    *cursor = i;
    return n;
}

void aco_loop_hold_end(aco_loop_t* loop) {
    struct aco_hold* h = loop->hold;
    if (h == NULL) return;
    loop->hold = NULL;
    while (h->ended != NULL) {
        aco_task_t* t = h->ended;
        h->ended = t->next;
        aco_destroy(aco_task_co(t)); /* frees the control block too */
    }
    free(h->slots);
    free(h);
}

int aco_loop_hold_keep(aco_loop_t* loop, aco_task_t* t) {
    struct aco_hold* h = loop->hold;
    if (!hold_contains(h, t)) return 0;
    aco_t* co = aco_task_co(t);
    /* It is gone for everyone but the dump: it gives up its share stack now, as
     * aco_destroy would, and reads as ended. */
    if (co->share_stack->owner == co) {
        co->share_stack->owner = NULL;
        co->share_stack->align_validsz = 0;
    }
    co->is_end = 1;
    t->state = ACO_TASK_WAITING;
    t->next = h->ended;
    h->ended = t;
    return 1;
}
