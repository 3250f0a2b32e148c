/* Coroutine bodies for Aco.WinX64.Smoke (a .NET program run under Wine against
 * aco.dll): built by the Windows CMake build as smoke_bodies.dll. */
#include <stdint.h>
#include <string.h>

#include "aco.h"
#include "aco_bridge.h"

#define SMOKE_EXPORT __declspec(dllexport)

/* arg: int64_t* counter. Keeps a 3000-byte frame, filled with a pattern of its
 * own, across every yield (the share stack is copied out and back in between),
 * and counts the yields after which the pattern was intact. A damaged frame
 * sets the counter to INT64_MIN for good. */
SMOKE_EXPORT void smoke_frame_body(void) {
    int64_t* counter = aco_get_arg();
    volatile unsigned char frame[3000];
    unsigned char seed = (unsigned char)((uintptr_t)counter >> 3);
    for (;;) {
        for (size_t i = 0; i < sizeof frame; i++) frame[i] = (unsigned char)(seed + i + (size_t)*counter);
        aco_yield();
        for (size_t i = 0; i < sizeof frame; i++)
            if (frame[i] != (unsigned char)(seed + i + (size_t)*counter)) {
                *counter = INT64_MIN;
                for (;;) aco_yield();
            }
        ++*counter;
    }
}

/* Data, not code: AcoEntryPoint must refuse it. */
SMOKE_EXPORT int smoke_data = 1;

/* Ten plain bridge yields (they stay in the native run loop), then finishes with 42. */
SMOKE_EXPORT void smoke_loop_body(void) {
    for (int i = 0; i < 10; i++) aco_bridge_yield();
    aco_bridge_finish(42);
}

/* Sleeps 10 ms on the scheduler's timer, asks handler 1 to upper-case "hello",
 * finishes with the answer's length (fails when the answer is wrong). */
SMOKE_EXPORT void smoke_bridge_body(void) {
    if (aco_bridge_sleep_ms(10) != ACO_BRIDGE_OK) aco_bridge_fail(1, "the sleep failed");
    char out[16];
    uint32_t len = 0;
    if (aco_bridge_call(1, "hello", 5, out, sizeof out, &len) != ACO_BRIDGE_OK || len != 5 ||
        memcmp(out, "HELLO", 5) != 0)
        aco_bridge_fail(2, "the handler's answer is wrong");
    aco_bridge_finish(len);
}
