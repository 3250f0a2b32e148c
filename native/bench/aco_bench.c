/*
 * aco_bench - the C benchmark of the native core.
 *
 * libaco.so and the coroutine bodies are loaded with dlopen, as a .NET process
 * loads them, so every figure includes what thread-local access and calls
 * across shared objects cost there. Prints a Markdown table.
 *
 *   aco_bench            all rows
 *   aco_bench quick      smaller counts
 *   aco_bench smoke      tiny counts: proves the bench runs (e.g. under qemu)
 *   aco_bench copy       only the copy-stack rows
 *   aco_bench memory N   only the RSS row for N coroutines
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aco.h"

typedef struct {
    void (*thread_init)(aco_cofuncp_t);
    aco_t* (*create)(aco_t*, aco_share_stack_t*, size_t, aco_cofuncp_t, void*);
    void (*resume)(aco_t*);
    void (*destroy)(aco_t*);
    aco_share_stack_t* (*share_stack_new)(size_t);
    void (*share_stack_destroy)(aco_share_stack_t*);
    void (*get_counters)(aco_counters_t*);
    void (*set_share_fpu_env)(int);
    aco_cofuncp_t yield_forever, yield_forever_with_stack, yield_once_then_exit;
    void* (*loop_new)(aco_t*);
    void (*loop_add_stack)(void*, aco_share_stack_t*);
    void* (*loop_spawn)(void*, aco_cofuncp_t, void*, int64_t, size_t);
    size_t (*loop_run)(void*, size_t, void**, size_t);
    void (*loop_destroy)(void*);
    aco_cofuncp_t bridge_yield_forever;
} api_t;

static api_t api;
static int quick;
static size_t scale_down = 1; /* smoke: every count divided by this */

static void* must_sym(void* lib, const char* name) {
    void* p = dlsym(lib, name);
    if (p == NULL) {
        fprintf(stderr, "aco_bench: %s not found: %s\n", name, dlerror());
        exit(2);
    }
    return p;
}

static void load(void) {
    const char* libaco = getenv("ACO_LIBRARY") ? getenv("ACO_LIBRARY") : ACO_BENCH_LIBACO;
    void* aco = dlopen(libaco, RTLD_NOW | RTLD_GLOBAL);
    void* bodies = aco ? dlopen(ACO_BENCH_BODIES, RTLD_NOW) : NULL;
    if (aco == NULL || bodies == NULL) {
        fprintf(stderr, "aco_bench: dlopen failed: %s\n", dlerror());
        exit(2);
    }
    *(void**)&api.thread_init = must_sym(aco, "aco_thread_init");
    *(void**)&api.create = must_sym(aco, "aco_create");
    *(void**)&api.resume = must_sym(aco, "aco_resume");
    *(void**)&api.destroy = must_sym(aco, "aco_destroy");
    *(void**)&api.share_stack_new = must_sym(aco, "aco_share_stack_new");
    *(void**)&api.share_stack_destroy = must_sym(aco, "aco_share_stack_destroy");
    *(void**)&api.get_counters = must_sym(aco, "aco_get_counters");
    *(void**)&api.set_share_fpu_env = must_sym(aco, "aco_set_share_fpu_env");
    *(void**)&api.yield_forever = must_sym(bodies, "bench_yield_forever");
    *(void**)&api.yield_forever_with_stack = must_sym(bodies, "bench_yield_forever_with_stack");
    *(void**)&api.yield_once_then_exit = must_sym(bodies, "bench_yield_once_then_exit");
    *(void**)&api.loop_new = must_sym(aco, "aco_loop_new");
    *(void**)&api.loop_add_stack = must_sym(aco, "aco_loop_add_stack");
    *(void**)&api.loop_spawn = must_sym(aco, "aco_loop_spawn");
    *(void**)&api.loop_run = must_sym(aco, "aco_loop_run");
    *(void**)&api.loop_destroy = must_sym(aco, "aco_loop_destroy");
    *(void**)&api.bridge_yield_forever = must_sym(bodies, "bench_bridge_yield_forever");
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long rss_bytes(void) {
    FILE* f = fopen("/proc/self/statm", "r");
    long pages_total = 0, pages_rss = 0;
    if (f == NULL || fscanf(f, "%ld %ld", &pages_total, &pages_rss) != 2) {
        fprintf(stderr, "aco_bench: cannot read /proc/self/statm\n");
        exit(2);
    }
    fclose(f);
    return pages_rss * sysconf(_SC_PAGESIZE);
}

static void row(const char* what, const char* unit, double value, const char* note) {
    printf("| %-52s | %10.1f %-5s | %s |\n", what, value, unit, note);
    fflush(stdout);
}

/* Ordinary floating-point work on main, so that its MXCSR exception flags
 * differ from the coroutine's: the case that costs libaco's default build. */
static volatile double fp_sink = 1.0;
static inline void main_fp_work(void) { fp_sink = fp_sink / 3.0 + 0.1; }

/* One resume + one yield of a coroutine alone on its stack. */
static void bench_round_trip(aco_t* main_co, int share_fpu_env) {
    api.set_share_fpu_env(share_fpu_env);
    aco_share_stack_t* s = api.share_stack_new(0);
    aco_t* co = api.create(main_co, s, 0, api.yield_forever, NULL);
    api.set_share_fpu_env(0);
    long n = (quick ? 2000000 : 20000000) / (long)scale_down;
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        main_fp_work();
        double t0 = now_ns();
        for (long i = 0; i < n; i++) api.resume(co);
        double dt = (now_ns() - t0) / (double)n;
        if (dt < best) best = dt;
    }
    if (share_fpu_env)
        row("resume + yield round trip, FPU env shared", "ns", best,
            "best of 5; aco_set_share_fpu_env(1): no MXCSR read per switch");
    else
        row("resume + yield round trip, own FPU env (default)", "ns", best,
            "best of 5; alone on its stack; main's MXCSR flags differ");
    api.destroy(co);
    api.share_stack_destroy(s);
}

/* The run loop (aco_loop.h) resuming `count` coroutines round-robin, each
 * doing plain aco_bridge_yield(): the C figure the .NET run loop is held to. */
static void bench_run_loop(aco_t* main_co, size_t count, size_t stacks) {
    void* loop = api.loop_new(main_co);
    aco_share_stack_t** s = malloc(stacks * sizeof(*s));
    for (size_t i = 0; i < stacks; i++) {
        s[i] = api.share_stack_new(64 * 1024);
        api.loop_add_stack(loop, s[i]);
    }
    for (size_t i = 0; i < count; i++) api.loop_spawn(loop, api.bridge_yield_forever, NULL, 0, 0);
    void* batch[16];
    size_t total = (quick ? 2000000 : 20000000) / scale_down;
    api.loop_run(loop, count, batch, 16); /* warm-up: every coroutine started */
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_ns();
        for (size_t done = 0; done < total; done += 4096) api.loop_run(loop, 4096, batch, 16);
        double dt = (now_ns() - t0) / (double)total;
        if (dt < best) best = dt;
    }
    char what[96], note[96];
    snprintf(what, sizeof what, "run loop, %zu ready coroutines, per switch", count);
    snprintf(note, sizeof note, "%zu share stacks; plain aco_bridge_yield(); best of 3", stacks);
    row(what, "ns", best, note);
    api.loop_destroy(loop);
    for (size_t i = 0; i < stacks; i++) api.share_stack_destroy(s[i]);
    free(s);
}

/* Live stack overhead of bench_yield_forever_with_stack beyond its alloca. */
static size_t calibrate_stack_overhead(aco_t* main_co) {
    aco_share_stack_t* s = api.share_stack_new(0);
    aco_t* co = api.create(main_co, s, 0, api.yield_forever_with_stack, (void*)(uintptr_t)256);
    api.resume(co);
    size_t live = (uintptr_t)s->align_retptr - (uintptr_t)co->reg[ACO_REG_IDX_SP];
    api.destroy(co);
    api.share_stack_destroy(s);
    return live > 256 ? live - 256 : 0;
}

/* Many coroutines on one share stack, resumed round-robin: every resume saves
 * the previous owner's live stack and restores the next one's. */
static void bench_copy_stack(aco_t* main_co, size_t target, size_t overhead) {
    size_t count = target <= 512 ? 2000000 : target <= 1000 ? 1000000 : 100000;
    if (quick) count /= 20;
    count = count / scale_down > 0 ? count / scale_down : 1;
    if (getenv("ACO_BENCH_COPY_COUNT")) count = (size_t)atol(getenv("ACO_BENCH_COPY_COUNT"));
    aco_share_stack_t* s = api.share_stack_new(0);
    aco_t** cos = malloc(count * sizeof(*cos));
    size_t body = target > overhead ? target - overhead : 0;
    for (size_t i = 0; i < count; i++)
        cos[i] = api.create(main_co, s, 0, target == 0 ? api.yield_forever : api.yield_forever_with_stack,
                            (void*)(uintptr_t)body);
    for (size_t i = 0; i < count; i++) api.resume(cos[i]); /* warm-up: all saved once */
    size_t loops = (quick ? 1000000 : (target <= 1000 ? 20000000 : 4000000)) / scale_down;
    double t0 = now_ns();
    size_t done = 0;
    while (done < loops)
        for (size_t i = 0; i < count && done < loops; i++, done++) api.resume(cos[i]);
    double per = (now_ns() - t0) / (double)done;
    char what[96], note[128];
    snprintf(what, sizeof what, "copy-stack round trip, %zu B live stack", cos[0]->save_stack.max_cpsz);
    snprintf(note, sizeof note, "target %zu B; %zu coroutines on one stack, round-robin", target, count);
    row(what, "ns", per, note);
    for (size_t i = 0; i < count; i++) api.destroy(cos[i]);
    free(cos);
    api.share_stack_destroy(s);
}

static void bench_create_destroy(aco_t* main_co) {
    size_t count = (quick ? 200000 : 2000000) / scale_down;
    aco_share_stack_t* s = api.share_stack_new(0);
    aco_t** cos = malloc(count * sizeof(*cos));
    double best_create = 1e30, best_destroy = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_ns();
        for (size_t i = 0; i < count; i++) cos[i] = api.create(main_co, s, 0, api.yield_forever, NULL);
        double t1 = now_ns();
        for (size_t i = 0; i < count; i++) api.destroy(cos[i]);
        double t2 = now_ns();
        if ((t1 - t0) / count < best_create) best_create = (t1 - t0) / count;
        if ((t2 - t1) / count < best_destroy) best_destroy = (t2 - t1) / count;
    }
    char note[96];
    snprintf(note, sizeof note, "%zu coroutines, 64 B initial save stack, best of 3", count);
    row("aco_create", "ns", best_create, note);
    row("aco_destroy", "ns", best_destroy, note);
    free(cos);
    api.share_stack_destroy(s);
}

/* RSS growth per coroutine with `count` coroutines alive, each having yielded
 * once (so each holds its saved stack), the pointer array included. */
static void bench_memory(size_t count) {
    aco_t* main_co = api.create(NULL, NULL, 0, NULL, NULL);
    aco_share_stack_t* s = api.share_stack_new(0);
    long before = rss_bytes();
    aco_t** cos = malloc(count * sizeof(*cos));
    for (size_t i = 0; i < count; i++) cos[i] = api.create(main_co, s, 0, api.yield_forever, NULL);
    for (size_t i = 0; i < count; i++) api.resume(cos[i]);
    long after = rss_bytes();
    aco_counters_t c;
    api.get_counters(&c);
    char what[96], note[192];
    snprintf(what, sizeof what, "RSS per coroutine, %zu alive", count);
    snprintf(note, sizeof note,
             "one yield each, 64 B save stack, pointer array included; counters: %lld live, %lld "
             "save-stack bytes",
             (long long)c.live_coroutines, (long long)c.save_stack_bytes);
    row(what, "B", (double)(after - before) / (double)count, note);
}

/* Runs `aco_bench memory count` as a fresh process: a clean heap. */
static void bench_memory_in_new_process(size_t count) {
    char arg[32];
    snprintf(arg, sizeof arg, "%zu", count);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", "aco_bench", "memory", arg, (char*)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "aco_bench: the memory row failed\n");
        exit(2);
    }
}

int main(int argc, char** argv) {
    int smoke = argc > 1 && strcmp(argv[1], "smoke") == 0;
    quick = smoke || (argc > 1 && strcmp(argv[1], "quick") == 0);
    if (smoke) scale_down = 100;
    int only_copy = argc > 1 && strcmp(argv[1], "copy") == 0;
    load();
    api.thread_init(NULL);
    if (argc > 2 && strcmp(argv[1], "memory") == 0) {
        bench_memory((size_t)atol(argv[2]));
        return 0;
    }
    aco_t* main_co = api.create(NULL, NULL, 0, NULL, NULL);

    printf("| benchmark | result | notes |\n|---|---:|---|\n");
    if (!only_copy) {
        bench_round_trip(main_co, 0);
        bench_round_trip(main_co, 1);
        bench_run_loop(main_co, 1, 1);
        bench_run_loop(main_co, 1000, 1000);
        bench_run_loop(main_co, (quick ? 10000 : 100000) / scale_down, 64);
    }
    size_t overhead = calibrate_stack_overhead(main_co);
    static const size_t sizes[] = {0, 64, 120, 256, 512, 1000, 2000, 4000, 8000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) bench_copy_stack(main_co, sizes[i], overhead);
    if (only_copy) return 0;
    bench_create_destroy(main_co);
    if (smoke)
        bench_memory(100000 / scale_down); /* in process: an emulator may not exec */
    else
        bench_memory_in_new_process(quick ? 100000 : 1000000);
    if (!quick) bench_memory_in_new_process(10000000);
    api.destroy(main_co);
    return 0;
}
