/* Coroutine bodies: native code, compiled by the build (AcoNativeBody items in the .csproj).
 * A body talks to .NET only through aco_bridge.h: each call writes a request and yields, so only
 * the coroutine waits, never the scheduler's thread. */
#include <stdint.h>

#include "aco_bridge.h"

/* arg: the job's number n. Sleeps, yields, asks the managed handler 1 to double n, sends the
 * answer on channel 1, and finishes with it. */
void job(void) {
    int64_t n = (int64_t)(intptr_t)aco_get_arg();
    if (aco_bridge_sleep_ms(1) == ACO_BRIDGE_CANCELLED) aco_bridge_exit_cancelled();
    aco_bridge_yield();

    int64_t doubled = 0;
    uint32_t len = 0;
    if (aco_bridge_call(1, &n, sizeof n, &doubled, sizeof doubled, &len) != ACO_BRIDGE_OK || len != sizeof doubled)
        aco_bridge_fail(1, "handler 1 did not answer");
    if (aco_bridge_send(1, doubled) != ACO_BRIDGE_OK) aco_bridge_exit_cancelled();
    aco_bridge_finish(doubled);
}
