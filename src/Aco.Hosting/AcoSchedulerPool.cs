using System.Diagnostics;
using Aco.Core;
using Aco.Scheduling;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aco.Hosting;

/// <summary>
/// The pool registered by AddAcoScheduler, and the hosted service that runs it: schedulers start
/// before other hosted services start (so their ExecuteAsync can spawn at once) and stop after
/// them, gracefully: no new work, cancellation, a grace period, then whatever remains is destroyed.
/// </summary>
internal sealed class AcoSchedulerPool : IAcoSchedulerPool, IHostedLifecycleService, IAcoSchedulerObserver, IAsyncDisposable
{
    private readonly AcoSchedulerPoolOptions _options;
    private readonly ILogger<AcoSchedulerPool> _logger;
    private readonly AcoScheduler[] _schedulers;
    private int _next;
    private int _stopped;

    public AcoSchedulerPool(IOptions<AcoSchedulerPoolOptions> options, ILogger<AcoSchedulerPool> logger, AcoMetrics metrics, TimeProvider? timeProvider = null)
    {
        _options = options.Value;
        _logger = logger;
        var time = timeProvider ?? TimeProvider.System;
        _schedulers = Enumerable.Range(0, _options.SchedulerCount)
            .Select(i => new AcoScheduler(_options.ToSchedulerOptions(i, this, time)))
            .ToArray();
        metrics.Observe(this);
    }

    public IReadOnlyList<AcoScheduler> Schedulers => _schedulers;

    public AcoScheduler this[int index] => _schedulers[index];

    /// <summary>Long turns seen, and whether any scheduler thread has died: for the health check.</summary>
    internal long LongTurns => _schedulers.Sum(s => s.Counters.LongTurns);

    public AcoCoroutineHandle Spawn(AcoEntryPoint entry, nint argument = 0, CancellationToken cancellationToken = default) =>
        LeastLoaded().Spawn(entry, argument, cancellationToken);

    public void SpawnDetached(AcoEntryPoint entry, nint argument = 0) => LeastLoaded().SpawnDetached(entry, argument);

    public ValueTask Spawn(Func<ValueTask> body, CancellationToken cancellationToken = default) => LeastLoaded().Spawn(body, cancellationToken);

    public ValueTask<T> Spawn<T>(Func<ValueTask<T>> body, CancellationToken cancellationToken = default) => LeastLoaded().Spawn(body, cancellationToken);

    public ValueTask Spawn<TState>(Func<TState, ValueTask> body, TState state, CancellationToken cancellationToken = default) => LeastLoaded().Spawn(body, state, cancellationToken);

    public ValueTask<T> Spawn<TState, T>(Func<TState, ValueTask<T>> body, TState state, CancellationToken cancellationToken = default) => LeastLoaded().Spawn(body, state, cancellationToken);

    public void RegisterHandler(int id, AcoSyncHandler handler, bool replace = false)
    {
        ThrowIfTaken(replace, s => s.IsHandlerRegistered(id), "handler", id);
        Array.ForEach(_schedulers, s => s.RegisterHandler(id, handler, replace: true));
    }

    public void RegisterHandler(int id, AcoAsyncHandler handler, bool replace = false)
    {
        ThrowIfTaken(replace, s => s.IsHandlerRegistered(id), "handler", id);
        Array.ForEach(_schedulers, s => s.RegisterHandler(id, handler, replace: true));
    }

    public void RegisterChannel(int id, System.Threading.Channels.Channel<long> channel, bool replace = false)
    {
        ThrowIfTaken(replace, s => s.IsChannelRegistered(id), "channel", id);
        Array.ForEach(_schedulers, s => s.RegisterChannel(id, channel, replace: true));
    }

    /// <summary>All or nothing: a taken id is refused before any scheduler registers it.</summary>
    private void ThrowIfTaken(bool replace, Func<AcoScheduler, bool> isTaken, string what, int id)
    {
        if (!replace && _schedulers.Any(isTaken))
        {
            throw new InvalidOperationException($"A {what} is registered under id {id} already; pass replace: true to replace it.");
        }
    }

    public async Task<IReadOnlyList<AcoSchedulerSnapshot>> GetSnapshotsAsync(int maxCoroutinesEach = 100) =>
        await Task.WhenAll(_schedulers.Select(s => s.GetSnapshotAsync(maxCoroutinesEach))).ConfigureAwait(false);

    public Task<AcoDump> GetDumpAsync(AcoDumpOptions? options = null, CancellationToken cancellationToken = default) =>
        AcoScheduler.DumpAsync(_schedulers, options, cancellationToken);

    /// <summary>The coroutines whose waits can never be answered, over all schedulers (for the health check).</summary>
    internal Task<IReadOnlyList<AcoDumpedCoroutine>> FindStuckAsync(CancellationToken cancellationToken) =>
        AcoScheduler.FindStuckAsync(_schedulers, cancellationToken);

    /// <summary>The scheduler with the fewest live coroutines; ties go round-robin.</summary>
    private AcoScheduler LeastLoaded()
    {
        var start = (int)((uint)Interlocked.Increment(ref _next) % (uint)_schedulers.Length);
        var best = _schedulers[start];
        var bestLoad = Load(best);
        for (var i = 1; i < _schedulers.Length; i++)
        {
            var candidate = _schedulers[(start + i) % _schedulers.Length];
            var load = Load(candidate);
            if (load < bestLoad)
            {
                best = candidate;
                bestLoad = load;
            }
        }
        return best;

        static long Load(AcoScheduler s) => s.Load;
    }

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        foreach (var scheduler in _schedulers)
        {
            scheduler.Start();
            _ = WatchAsync(scheduler);
            Log.SchedulerStarted(_logger, scheduler.Options.Name, scheduler.Options.ShareStackCount);
        }
        return Task.CompletedTask;
    }

    private async Task WatchAsync(AcoScheduler scheduler)
    {
        try
        {
            await scheduler.Completion.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.SchedulerFailed(_logger, scheduler.Options.Name, e);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After the other hosted services have stopped: stop the schedulers within the grace period.</summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        grace.CancelAfter(_options.StopGracePeriod);
        await Task.WhenAll(_schedulers.Select(s => StopOneAsync(s, grace.Token))).ConfigureAwait(false);
    }

    private async Task StopOneAsync(AcoScheduler scheduler, CancellationToken deadline)
    {
        try
        {
            await scheduler.StopAsync(deadline).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Reported by WatchAsync.
        }
        var c = scheduler.Counters;
        if (c.DestroyedAtStop > 0)
        {
            Log.StopTimedOut(_logger, scheduler.Options.Name, c.DestroyedAtStop);
        }
        Log.SchedulerStopped(_logger, scheduler.Options.Name, c.CompletedNative, c.FaultedNative, c.CanceledNative);
    }

    void IAcoSchedulerObserver.CoroutineFaulted(AcoScheduler scheduler, long id, int code, string message) =>
        Log.CoroutineFaulted(_logger, scheduler.Options.Name, id, code, message);

    void IAcoSchedulerObserver.LongTurn(AcoScheduler scheduler, TimeSpan duration) =>
        Log.LongTurn(_logger, scheduler.Options.Name, duration.TotalMilliseconds);

    public async ValueTask DisposeAsync()
    {
        await StoppedAsync(CancellationToken.None).ConfigureAwait(false);
        foreach (var scheduler in _schedulers)
        {
            await scheduler.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Health: no scheduler failed, no sleeper overdue beyond the threshold, no long turn since the last check.</summary>
    internal (bool Healthy, string Description) Health(ref long longTurnsSeen)
    {
        var failed = _schedulers.Where(s => s.Completion.IsFaulted || (s.Completion.IsCompleted && Volatile.Read(ref _stopped) == 0)).ToList();
        if (failed.Count > 0)
        {
            return (false, $"scheduler thread(s) ended unexpectedly: {string.Join(", ", failed.Select(s => s.Options.Name))}");
        }
        var overdue = _schedulers.Where(s => s.SleepersOverdue > _options.SleeperOverdueThreshold).ToList();
        if (overdue.Count > 0)
        {
            return (false, $"sleepers overdue on {string.Join(", ", overdue.Select(s => $"{s.Options.Name} ({s.SleepersOverdue.TotalMilliseconds:F0} ms)"))}, threshold {_options.SleeperOverdueThreshold.TotalMilliseconds:F0} ms");
        }
        var turns = LongTurns;
        var previous = Interlocked.Exchange(ref longTurnsSeen, turns);
        if (turns > previous)
        {
            var worst = _schedulers.Max(s => s.LastLongTurn);
            return (false, $"{turns - previous} long turn(s) since the last check (the last took {worst.TotalMilliseconds:F0} ms, threshold {_options.LongTurnThreshold.TotalMilliseconds:F0} ms)");
        }
        return (true, $"{_schedulers.Length} schedulers running");
    }
}
