using System.ComponentModel.DataAnnotations;
using Aco.Scheduling;
using Microsoft.Extensions.Options;

namespace Aco.Hosting;

/// <summary>
/// The pool of schedulers that <c>services.AddAcoScheduler()</c>
/// registers. Bound from the configuration section <c>Aco</c> (for example <c>Aco__SchedulerCount</c>) and validated at start:
/// the pool's own options by their attributes, the ones each scheduler takes by <see cref="AcoSchedulerOptions"/>'s own rules.
/// </summary>
public sealed class AcoSchedulerPoolOptions
{
    /// <summary>The configuration section read by default.</summary>
    public const string SectionName = "Aco";

    /// <summary>Schedulers (each one thread). Default: the processor count.</summary>
    [Range(1, 1024)]
    public int SchedulerCount { get; set; } = Environment.ProcessorCount;

    /// <summary>Share stacks per scheduler (<see cref="AcoSchedulerOptions.ShareStackCount"/>). Default 4.</summary>
    public int ShareStacksPerScheduler { get; set; } = 4;

    /// <summary>Bytes per share stack (<see cref="AcoSchedulerOptions.ShareStackSize"/>; 0 means 2 MiB). Default 256 KiB.</summary>
    public long ShareStackSize { get; set; } = 256 * 1024;

    /// <summary>A read-only guard page below each share stack. Default true.</summary>
    public bool GuardPages { get; set; } = true;

    /// <summary>Initial save-stack bytes per coroutine (<see cref="AcoSchedulerOptions.InitialSaveStackSize"/>; 0 means 64). Default 0.</summary>
    public long InitialSaveStackSize { get; set; }

    /// <summary>Native resumes per turn of a scheduler (<see cref="AcoSchedulerOptions.RunLoopBudget"/>). Default 1024.</summary>
    public int RunLoopBudget { get; set; } = 1024;

    /// <summary>How long stopping waits for coroutines to end after cancelling them (also bounded by the host's shutdown timeout). Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A native run longer than this is logged as a long turn and makes the health check unhealthy
    /// (<see cref="AcoSchedulerOptions.LongTurnThreshold"/>). Default 100 ms.
    /// </summary>
    public TimeSpan LongTurnThreshold { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The health check turns unhealthy when a scheduler's earliest sleeper is overdue by more than this
    /// (a scheduler that is stuck or starved, instead of a silent stall). Default 1 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan SleeperOverdueThreshold { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// SIGQUIT (<c>kill -QUIT</c>; Ctrl+Break on Windows) writes a dump of every coroutine to the log, as the JVM and
    /// Go do, before anything else handles the signal. The host's console lifetime (the default one) takes SIGQUIT
    /// as a request to stop: the host then stops gracefully after the dump, as a Go program exits after its dump.
    /// Off: SIGQUIT is left to the others (the console lifetime stops the host without a dump). Default true.
    /// </summary>
    public bool DumpOnSigQuit { get; set; } = true;

    internal AcoSchedulerOptions ToSchedulerOptions(int index, IAcoSchedulerObserver? observer, TimeProvider timeProvider) => new()
    {
        Name = $"aco-scheduler-{index}",
        ShareStackCount = ShareStacksPerScheduler,
        ShareStackSize = ShareStackSize,
        GuardPages = GuardPages,
        InitialSaveStackSize = InitialSaveStackSize,
        RunLoopBudget = RunLoopBudget,
        LongTurnThreshold = LongTurnThreshold,
        Observer = observer,
        TimeProvider = timeProvider,
    };
}

/// <summary>Validates the pool's own options of <see cref="AcoSchedulerPoolOptions"/> (generated from their attributes).</summary>
[OptionsValidator]
public sealed partial class AcoSchedulerPoolOptionsValidator : IValidateOptions<AcoSchedulerPoolOptions>
{
}
