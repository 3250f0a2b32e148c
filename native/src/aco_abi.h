/* aco_abi.h - the one ABI-specific header for this build (see aco_abi_*.h). */
#ifndef ACO_ABI_H
#define ACO_ABI_H
#include "aco.h"

/* acosw under a name that binds inside the library (no PLT). */
extern void* aco_switch_internal_(aco_t* from_co, aco_t* to_co) __asm__("aco_switch_internal_");

#if defined(__x86_64__) && defined(_WIN32)
#include "aco_abi_x86_64_ms.h"
#elif defined(__x86_64__)
#include "aco_abi_x86_64.h"
#elif defined(__i386__) && defined(_WIN32)
#include "aco_abi_i386_ms.h"
#elif defined(__i386__)
#include "aco_abi_i386.h"
#elif defined(__aarch64__)
#include "aco_abi_aarch64.h"
#endif
#endif
