/* aco_timer_heap.c - a loop's deadlines (see aco_timer_heap.h). */
#include "aco_timer_heap.h"

#include <stdlib.h>

#define ACO_TIMER_ARITY 4
#define ACO_TIMER_MIN_CAPACITY 16
#define ACO_TIMER_MIN_REBUILD 64 /* below this many entries, dead ones just wait for the top */

static inline void place(aco_timer_heap* h, size_t index, aco_timer_entry e) {
    h->entries[index] = e;
    if (e.task != NULL) e.task->timer_slot = (uint32_t)(index + 1);
}

static void sift_up(aco_timer_heap* h, size_t index, aco_timer_entry e) {
    while (index > 0) {
        size_t parent = (index - 1) / ACO_TIMER_ARITY;
        if (h->entries[parent].due <= e.due) break;
        place(h, index, h->entries[parent]);
        index = parent;
    }
    place(h, index, e);
}

static void sift_down(aco_timer_heap* h, size_t index, aco_timer_entry e) {
    for (;;) {
        size_t first = index * ACO_TIMER_ARITY + 1;
        if (first >= h->count) break;
        size_t last = first + ACO_TIMER_ARITY < h->count ? first + ACO_TIMER_ARITY : h->count;
        size_t least = first;
        for (size_t c = first + 1; c < last; c++)
            if (h->entries[c].due < h->entries[least].due) least = c;
        if (h->entries[least].due >= e.due) break;
        place(h, index, h->entries[least]);
        index = least;
    }
    place(h, index, e);
}

static void resize(aco_timer_heap* h, size_t capacity) {
    aco_timer_entry* entries = realloc(h->entries, capacity * sizeof(*entries));
    aco_assertalloc_ptr(entries);
    h->entries = entries;
    h->capacity = capacity;
}

/* Gives memory back once the heap has shrunk to a quarter of its array. */
static void shrink(aco_timer_heap* h) {
    if (h->capacity > ACO_TIMER_MIN_CAPACITY && h->count < h->capacity / 4)
        resize(h, h->capacity / 2 > ACO_TIMER_MIN_CAPACITY ? h->capacity / 2 : ACO_TIMER_MIN_CAPACITY);
}

static void remove_at(aco_timer_heap* h, size_t index) {
    aco_timer_entry last = h->entries[--h->count];
    if (index < h->count) {
        if (index > 0 && last.due < h->entries[(index - 1) / ACO_TIMER_ARITY].due)
            sift_up(h, index, last);
        else
            sift_down(h, index, last);
    }
    shrink(h);
}

void aco_timer_heap_add(aco_timer_heap* h, aco_task_t* task, int64_t due) {
    if (h->count == h->capacity)
        resize(h, h->capacity < ACO_TIMER_MIN_CAPACITY ? ACO_TIMER_MIN_CAPACITY : h->capacity * 2);
    sift_up(h, h->count++, (aco_timer_entry){.due = due, .task = task});
}

/* After a take: when only dead entries are left, they all go at once. */
static void drop_if_all_dead(aco_timer_heap* h) {
    if (h->dead == h->count && h->count != 0) {
        h->count = h->dead = 0;
        shrink(h);
    }
}

aco_task_t* aco_timer_heap_take_due(aco_timer_heap* h, int64_t now) {
    while (h->count != 0 && h->entries[0].due <= now) {
        aco_task_t* t = h->entries[0].task;
        if (t == NULL) h->dead--;
        remove_at(h, 0);
        if (t != NULL) {
            t->timer_slot = 0;
            drop_if_all_dead(h);
            return t;
        }
    }
    return NULL;
}

aco_task_t* aco_timer_heap_take_any(aco_timer_heap* h) {
    while (h->count != 0) {
        aco_task_t* t = h->entries[h->count - 1].task;
        if (t == NULL) h->dead--;
        remove_at(h, h->count - 1);
        if (t != NULL) {
            t->timer_slot = 0;
            drop_if_all_dead(h);
            return t;
        }
    }
    return NULL;
}

/* Rebuilds the heap from its live entries, in O(n). */
static void rebuild(aco_timer_heap* h) {
    size_t live = 0;
    for (size_t i = 0; i < h->count; i++)
        if (h->entries[i].task != NULL) h->entries[live++] = h->entries[i];
    h->count = live;
    h->dead = 0;
    for (size_t i = live; i-- > 0;) sift_down(h, i, h->entries[i]);
    shrink(h);
}

void aco_timer_heap_remove(aco_timer_heap* h, aco_task_t* task) {
    size_t index = task->timer_slot - 1;
    aco_assert(task->timer_slot != 0 && index < h->count && h->entries[index].task == task);
    task->timer_slot = 0;
    h->entries[index].task = NULL;
    h->dead++;
    if (h->dead == h->count) {
        drop_if_all_dead(h); /* nobody waits any more */
    } else if (h->dead > h->count - h->dead && h->count >= ACO_TIMER_MIN_REBUILD) {
        rebuild(h);
    }
}

void aco_timer_heap_free(aco_timer_heap* h) {
    free(h->entries);
    h->entries = NULL;
    h->count = h->dead = h->capacity = 0;
}
