/*
 * Context switch for x86-64, System V AMD64 ABI, ELF, GNU as.
 *
 * Saved context (aco_t.reg, 9 slots of 8 bytes), offsets from the aco_t:
 *
 *   +--------+--------+--------+--------+--------+--------+--------+--------+
 *   |   0    |   8    |   16   |   24   |   32   |   40   |   48   |   56   |
 *   |  r12   |  r13   |  r14   |  r15   |  rip   |  rsp   |  rbx   |  rbp   |
 *   +--------+--------+--------+--------+--------+--------+--------+--------+
 *   |   64: x87 control word (16 bits) | 66: unused | 68: MXCSR (32 bits)  |
 *   +-----------------------------------------------------------------------+
 *
 * rip is the address execution continues at (the caller's return address, or
 * a new coroutine's entry function); rsp is the caller's stack pointer as it
 * is once acosw has returned. Only callee-saved state is switched (ABI 3.2.1):
 * rbx, rbp, r12-r15, rsp, the x87 control word and MXCSR's control bits.
 *
 * acosw also makes to_co the thread's current coroutine (aco_gtls_co).
 *
 * Branch prediction: acosw ends with an indirect jmp, never a ret. aco_resume
 * reaches acosw by a tail call, so the main coroutine's rip is the caller of
 * aco_resume itself; a round trip then executes no ret whose return-stack
 * prediction a stack switch would have made wrong.
 *
 * FPU control: MXCSR bits 0-5 are sticky exception flags, status rather than
 * context. Reloading MXCSR is expensive, so acosw reloads it only when the
 * control bits (6-15: DAZ, exception masks, rounding, FZ) of the two sides
 * differ, and the x87 control word only when it differs. Ordinary
 * floating-point code sets flags all the time; it never costs a reload.
 *
 * Reading MXCSR: stmxcsr is the one way to learn the leaving side's control
 * bits, and either side may have changed them since it last got control
 * (_mm_setcsr, fesetround), so every switch that keeps FPU state reads it.
 * Measured on AMD Zen 5: stmxcsr starts only once every older instruction has
 * retired, and a load of what it stored completes about 22 cycles later;
 * until then nothing younger retires, so the next switch's stmxcsr waits for
 * that load and for every instruction between the two. Each switch therefore
 * reads MXCSR as early as it can and compares it as late as it can: what runs
 * between the read and the compare costs nothing, what runs after the compare
 * (up to the next switch's read) is what that read waits for. aco_resume does the
 * leaving main coroutine's read before its own checks and enters at
 * aco_switch_fpu_saved_. On Intel cores the same read-back is cheap (about
 * 1 ns, measured on a Xeon), and the order does no harm.
 */

#if defined(__CET__)
#include <cet.h>
#else
#define _CET_ENDBR
#endif

/* MXCSR bits that are control state (everything except the 6 status flags). */
#define MXCSR_CONTROL_BITS 0xffc0
/* offsetof(aco_t, share_fpu_env): 1 when the coroutine shares the thread's
 * FPU control state (checked by a static assertion in aco.c). */
#define SHARE_FPU_ENV 89

    .text

/* void* acosw(aco_t* from_co, aco_t* to_co)
 *   rdi = from_co: where the current context is saved
 *   rsi = to_co:   the context to continue
 * Returns from_co in rax to the code that to_co resumes.
 *
 * Two more entries, for aco.c only (hidden; reached by a direct jmp):
 *   aco_switch_fpu_saved_  from_co's x87 control word and MXCSR are already
 *                          stored in its slot 8, and the FPU state is switched
 *                          (not both sides share the thread's);
 *   aco_switch_shared_     both sides share the thread's FPU state. */
    .globl  acosw
    .type   acosw, @function
    .globl  aco_switch_internal_    /* the same code, called from aco.c */
    .hidden aco_switch_internal_    /* without going through the PLT */
    .globl  aco_switch_fpu_saved_
    .hidden aco_switch_fpu_saved_
    .globl  aco_switch_shared_
    .hidden aco_switch_shared_
    .align  16
acosw:
aco_switch_internal_:
    _CET_ENDBR
    movzbl  SHARE_FPU_ENV(%rdi), %eax
    andb    SHARE_FPU_ENV(%rsi), %al
    jnz     aco_switch_shared_      /* both share the thread's FPU state */
    stmxcsr 68(%rdi)                /* save MXCSR (control bits and flags) */
    fnstcw  64(%rdi)                /* save x87 control word */
aco_switch_fpu_saved_:
    movq    (%rsp), %rdx            /* rdx = our return address */
    leaq    8(%rsp), %rcx           /* rcx = caller's rsp after we return */
    movq    %r12, 0(%rdi)           /* save r12 */
    movq    %r13, 8(%rdi)           /* save r13 */
    movq    %r14, 16(%rdi)          /* save r14 */
    movq    %r15, 24(%rdi)          /* save r15 */
    movq    %rdx, 32(%rdi)          /* save rip: where from_co continues */
    movq    %rcx, 40(%rdi)          /* save rsp */
    movq    %rbx, 48(%rdi)          /* save rbx */
    movq    %rbp, 56(%rdi)          /* save rbp */
    movzwl  64(%rsi), %eax          /* eax = to_co's x87 control word */
    cmpw    64(%rdi), %ax           /* (fnstcw's value reads back at once) */
    jne     .Lload_fpucw            /* differs: reload (rare) */
.Lfpucw_done:
    movq    0(%rsi), %r12           /* restore r12 */
    movq    8(%rsi), %r13           /* restore r13 */
    movq    16(%rsi), %r14          /* restore r14 */
    movq    24(%rsi), %r15          /* restore r15 */
    movq    40(%rsi), %rsp          /* restore rsp: now on to_co's stack */
    movq    48(%rsi), %rbx          /* restore rbx */
    movq    56(%rsi), %rbp          /* restore rbp */
    movq    aco_gtls_co@GOTTPOFF(%rip), %rax /* offset of aco_gtls_co (initial-exec TLS) */
    movq    %rsi, %fs:(%rax)        /* aco_gtls_co = to_co */
    movq    %rdi, %rax              /* return value: from_co */
    movl    68(%rsi), %ecx          /* ecx = to_co's MXCSR */
    xorl    68(%rdi), %ecx          /* ecx = bits that differ from ours (the late read-back) */
    testl   $MXCSR_CONTROL_BITS, %ecx
    jnz     .Lload_mxcsr            /* control bits differ: reload (rare) */
    jmpq    *32(%rsi)               /* continue at to_co's rip */
.Lload_fpucw:
    fldcw   64(%rsi)                /* to_co's x87 precision, rounding, masks */
    jmp     .Lfpucw_done
.Lload_mxcsr:
    ldmxcsr 68(%rsi)                /* to_co's rounding mode, masks, DAZ, FZ */
    jmpq    *32(%rsi)               /* continue at to_co's rip */

/* Both sides share the thread's FPU state: the same switch without it, kept
 * apart so that the path takes a single branch. */
    .align  16
aco_switch_shared_:
    movq    (%rsp), %rdx            /* rdx = our return address */
    leaq    8(%rsp), %rcx           /* rcx = caller's rsp after we return */
    movq    %r12, 0(%rdi)           /* save r12 */
    movq    %r13, 8(%rdi)           /* save r13 */
    movq    %r14, 16(%rdi)          /* save r14 */
    movq    %r15, 24(%rdi)          /* save r15 */
    movq    %rdx, 32(%rdi)          /* save rip: where from_co continues */
    movq    %rcx, 40(%rdi)          /* save rsp */
    movq    %rbx, 48(%rdi)          /* save rbx */
    movq    %rbp, 56(%rdi)          /* save rbp */
    movq    0(%rsi), %r12           /* restore r12 */
    movq    8(%rsi), %r13           /* restore r13 */
    movq    16(%rsi), %r14          /* restore r14 */
    movq    24(%rsi), %r15          /* restore r15 */
    movq    40(%rsi), %rsp          /* restore rsp: now on to_co's stack */
    movq    48(%rsi), %rbx          /* restore rbx */
    movq    56(%rsi), %rbp          /* restore rbp */
    movq    aco_gtls_co@GOTTPOFF(%rip), %rax /* offset of aco_gtls_co (initial-exec TLS) */
    movq    %rsi, %fs:(%rax)        /* aco_gtls_co = to_co */
    movq    %rdi, %rax              /* return value: from_co */
    jmpq    *32(%rsi)               /* continue at to_co's rip */
    .size   acosw, .-acosw

/* void aco_save_fpucw_mxcsr(void* p)
 *   rdi = p: 8 bytes; x87 control word at +0, MXCSR at +4 (same layout as
 *   slot 8 of aco_t.reg). */
    .globl  aco_save_fpucw_mxcsr
    .type   aco_save_fpucw_mxcsr, @function
    .align  16
aco_save_fpucw_mxcsr:
    _CET_ENDBR
    fnstcw  0(%rdi)                 /* x87 control word */
    stmxcsr 4(%rdi)                 /* MXCSR */
    ret
    .size   aco_save_fpucw_mxcsr, .-aco_save_fpucw_mxcsr

/* aco_funcp_protector_asm: the return address every entry function finds on
 * its share stack. Reached only when an entry function returns instead of
 * calling aco_exit(); rsp is then align_highptr, just above the slot that
 * holds this very address for every coroutine of the stack. */
    .globl  aco_funcp_protector_asm
    .type   aco_funcp_protector_asm, @function
    .align  16
aco_funcp_protector_asm:
    _CET_ENDBR
    andq    $-16, %rsp              /* ABI: rsp 16-byte aligned at a call */
    subq    $16, %rsp               /* keep the call's push off the shared slot */
    call    aco_funcp_protector@PLT /* ends the coroutine or aborts */
    ud2                             /* aco_funcp_protector never returns */
    .size   aco_funcp_protector_asm, .-aco_funcp_protector_asm

    .section .note.GNU-stack,"",%progbits
