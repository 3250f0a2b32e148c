namespace Aco.Scheduling;

/// <summary>One coroutine of a dump: where it is, what it waits for, and since when.</summary>
/// <param name="Id">Its handle's id (native; 0 for a detached coroutine), or its body task's id (managed).</param>
/// <param name="Kind">Native or managed.</param>
/// <param name="State">Ready (runs in its turn) or waiting.</param>
/// <param name="Wait">What it waits for (native, waiting); null otherwise.</param>
/// <param name="Argument">The wait's channel or handler id, descriptor or operation id; 0 when it has none.</param>
/// <param name="DueIn">Time until its wait ends by itself (a sleep, a socket wait's timeout); negative when overdue; null when it has no deadline.</param>
/// <param name="Waiting">How long it has been in its current wait (native); null when unknown.</param>
/// <param name="Age">How long since it was spawned (native); null when unknown.</param>
/// <param name="Scheduler">The name of its scheduler.</param>
/// <param name="ShareStack">The index of its share stack on its scheduler; -1 for a managed coroutine.</param>
/// <param name="SaveStackBytes">Bytes allocated for its save stack (native).</param>
/// <param name="CancelRequested">Whether its cancellation has been requested.</param>
/// <param name="Stuck">Why its wait can never be answered, if it cannot.</param>
/// <param name="AwaitsCoroutine">The id of the coroutine whose completion it awaits, when the scheduler knows it; 0 otherwise.</param>
public readonly record struct AcoDumpedCoroutine(
    long Id, AcoCoroutineKind Kind, AcoCoroutineState State, AcoRequestKind? Wait, long Argument, TimeSpan? DueIn,
    TimeSpan? Waiting, TimeSpan? Age, string Scheduler, int ShareStack, long SaveStackBytes, bool CancelRequested,
    AcoStuckReason Stuck, long AwaitsCoroutine);
