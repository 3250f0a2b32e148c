/* A library of coroutine bodies that calls a function nothing defines, linked without
 * --no-undefined as a careless build would link it. Loaded lazily (NativeLibrary.Load), its first
 * call of that function kills the process ("symbol lookup error"); AcoNativeLibrary.LoadBodies
 * must refuse it with an exception that names the symbol (tests/Aco.Core.Tests/LoadBodiesTests). */
#include "aco.h"

#define BODY __attribute__((visibility("default")))

void aco_test_defined_nowhere(void);

BODY void test_calls_undefined(void) {
    aco_test_defined_nowhere();
    aco_exit();
}
