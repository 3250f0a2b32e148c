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

#else
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

#endif

#endif
