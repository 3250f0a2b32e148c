/* Small helpers shared by the C tests: checks that always run (also with
 * NDEBUG), a seeded PRNG, child-process runners and a scale factor that the
 * slow modes (ASan, valgrind) use to shrink loops. */
#ifndef ACO_TEST_H
#define ACO_TEST_H

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/wait.h>
#endif
#include <unistd.h>

#include "aco.h"

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

#define CHECK_EQ(a, b)                                                                   \
    do {                                                                                 \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                  \
        if (check_a_ != check_b_) {                                                      \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n", __FILE__, \
                    __LINE__, #a, #b, check_a_, check_b_);                               \
            exit(1);                                                                     \
        }                                                                                \
    } while (0)

/* ASan and valgrind runs set ACO_TEST_SLOW=1: loops shrink by this divisor. */
static inline int test_slow_divisor(void) {
    const char* s = getenv("ACO_TEST_SLOW");
    return (s != NULL && s[0] == '1') ? 10 : 1;
}

/* xorshift64*: deterministic, seeded. */
static inline uint64_t test_rand(uint64_t* state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

#ifdef _WIN32
#include "aco_test_win32.h"
#else
/* Runs fn in a forked child with stderr sent to a pipe; returns the raw wait
 * status and copies up to cap-1 bytes of the child's stderr into err. */
static inline int test_run_child(void (*fn)(void), char* err, size_t cap) {
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        fn();
        _exit(0);
    }
    close(fds[1]);
    /* Keep the first cap - 1 bytes and read the rest to the end: closing the
     * pipe early would kill a child still writing (SIGPIPE), e.g. in the
     * middle of a long AddressSanitizer report. */
    size_t len = 0;
    for (;;) {
        char rest[512];
        int full = len == cap - 1;
        ssize_t r = full ? read(fds[0], rest, sizeof rest) : read(fds[0], err + len, cap - 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (!full) len += (size_t)r;
    }
    err[len] = 0;
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) CHECK(errno == EINTR);
    return status;
}
#endif

static inline void test_check_counters_zero(void) {
    aco_counters_t c;
    aco_get_counters(&c);
    CHECK_EQ(c.live_coroutines, 0);
    CHECK_EQ(c.live_share_stacks, 0);
    CHECK_EQ(c.save_stack_bytes, 0);
}

#endif
