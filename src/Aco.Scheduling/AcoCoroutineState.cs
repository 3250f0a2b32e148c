namespace Aco.Scheduling;

/// <summary>Where a native coroutine is.</summary>
public enum AcoCoroutineState
{
    /// <summary>In the ready queue: it runs in its turn.</summary>
    Ready,

    /// <summary>Waiting for the answer to a bridge request.</summary>
    Waiting,
}
