/* Bodies bound to a second copy of the core (aco_second.dll): their aco_yield
 * would read a thread-local that only the first copy sets. LoadBodies must
 * refuse them, naming the other copy. */
#include "aco.h"

__declspec(dllexport) void smoke_second_copy_body(void) {
    for (;;) aco_yield();
}
