/* A library of coroutine bodies bound to a second copy of libaco (aco-second-copy/libaco.so.99):
 * its aco_yield() would read the other copy's aco_gtls_co, which nobody sets. AcoNativeLibrary.LoadBodies
 * must refuse it with an exception that names that copy (tests/Aco.Core.Tests/LoadBodiesTests). */
#include "aco.h"

#define BODY __attribute__((visibility("default")))

BODY void test_yields_on_second_copy(void) {
    aco_yield();
    aco_exit();
}
