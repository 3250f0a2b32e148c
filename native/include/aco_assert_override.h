/*
 * aco_assert_override.h - libaco 1.2.4 compatibility header.
 *
 * Programs written for libaco include it last, after their system headers:
 * it maps the short assertion names onto aco's always-on versions (they abort
 * even when NDEBUG is defined).
 */
#ifndef ACO_ASSERT_OVERRIDE_H
#define ACO_ASSERT_OVERRIDE_H

#include "aco.h"

#undef assert
#define likely(x) aco_likely(x)
#define unlikely(x) aco_unlikely(x)
#define assert(EX) aco_assert(EX)
#define assertptr(ptr) aco_assertptr(ptr)
#define assertalloc_bool(b) aco_assertalloc_bool(b)
#define assertalloc_ptr(ptr) aco_assertalloc_ptr(ptr)

#endif /* ACO_ASSERT_OVERRIDE_H */
