/* sys/wait.h for the Windows build of the bench (mingw-w64). Windows has no
 * fork: the rows that need a fresh process report that they failed; the
 * smoke run, which runs everything in process, does not use them. */
#ifndef ACO_BENCH_WIN32_SYS_WAIT_H
#define ACO_BENCH_WIN32_SYS_WAIT_H
#include <errno.h>
#include <io.h>
#include <process.h>
#include <sys/types.h>

typedef int pid_t_aco_bench;
#define pid_t pid_t_aco_bench
static inline int fork(void) {
    errno = ENOSYS;
    return -1;
}
static inline int pipe(int fd[2]) { return _pipe(fd, 4096, 0); }
static inline int waitpid(int pid, int* status, int options) {
    (void)pid;
    (void)status;
    (void)options;
    errno = ECHILD;
    return -1;
}
#define WIFEXITED(s) 1
#define WEXITSTATUS(s) (s)
#endif
