/*
 * aco_timer_heap.h - a loop's deadlines: sleeps and socket-wait timeouts
 * (internal to the core).
 *
 * A 4-ary min-heap of (due, task) entries: four children a node halve the
 * depth of a binary heap, and with it the entries a sift moves (each a likely
 * cache miss at scale). Each task in the heap keeps its position
 * (aco_task_t.timer_slot = index + 1), so a removal finds it without a scan.
 *
 * A removal (a cancel, a socket that became ready first) is O(1): it marks the
 * entry dead (task NULL). Dead entries keep their due time and their place in
 * the order; they leave when they reach the top (a take drops them), when a
 * rebuild clears them (once they outnumber the live ones, so the array stays
 * within twice the live entries), or all at once when the last live entry
 * leaves. Removing each at once would cost a sift each; when tasks are
 * cancelled in due order, as a stop does, each sift would run the whole depth.
 * So the earliest due time may be a dead entry's: never later than the
 * earliest live one, which is all a timer needs (an early wake-up only waits
 * again).
 */
#ifndef ACO_TIMER_HEAP_H
#define ACO_TIMER_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "aco_loop.h"

typedef struct {
    int64_t due;
    aco_task_t* task; /* NULL: removed */
} aco_timer_entry;

typedef struct {
    aco_timer_entry* entries;
    size_t count;    /* entries, live and dead */
    size_t dead;     /* entries removed before their time */
    size_t capacity; /* entries allocated */
} aco_timer_heap;

/* Adds `task` with its deadline. */
void aco_timer_heap_add(aco_timer_heap* h, aco_task_t* task, int64_t due);

/* Takes the earliest live task if it is due at `now` (dropping dead entries
 * due by then), else NULL. */
aco_task_t* aco_timer_heap_take_due(aco_timer_heap* h, int64_t now);

/* Takes any live task, else NULL (for a stop). */
aco_task_t* aco_timer_heap_take_any(aco_timer_heap* h);

/* Removes `task` (which is in the heap) before its time. */
void aco_timer_heap_remove(aco_timer_heap* h, aco_task_t* task);

/* The live task at `index` of the entries, or NULL for a dead entry. */
static inline aco_task_t* aco_timer_heap_at(const aco_timer_heap* h, size_t index) {
    return h->entries[index].task;
}

/* No later than the earliest live deadline; ACO_LOOP_NEVER when empty. */
static inline int64_t aco_timer_heap_earliest(const aco_timer_heap* h) {
    return h->count == 0 ? ACO_LOOP_NEVER : h->entries[0].due;
}

static inline size_t aco_timer_heap_live(const aco_timer_heap* h) { return h->count - h->dead; }

/* Frees the entries (not the tasks). */
void aco_timer_heap_free(aco_timer_heap* h);

#endif
