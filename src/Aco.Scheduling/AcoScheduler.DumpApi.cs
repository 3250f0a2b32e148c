using System.Diagnostics;

namespace Aco.Scheduling;

// Dumps, the API (the reading itself is in AcoScheduler.Dump.cs: async methods cannot run in an unsafe context).
public sealed partial class AcoScheduler
{
    /// <summary>
    /// Takes a dump of every coroutine of this scheduler, native and managed: where each is (the symbolized frames
    /// of native ones, read without resuming them; the async methods managed ones are suspended in), what it waits
    /// for and since when, coroutines with the same frames and wait grouped. The scheduler keeps running: the dump
    /// reads in slices of at most <see cref="AcoDumpOptions.MaxPause"/>, one per turn. Callable from any thread
    /// but the scheduler's own.
    /// </summary>
    public Task<AcoDump> GetDumpAsync(AcoDumpOptions? options = null, CancellationToken cancellationToken = default) =>
        DumpAsync([this], options, cancellationToken);

    /// <summary>
    /// One dump of several schedulers (a pool's): each is read on its own thread at the same time, then their
    /// coroutines are grouped together.
    /// </summary>
    public static async Task<AcoDump> DumpAsync(IReadOnlyList<AcoScheduler> schedulers, AcoDumpOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schedulers);
        options ??= AcoDumpOptions.Default;
        var started = Stopwatch.GetTimestamp();
        var parts = await Task.WhenAll(schedulers.Select((s, i) => s.CollectDumpAsync(i, options, cancellationToken))).ConfigureAwait(false);
        return await Task.Run(() => DumpBuilder.Build(parts, options, started), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether a coroutine may be parked on .NET now, read from another thread: the count of a dictionary that only
    /// the scheduler's thread changes, so it can be stale by a turn (the next check sees it), never wrong for long.
    /// </summary>
    private bool MayHaveParked => _parked.Count > 0;

    /// <summary>Reads this scheduler's coroutines for a dump (the pool's dump reads all its schedulers at once).</summary>
    internal async Task<DumpPart> CollectDumpAsync(int index, AcoDumpOptions options, CancellationToken cancellationToken)
    {
        if (t_current == this)
        {
            throw new InvalidOperationException("A dump cannot be awaited on the scheduler's own thread: it reads in slices between the scheduler's turns.");
        }
        await _dumpGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var run = new DumpRun(this, index, options);
            if (!IsRunning)
            {
                run.Part.Interrupted = State != SchedulerState.Created;
                return run.Part;
            }
            run.Prepare(Volatile.Read(ref _liveNative) + (options.Managed ? Volatile.Read(ref _bodyCount) : 0));
            QueueWork(new WorkItem(run.Step));
            return await run.Done.Task.ConfigureAwait(false);
        }
        finally
        {
            _dumpGate.Release();
        }
    }

    /// <summary>
    /// The stuck coroutines of this scheduler (native ones whose wait can never be answered), found without reading
    /// frames: only the waits on .NET are looked at, so it costs little however many coroutines sleep.
    /// </summary>
    public Task<IReadOnlyList<AcoDumpedCoroutine>> FindStuckAsync(CancellationToken cancellationToken = default) =>
        FindStuckAsync([this], cancellationToken);

    /// <summary>The stuck coroutines of several schedulers (an await cycle may span them).</summary>
    public static async Task<IReadOnlyList<AcoDumpedCoroutine>> FindStuckAsync(IReadOnlyList<AcoScheduler> schedulers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schedulers);
        // Only a coroutine waiting on .NET can be stuck: a scheduler with none is not asked. Asking costs it a turn,
        // and a periodic check (the health check) that woke every scheduler would hide a sleeper its timer failed
        // to wake, which that check is there to report.
        var waiting = schedulers.Where(s => s.MayHaveParked).ToList();
        if (waiting.Count == 0)
        {
            return [];
        }
        var dump = await DumpAsync(waiting, StuckOnly, cancellationToken).ConfigureAwait(false);
        return [.. dump.Groups.Where(g => g.Stuck != AcoStuckReason.None).SelectMany(g => g.Coroutines)];
    }

}
