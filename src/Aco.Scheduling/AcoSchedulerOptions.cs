namespace Aco.Scheduling;

/// <summary>How an <see cref="AcoScheduler"/> sizes its stacks and splits each turn of its loop.</summary>
public sealed record AcoSchedulerOptions
{
    /// <summary>Name of the dedicated thread (<see cref="AcoScheduler.Start"/>). Default "aco-scheduler".</summary>
    public string Name { get; init; } = "aco-scheduler";

    /// <summary>Share stacks in the pool; new coroutines go to the least-loaded one. Default 4.</summary>
    public int ShareStackCount { get; init; } = 4;

    /// <summary>Bytes per share stack (0 means 2 MiB). Default 256 KiB.</summary>
    public long ShareStackSize { get; init; } = 256 * 1024;

    /// <summary>A read-only guard page below each share stack. Default true.</summary>
    public bool GuardPages { get; init; } = true;

    /// <summary>Initial save-stack bytes per coroutine (0 means 64); grows on demand.</summary>
    public long InitialSaveStackSize { get; init; }

    /// <summary>Native resumes per turn before the loop serves its inbox, timers and managed queue again. Default 1024.</summary>
    public int RunLoopBudget { get; init; } = 1024;

    /// <summary>Managed work items (continuations) per turn. Default 1024.</summary>
    public int ManagedBudget { get; init; } = 1024;

    /// <summary>Inbox messages (spawns and posts from other threads) per turn. Default 4096.</summary>
    public int InboxBudget { get; init; } = 4096;

    /// <summary>Coroutines share the thread's FPU control state (faster switches). Default false.</summary>
    public bool ShareFpuEnvironment { get; init; }

    /// <summary>Where sleeps read the time. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// When true (the default), code awaiting a coroutine's result continues on the thread pool, never
    /// inline on the scheduler thread.
    /// </summary>
    public bool RunContinuationsAsynchronously { get; init; } = true;

    /// <summary>A native run that takes longer than this (a coroutine that did not yield) is reported as a long turn. Default 100 ms.</summary>
    public TimeSpan LongTurnThreshold { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Told about faulted coroutines and long turns (for logging); called on the scheduler thread.</summary>
    public IAcoSchedulerObserver? Observer { get; init; }

    internal void Validate()
    {
        if (ShareStackCount is < 1 or > 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(ShareStackCount), ShareStackCount, "ShareStackCount must be between 1 and 4096.");
        }
        if (RunLoopBudget < 1 || ManagedBudget < 1 || InboxBudget < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(RunLoopBudget), "RunLoopBudget, ManagedBudget and InboxBudget must be at least 1.");
        }
        ArgumentNullException.ThrowIfNull(TimeProvider);
        ArgumentException.ThrowIfNullOrEmpty(Name);
    }
}

/// <summary>Receives a scheduler's notable events, on the scheduler thread; must not block.</summary>
public interface IAcoSchedulerObserver
{
    /// <summary>A native coroutine ended with <c>aco_bridge_fail</c>.</summary>
    void CoroutineFaulted(AcoScheduler scheduler, long id, int code, string message);

    /// <summary>One native run took <paramref name="duration"/>, longer than <see cref="AcoSchedulerOptions.LongTurnThreshold"/>.</summary>
    void LongTurn(AcoScheduler scheduler, TimeSpan duration);
}
