/*
 * Context switch for 32-bit x86 Windows, cdecl (the Microsoft x86 C calling
 * convention), PE/COFF, GNU as (mingw-w64).
 *
 * Saved context (aco_t.reg, 12 slots of 4 bytes), offsets from the aco_t:
 *
 *   +--------+--------+--------+--------+--------+--------+
 *   |   0    |   4    |   8    |   12   |   16   |   20   |
 *   |  eip   |  esp   |  ebp   |  edi   |  esi   |  ebx   |
 *   +--------+--------+--------+--------+--------+--------+
 *   |  24: x87 control word (16 bits) | 26: unused | 28: MXCSR (32 bits) |
 *   +--------+--------+--------+--------+---------------------------------+
 *   |   32   |   36   |   40   |   44   |
 *   | Excep- | Stack  | Stack  | Deallo-|   (TEB fields, see below)
 *   | tion-  |  Base  | Limit  | cation |
 *   |  List  |        |        | Stack  |
 *   +--------+--------+--------+--------+
 *
 * Slots 0-7 are those of the System V i386 file (libaco's indexes). Only
 * callee-saved state is switched: ebx, ebp, edi, esi, esp, the MXCSR control
 * bits and the x87 control word.
 *
 * TEB fields (NT_TIB at fs:0). fs:0x00 ExceptionList is the head of the
 * thread's chain of SEH registration records, which live in the frames that
 * installed them: each coroutine has its own chain (a new one starts empty,
 * 0xffffffff, so an exception nothing in the coroutine handles ends the
 * process). fs:0x04 StackBase, fs:0x08 StackLimit and fs:0xe0c
 * DeallocationStack are the current stack's bounds, which the exception
 * dispatcher checks every registration record against and
 * GetCurrentThreadStackLimits reports: a coroutine's are its share stack's
 * (set by aco_create, the same at every switch). FiberData (fs:0x10) is not
 * switched: a coroutine runs inside whatever fiber its thread is running.
 *
 * Thread-local aco_gtls_co: native TLS of this DLL (fs:0x2c holds the
 * thread's table of TLS blocks, __tls_index picks ours, @SECREL32 is the
 * variable's offset in the block).
 *
 * acosw ends with an indirect jmp, never a ret, and saves/reloads the FPU
 * control state only as the System V files do (see there).
 */

/* MXCSR bits that are control state (everything except the 6 status flags). */
#define MXCSR_CONTROL_BITS 0xffc0
/* offsetof(aco_t, share_fpu_env) with 12 context slots (checked by a static
 * assertion in aco.c). */
#define SHARE_FPU_ENV 57
/* NT_TIB offsets, and the TEB's TLS array pointer and DeallocationStack. */
#define TEB_EXCEPTION_LIST 0x00
#define TEB_STACK_BASE 0x04
#define TEB_STACK_LIMIT 0x08
#define TEB_TLS_POINTER 0x2c
#define TEB_DEALLOCATION_STACK 0xe0c

    .text

/* This object installs no SEH handler: safe for /SAFESEH images. */
    .globl  @feat.00
    .def    @feat.00; .scl 3; .type 0; .endef
    .set    @feat.00, 1

/* void* acosw(aco_t* from_co, aco_t* to_co)
 *   4(%esp) = from_co: where the current context is saved
 *   8(%esp) = to_co:   the context to continue
 * Returns from_co in eax to the code that to_co resumes. Exported symbols
 * carry cdecl's leading underscore (aco.h: ACO_ASM_NAME). */
    .globl  _acosw
    .def    _acosw; .scl 2; .type 32; .endef
    .globl  aco_switch_internal_    /* the same code, called from aco.c */
    .def    aco_switch_internal_; .scl 2; .type 32; .endef
    .p2align 4
_acosw:
aco_switch_internal_:
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
    movl    %fs:TEB_EXCEPTION_LIST, %ecx
    movl    %ecx, 32(%eax)          /* save TEB ExceptionList */
    movl    %fs:TEB_STACK_BASE, %ecx
    movl    %ecx, 36(%eax)          /* save TEB StackBase */
    movl    %fs:TEB_STACK_LIMIT, %ecx
    movl    %ecx, 40(%eax)          /* save TEB StackLimit */
    movl    %fs:TEB_DEALLOCATION_STACK, %ecx
    movl    %ecx, 44(%eax)          /* save TEB DeallocationStack */
    movl    __tls_index, %ecx       /* ecx = this DLL's TLS index */
    movl    %fs:TEB_TLS_POINTER, %ebx /* ebx (saved above) = the thread's TLS block table */
    movl    (%ebx,%ecx,4), %ecx     /* ecx = this DLL's TLS block */
    movl    %edx, aco_gtls_co@SECREL32(%ecx) /* aco_gtls_co = to_co */
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
    movl    32(%edx), %ecx
    movl    %ecx, %fs:TEB_EXCEPTION_LIST /* TEB ExceptionList = to_co's */
    movl    36(%edx), %ecx
    movl    %ecx, %fs:TEB_STACK_BASE /* TEB StackBase = to_co's */
    movl    40(%edx), %ecx
    movl    %ecx, %fs:TEB_STACK_LIMIT /* TEB StackLimit = to_co's */
    movl    44(%edx), %ecx
    movl    %ecx, %fs:TEB_DEALLOCATION_STACK /* TEB DeallocationStack = to_co's */
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

/* void aco_save_fpucw_mxcsr(void* p)
 *   4(%esp) = p: 8 bytes; x87 control word at +0, MXCSR at +4 (same layout as
 *   slots 6-7 of aco_t.reg). */
    .globl  _aco_save_fpucw_mxcsr
    .def    _aco_save_fpucw_mxcsr; .scl 2; .type 32; .endef
    .p2align 4
_aco_save_fpucw_mxcsr:
    movl    4(%esp), %eax           /* eax = p */
    fnstcw  0(%eax)                 /* x87 control word */
    stmxcsr 4(%eax)                 /* MXCSR */
    ret

/* aco_t** aco_gtls_co_addr(void): the address of this thread's aco_gtls_co.
 * A DLL cannot export a thread-local, so aco.h reaches it through this. */
    .globl  _aco_gtls_co_addr
    .def    _aco_gtls_co_addr; .scl 2; .type 32; .endef
    .p2align 4
_aco_gtls_co_addr:
    movl    __tls_index, %ecx       /* ecx = this DLL's TLS index */
    movl    %fs:TEB_TLS_POINTER, %eax /* eax = the thread's TLS block table */
    movl    (%eax,%ecx,4), %eax     /* eax = this DLL's TLS block */
    leal    aco_gtls_co@SECREL32(%eax), %eax /* eax = &aco_gtls_co */
    ret

/* aco_funcp_protector_asm: the return address every entry function finds on
 * its share stack. Reached only when an entry function returns instead of
 * calling aco_exit(); esp is then align_highptr, just above the slot that
 * holds this very address for every coroutine of the stack. */
    .globl  _aco_funcp_protector_asm
    .def    _aco_funcp_protector_asm; .scl 2; .type 32; .endef
    .p2align 4
_aco_funcp_protector_asm:
    andl    $-16, %esp              /* esp 16-byte aligned at the call */
    subl    $16, %esp               /* keep the call's push off the shared slot */
    calll   _aco_funcp_protector    /* ends the coroutine or aborts */
    ud2                             /* aco_funcp_protector never returns */

/* The exports of this file (C functions are exported by ACO_EXPORT). */
    .section .drectve
    .ascii  " -export:acosw -export:aco_save_fpucw_mxcsr -export:aco_gtls_co_addr"
    .ascii  " -export:aco_funcp_protector_asm"

/* aco_gtls_co: the running coroutine of this thread (in this DLL's TLS block). */
    .section .tls$,"dw"
    .p2align 2
aco_gtls_co:
    .long   0
