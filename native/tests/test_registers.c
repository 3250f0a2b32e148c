/* Callee-saved registers survive every switch, in both directions. An
 * assembly helper loads known values into all of them, calls the switch, and
 * reports what it finds afterwards; the other side meanwhile loads others. */
#include "aco_test.h"

#if defined(__x86_64__) && defined(_WIN32)
/* Microsoft x64: rbx, rbp, rdi, rsi, r12-r15, then xmm6-xmm15 (low, high). */
enum { NREGS = 28 };
/* void regs_call(void (*fn)(void*) rcx, void* arg rdx, uint64_t seed r8, uint64_t out[NREGS] r9) */
__asm__(
    ".text\n"
    ".globl regs_call\n"
    ".def regs_call; .scl 2; .type 32; .endef\n"
    "regs_call:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %rdi\n  pushq %rsi\n"
    "  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  subq $200, %rsp\n"          /* home area 32, out 8, xmm6-15 160: rsp 16-aligned */
    "  movq %r9, 32(%rsp)\n"
    "  movups %xmm6, 40(%rsp)\n  movups %xmm7, 56(%rsp)\n  movups %xmm8, 72(%rsp)\n"
    "  movups %xmm9, 88(%rsp)\n  movups %xmm10, 104(%rsp)\n  movups %xmm11, 120(%rsp)\n"
    "  movups %xmm12, 136(%rsp)\n  movups %xmm13, 152(%rsp)\n  movups %xmm14, 168(%rsp)\n"
    "  movups %xmm15, 184(%rsp)\n"
    "  movq %r8, %rbx\n  leaq 1(%r8), %rbp\n  leaq 2(%r8), %rdi\n  leaq 3(%r8), %rsi\n"
    "  leaq 4(%r8), %r12\n  leaq 5(%r8), %r13\n  leaq 6(%r8), %r14\n  leaq 7(%r8), %r15\n"
#define REGS_XMM(n, k) \
    "  leaq " #k "(%r8), %rax\n  movq %rax, %xmm" #n "\n" \
    "  leaq " #k "+1(%r8), %rax\n  movq %rax, %xmm0\n  punpcklqdq %xmm0, %xmm" #n "\n"
    REGS_XMM(6, 8) REGS_XMM(7, 10) REGS_XMM(8, 12) REGS_XMM(9, 14) REGS_XMM(10, 16)
    REGS_XMM(11, 18) REGS_XMM(12, 20) REGS_XMM(13, 22) REGS_XMM(14, 24) REGS_XMM(15, 26)
    "  movq %rcx, %rax\n  movq %rdx, %rcx\n"
    "  callq *%rax\n"
    "  movq 32(%rsp), %r9\n"
    "  movq %rbx, 0(%r9)\n  movq %rbp, 8(%r9)\n  movq %rdi, 16(%r9)\n  movq %rsi, 24(%r9)\n"
    "  movq %r12, 32(%r9)\n  movq %r13, 40(%r9)\n  movq %r14, 48(%r9)\n  movq %r15, 56(%r9)\n"
    "  movups %xmm6, 64(%r9)\n  movups %xmm7, 80(%r9)\n  movups %xmm8, 96(%r9)\n"
    "  movups %xmm9, 112(%r9)\n  movups %xmm10, 128(%r9)\n  movups %xmm11, 144(%r9)\n"
    "  movups %xmm12, 160(%r9)\n  movups %xmm13, 176(%r9)\n  movups %xmm14, 192(%r9)\n"
    "  movups %xmm15, 208(%r9)\n"
    "  movups 40(%rsp), %xmm6\n  movups 56(%rsp), %xmm7\n  movups 72(%rsp), %xmm8\n"
    "  movups 88(%rsp), %xmm9\n  movups 104(%rsp), %xmm10\n  movups 120(%rsp), %xmm11\n"
    "  movups 136(%rsp), %xmm12\n  movups 152(%rsp), %xmm13\n  movups 168(%rsp), %xmm14\n"
    "  movups 184(%rsp), %xmm15\n"
    "  addq $200, %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n"
    "  popq %rsi\n  popq %rdi\n  popq %rbx\n  popq %rbp\n"
    "  ret\n");
#elif defined(__x86_64__)
enum { NREGS = 6 }; /* rbx, rbp, r12, r13, r14, r15 */
/* void regs_call(void (*fn)(void*), void* arg, uint64_t seed, uint64_t out[NREGS]):
 * sets callee-saved register k to seed + k, calls fn(arg), stores them in out. */
__asm__(
    ".text\n"
    ".globl regs_call\n"
    ".type regs_call, @function\n"
    "regs_call:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  pushq %rcx\n"               /* out; 7 pushes keep rsp 16-byte aligned */
    "  movq %rdx, %rbx\n"
    "  leaq 1(%rdx), %rbp\n  leaq 2(%rdx), %r12\n  leaq 3(%rdx), %r13\n"
    "  leaq 4(%rdx), %r14\n  leaq 5(%rdx), %r15\n"
    "  movq %rdi, %rax\n  movq %rsi, %rdi\n"
    "  callq *%rax\n"
    "  popq %rcx\n"
    "  movq %rbx, 0(%rcx)\n  movq %rbp, 8(%rcx)\n  movq %r12, 16(%rcx)\n"
    "  movq %r13, 24(%rcx)\n  movq %r14, 32(%rcx)\n  movq %r15, 40(%rcx)\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
    "  ret\n"
    ".size regs_call, .-regs_call\n");
#elif defined(__i386__)
enum { NREGS = 4 }; /* ebx, ebp, esi, edi */
#ifdef _WIN32 /* cdecl's leading underscore; PE has no .type/.size */
#define REGS_CALL "_regs_call"
#define REGS_CALL_TYPE ""
#define REGS_CALL_SIZE ""
#else
#define REGS_CALL "regs_call"
#define REGS_CALL_TYPE ".type regs_call, @function\n"
#define REGS_CALL_SIZE ".size regs_call, .-regs_call\n"
#endif
/* Stack on entry: 4 fn, 8 arg, 12 seed (low word), 16 seed (high word), 20 out.
 * out[k] gets register k zero-extended. */
__asm__(
    ".text\n"
    ".globl " REGS_CALL "\n"
    REGS_CALL_TYPE
    REGS_CALL ":\n"
    "  pushl %ebp\n  pushl %ebx\n  pushl %esi\n  pushl %edi\n" /* arguments now at 20(%esp) */
    "  movl 20(%esp), %ecx\n  movl 24(%esp), %edx\n  movl 28(%esp), %eax\n"
    "  movl %eax, %ebx\n  leal 1(%eax), %ebp\n  leal 2(%eax), %esi\n  leal 3(%eax), %edi\n"
    "  subl $8, %esp\n  pushl %edx\n"                            /* esp 16-byte aligned at the call */
    "  call *%ecx\n"
    "  addl $12, %esp\n"
    "  movl 36(%esp), %eax\n"
    "  movl %ebx, 0(%eax)\n  movl $0, 4(%eax)\n  movl %ebp, 8(%eax)\n  movl $0, 12(%eax)\n"
    "  movl %esi, 16(%eax)\n  movl $0, 20(%eax)\n  movl %edi, 24(%eax)\n  movl $0, 28(%eax)\n"
    "  popl %edi\n  popl %esi\n  popl %ebx\n  popl %ebp\n"
    "  ret\n"
    REGS_CALL_SIZE);
#elif defined(__aarch64__)
enum { NREGS = 11 }; /* x19-x28, x29 */
__asm__(
    ".text\n"
    ".globl regs_call\n"
    ".type regs_call, %function\n"
    "regs_call:\n"
    "  stp x29, x30, [sp, #-112]!\n"
    "  stp x19, x20, [sp, #16]\n  stp x21, x22, [sp, #32]\n  stp x23, x24, [sp, #48]\n"
    "  stp x25, x26, [sp, #64]\n  stp x27, x28, [sp, #80]\n  str x3, [sp, #96]\n"
    "  add x19, x2, #0\n  add x20, x2, #1\n  add x21, x2, #2\n  add x22, x2, #3\n"
    "  add x23, x2, #4\n  add x24, x2, #5\n  add x25, x2, #6\n  add x26, x2, #7\n"
    "  add x27, x2, #8\n  add x28, x2, #9\n  mov x9, x0\n  mov x0, x1\n"
    "  add x29, x2, #10\n"
    "  blr x9\n"
    "  ldr x3, [sp, #96]\n"
    "  stp x19, x20, [x3, #0]\n  stp x21, x22, [x3, #16]\n  stp x23, x24, [x3, #32]\n"
    "  stp x25, x26, [x3, #48]\n  stp x27, x28, [x3, #64]\n  str x29, [x3, #80]\n"
    "  ldp x19, x20, [sp, #16]\n  ldp x21, x22, [sp, #32]\n  ldp x23, x24, [sp, #48]\n"
    "  ldp x25, x26, [sp, #64]\n  ldp x27, x28, [sp, #80]\n"
    "  ldp x29, x30, [sp], #112\n"
    "  ret\n"
    ".size regs_call, .-regs_call\n");
#endif

void regs_call(void (*fn)(void*), void* arg, uint64_t seed, uint64_t out[NREGS]);

/* Registers are pointer-sized: a 32-bit one holds the seed's low word. */
static void check_regs(const uint64_t* out, uint64_t seed) {
    for (int k = 0; k < NREGS; k++) CHECK(out[k] == (uintptr_t)(seed + (uint64_t)k));
}

static void do_resume(void* co) { aco_resume(co); }
static void do_yield(void* unused) {
    (void)unused;
    aco_yield();
}

enum { ROUNDS = 500 };

static void entry(void) {
    uint64_t out[NREGS];
    for (uint64_t i = 0; i < ROUNDS; i++) {
        uint64_t seed = 0xC0C00000C0C00000ULL + i * 64;
        regs_call(do_yield, NULL, seed, out);
        check_regs(out, seed);
    }
    aco_exit();
}

/* Many values live across resumes: the compiler keeps them in callee-saved
 * registers, so a clobbered register changes the sums. */
static void value_heavy_entry(void) {
    volatile uint64_t sink = 0;
    uint64_t a = 1, b = 2, c = 3, d = 5, e = 8, f = 13, g = 21, h = 34;
    for (int i = 0; i < ROUNDS; i++) {
        a += b; b ^= c; c += d * 3; d ^= e << 1; e += f; f ^= g >> 1; g += h; h ^= a;
        aco_yield();
    }
    sink = a + b + c + d + e + f + g + h;
    *(uint64_t*)aco_get_arg() = sink;
    aco_exit();
}

int main(void) {
    aco_thread_init(NULL);
    aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
    aco_share_stack_t* s = aco_share_stack_new(0);
    aco_t* co = aco_create(main_co, s, 0, entry, NULL);
    uint64_t out[NREGS];
    for (uint64_t i = 0; !co->is_end; i++) {
        uint64_t seed = 0x5EED00005EED0000ULL + i * 64;
        regs_call(do_resume, co, seed, out);
        check_regs(out, seed);
    }

    uint64_t got = 0;
    aco_t* heavy = aco_create(main_co, s, 0, value_heavy_entry, &got);
    uint64_t a = 1, b = 2, c = 3, d = 5, e = 8, f = 13, g = 21, h = 34;
    for (int i = 0; i < ROUNDS; i++) {
        a += b; b ^= c; c += d * 3; d ^= e << 1; e += f; f ^= g >> 1; g += h; h ^= a;
        aco_resume(heavy);
    }
    aco_resume(heavy);
    CHECK(heavy->is_end);
    CHECK(got == a + b + c + d + e + f + g + h);

    aco_destroy(co);
    aco_destroy(heavy);
    aco_share_stack_destroy(s);
    aco_destroy(main_co);
    test_check_counters_zero();
    puts("registers: ok");
    return 0;
}
