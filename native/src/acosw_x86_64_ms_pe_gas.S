/*
 * Context switch for x86-64, Microsoft x64 calling convention, PE/COFF,
 * GNU as (mingw-w64).
 *
 * Saved context (aco_t.reg, 34 slots of 8 bytes), offsets from the aco_t:
 *
 *   +--------+--------+--------+--------+--------+--------+--------+--------+
 *   |   0    |   8    |   16   |   24   |   32   |   40   |   48   |   56   |
 *   |  r12   |  r13   |  r14   |  r15   |  rip   |  rsp   |  rbx   |  rbp   |
 *   +--------+--------+--------+--------+--------+--------+--------+--------+
 *   | 64: x87 control word (16 bits) | 66: unused | 68: MXCSR (32 bits)     |
 *   +--------+--------+--------+--------+--------+--------+-----------------+
 *   |   72   |   80   |   88   |   96   |  104   |
 *   |  rdi   |  rsi   | Stack  | Stack  | Deallo-|
 *   |        |        |  Base  | Limit  | cation |   (TEB fields, see below)
 *   |        |        |        |        | Stack  |
 *   +--------+--------+--------+--------+--------+--------+--------+--------+
 *   |  112   |  128   |  144   |  160   |  176   |  192   |  208   |  224   |
 *   |  xmm6  |  xmm7  |  xmm8  |  xmm9  | xmm10  | xmm11  | xmm12  | xmm13  |
 *   +--------+--------+--------+--------+--------+--------+--------+--------+
 *   |  240   |  256   |   (each xmm slot is 16 bytes: two reg[] entries)
 *   | xmm14  | xmm15  |
 *   +--------+--------+
 *
 * Slots 0-8 are those of the System V file (ACO_REG_IDX_* are shared).
 * Only callee-saved ("nonvolatile") state is switched, as the Microsoft x64
 * calling convention defines it: rbx, rbp, rdi, rsi, rsp, r12-r15,
 * xmm6-xmm15, the MXCSR control bits and the x87 control word.
 *
 * TEB fields. Windows keeps the current thread's stack bounds in its TEB
 * (gs:0x08 StackBase, gs:0x10 StackLimit, gs:0x1478 DeallocationStack). The
 * unwinder checks every frame against StackLimit..StackBase while it
 * dispatches an exception or unwinds (RtlUnwindEx: longjmp, C++ and SEH
 * exceptions), MSVC's __chkstk compares with StackLimit, and
 * GetCurrentThreadStackLimits reports DeallocationStack..StackBase. A
 * coroutine runs on its share stack, so all three follow each switch: the
 * main coroutine's are saved when it leaves, a coroutine's are those of its
 * share stack (set by aco_create, the same at every switch). FiberData
 * (gs:0x20, the current fiber) is deliberately not switched: a coroutine
 * runs inside whatever fiber its thread is running, unlike a fiber of its
 * own. A share stack is committed whole (no PAGE_GUARD growth) and ends in
 * a PAGE_NOACCESS page.
 *
 * Thread-local aco_gtls_co: native TLS of this DLL (the PE TLS directory:
 * gs:0x58 holds the thread's table of TLS blocks, _tls_index picks ours,
 * @SECREL32 is the variable's offset in the block). Measured under Wine
 * here: a store through native TLS costs about 1 ns more than a store to a
 * global, through emulated TLS (__emutls_get_address) about 27 ns more.
 *
 * acosw ends with an indirect jmp, never a ret, and saves/reloads the FPU
 * control state only as the System V file does, in the same order (see there
 * why MXCSR is read first and compared last); r11 says whether it does.
 */

/* MXCSR bits that are control state (everything except the 6 status flags). */
#define MXCSR_CONTROL_BITS 0xffc0
/* offsetof(aco_t, share_fpu_env) with 34 context slots (checked by a static
 * assertion in aco.c). */
#define SHARE_FPU_ENV 289
/* TEB (NT_TIB) offsets of the stack bounds, and of the TLS array pointer. */
#define TEB_STACK_BASE 0x08
#define TEB_STACK_LIMIT 0x10
#define TEB_TLS_POINTER 0x58
#define TEB_DEALLOCATION_STACK 0x1478

    .text

/* void* acosw(aco_t* from_co, aco_t* to_co)
 *   rcx = from_co: where the current context is saved
 *   rdx = to_co:   the context to continue
 * Returns from_co in rax to the code that to_co resumes.
 *
 * Two more entries, for aco.c only (not exported):
 *   aco_switch_fpu_saved_  from_co's x87 control word and MXCSR are already
 *                          stored in its slot 8, and the FPU state is switched;
 *   aco_switch_shared_     both sides share the thread's FPU state. */
    .globl  acosw
    .def    acosw; .scl 2; .type 32; .endef
    .globl  aco_switch_internal_    /* the same code, called from aco.c */
    .def    aco_switch_internal_; .scl 2; .type 32; .endef
    .globl  aco_switch_fpu_saved_
    .def    aco_switch_fpu_saved_; .scl 2; .type 32; .endef
    .globl  aco_switch_shared_
    .def    aco_switch_shared_; .scl 2; .type 32; .endef
    .p2align 4
acosw:
aco_switch_internal_:
    movzbl  SHARE_FPU_ENV(%rcx), %r11d
    andb    SHARE_FPU_ENV(%rdx), %r11b /* r11 = 1 iff both share the thread's FPU state */
    jnz     .Lsaved                 /* both share: no FPU state to save */
    stmxcsr 68(%rcx)                /* save MXCSR (control bits and flags) */
    fnstcw  64(%rcx)                /* save x87 control word */
aco_switch_fpu_saved_:
    xorl    %r11d, %r11d            /* r11 = 0: the FPU state is switched */
.Lsaved:
    movq    (%rsp), %r8             /* r8 = our return address */
    leaq    8(%rsp), %r9            /* r9 = caller's rsp after we return */
    movq    %r12, 0(%rcx)           /* save r12 */
    movq    %r13, 8(%rcx)           /* save r13 */
    movq    %r14, 16(%rcx)          /* save r14 */
    movq    %r15, 24(%rcx)          /* save r15 */
    movq    %r8, 32(%rcx)           /* save rip: where from_co continues */
    movq    %r9, 40(%rcx)           /* save rsp */
    movq    %rbx, 48(%rcx)          /* save rbx */
    movq    %rbp, 56(%rcx)          /* save rbp */
    movq    %rdi, 72(%rcx)          /* save rdi */
    movq    %rsi, 80(%rcx)          /* save rsi */
    movq    %gs:TEB_STACK_BASE, %r8
    movq    %r8, 88(%rcx)           /* save TEB StackBase */
    movq    %gs:TEB_STACK_LIMIT, %r9
    movq    %r9, 96(%rcx)           /* save TEB StackLimit */
    movq    %gs:TEB_DEALLOCATION_STACK, %r10
    movq    %r10, 104(%rcx)         /* save TEB DeallocationStack */
    movups  %xmm6, 112(%rcx)        /* save xmm6 (unaligned store: a prefix */
    movups  %xmm7, 128(%rcx)        /* save xmm7  may leave the aco_t only */
    movups  %xmm8, 144(%rcx)        /* save xmm8  8-byte aligned) */
    movups  %xmm9, 160(%rcx)        /* save xmm9 */
    movups  %xmm10, 176(%rcx)       /* save xmm10 */
    movups  %xmm11, 192(%rcx)       /* save xmm11 */
    movups  %xmm12, 208(%rcx)       /* save xmm12 */
    movups  %xmm13, 224(%rcx)       /* save xmm13 */
    movups  %xmm14, 240(%rcx)       /* save xmm14 */
    movups  %xmm15, 256(%rcx)       /* save xmm15 */
    testb   %r11b, %r11b
    jnz     .Lfpucw_done            /* both share the thread's FPU state: skip */
    movzwl  64(%rdx), %eax          /* eax = to_co's x87 control word */
    cmpw    64(%rcx), %ax
    jne     .Lload_fpucw            /* differs: reload (rare) */
.Lfpucw_done:
    movups  112(%rdx), %xmm6        /* restore xmm6 */
    movups  128(%rdx), %xmm7        /* restore xmm7 */
    movups  144(%rdx), %xmm8        /* restore xmm8 */
    movups  160(%rdx), %xmm9        /* restore xmm9 */
    movups  176(%rdx), %xmm10       /* restore xmm10 */
    movups  192(%rdx), %xmm11       /* restore xmm11 */
    movups  208(%rdx), %xmm12       /* restore xmm12 */
    movups  224(%rdx), %xmm13       /* restore xmm13 */
    movups  240(%rdx), %xmm14       /* restore xmm14 */
    movups  256(%rdx), %xmm15       /* restore xmm15 */
    movq    88(%rdx), %r8
    movq    %r8, %gs:TEB_STACK_BASE /* TEB StackBase = to_co's */
    movq    96(%rdx), %r9
    movq    %r9, %gs:TEB_STACK_LIMIT /* TEB StackLimit = to_co's */
    movq    104(%rdx), %r10
    movq    %r10, %gs:TEB_DEALLOCATION_STACK /* TEB DeallocationStack = to_co's */
    movq    0(%rdx), %r12           /* restore r12 */
    movq    8(%rdx), %r13           /* restore r13 */
    movq    16(%rdx), %r14          /* restore r14 */
    movq    24(%rdx), %r15          /* restore r15 */
    movq    40(%rdx), %rsp          /* restore rsp: now on to_co's stack */
    movq    48(%rdx), %rbx          /* restore rbx */
    movq    56(%rdx), %rbp          /* restore rbp */
    movq    72(%rdx), %rdi          /* restore rdi */
    movq    80(%rdx), %rsi          /* restore rsi */
    movl    _tls_index(%rip), %eax  /* eax = this DLL's TLS index */
    movq    %gs:TEB_TLS_POINTER, %r8 /* r8 = the thread's TLS block table */
    movq    (%r8,%rax,8), %r8       /* r8 = this DLL's TLS block */
    movq    %rdx, aco_gtls_co@SECREL32(%r8) /* aco_gtls_co = to_co */
    movq    %rcx, %rax              /* return value: from_co */
    testb   %r11b, %r11b
    jnz     .Lcontinue              /* both share the thread's FPU state */
    movl    68(%rdx), %r9d          /* r9d = to_co's MXCSR */
    xorl    68(%rcx), %r9d          /* r9d = bits that differ from ours (the late read-back) */
    testl   $MXCSR_CONTROL_BITS, %r9d
    jnz     .Lload_mxcsr            /* control bits differ: reload (rare) */
.Lcontinue:
    jmpq    *32(%rdx)               /* continue at to_co's rip */
.Lload_fpucw:
    fldcw   64(%rdx)                /* to_co's x87 precision, rounding, masks */
    jmp     .Lfpucw_done
.Lload_mxcsr:
    ldmxcsr 68(%rdx)                /* to_co's rounding mode, masks, DAZ, FZ */
    jmpq    *32(%rdx)               /* continue at to_co's rip */
aco_switch_shared_:
    movl    $1, %r11d               /* r11 = 1: both share the thread's FPU state */
    jmp     .Lsaved

/* void aco_save_fpucw_mxcsr(void* p)
 *   rcx = p: 8 bytes; x87 control word at +0, MXCSR at +4 (same layout as
 *   slot 8 of aco_t.reg). */
    .globl  aco_save_fpucw_mxcsr
    .def    aco_save_fpucw_mxcsr; .scl 2; .type 32; .endef
    .p2align 4
aco_save_fpucw_mxcsr:
    fnstcw  0(%rcx)                 /* x87 control word */
    stmxcsr 4(%rcx)                 /* MXCSR */
    ret

/* aco_t** aco_gtls_co_addr(void): the address of this thread's aco_gtls_co.
 * A DLL cannot export a thread-local, so aco.h reaches it through this. */
    .globl  aco_gtls_co_addr
    .def    aco_gtls_co_addr; .scl 2; .type 32; .endef
    .p2align 4
aco_gtls_co_addr:
    movl    _tls_index(%rip), %eax  /* eax = this DLL's TLS index */
    movq    %gs:TEB_TLS_POINTER, %rcx /* rcx = the thread's TLS block table */
    movq    (%rcx,%rax,8), %rcx     /* rcx = this DLL's TLS block */
    leaq    aco_gtls_co@SECREL32(%rcx), %rax /* rax = &aco_gtls_co */
    ret

/* aco_entry_ms64: where a new coroutine starts, with rsp at its share stack's
 * 16-byte aligned align_retptr and the entry function in the r12 slot. It
 * calls the entry with the 32-byte home area the convention gives every
 * callee; both lie below align_retptr, inside the live stack that is copied
 * with the coroutine. An entry that returns lands on aco_funcp_protector_asm.
 *
 * Unwind data: one 32-byte allocation, then the "return address" at
 * align_retptr, which aco_abi_layout_stack keeps at 0: a stack walk (an
 * exception dispatch, a debugger) ends here as it does at a thread's start. */
    .globl  aco_entry_ms64
    .def    aco_entry_ms64; .scl 2; .type 32; .endef
    .p2align 4
    .seh_proc aco_entry_ms64
aco_entry_ms64:
    subq    $32, %rsp               /* home area for the entry's 4 register args */
    .seh_stackalloc 32
    .seh_endprologue
    callq   *%r12                   /* the entry function (rsp = 16n + 8 in it) */
/* aco_funcp_protector_asm: reached only when an entry function returns
 * instead of calling aco_exit(); rsp is align_retptr - 32. */
    .globl  aco_funcp_protector_asm
aco_funcp_protector_asm:
    andq    $-16, %rsp              /* convention: rsp 16-byte aligned at a call */
    subq    $32, %rsp               /* home area for aco_funcp_protector */
    callq   aco_funcp_protector     /* ends the coroutine or aborts */
    ud2                             /* aco_funcp_protector never returns */
    .seh_endproc

/* The exports of this file (C functions are exported by ACO_EXPORT). */
    .section .drectve
    .ascii  " -export:acosw -export:aco_save_fpucw_mxcsr -export:aco_gtls_co_addr"
    .ascii  " -export:aco_funcp_protector_asm"

/* aco_gtls_co: the running coroutine of this thread (in this DLL's TLS block). */
    .section .tls$,"dw"
    .p2align 3
    .globl  aco_gtls_co
aco_gtls_co:
    .quad   0
