using System.ComponentModel.DataAnnotations;
using Aco.Scheduling;
using Microsoft.Extensions.Options;

namespace Aco.Hosting;

/// <summary>
/// The pool of schedulers that <c>services.AddAcoScheduler()</c>
/// registers. Bound from the configuration section <c>Aco</c> (for example <c>Aco__SchedulerCount</c>) and validated at start.
/// </summary>
public sealed class AcoSchedulerPoolOptions
{
    /// <summary>The configuration section read by default.</summary>
    public const string SectionName = "Aco";

    /// <summary>Schedulers (each one thread). Default: the processor count.</summary>
    [Range(1, 1024)]
    public int SchedulerCount { get; set; } = Environment.ProcessorCount;

    /// <summary>Share stacks per scheduler. Default 4.</summary>
    [Range(1, 4096)]
    public int ShareStacksPerScheduler { get; set; } = 4;

    /// <summary>Bytes per share stack (0 means 2 MiB). Default 256 KiB.</summary>
    [Range(0, 1L << 30)]
    public long ShareStackSize { get; set; } = 256 * 1024;

    /// <summary>A read-only guard page below each share stack. Default true.</summary>
    public bool GuardPages { get; set; } = true;

    /// <summary>Initial save-stack bytes per coroutine (0 means 64). Default 0.</summary>
    [Range(0, 64L << 20)]
    public long InitialSaveStackSize { get; set; }

    /// <summary>Native resumes per turn of a scheduler. Default 1024.</summary>
    [Range(1, 1 << 20)]
    public int RunLoopBudget { get; set; } = 1024;

    /// <summary>How long stopping waits for coroutines to end after cancelling them (also bounded by the host's shutdown timeout). Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A native run longer than this is logged as a long turn and makes the health check unhealthy. Default 100 ms.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan LongTurnThreshold { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The health check turns unhealthy when a scheduler's earliest sleeper is overdue by more than this
    /// (a scheduler that is stuck or starved, instead of a silent stall). Default 1 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan SleeperOverdueThreshold { get; set; } = TimeSpan.FromSeconds(1);

    internal AcoSchedulerOptions ToSchedulerOptions(int index, IAcoSchedulerObserver observer, TimeProvider timeProvider) => new()
    {
        Name = $"aco-scheduler-{index}",
        ShareStackCount = ShareStacksPerScheduler,
        ShareStackSize = ShareStackSize == 0 ? 0 : Math.Max(ShareStackSize, 4096),
        GuardPages = GuardPages,
        InitialSaveStackSize = InitialSaveStackSize,
        RunLoopBudget = RunLoopBudget,
        LongTurnThreshold = LongTurnThreshold,
        Observer = observer,
        TimeProvider = timeProvider,
    };
}

/// <summary>Validates <see cref="AcoSchedulerPoolOptions"/> (generated from its attributes).</summary>
[OptionsValidator]
public sealed partial class AcoSchedulerPoolOptionsValidator : IValidateOptions<AcoSchedulerPoolOptions>
{
}
