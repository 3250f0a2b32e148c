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
 *   aco_bench copy [B]   only the copy-stack rows (only the one for B bytes)
 *   aco_bench churn      only the churn rows
 *   aco_bench switch     only the round-trip rows
 *   aco_bench loop       only the run-loop rows
 *   aco_bench floors     what fresh pages and a cold coroutine's destroy cost
 *                        with no library work (Linux; run it alone: a fresh heap)
 *   aco_bench memory N   only the RSS row for N coroutines (each library in a
 *                        fresh process)
 *
 * Anchors run the same rows in the same process, side by side with ours:
 * Boost.Context's jump_fcontext for the own-stack round trip (when the build
 * found libboost_context), and libaco 1.2.4 for everything libaco can do (when
 * the build was given its source: -DACO_BENCH_LIBACO_SOURCE=/path/to/libaco).
 * An anchor that is not there shows as "n/a".
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
#ifdef _WIN32 /* the Windows build adds bench/win32 (dlfcn.h, sys/wait.h) */
#include <psapi.h>
#endif

/* What every library under test provides: the libaco 1.2.4 API and the bench
 * bodies built against it. */
typedef struct {
    const char* name;
    void (*thread_init)(aco_cofuncp_t);
    aco_t* (*create)(aco_t*, aco_share_stack_t*, size_t, aco_cofuncp_t, void*);
    void (*resume)(aco_t*);
    void (*destroy)(aco_t*);
    aco_share_stack_t* (*share_stack_new)(size_t);
    void (*share_stack_destroy)(aco_share_stack_t*);
    aco_cofuncp_t yield_forever, yield_forever_with_stack;
    aco_t* main_co;
} core_t;

/* Ours: the core plus what only Aco.NET has. */
typedef struct {
    core_t core;
    void (*get_counters)(aco_counters_t*);
    void (*set_share_fpu_env)(int);
    aco_cofuncp_t yield_once_then_exit;
    void* (*loop_new)(aco_t*);
    void (*loop_add_stack)(void*, aco_share_stack_t*);
    void* (*loop_spawn)(void*, aco_cofuncp_t, void*, int64_t, size_t);
    size_t (*loop_run)(void*, size_t, void**, size_t);
    void (*loop_destroy)(void*);
    aco_cofuncp_t bridge_yield_forever;
} api_t;

static api_t api;
static core_t libaco;          /* the libaco anchor; name == NULL when absent */
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

/* lib: where the aco_* functions are; bodies: where the bench bodies are. */
static void load_core(core_t* c, const char* name, void* lib, void* bodies) {
    c->name = name;
    *(void**)&c->thread_init = must_sym(lib, "aco_thread_init");
    *(void**)&c->create = must_sym(lib, "aco_create");
    *(void**)&c->resume = must_sym(lib, "aco_resume");
    *(void**)&c->destroy = must_sym(lib, "aco_destroy");
    *(void**)&c->share_stack_new = must_sym(lib, "aco_share_stack_new");
    *(void**)&c->share_stack_destroy = must_sym(lib, "aco_share_stack_destroy");
    *(void**)&c->yield_forever = must_sym(bodies, "bench_yield_forever");
    *(void**)&c->yield_forever_with_stack = must_sym(bodies, "bench_yield_forever_with_stack");
}

static void load(void) {
    const char* libaco_path = getenv("ACO_LIBRARY") ? getenv("ACO_LIBRARY") : ACO_BENCH_LIBACO;
    void* aco = dlopen(libaco_path, RTLD_NOW | RTLD_GLOBAL);
    void* bodies = aco ? dlopen(ACO_BENCH_BODIES, RTLD_NOW) : NULL;
    if (aco == NULL || bodies == NULL) {
        fprintf(stderr, "aco_bench: dlopen failed: %s\n", dlerror());
        exit(2);
    }
    load_core(&api.core, "Aco.NET", aco, bodies);
    *(void**)&api.get_counters = must_sym(aco, "aco_get_counters");
    *(void**)&api.set_share_fpu_env = must_sym(aco, "aco_set_share_fpu_env");
    *(void**)&api.yield_once_then_exit = must_sym(bodies, "bench_yield_once_then_exit");
    *(void**)&api.loop_new = must_sym(aco, "aco_loop_new");
    *(void**)&api.loop_add_stack = must_sym(aco, "aco_loop_add_stack");
    *(void**)&api.loop_spawn = must_sym(aco, "aco_loop_spawn");
    *(void**)&api.loop_run = must_sym(aco, "aco_loop_run");
    *(void**)&api.loop_destroy = must_sym(aco, "aco_loop_destroy");
    *(void**)&api.bridge_yield_forever = must_sym(bodies, "bench_bridge_yield_forever");
#ifdef ACO_BENCH_ANCHOR_LIBACO
    /* libaco exports the same names as ours. RTLD_DEEPBIND makes its bodies
     * bind to the libaco they were linked with, not to ours (already global);
     * dlsym on this handle searches the bodies and then that libaco. */
    void* anchor = dlopen(ACO_BENCH_ANCHOR_LIBACO, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (anchor != NULL)
        load_core(&libaco, "libaco", anchor, anchor);
    else
        fprintf(stderr, "aco_bench: libaco anchor unavailable: %s\n", dlerror());
#endif
}

/* ---- Boost.Context fcontext, loaded by dlopen ------------------------------- */

typedef void* fctx_t;
typedef struct {
    fctx_t fctx;
    void* data;
} fctx_transfer_t; /* fcontext's transfer_t: returned in rax:rdx */
static fctx_transfer_t (*jump_fctx)(fctx_t to, void* vp);
static fctx_t (*make_fctx)(void* sp, size_t size, void (*fn)(fctx_transfer_t));

static int load_fcontext(void) {
#ifdef ACO_BENCH_FCONTEXT
    static int state; /* 0: not tried, 1: loaded, -1: unavailable */
    if (state == 0) {
        void* lib = dlopen(ACO_BENCH_FCONTEXT, RTLD_NOW | RTLD_LOCAL);
        if (lib != NULL) {
            *(void**)&jump_fctx = dlsym(lib, "jump_fcontext");
            *(void**)&make_fctx = dlsym(lib, "make_fcontext");
        }
        state = jump_fctx != NULL && make_fctx != NULL ? 1 : -1;
    }
    return state == 1;
#else
    return 0;
#endif
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long rss_bytes(void) {
#ifdef _WIN32 /* the working set: Windows' resident set */
    PROCESS_MEMORY_COUNTERS pmc;
    if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc)) exit(2);
    return (long)pmc.WorkingSetSize;
#else
    FILE* f = fopen("/proc/self/statm", "r");
    long pages_total = 0, pages_rss = 0;
    if (f == NULL || fscanf(f, "%ld %ld", &pages_total, &pages_rss) != 2) {
        fprintf(stderr, "aco_bench: cannot read /proc/self/statm\n");
        exit(2);
    }
    fclose(f);
    return pages_rss * sysconf(_SC_PAGESIZE);
#endif
}

#define NO_ANCHOR (-1.0)

/* One table row: ours, the anchor beside it (NO_ANCHOR: none for this row, or
 * unavailable on this machine) and ours / anchor. */
static void row(const char* what, const char* unit, double ours, const char* anchor_name,
                double anchor, const char* note) {
    char a[48] = "", ratio[16] = "";
    if (anchor_name != NULL && anchor >= 0) {
        snprintf(a, sizeof a, "%.1f %s (%s)", anchor, unit, anchor_name);
        snprintf(ratio, sizeof ratio, "%.2f×", ours / anchor);
    } else if (anchor_name != NULL) {
        snprintf(a, sizeof a, "n/a (%s)", anchor_name);
    }
    printf("| %-52s | %9.1f %-2s | %-22s | %-7s | %s |\n", what, ours, unit, a, ratio, note);
    fflush(stdout);
}

/* Ordinary floating-point work on main before each timed run: it raises MXCSR's
 * inexact flag, which a switch that reloads MXCSR whenever it differs (libaco's
 * default build) pays for, and which must cost nothing here (flags are not
 * context). */
static volatile double fp_sink = 1.0;
static inline void main_fp_work(void) { fp_sink = fp_sink / 3.0 + 0.1; }

static long round_trips(void) { return (quick ? 2000000 : 20000000) / (long)scale_down; }

/* Round trips are timed in slices, ours and the anchor alternating slice by
 * slice, and each side's figure is its fastest slice: what the code costs when
 * nothing else on this shared machine interferes. The slices also show the
 * anchor's phases: fcontext reloads MXCSR with ldmxcsr on every jump, and on
 * some Intel machines that loop turns many times slower after a millisecond or
 * so of switching. The fcontext row gives each side's median slice over its
 * fastest: interference from other processes raises both, a slow phase of
 * fcontext's raises its own alone (flagged when it is above SLOW_PHASE and
 * ours is not), next to the MXCSR that both fcontext contexts hold. */
#define ROUND_TRIP_SLICES 200
#define SLOW_PHASE 1.5

static long round_trip_slice(void) { return round_trips() / ROUND_TRIP_SLICES; }

/* MXCSR (x86-64), for the rows' notes; 0 elsewhere. */
static uint32_t read_mxcsr(void) {
    uint32_t v = 0;
#if defined(__x86_64__)
    __asm__ volatile("stmxcsr %0" : "=m"(v));
#endif
    return v;
}

/* Time per resume + yield of a coroutine alone on its stack, over n. */
static double time_round_trip(const core_t* c, aco_t* co, long n) {
    main_fp_work();
    double t0 = now_ns();
    for (long i = 0; i < n; i++) c->resume(co);
    return (now_ns() - t0) / (double)n;
}

/* fcontext: one jump there and one back, the context on its own stack. The
 * body records its MXCSR once, when it starts. */
static uint32_t fctx_body_mxcsr;
static void fctx_body(fctx_transfer_t t) {
    fctx_body_mxcsr = read_mxcsr();
    for (;;) t = jump_fctx(t.fctx, NULL);
}

static double time_fcontext_round_trip(fctx_t* ctx, long n) {
    main_fp_work();
    fctx_t to = *ctx;
    double t0 = now_ns();
    for (long i = 0; i < n; i++) to = jump_fctx(to, NULL).fctx;
    double dt = (now_ns() - t0) / (double)n;
    *ctx = to;
    return dt;
}

static int compare_double(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

/* The median of n slice times over the fastest (sorts them). */
static double median_over_fastest(double* t, int n) {
    qsort(t, (size_t)n, sizeof(double), compare_double);
    return t[n / 2] / t[0];
}

/* Round trips, ours and the anchor in alternating slices (see above).
 * Own FPU env against fcontext (which also keeps MXCSR and the x87 control
 * word per context); shared FPU env against libaco built to share it. */
static void bench_round_trip(int share_fpu_env) {
    api.set_share_fpu_env(share_fpu_env);
    aco_share_stack_t* s = api.core.share_stack_new(0);
    aco_t* co = api.core.create(api.core.main_co, s, 0, api.core.yield_forever, NULL);
    api.set_share_fpu_env(0);

    aco_share_stack_t* as = NULL;
    aco_t* aco = NULL;
    fctx_t fctx = NULL;
    void* fstack = NULL;
    const char* anchor_name = share_fpu_env ? "libaco" : "fcontext";
    int have_anchor = share_fpu_env ? libaco.name != NULL : load_fcontext();
    if (have_anchor && share_fpu_env) {
        as = libaco.share_stack_new(0);
        aco = libaco.create(libaco.main_co, as, 0, libaco.yield_forever, NULL);
    } else if (have_anchor) {
        /* Created once main's flags are what they stay during the slices:
         * fcontext's new context starts with the MXCSR it finds, so both of its
         * contexts hold the same value and each ldmxcsr rewrites the value
         * MXCSR already has (its fastest case). */
        main_fp_work();
        size_t sz = 256 * 1024;
        fstack = malloc(sz);
        fctx = make_fctx((char*)fstack + sz, sz, fctx_body);
        fctx = jump_fctx(fctx, NULL).fctx; /* the body starts and records its MXCSR */
    }
    long n = round_trip_slice();
    double ours[ROUND_TRIP_SLICES], anchor[ROUND_TRIP_SLICES];
    for (int i = 0; i < ROUND_TRIP_SLICES; i++) {
        ours[i] = time_round_trip(&api.core, co, n);
        if (have_anchor)
            anchor[i] = share_fpu_env ? time_round_trip(&libaco, aco, n) : time_fcontext_round_trip(&fctx, n);
    }
    double ours_spread = median_over_fastest(ours, ROUND_TRIP_SLICES);
    double anchor_spread = have_anchor ? median_over_fastest(anchor, ROUND_TRIP_SLICES) : 0;
    char note[320];
    if (share_fpu_env) {
        snprintf(note, sizeof note,
                 "fastest of %d slices of %ld, alternating; aco_set_share_fpu_env(1); libaco built "
                 "with ACO_CONFIG_SHARE_FPU_MXCSR_ENV",
                 ROUND_TRIP_SLICES, n);
        row("resume + yield round trip, FPU env shared", "ns", ours[0], anchor_name,
            have_anchor ? anchor[0] : NO_ANCHOR, note);
    } else {
        int len = snprintf(note, sizeof note, "fastest of %d slices of %ld, alternating; alone on its stack",
                           ROUND_TRIP_SLICES, n);
#if defined(__x86_64__)
        uint32_t co_mxcsr; /* as the coroutine last left it (slot 8, +4) */
        memcpy(&co_mxcsr, (const char*)&co->reg[ACO_REG_IDX_FPU] + 4, sizeof co_mxcsr);
        len += snprintf(note + len, sizeof note - (size_t)len, "; MXCSR main %#x, coroutine %#x",
                        (unsigned)read_mxcsr(), (unsigned)co_mxcsr);
#endif
        if (have_anchor)
            snprintf(note + len, sizeof note - (size_t)len,
                     "; fcontext: jump there and back, MXCSR %#x in both contexts; median/fastest "
                     "slice: ours %.2f, fcontext %.2f%s",
                     (unsigned)fctx_body_mxcsr, ours_spread, anchor_spread,
                     anchor_spread > SLOW_PHASE && ours_spread <= SLOW_PHASE ? " (fcontext: SLOW PHASE)"
                                                                             : "");
        row("resume + yield round trip, own FPU env (default)", "ns", ours[0], anchor_name,
            have_anchor ? anchor[0] : NO_ANCHOR, note);
    }
    api.core.destroy(co);
    api.core.share_stack_destroy(s);
    if (aco != NULL) {
        libaco.destroy(aco);
        libaco.share_stack_destroy(as);
    }
    free(fstack); /* the suspended fcontext is simply dropped */
}

/* The run loop (aco_loop.h) resuming `count` coroutines round-robin, each
 * doing plain aco_bridge_yield(): the C figure the .NET run loop is held to. */
static void bench_run_loop(size_t count, size_t stacks) {
    void* loop = api.loop_new(api.core.main_co);
    aco_share_stack_t** s = malloc(stacks * sizeof(*s));
    for (size_t i = 0; i < stacks; i++) {
        s[i] = api.core.share_stack_new(64 * 1024);
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
    row(what, "ns", best, NULL, NO_ANCHOR, note);
    api.loop_destroy(loop);
    for (size_t i = 0; i < stacks; i++) api.core.share_stack_destroy(s[i]);
    free(s);
}

/* Live stack overhead of bench_yield_forever_with_stack beyond its alloca. */
static size_t calibrate_stack_overhead(void) {
    aco_share_stack_t* s = api.core.share_stack_new(0);
    aco_t* co = api.core.create(api.core.main_co, s, 0, api.core.yield_forever_with_stack,
                                (void*)(uintptr_t)256);
    api.core.resume(co);
    size_t live = (uintptr_t)s->align_retptr - (uintptr_t)co->reg[ACO_REG_IDX_SP];
    api.core.destroy(co);
    api.core.share_stack_destroy(s);
    return live > 256 ? live - 256 : 0;
}

/* Many coroutines on one share stack, resumed round-robin: every resume saves
 * the previous owner's live stack and restores the next one's. Returns the time
 * per resume; *live gets the bytes copied each way (ours only: the field). */
static double time_copy_stack(const core_t* c, size_t count, size_t body, int bare, size_t loops,
                              size_t* live) {
    aco_share_stack_t* s = c->share_stack_new(0);
    aco_t** cos = malloc(count * sizeof(*cos));
    for (size_t i = 0; i < count; i++)
        cos[i] = c->create(c->main_co, s, 0, bare ? c->yield_forever : c->yield_forever_with_stack,
                           (void*)(uintptr_t)body);
    for (size_t i = 0; i < count; i++) c->resume(cos[i]); /* warm-up: all saved once */
    double t0 = now_ns();
    size_t done = 0;
    while (done < loops)
        for (size_t i = 0; i < count && done < loops; i++, done++) c->resume(cos[i]);
    double per = (now_ns() - t0) / (double)done;
    if (live != NULL) *live = cos[0]->save_stack.max_cpsz;
    for (size_t i = 0; i < count; i++) c->destroy(cos[i]);
    free(cos);
    c->share_stack_destroy(s);
    return per;
}

/* libaco's own method and counts (test_aco_benchmark.c); the libaco anchor
 * runs the same bodies right after ours. */
static void bench_copy_stack(size_t target, size_t overhead) {
    size_t count = target <= 512 ? 2000000 : target <= 1000 ? 1000000 : 100000;
    if (quick) count /= 20;
    count = count / scale_down > 0 ? count / scale_down : 1;
    if (getenv("ACO_BENCH_COPY_COUNT")) count = (size_t)atol(getenv("ACO_BENCH_COPY_COUNT"));
    size_t body = target > overhead ? target - overhead : 0;
    size_t loops = (quick ? 1000000 : (target <= 1000 ? 20000000 : 4000000)) / scale_down;
    size_t live = 0;
    double ours = time_copy_stack(&api.core, count, body, target == 0, loops, &live);
    double anchor = libaco.name != NULL
                        ? time_copy_stack(&libaco, count, body, target == 0, loops, NULL)
                        : NO_ANCHOR;
    char what[96], note[128];
    snprintf(what, sizeof what, "copy-stack round trip, %zu B live stack", live);
    snprintf(note, sizeof note, "target %zu B; %zu coroutines on one stack, round-robin", target, count);
    row(what, "ns", ours, "libaco", anchor, note);
}

/* Create all, destroy all (no resume), best of 3: the original create and
 * destroy rows. */
static void time_create_destroy(const core_t* c, size_t count, double* create, double* destroy) {
    aco_share_stack_t* s = c->share_stack_new(0);
    aco_t** cos = malloc(count * sizeof(*cos));
    *create = *destroy = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_ns();
        for (size_t i = 0; i < count; i++) cos[i] = c->create(c->main_co, s, 0, c->yield_forever, NULL);
        double t1 = now_ns();
        for (size_t i = 0; i < count; i++) c->destroy(cos[i]);
        double t2 = now_ns();
        if ((t1 - t0) / count < *create) *create = (t1 - t0) / count;
        if ((t2 - t1) / count < *destroy) *destroy = (t2 - t1) / count;
    }
    free(cos);
    c->share_stack_destroy(s);
}

static void bench_create_destroy(void) {
    size_t count = (quick ? 200000 : 2000000) / scale_down;
    double c, d, ac = NO_ANCHOR, ad = NO_ANCHOR;
    time_create_destroy(&api.core, count, &c, &d);
    if (libaco.name != NULL) time_create_destroy(&libaco, count, &ac, &ad);
    char note[96];
    snprintf(note, sizeof note, "%zu coroutines, 64 B initial save stack, best of 3", count);
    row("aco_create", "ns", c, "libaco", ac, note);
    row("aco_destroy", "ns", d, "libaco", ad, note);
}

/* ---- rows measured in fresh processes --------------------------------------- */

/* Replaces this process with `aco_bench ARGS...` (at most 3). A cross build's
 * program that this kernel cannot execute (i386 or AArch64 under qemu-user:
 * the exec fails with ENOEXEC) runs again under the emulator named by
 * ACO_BENCH_EMULATOR ("qemu-i386 -L /usr/i686-linux-gnu"), or else the one it
 * was built for. Returns only on failure. */
static void exec_self(const char* a0, const char* a1, const char* a2) {
    execl("/proc/self/exe", "aco_bench", a0, a1, a2, (char*)NULL);
#ifndef _WIN32
    const char* emulator = getenv("ACO_BENCH_EMULATOR");
#ifdef ACO_BENCH_EMULATOR
    if (emulator == NULL) emulator = ACO_BENCH_EMULATOR;
#endif
    char self[4096], words[512];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (emulator == NULL || n <= 0 || strlen(emulator) >= sizeof words) return;
    self[n] = 0;
    strcpy(words, emulator);
    char* argv[24];
    int argc = 0;
    for (char* w = strtok(words, " "); w != NULL && argc < 16; w = strtok(NULL, " ")) argv[argc++] = w;
    const char* rest[] = {self, a0, a1, a2};
    for (int i = 0; i < 4 && rest[i] != NULL; i++) argv[argc++] = (char*)rest[i];
    argv[argc] = NULL;
    if (argc > 0) execvp(argv[0], argv);
#endif
}

/* ---- churn: libaco's benchmark pattern, round after round ------------------
 * Each round creates `count` coroutines on one share stack (64 B initial save
 * stack), resumes each once (a copy each time) and destroys them all. Rounds
 * after the first reuse memory the first round freed: what a long-running
 * process that keeps spawning coroutines pays. Each library runs in a fresh
 * process, so neither inherits the other's heap. */

#define CHURN_ROUNDS 5
enum { CHURN_CREATE, CHURN_RESUME, CHURN_DESTROY, CHURN_PHASES };

static size_t churn_count(void) { return (quick ? 200000 : 2000000) / scale_down; }

/* t[round][phase]: ns per coroutine. */
static void time_churn(const core_t* c, double t[CHURN_ROUNDS][CHURN_PHASES]) {
    size_t count = churn_count();
    aco_share_stack_t* s = c->share_stack_new(0);
    aco_t** cos = malloc(count * sizeof(*cos));
    for (int r = 0; r < CHURN_ROUNDS; r++) {
        double t0 = now_ns();
        for (size_t i = 0; i < count; i++) cos[i] = c->create(c->main_co, s, 0, c->yield_forever, NULL);
        double t1 = now_ns();
        for (size_t i = 0; i < count; i++) c->resume(cos[i]);
        double t2 = now_ns();
        for (size_t i = 0; i < count; i++) c->destroy(cos[i]);
        double t3 = now_ns();
        t[r][CHURN_CREATE] = (t1 - t0) / (double)count;
        t[r][CHURN_RESUME] = (t2 - t1) / (double)count;
        t[r][CHURN_DESTROY] = (t3 - t2) / (double)count;
    }
    free(cos);
    c->share_stack_destroy(s);
}

/* Child side: `aco_bench churn-child ours|libaco` prints the figures. */
static int churn_child(const char* which) {
    const core_t* c = strcmp(which, "libaco") == 0 ? &libaco : &api.core;
    if (c->name == NULL) return 3;
    double t[CHURN_ROUNDS][CHURN_PHASES];
    time_churn(c, t);
    for (int r = 0; r < CHURN_ROUNDS; r++)
        printf("%.3f %.3f %.3f\n", t[r][CHURN_CREATE], t[r][CHURN_RESUME], t[r][CHURN_DESTROY]);
    return 0;
}

/* Runs the churn of `which` in a fresh process (in this one when smoke: an
 * emulator may not exec). Returns 0 if unavailable. */
static int run_churn(const char* which, int in_process, double t[CHURN_ROUNDS][CHURN_PHASES]) {
    if (in_process) {
        const core_t* c = strcmp(which, "libaco") == 0 ? &libaco : &api.core;
        if (c->name == NULL) return 0;
        time_churn(c, t);
        return 1;
    }
    int fd[2];
    if (pipe(fd) != 0) return 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        exec_self(quick ? "churn-child-quick" : "churn-child", which, NULL);
        _exit(127);
    }
    close(fd[1]);
    FILE* f = fdopen(fd[0], "r");
    int ok = f != NULL;
    for (int r = 0; ok && r < CHURN_ROUNDS; r++)
        ok = fscanf(f, "%lf %lf %lf", &t[r][0], &t[r][1], &t[r][2]) == 3;
    if (f != NULL) fclose(f);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        ok = 0;
    return ok;
}

/* Page-fault and bandwidth costs of round 1 vary by a third from one process
 * to the next on a virtual machine, so each library runs in several fresh
 * processes, alternately, and each figure is the median over them. */
#define CHURN_PROCESSES 5

static int compare_doubles(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static double median(double* v, int n) {
    qsort(v, (size_t)n, sizeof(*v), compare_doubles);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void bench_churn(int in_process) {
    int processes = in_process || quick ? 1 : CHURN_PROCESSES;
    double o[CHURN_PROCESSES][CHURN_ROUNDS][CHURN_PHASES], a[CHURN_PROCESSES][CHURN_ROUNDS][CHURN_PHASES];
    int have = 1;
    for (int k = 0; k < processes; k++) {
        if (!run_churn("ours", in_process, o[k])) {
            fprintf(stderr, "aco_bench: the churn rows failed\n");
            exit(2);
        }
        have = have && run_churn("libaco", in_process, a[k]);
    }
    static const char* phase[] = {"create", "resume (one copy each)", "destroy"};
    for (int p = 0; p < CHURN_PHASES; p++) {
        /* Round 1, then the mean of the later rounds and the worst of them. */
        double o1[CHURN_PROCESSES], a1[CHURN_PROCESSES], on[CHURN_PROCESSES], an[CHURN_PROCESSES];
        double ow = 0, aw = 0;
        for (int k = 0; k < processes; k++) {
            o1[k] = o[k][0][p];
            a1[k] = have ? a[k][0][p] : 0;
            on[k] = an[k] = 0;
            for (int r = 1; r < CHURN_ROUNDS; r++) {
                on[k] += o[k][r][p] / (CHURN_ROUNDS - 1);
                if (have) an[k] += a[k][r][p] / (CHURN_ROUNDS - 1);
                if (o[k][r][p] > ow) ow = o[k][r][p];
                if (have && a[k][r][p] > aw) aw = a[k][r][p];
            }
        }
        char what[96], note[200];
        snprintf(what, sizeof what, "churn %s, round 1", phase[p]);
        if (in_process)
            snprintf(note, sizeof note, "%zu coroutines per round, 64 B save stack, both in this process",
                     churn_count());
        else
            snprintf(note, sizeof note,
                     "%zu coroutines per round, 64 B save stack, median of %d fresh processes per library",
                     churn_count(), processes);
        row(what, "ns", median(o1, processes), "libaco", have ? median(a1, processes) : NO_ANCHOR, note);
        snprintf(what, sizeof what, "churn %s, rounds 2-%d", phase[p], CHURN_ROUNDS);
        if (have)
            snprintf(note, sizeof note, "mean of rounds 2-%d; worst round: ours %.1f, libaco %.1f",
                     CHURN_ROUNDS, ow, aw);
        else
            snprintf(note, sizeof note, "mean of rounds 2-%d; worst round: %.1f", CHURN_ROUNDS, ow);
        row(what, "ns", median(on, processes), "libaco", have ? median(an, processes) : NO_ANCHOR, note);
    }
}

/* ---- floors: what the machine charges, with no library work ---------------
 * Fresh pages: each is faulted in on first write, or populated beforehand with
 * one madvise per 64 KiB (what aco_create does for blocks into fresh memory).
 * A destroy of a cold coroutine: a function that only reads what aco_destroy
 * must read (main_co, share_stack and its owner, the save stack's pointer and
 * size, the prefix size) and stores one address, over coroutines created and
 * resumed once in this process, beside aco_destroy over the same ones. */

#if defined(__linux__) && !defined(_WIN32)
#include <sys/mman.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* ns per 4 KiB page to bring `bytes` of fresh anonymous memory in. */
static double time_fresh_pages(size_t bytes, size_t populate_window) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) exit(2);
    double t0 = now_ns();
    for (size_t off = 0; off < bytes; off += page) {
        if (populate_window != 0 && off % populate_window == 0 &&
            madvise(p + off, populate_window, MADV_POPULATE_WRITE) != 0)
            return -1; /* the kernel cannot (before 5.14) */
        p[off] = 1;
    }
    double t = (now_ns() - t0) / (double)(bytes / page);
    munmap(p, bytes);
    return t;
}

__attribute__((noinline)) static void destroy_shape(aco_t* co, void** out) {
    if (co->main_co == NULL) abort();
    size_t inline_bytes = co->save_stack.ptr == (void*)(co + 1) ? co->save_stack.sz : 0;
    *out = (char*)co - co->prefix_bytes + inline_bytes + (co->share_stack->owner == co);
}

static void bench_floors(void) {
    size_t count = churn_count();
    aco_share_stack_t* s = api.core.share_stack_new(0);
    aco_t** cos = malloc(count * sizeof(*cos));
    void** out = malloc(count * sizeof(*out));
    for (size_t i = 0; i < count; i++) out[i] = NULL;
    for (size_t i = 0; i < count; i++)
        cos[i] = api.core.create(api.core.main_co, s, 0, api.core.yield_forever, NULL);
    for (size_t i = 0; i < count; i++) api.core.resume(cos[i]);
    double t0 = now_ns();
    for (size_t i = 0; i < count; i++) destroy_shape(cos[i], &out[i]);
    double t1 = now_ns();
    for (size_t i = 0; i < count; i++) api.core.destroy(cos[i]);
    double t2 = now_ns();
    free(out);
    free(cos);
    api.core.share_stack_destroy(s);
    char note[96];
    snprintf(note, sizeof note, "%zu coroutines created and resumed once, in creation order", count);
    row("destroy floor: the reads and one store, cold", "ns", (t1 - t0) / (double)count, NULL, NO_ANCHOR, note);
    row("aco_destroy of the same coroutines", "ns", (t2 - t1) / (double)count, NULL, NO_ANCHOR, note);

    enum { ROUNDS = 3 };
    double fault[ROUNDS], populated[ROUNDS];
    size_t bytes = (quick ? 64 : 256) * ((size_t)1 << 20) / scale_down;
    for (int r = 0; r < ROUNDS; r++) { /* alternately: the host's cost drifts */
        fault[r] = time_fresh_pages(bytes, 0);
        populated[r] = time_fresh_pages(bytes, 64 * 1024);
    }
    snprintf(note, sizeof note, "%zu MiB of fresh memory, median of %d", bytes >> 20, ROUNDS);
    row("fresh page, faulted in by a write", "ns", median(fault, ROUNDS), NULL, NO_ANCHOR, note);
    if (populated[0] >= 0)
        row("fresh page, populated 64 KiB at a time", "ns", median(populated, ROUNDS), NULL, NO_ANCHOR, note);
}
#else
static void bench_floors(void) { fprintf(stderr, "aco_bench: floors need Linux\n"); }
#endif

/* RSS growth per coroutine of `c` with `count` coroutines alive, each having
 * yielded once (so each holds its saved stack), the pointer array included. */
static double memory_per_coroutine(const core_t* c, size_t count) {
    aco_share_stack_t* s = c->share_stack_new(0);
    long before = rss_bytes();
    aco_t** cos = malloc(count * sizeof(*cos));
    for (size_t i = 0; i < count; i++) cos[i] = c->create(c->main_co, s, 0, c->yield_forever, NULL);
    for (size_t i = 0; i < count; i++) c->resume(cos[i]);
    return (double)(rss_bytes() - before) / (double)count;
}

/* What one library's memory row needs: bytes per coroutine, and our counters. */
typedef struct {
    double per_coroutine;
    long long live, save_bytes;
} memory_t;

/* Child side: `aco_bench memory-child N ours|libaco` prints its memory_t. */
static int memory_child(size_t count, const char* which) {
    const core_t* c = strcmp(which, "libaco") == 0 ? &libaco : &api.core;
    if (c->name == NULL) return 3;
    double per = memory_per_coroutine(c, count);
    aco_counters_t k = {0};
    if (c == &api.core) api.get_counters(&k);
    printf("%.3f %lld %lld\n", per, (long long)k.live_coroutines, (long long)k.save_stack_bytes);
    return 0;
}

/* Measures `which` in a fresh process (a clean heap each), or in this one
 * (smoke). Returns 0 if unavailable. */
static int run_memory(const char* which, size_t count, int in_process, memory_t* m) {
    if (in_process) {
        const core_t* c = strcmp(which, "libaco") == 0 ? &libaco : &api.core;
        if (c->name == NULL) return 0;
        m->per_coroutine = memory_per_coroutine(c, count);
        aco_counters_t k = {0};
        api.get_counters(&k);
        m->live = k.live_coroutines;
        m->save_bytes = k.save_stack_bytes;
        return 1;
    }
    char arg[32];
    snprintf(arg, sizeof arg, "%zu", count);
    int fd[2];
    if (pipe(fd) != 0) return 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        exec_self("memory-child", arg, which);
        _exit(127);
    }
    close(fd[1]);
    FILE* f = fdopen(fd[0], "r");
    int ok = f != NULL && fscanf(f, "%lf %lld %lld", &m->per_coroutine, &m->live, &m->save_bytes) == 3;
    if (f != NULL) fclose(f);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        ok = 0;
    return ok;
}

/* The RSS row: ours, and libaco's beside it, each in a fresh process. */
static void bench_memory(size_t count, int in_process) {
    memory_t ours, anchor;
    if (!run_memory("ours", count, in_process, &ours)) {
        fprintf(stderr, "aco_bench: the memory row failed\n");
        exit(2);
    }
    int have = run_memory("libaco", count, in_process, &anchor);
    char what[96], note[192];
    snprintf(what, sizeof what, "RSS per coroutine, %zu alive", count);
    snprintf(note, sizeof note,
             "one yield each, 64 B save stack, pointer array included; %s; counters: %lld live, %lld "
             "save-stack bytes",
             in_process ? "both in this process" : "a fresh process each", ours.live, ours.save_bytes);
    row(what, "B", ours.per_coroutine, "libaco", have ? anchor.per_coroutine : NO_ANCHOR, note);
}

static void init_core(core_t* c) {
    if (c->name == NULL) return;
    c->thread_init(NULL);
    c->main_co = c->create(NULL, NULL, 0, NULL, NULL);
}

int main(int argc, char** argv) {
    const char* mode = argc > 1 ? argv[1] : "";
    int smoke = strcmp(mode, "smoke") == 0;
    quick = smoke || strcmp(mode, "quick") == 0 || strcmp(mode, "churn-child-quick") == 0;
    if (smoke) scale_down = 100;
    int only_copy = strcmp(mode, "copy") == 0;
    int only_churn = strcmp(mode, "churn") == 0;
    int only_switch = strcmp(mode, "switch") == 0;
    int only_loop = strcmp(mode, "loop") == 0;
    load();
    init_core(&api.core);
    init_core(&libaco);
    if (argc > 3 && strcmp(mode, "memory-child") == 0) return memory_child((size_t)atol(argv[2]), argv[3]);
    if (argc > 2 && strcmp(mode, "memory") == 0) {
        printf("| benchmark | ours | anchor | ours/anchor | notes |\n|---|---:|---:|---:|---|\n");
        bench_memory((size_t)atol(argv[2]), 0);
        return 0;
    }
    if (argc > 2 && strncmp(mode, "churn-child", 11) == 0) return churn_child(argv[2]);
    if (strcmp(mode, "floors") == 0) {
        printf("| benchmark | ours | anchor | ours/anchor | notes |\n|---|---:|---:|---:|---|\n");
        bench_floors();
        return 0;
    }

#ifdef _WIN32 /* say where the numbers come from: under Wine they are Wine numbers */
    const char* (*wine_version)(void) =
        (const char* (*)(void))(uintptr_t)GetProcAddress(GetModuleHandleA("ntdll.dll"), "wine_get_version");
    if (wine_version != NULL)
        printf("Windows x64 build under Wine %s: Wine numbers, not Windows ones.\n\n", wine_version());
    else
        printf("Windows x64 build.\n\n");
#endif
    printf("| benchmark | ours | anchor | ours/anchor | notes |\n|---|---:|---:|---:|---|\n");
    if (!only_copy && !only_churn) {
        if (!only_loop) {
            bench_round_trip(0);
            bench_round_trip(1);
        }
        if (only_switch) return 0;
        bench_run_loop(1, 1);
        bench_run_loop(1000, 1000);
        bench_run_loop((quick ? 10000 : 100000) / scale_down, 64);
        if (only_loop) return 0;
    }
    if (!only_churn) {
        size_t overhead = calibrate_stack_overhead();
        static const size_t sizes[] = {0, 64, 120, 256, 512, 1000, 2000, 4000, 8000};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            if (!only_copy || argc < 3 || (size_t)atol(argv[2]) == sizes[i])
                bench_copy_stack(sizes[i], overhead);
    }
    if (only_copy) return 0;
    if (!only_churn) bench_create_destroy();
    bench_churn(smoke);
    if (only_churn) return 0;
    bench_memory(smoke ? 100000 / scale_down : quick ? 100000 : 1000000, smoke);
    if (!quick) bench_memory(10000000, 0);
    return 0;
}
