namespace Aco.Scheduling;

/// <summary>What a scheduler has done so far, and what it holds now. Read with <see cref="AcoScheduler.Counters"/> from any thread.</summary>
public readonly record struct AcoSchedulerCounters
{
    /// <summary>Native coroutines spawned.</summary>
    public long SpawnedNative { get; init; }

    /// <summary>Native coroutines that finished with a result.</summary>
    public long CompletedNative { get; init; }

    /// <summary>Native coroutines that failed (<c>aco_bridge_fail</c>).</summary>
    public long FaultedNative { get; init; }

    /// <summary>Native coroutines that ended canceled, or were destroyed at a stop.</summary>
    public long CanceledNative { get; init; }

    /// <summary>Native coroutines alive now.</summary>
    public long LiveNative { get; init; }

    /// <summary>Managed coroutines alive now.</summary>
    public long LiveManaged { get; init; }

    /// <summary>Native coroutines in the ready queue now.</summary>
    public long ReadyNative { get; init; }

    /// <summary>Native coroutines asleep now.</summary>
    public long SleepingNative { get; init; }

    /// <summary>Native coroutines waiting on a socket now.</summary>
    public long WaitingOnSockets { get; init; }

    /// <summary>Spawns (native and managed) waiting for admission now.</summary>
    public long QueuedSpawns { get; init; }

    /// <summary>Native resumes.</summary>
    public long Resumes { get; init; }

    /// <summary>Bridge requests other than plain yields, wherever served (the native loop or .NET).</summary>
    public long BridgeRequests { get; init; }

    /// <summary>Native runs that took longer than <see cref="AcoSchedulerOptions.LongTurnThreshold"/>.</summary>
    public long LongTurns { get; init; }

    /// <summary>Managed work items (continuations, posts) that threw; the scheduler thread itself carries on.</summary>
    public long WorkFailures { get; init; }

    /// <summary>Native coroutines still alive when a stop ran out of time, and destroyed.</summary>
    public long DestroyedAtStop { get; init; }

    /// <summary>The sum of two schedulers' counters (a pool's totals).</summary>
    public static AcoSchedulerCounters operator +(AcoSchedulerCounters a, AcoSchedulerCounters b) => new()
    {
        SpawnedNative = a.SpawnedNative + b.SpawnedNative,
        CompletedNative = a.CompletedNative + b.CompletedNative,
        FaultedNative = a.FaultedNative + b.FaultedNative,
        CanceledNative = a.CanceledNative + b.CanceledNative,
        LiveNative = a.LiveNative + b.LiveNative,
        LiveManaged = a.LiveManaged + b.LiveManaged,
        ReadyNative = a.ReadyNative + b.ReadyNative,
        SleepingNative = a.SleepingNative + b.SleepingNative,
        WaitingOnSockets = a.WaitingOnSockets + b.WaitingOnSockets,
        QueuedSpawns = a.QueuedSpawns + b.QueuedSpawns,
        Resumes = a.Resumes + b.Resumes,
        BridgeRequests = a.BridgeRequests + b.BridgeRequests,
        LongTurns = a.LongTurns + b.LongTurns,
        WorkFailures = a.WorkFailures + b.WorkFailures,
        DestroyedAtStop = a.DestroyedAtStop + b.DestroyedAtStop,
    };

    /// <summary>The same as the + operator.</summary>
    public static AcoSchedulerCounters Add(AcoSchedulerCounters left, AcoSchedulerCounters right) => left + right;
}
