/*
 * aco_glibc_symver.h: libaco.so loads on glibc >= 2.28 (RHEL 8, Debian 10), whatever glibc builds it.
 *
 * glibc 2.34 moved the pthread functions into libc.so.6 and gave some of them new symbol versions
 * (pthread_key_create@@GLIBC_2.34, ...). A library linked there needs GLIBC_2.34 and does not load
 * on an older glibc. libc.so.6 still exports the old versions, so binding the references to them
 * keeps the library portable; on glibc < 2.34 they live in libpthread.so.0, which CMakeLists.txt
 * links explicitly (a stub on newer glibc).
 *
 * The build force-includes this file (-include) into libaco.so's sources only; the test in
 * tests/Aco.Core.Tests (GlibcVersionTests) reads the library's version needs and fails on any
 * GLIBC version newer than 2.28.
 */
#ifndef ACO_GLIBC_SYMVER_H
#define ACO_GLIBC_SYMVER_H

/* Nothing is included here: the sources define feature macros (_GNU_SOURCE) before their first
 * header. <gnu/libc-version.h> exists only with glibc. */
#if !defined(__ASSEMBLER__) && defined(__linux__) && defined(__has_include)
#if __has_include(<gnu/libc-version.h>)

#if defined(__x86_64__)
#define ACO_GLIBC_BASE_VERSION "GLIBC_2.2.5"   /* x86-64's first glibc symbol version */
#elif defined(__i386__)
#define ACO_GLIBC_BASE_VERSION "GLIBC_2.0"     /* i386's first glibc symbol version */
#elif defined(__aarch64__)
#define ACO_GLIBC_BASE_VERSION "GLIBC_2.17"    /* AArch64's first glibc symbol version */
#endif

#ifdef ACO_GLIBC_BASE_VERSION
__asm__(".symver pthread_key_create, pthread_key_create@" ACO_GLIBC_BASE_VERSION);
__asm__(".symver pthread_once, pthread_once@" ACO_GLIBC_BASE_VERSION);
__asm__(".symver pthread_setspecific, pthread_setspecific@" ACO_GLIBC_BASE_VERSION);
__asm__(".symver pthread_getspecific, pthread_getspecific@" ACO_GLIBC_BASE_VERSION);
__asm__(".symver pthread_key_delete, pthread_key_delete@" ACO_GLIBC_BASE_VERSION);
#endif

#endif /* glibc */
#endif /* !__ASSEMBLER__ && __linux__ */

#endif /* ACO_GLIBC_SYMVER_H */
