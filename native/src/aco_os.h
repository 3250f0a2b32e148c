/*
 * aco_os.h - the little the core needs of the operating system: the page
 * size, and memory for share stacks with a guard page below them.
 * Included once, by aco.c.
 */
#ifndef ACO_OS_H
#define ACO_OS_H

#include <stddef.h>

#ifdef _WIN32
#include <windows.h>

static inline size_t aco_os_page_size(void) {
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwPageSize;
}

/* bytes of committed read-write memory, or NULL. Committed whole: a share
 * stack never grows through PAGE_GUARD pages as a thread stack does. */
static inline void* aco_os_map(size_t bytes) {
    return VirtualAlloc(NULL, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
}

/* Makes [p, p + bytes) the guard: PAGE_NOACCESS, so that an overflow faults
 * (reads too, unlike the POSIX read-only page). Returns 0 on success. */
static inline int aco_os_guard(void* p, size_t bytes) {
    DWORD old;
    return VirtualProtect(p, bytes, PAGE_NOACCESS, &old) ? 0 : -1;
}

static inline int aco_os_unmap(void* p, size_t bytes) {
    (void)bytes;
    return VirtualFree(p, 0, MEM_RELEASE) ? 0 : -1;
}

/* Prefaulting a range in one call: not done here (see the POSIX side). -1:
 * cannot. */
static inline int aco_os_populate(void* p, size_t bytes) {
    (void)p;
    (void)bytes;
    return -1;
}

#else
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

static inline size_t aco_os_page_size(void) {
    long pgsz = sysconf(_SC_PAGESIZE);
    return pgsz > 0 ? (size_t)pgsz : 0;
}

static inline void* aco_os_map(size_t bytes) {
    void* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Read-only, as libaco's guard page: an overflow writes to it and faults. */
static inline int aco_os_guard(void* p, size_t bytes) { return mprotect(p, bytes, PROT_READ); }

static inline int aco_os_unmap(void* p, size_t bytes) { return munmap(p, bytes); }

/* Maps in every page of [p, p + bytes) as if written, without writing: one
 * system call instead of a page fault per page (measured here: a third less
 * time per page). The pages must belong to a mapping; their contents stay as
 * they are. Returns 0 when done, 1 when only partly (a range past the end of
 * its mapping), -1 when this system cannot (Linux before 5.14). */
static inline int aco_os_populate(void* p, size_t bytes) {
#if defined(__linux__)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
    if (madvise(p, bytes, MADV_POPULATE_WRITE) == 0) return 0;
    return errno == EINVAL ? -1 : 1;
#else
    (void)p;
    (void)bytes;
    return -1;
#endif
}

#endif

#endif
