/*
 * Context switch for 32-bit x86, System V i386 ABI (Intel386 psABI, with
 * Linux's 16-byte stack alignment), ELF, GNU as.
 *
 * Saved context (aco_t.reg, 8 slots of 4 bytes), offsets from the aco_t; the
 * slot indexes are libaco's (ACO_REG_IDX_RETADDR 0, _SP 1, _BP 2, _FPU 6):
 *
 *   +--------+--------+--------+--------+--------+--------+
 *   |   0    |   4    |   8    |   12   |   16   |   20   |
 *   |  eip   |  esp   |  ebp   |  edi   |  esi   |  ebx   |
 *   +--------+--------+--------+--------+--------+--------+
 *   |  24: x87 control word (16 bits) | 26: unused | 28: MXCSR (32 bits) |
 *   +--------------------------------------------------------------------+
 *
 * eip is the address execution continues at (the caller's return address, or
 * a new coroutine's entry function); esp is the caller's stack pointer as it
 * is once acosw has returned (pointing at acosw's arguments, which the caller
 * pops). Only callee-saved state is switched (psABI 2.2.1, "Registers"): ebx,
 * esi, edi, ebp, esp, the x87 control word and MXCSR's control bits. Like
 * libaco, the switch needs SSE (MXCSR): a Pentium III or later.
 *
 * acosw also makes to_co the thread's current coroutine (aco_gtls_co).
 *
 * Branch prediction: acosw ends with an indirect jmp, never a ret. aco_resume
 * reaches acosw by a tail call, so the main coroutine's eip is the caller of
 * aco_resume itself; a round trip then executes no ret whose return-stack
 * prediction a stack switch would have made wrong. The one call acosw makes
 * (to read its own address, for the GOT) returns to where it came from.
 *
 * FPU control: MXCSR bits 0-5 are sticky exception flags, status rather than
 * context. Reloading MXCSR is expensive, so acosw reloads it only when the
 * control bits (6-15: DAZ, exception masks, rounding, FZ) of the two sides
 * differ, and the x87 control word only when it differs. The x87 status word
 * (its flags and register stack top) is not saved: the psABI requires an empty
 * x87 register stack at every call, and acosw is called.
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
#define SHARE_FPU_ENV 41

    .text

/* void* acosw(aco_t* from_co, aco_t* to_co)
 *   4(%esp) = from_co: where the current context is saved
 *   8(%esp) = to_co:   the context to continue
 * Returns from_co in eax to the code that to_co resumes. */
    .globl  acosw
    .type   acosw, @function
    .globl  aco_switch_internal_     /* the same code, called from aco.c */
    .hidden aco_switch_internal_     /* without going through the PLT */
    .align  16
acosw:
aco_switch_internal_:
    _CET_ENDBR
    movl    4(%esp), %eax           /* eax = from_co (also the return value) */
    movl    8(%esp), %edx           /* edx = to_co */
    movl    (%esp), %ecx            /* ecx = our return address */
    movl    %ecx, 0(%eax)           /* save eip: where from_co continues */
    leal    4(%esp), %ecx           /* ecx = caller's esp after we return */
    movl    %ecx, 4(%eax)           /* save esp */
    movl    %ebp, 8(%eax)           /* save ebp */
    movl    %edi, 12(%eax)          /* save edi */
    movl    %esi, 16(%eax)          /* save esi */
    movl    %ebx, 20(%eax)          /* save ebx */
    call    .Lthunk_ecx             /* ecx = address of the next instruction */
    addl    $_GLOBAL_OFFSET_TABLE_, %ecx /* ecx = this library's GOT */
    movl    aco_gtls_co@GOTNTPOFF(%ecx), %ecx /* offset of aco_gtls_co (initial-exec TLS) */
    movl    %edx, %gs:(%ecx)        /* aco_gtls_co = to_co */
    movzbl  SHARE_FPU_ENV(%eax), %ecx
    andb    SHARE_FPU_ENV(%edx), %cl
    jnz     .Lfpu_done              /* both share the thread's FPU state: skip */
    fnstcw  24(%eax)                /* save x87 control word */
    stmxcsr 28(%eax)                /* save MXCSR (control bits and flags) */
    movl    28(%edx), %ecx          /* ecx = to_co's MXCSR */
    xorl    28(%eax), %ecx          /* ecx = bits that differ from ours */
    testl   $MXCSR_CONTROL_BITS, %ecx
    jnz     .Lload_mxcsr            /* control bits differ: reload (rare) */
.Lmxcsr_done:
    movzwl  24(%edx), %ecx          /* ecx = to_co's x87 control word */
    cmpw    24(%eax), %cx
    jne     .Lload_fpucw            /* differs: reload (rare) */
.Lfpu_done:
    movl    4(%edx), %esp           /* restore esp: now on to_co's stack */
    movl    8(%edx), %ebp           /* restore ebp */
    movl    12(%edx), %edi          /* restore edi */
    movl    16(%edx), %esi          /* restore esi */
    movl    20(%edx), %ebx          /* restore ebx */
    jmpl    *0(%edx)                /* continue at to_co's eip (eax = from_co) */
.Lload_mxcsr:
    ldmxcsr 28(%edx)                /* to_co's rounding mode, masks, DAZ, FZ */
    jmp     .Lmxcsr_done
.Lload_fpucw:
    fldcw   24(%edx)                /* to_co's x87 precision, rounding, masks */
    jmp     .Lfpu_done
.Lthunk_ecx:
    movl    (%esp), %ecx            /* ecx = the return address */
    ret                             /* back to the addl (keeps returns paired) */
    .size   acosw, .-acosw

/* void aco_save_fpucw_mxcsr(void* p)
 *   4(%esp) = p: 8 bytes; x87 control word at +0, MXCSR at +4 (same layout as
 *   slots 6-7 of aco_t.reg). */
    .globl  aco_save_fpucw_mxcsr
    .type   aco_save_fpucw_mxcsr, @function
    .align  16
aco_save_fpucw_mxcsr:
    _CET_ENDBR
    movl    4(%esp), %eax           /* eax = p */
    fnstcw  0(%eax)                 /* x87 control word */
    stmxcsr 4(%eax)                 /* MXCSR */
    ret
    .size   aco_save_fpucw_mxcsr, .-aco_save_fpucw_mxcsr

/* aco_funcp_protector_asm: the return address every entry function finds on
 * its share stack. Reached only when an entry function returns instead of
 * calling aco_exit(); esp is then align_highptr, just above the slot that
 * holds this very address for every coroutine of the stack. */
    .globl  aco_funcp_protector_asm
    .type   aco_funcp_protector_asm, @function
    .align  16
aco_funcp_protector_asm:
    _CET_ENDBR
    andl    $-16, %esp              /* psABI: esp 16-byte aligned at a call */
    subl    $16, %esp               /* keep the calls' pushes off the shared slot */
    call    .Lthunk_ebx             /* ebx = address of the next instruction */
    addl    $_GLOBAL_OFFSET_TABLE_, %ebx /* ebx = GOT: what a PLT call needs */
    call    aco_funcp_protector@PLT /* ends the coroutine or aborts */
    ud2                             /* aco_funcp_protector never returns */
.Lthunk_ebx:
    movl    (%esp), %ebx            /* ebx = the return address */
    ret
    .size   aco_funcp_protector_asm, .-aco_funcp_protector_asm

    .section .note.GNU-stack,"",%progbits
