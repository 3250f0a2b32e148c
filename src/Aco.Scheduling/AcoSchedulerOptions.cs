using Aco.Core;

namespace Aco.Scheduling;

/// <summary>
/// How an <see cref="AcoScheduler"/> sizes its stacks and splits each turn of its loop. Each option is checked
/// where it is set: a value out of range throws <see cref="ArgumentOutOfRangeException"/> naming the option
/// and its range.
/// </summary>
public sealed record AcoSchedulerOptions
{
    /// <summary>The most share stacks a scheduler may have.</summary>
    public const int MaxShareStackCount = 4096;

    /// <summary>The largest per-turn budget (<see cref="RunLoopBudget"/>, <see cref="ManagedBudget"/>).</summary>
    public const int MaxBudget = 1 << 20;

    /// <summary>The shortest <see cref="LongTurnThreshold"/>.</summary>
    public static readonly TimeSpan MinLongTurnThreshold = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest <see cref="LongTurnThreshold"/>.</summary>
    public static readonly TimeSpan MaxLongTurnThreshold = TimeSpan.FromMinutes(10);

    /// <summary>Name of the dedicated thread (<see cref="AcoScheduler.Start"/>). Default "aco-scheduler".</summary>
    public string Name
    {
        get;
        init
        {
            ArgumentException.ThrowIfNullOrEmpty(value, nameof(Name));
            field = value;
        }
    } = "aco-scheduler";

    /// <summary>Share stacks in the pool, 1 to <see cref="MaxShareStackCount"/>; new coroutines go to the least-loaded one. Default 4.</summary>
    public int ShareStackCount
    {
        get;
        init => field = InRange(value, 1, MaxShareStackCount, nameof(ShareStackCount));
    } = 4;

    /// <summary>
    /// Bytes per share stack: 0 (meaning <see cref="AcoShareStack.DefaultSize"/>) or <see cref="AcoShareStack.MinSize"/>
    /// to <see cref="AcoShareStack.MaxSize"/>. Default 256 KiB.
    /// </summary>
    public long ShareStackSize
    {
        get;
        init
        {
            AcoShareStack.ThrowIfInvalidSize(value, nameof(ShareStackSize));
            field = value;
        }
    } = 256 * 1024;

    /// <summary>A read-only guard page below each share stack. Default true.</summary>
    public bool GuardPages { get; init; } = true;

    /// <summary>
    /// Initial save-stack bytes per coroutine: 0 (meaning <see cref="AcoCoroutine.DefaultSaveStackSize"/>) or
    /// <see cref="AcoCoroutine.MinSaveStackSize"/> to <see cref="AcoCoroutine.MaxSaveStackSize"/>; grows on demand. Default 0.
    /// </summary>
    public long InitialSaveStackSize
    {
        get;
        init
        {
            AcoCoroutine.ThrowIfInvalidSaveStackSize(value, nameof(InitialSaveStackSize));
            field = value;
        }
    }

    /// <summary>
    /// Native resumes per turn, 1 to <see cref="MaxBudget"/>; also the ready-queue length up to which new work is
    /// admitted each turn (see the admission policy in docs/architecture.md). Default 1024.
    /// </summary>
    public int RunLoopBudget
    {
        get;
        init => field = InRange(value, 1, MaxBudget, nameof(RunLoopBudget));
    } = 1024;

    /// <summary>Managed work items (continuations) per turn, 1 to <see cref="MaxBudget"/>. Default 1024.</summary>
    public int ManagedBudget
    {
        get;
        init => field = InRange(value, 1, MaxBudget, nameof(ManagedBudget));
    } = 1024;

    /// <summary>Coroutines share the thread's FPU control state (faster switches). Default false.</summary>
    public bool ShareFpuEnvironment { get; init; }

    /// <summary>
    /// Where sleeps read the time. Default <see cref="TimeProvider.System"/>, which the native loop reads itself;
    /// any other provider is read by the scheduler, with one timer of its for the earliest sleeper.
    /// </summary>
    public TimeProvider TimeProvider
    {
        get;
        init => field = value ?? throw new ArgumentNullException(nameof(TimeProvider));
    } = TimeProvider.System;

    /// <summary>
    /// When true (the default), code awaiting a coroutine's result continues on the thread pool, never
    /// inline on the scheduler thread.
    /// </summary>
    public bool RunContinuationsAsynchronously { get; init; } = true;

    /// <summary>
    /// A native run that takes longer than this (a coroutine that did not yield) is reported as a long turn;
    /// <see cref="MinLongTurnThreshold"/> to <see cref="MaxLongTurnThreshold"/>. Default 100 ms.
    /// </summary>
    public TimeSpan LongTurnThreshold
    {
        get;
        init => field = InRange(value, MinLongTurnThreshold, MaxLongTurnThreshold, nameof(LongTurnThreshold));
    } = TimeSpan.FromMilliseconds(100);

    /// <summary>Told about faulted coroutines and long turns (for logging); called on the scheduler thread.</summary>
    public IAcoSchedulerObserver? Observer { get; init; }

    private static T InRange<T>(T value, T min, T max, string name) where T : IComparable<T>
    {
        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be between {min} and {max}.");
        }
        return value;
    }
}
