/*
 * Context switch for AArch64, AAPCS64 (Procedure Call Standard for the Arm
 * 64-bit Architecture), ELF, GNU as.
 *
 * Saved context (aco_t.reg, 22 slots of 8 bytes), offsets from the aco_t:
 *
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   |   0   |   8   |  16   |  24   |  32   |  40   |  48   |  56   |
 *   |  x19  |  x20  |  x21  |  x22  |  x23  |  x24  |  x25  |  x26  |
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   |  64   |  72   |  80   |  88   |  96   |  104  |  112  |  120  |
 *   |  x27  |  x28  |  x29  |  pc   |  sp   |  d8   |  d9   |  d10  |
 *   +-------+-------+-------+-------+-------+-------+-------+-------+
 *   |  128  |  136  |  144  |  152  |  160  |  168  |
 *   |  d11  |  d12  |  d13  |  d14  |  d15  | fpcr  |
 *   +-------+-------+-------+-------+-------+-------+
 *
 * "pc" is where the context continues: the caller's return address (x30 at
 * the call), or for a new coroutine aco_entry_aarch64 below. Only what AAPCS64
 * 6.1.1 makes callee-saved is switched: x19-x28, fp (x29), sp, the low 64
 * bits of v8-v15 (d8-d15), and FPCR (rounding mode, exception trap enables,
 * flush-to-zero). FPSR holds sticky status flags: not context, not switched.
 * FPCR is written only when the two sides differ (a write can be costly).
 */

/* offsetof(aco_t, share_fpu_env) on AArch64 (checked by a static assertion in
 * aco.c): 1 when the coroutine shares the thread's FPU control state. */
#define SHARE_FPU_ENV 193

    .text

/* void* acosw(aco_t* from_co, aco_t* to_co)
 *   x0 = from_co: where the current context is saved
 *   x1 = to_co:   the context to continue
 * Returns from_co in x0 to the code that to_co resumes. */
    .globl  acosw
    .type   acosw, %function
    .globl  aco_switch_internal_    /* the same code, called from aco.c */
    .hidden aco_switch_internal_    /* without going through the PLT */
    .p2align 4
acosw:
aco_switch_internal_:
    mov     x9, sp                  /* x9 = sp (stp cannot store sp) */
    stp     x19, x20, [x0, #0]      /* save x19, x20 */
    stp     x21, x22, [x0, #16]     /* save x21, x22 */
    stp     x23, x24, [x0, #32]     /* save x23, x24 */
    stp     x25, x26, [x0, #48]     /* save x25, x26 */
    stp     x27, x28, [x0, #64]     /* save x27, x28 */
    stp     x29, x30, [x0, #80]     /* save fp, and lr as the resume pc */
    str     x9, [x0, #96]           /* save sp */
    stp     d8, d9, [x0, #104]      /* save d8, d9 */
    stp     d10, d11, [x0, #120]    /* save d10, d11 */
    stp     d12, d13, [x0, #136]    /* save d12, d13 */
    stp     d14, d15, [x0, #152]    /* save d14, d15 */
    ldrb    w10, [x0, #SHARE_FPU_ENV]
    ldrb    w11, [x1, #SHARE_FPU_ENV]
    and     w10, w10, w11
    cbnz    w10, 1f                 /* both share the thread's FPU state: skip */
    mrs     x10, fpcr               /* x10 = our FPCR */
    str     x10, [x0, #168]         /* save it */
    ldr     x11, [x1, #168]         /* x11 = to_co's FPCR */
    cmp     x10, x11
    b.eq    1f                      /* same: no write */
    msr     fpcr, x11               /* to_co's rounding mode, traps, FZ */
1:
    ldp     x19, x20, [x1, #0]      /* restore x19, x20 */
    ldp     x21, x22, [x1, #16]     /* restore x21, x22 */
    ldp     x23, x24, [x1, #32]     /* restore x23, x24 */
    ldp     x25, x26, [x1, #48]     /* restore x25, x26 */
    ldp     x27, x28, [x1, #64]     /* restore x27, x28 */
    ldp     x29, x30, [x1, #80]     /* restore fp; x30 = where to_co continues */
    ldr     x9, [x1, #96]
    mov     sp, x9                  /* restore sp: now on to_co's stack */
    ldp     d8, d9, [x1, #104]      /* restore d8, d9 */
    ldp     d10, d11, [x1, #120]    /* restore d10, d11 */
    ldp     d12, d13, [x1, #136]    /* restore d12, d13 */
    ldp     d14, d15, [x1, #152]    /* restore d14, d15 */
    mrs     x10, tpidr_el0          /* thread pointer */
    adrp    x11, :gottprel:aco_gtls_co
    ldr     x11, [x11, #:gottprel_lo12:aco_gtls_co] /* offset of aco_gtls_co (initial-exec TLS) */
    str     x1, [x10, x11]          /* aco_gtls_co = to_co */
    ret                             /* continue at x30 (x0 = from_co) */
    .size   acosw, .-acosw

/* void aco_save_fpucw_mxcsr(void* p): stores FPCR (64 bits) at p. */
    .globl  aco_save_fpucw_mxcsr
    .type   aco_save_fpucw_mxcsr, %function
    .p2align 4
aco_save_fpucw_mxcsr:
    mrs     x1, fpcr                /* FPCR */
    str     x1, [x0]
    ret
    .size   aco_save_fpucw_mxcsr, .-aco_save_fpucw_mxcsr

/* aco_entry_aarch64: where a new coroutine starts. aco_create puts the entry
 * function in the x19 slot; it is called with lr = aco_funcp_protector_asm,
 * so an entry function that returns reaches the protector. */
    .globl  aco_entry_aarch64
    .hidden aco_entry_aarch64
    .type   aco_entry_aarch64, %function
    .p2align 4
aco_entry_aarch64:
    adr     x30, .Lprotector        /* lr = the protector (this file, no PLT) */
    br      x19                     /* the entry function */
    .size   aco_entry_aarch64, .-aco_entry_aarch64

/* aco_funcp_protector_asm: reached when an entry function returns instead of
 * calling aco_exit(); sp is then the stack's 16-byte aligned top. */
    .globl  aco_funcp_protector_asm
    .type   aco_funcp_protector_asm, %function
    .p2align 4
aco_funcp_protector_asm:
.Lprotector:
    mov     x9, sp
    and     x9, x9, #-16            /* AAPCS64: sp 16-byte aligned */
    sub     sp, x9, #16
    bl      aco_funcp_protector     /* ends the coroutine or aborts */
    brk     #0                      /* aco_funcp_protector never returns */
    .size   aco_funcp_protector_asm, .-aco_funcp_protector_asm

    .section .note.GNU-stack,"",%progbits
