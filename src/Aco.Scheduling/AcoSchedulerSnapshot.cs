namespace Aco.Scheduling;

/// <summary>A scheduler's state at one moment.</summary>
/// <param name="Counters">Totals so far.</param>
/// <param name="ReadyNative">Native coroutines in the ready queue.</param>
/// <param name="WaitingNative">Native coroutines waiting for an answer (asleep, on a socket, or on .NET).</param>
/// <param name="SleepingNative">Of those, the sleeping ones.</param>
/// <param name="ManagedQueue">Managed work items queued.</param>
/// <param name="Coroutines">Details of the native coroutines (up to the limit asked for).</param>
public sealed record AcoSchedulerSnapshot(
    AcoSchedulerCounters Counters, long ReadyNative, long WaitingNative, long SleepingNative, long ManagedQueue,
    IReadOnlyList<AcoCoroutineInfo> Coroutines);
