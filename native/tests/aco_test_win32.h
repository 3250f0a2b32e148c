/* The POSIX parts of aco_test.h for Windows (mingw-w64, run under Wine or on
 * Windows): child processes without fork, their exit status, the page size.
 * Included by aco_test.h only. */
#ifndef ACO_TEST_WIN32_H
#define ACO_TEST_WIN32_H

#include <windows.h>

/* A child's exit code when the thread that ran fn was killed without ending
 * the process: Wine does this to a thread whose stack overflows into its
 * last page (it cannot dispatch the fault there), where Windows ends the
 * process with the exception code. Read as a fault (SIGSEGV). */
#define TEST_CHILD_THREAD_KILLED 0xE0AC0001u

static DWORD WINAPI test_child_thread(LPVOID fn) {
    ((void (*)(void))(uintptr_t)fn)();
    fflush(NULL);
    _exit(0);
}

/* Windows has no fork: test_run_child starts this program again with
 * ACO_TEST_CHILD set to fn's offset in the program's image (the same in the
 * child, whatever its load address), and the child runs fn from a
 * constructor, before main, on a thread of its own, then exits with 0. */
__attribute__((constructor)) static void test_child_start(void) {
    const char* s = getenv("ACO_TEST_CHILD");
    if (s == NULL || s[0] == 0) return;
    /* A fault ends the child with its exception code: no dialog, no debugger. */
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    uintptr_t fn = (uintptr_t)GetModuleHandleW(NULL) + (uintptr_t)strtoull(s, NULL, 16);
    HANDLE t = CreateThread(NULL, 0, test_child_thread, (LPVOID)fn, 0, NULL);
    if (t == NULL) _exit(2);
    WaitForSingleObject(t, INFINITE); /* returns only if the thread was killed */
    fflush(NULL);
    _exit((int)TEST_CHILD_THREAD_KILLED);
}

/* Runs fn in a child process with stderr sent to a pipe; returns its exit code
 * and copies up to cap-1 bytes of its stderr into err. */
static inline int test_run_child(void (*fn)(void), char* err, size_t cap) {
    char exe[MAX_PATH], offset[32];
    CHECK(GetModuleFileNameA(NULL, exe, sizeof exe) > 0);
    snprintf(offset, sizeof offset, "%llx",
             (unsigned long long)((uintptr_t)fn - (uintptr_t)GetModuleHandleW(NULL)));
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE rd, wr;
    CHECK(CreatePipe(&rd, &wr, &sa, 0));
    CHECK(SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0));
    STARTUPINFOA si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = wr;
    PROCESS_INFORMATION pi;
    fflush(stdout);
    fflush(stderr);
    CHECK(SetEnvironmentVariableA("ACO_TEST_CHILD", offset));
    /* Under Wine on a loaded machine, starting a process can fail now and
     * then and succeed when tried again: try a few times, a little longer
     * each time, and print each error so that a lasting failure says why. */
    BOOL started = FALSE;
    for (int attempt = 0; attempt < 5 && !started; attempt++) {
        if (attempt > 0) Sleep(100u << attempt);
        started = CreateProcessA(exe, NULL, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
        if (!started)
            fprintf(stderr, "CreateProcess failed (error %lu), attempt %d\n",
                    (unsigned long)GetLastError(), attempt + 1);
    }
    SetEnvironmentVariableA("ACO_TEST_CHILD", NULL);
    CHECK(started);
    CloseHandle(wr);
    size_t len = 0;
    DWORD r;
    while (len < cap - 1 && ReadFile(rd, err + len, (DWORD)(cap - 1 - len), &r, NULL) && r > 0)
        len += r;
    err[len] = 0;
    CloseHandle(rd);
    DWORD code = 0;
    CHECK(WaitForSingleObject(pi.hProcess, INFINITE) == WAIT_OBJECT_0);
    CHECK(GetExitCodeProcess(pi.hProcess, &code));
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    return (int)code;
}

/* The exit code read as a wait status: abort() exits with 3, a fault with its
 * exception code (access violation, stack overflow); anything else is an exit. */
static inline int test_win32_signal(int code) {
    switch ((unsigned)code) {
    case 3: return SIGABRT;
    case 0xC0000005u: /* EXCEPTION_ACCESS_VIOLATION */
    case 0xC00000FDu: /* EXCEPTION_STACK_OVERFLOW */
    case TEST_CHILD_THREAD_KILLED:
        return SIGSEGV;
    default: return 0;
    }
}
#define WIFSIGNALED(s) (test_win32_signal(s) != 0)
#define WTERMSIG(s) test_win32_signal(s)
#define WIFEXITED(s) (!WIFSIGNALED(s))
#define WEXITSTATUS(s) (s)

#define _SC_PAGESIZE 1
static inline long sysconf(int name) {
    (void)name;
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return (long)si.dwPageSize;
}

#endif
