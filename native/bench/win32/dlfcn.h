/* dlfcn.h for the Windows build of the bench (mingw-w64): dlopen and dlsym on
 * LoadLibrary and GetProcAddress, enough for aco_bench to load aco.dll and its
 * bodies the way a .NET process does. Only that build has this folder on its
 * include path. */
#ifndef ACO_BENCH_WIN32_DLFCN_H
#define ACO_BENCH_WIN32_DLFCN_H
#include <stdio.h>
#include <windows.h>

#define RTLD_NOW 2
#define RTLD_GLOBAL 0x100
#define RTLD_LOCAL 0

static inline void* dlopen(const char* path, int flags) {
    (void)flags;
    return (void*)LoadLibraryA(path);
}

static inline void* dlsym(void* lib, const char* name) {
    return (void*)(uintptr_t)GetProcAddress((HMODULE)lib, name);
}

static inline const char* dlerror(void) {
    static char msg[32];
    snprintf(msg, sizeof msg, "Windows error %lu", (unsigned long)GetLastError());
    return msg;
}
#endif
