using System.Diagnostics;
using System.Threading.Channels;
using Aco.Core;
using Aco.Hosting;
using Aco.Scheduling;

namespace Aco.WorkerService;

/// <summary>How many coroutines to run, whether to stay up afterwards, and whether they wait for the host to stop instead.</summary>
public sealed record WorkerSettings(long Count, bool KeepRunning, bool Hold = false);

/// <summary>
/// Spawns <see cref="WorkerSettings.Count"/> native coroutines (samples/native: worker_job) on the pool. Each
/// sleeps, yields, calls a managed handler and sends a value on a channel that this service sums.
/// </summary>
public sealed partial class CoroutineWorker(IAcoSchedulerPool pool, WorkerSettings settings, ILogger<CoroutineWorker> logger, IHostApplicationLifetime lifetime)
    : BackgroundService
{
    private AcoCoroutineHandle[] _held = [];

    /// <summary>In --hold mode, after the host has stopped: how the held coroutines ended.</summary>
    public string HoldReport()
    {
        var cancelled = _held.Count(h => h.Completion.IsCanceled);
        var pending = _held.Count(h => !h.Completion.IsCompleted);
        var counters = AcoNativeCounters.Read();
        return $"hold: {_held.Length:N0} coroutines, {cancelled:N0} ended cancelled, {pending:N0} still pending, " +
            $"destroyed at the deadline {pool.Schedulers.Sum(s => s.Counters.DestroyedAtStop):N0}, native coroutines alive {counters.LiveCoroutines:N0}";
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var bodies = AcoNativeLibrary.LoadBodies(Path.Combine(AppContext.BaseDirectory, "libaco_sample_bodies.so"));
        if (settings.Hold)
        {
            await HoldAsync(AcoEntryPoint.FromExport(bodies, "worker_hold"), stoppingToken);
            return;
        }
        var job = AcoEntryPoint.FromExport(bodies, "worker_job");
        var results = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
        // When each job was spawned (microseconds since the start), so that the handler, called at the end of a
        // job's life with the time it started, records how long it waited to start (in the scheduler's queue of
        // new work) and how long it ran (start to end: what the coroutines already running saw).
        var watch = Stopwatch.StartNew();
        var startTicks = Stopwatch.GetTimestamp();
        var spawnedAt = new int[settings.Count];
        var waited = new LatencyHistogram();
        var ran = new LatencyHistogram();
        pool.RegisterChannel(1, results);
        pool.RegisterHandler(1, (input, output) =>
        {
            // The managed handler: doubles the job's value (its id modulo 1000).
            var id = BitConverter.ToInt64(input);
            var started = (long)Stopwatch.GetElapsedTime(startTicks, BitConverter.ToInt64(input[sizeof(long)..])).TotalMicroseconds;
            waited.Record(started - Volatile.Read(ref spawnedAt[id]));
            ran.Record((long)watch.Elapsed.TotalMicroseconds - started);
            return BitConverter.TryWriteBytes(output, id % 1000 * 2) ? sizeof(long) : 0;
        });

        long received = 0, sum = 0;
        var expected = Enumerable.Range(0, 1000).Sum(i => 2L * i) * (settings.Count / 1000) + Enumerable.Range(0, (int)(settings.Count % 1000)).Sum(i => 2L * i);
        var spawner = Task.Run(() =>
        {
            for (long i = 0; i < settings.Count && !stoppingToken.IsCancellationRequested; i++)
            {
                Volatile.Write(ref spawnedAt[i], (int)watch.Elapsed.TotalMicroseconds);
                pool.SpawnDetached(job, (nint)i);
            }
        }, stoppingToken);

        long[]? lastRan = null, lastWaited = null;
        using var progress = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var reporter = Task.Run(async () =>
        {
            while (await progress.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                Report("progress");
            }
        }, stoppingToken);

        try
        {
            while (received < settings.Count && await results.Reader.WaitToReadAsync(stoppingToken))
            {
                while (results.Reader.TryRead(out var value))
                {
                    received++;
                    sum += value;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        await spawner;
        Report("done");
        var process = Process.GetCurrentProcess();
        // Wall time depends on what else runs on the machine; the process's CPU time (all its threads, the runtime's
        // included, since it started) does not, so it is given beside it.
        Console.WriteLine($"summary: {received:N0} coroutines finished in {watch.Elapsed.TotalSeconds:F1} s " +
            $"({received / watch.Elapsed.TotalSeconds:N0}/s; process CPU {process.TotalProcessorTime.TotalSeconds:F1} s on {Environment.ProcessorCount} cores), " +
            $"start to end p50 {ran.Percentile(50) / 1000.0:F1} ms p99 {ran.Percentile(99) / 1000.0:F1} ms, waited to start p99 {waited.Percentile(99) / 1000.0:F0} ms, " +
            $"sum {sum:N0} ({(sum == expected ? "correct" : $"expected {expected:N0}")}), " +
            $"{pool.Schedulers.Count} schedulers, peak RSS {process.PeakWorkingSet64 / (1024 * 1024):N0} MiB");
        if (!settings.KeepRunning)
        {
            lifetime.StopApplication();
        }

        void Report(string what)
        {
            // Latency of the coroutines that ended since the last line: fairness shows here, throughput above.
            var live = pool.Schedulers.Sum(s => s.Counters.LiveNative);
            var queued = pool.Schedulers.Sum(s => s.Counters.QueuedSpawns);
            var rss = Process.GetCurrentProcess().WorkingSet64 / (1024 * 1024);
            var done = Interlocked.Read(ref received);
            LogProgress(what, done, settings.Count, done / Math.Max(watch.Elapsed.TotalSeconds, 0.001), live, queued,
                ran.Percentile(50, lastRan) / 1000.0, ran.Percentile(99, lastRan) / 1000.0, waited.Percentile(99, lastWaited) / 1000.0, rss);
            lastRan = ran.Snapshot();
            lastWaited = waited.Snapshot();
        }
    }

    /// <summary>
    /// The README's hosting pattern at scale: every coroutine is spawned with stoppingToken and waits until the
    /// host stops (SIGTERM, Ctrl+C); stopping cancels them all, and each ends by itself.
    /// </summary>
    private async Task HoldAsync(AcoEntryPoint hold, CancellationToken stoppingToken)
    {
        // Both readings after a collection that gives free memory back, so that they count what is alive.
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var rssBefore = Process.GetCurrentProcess().WorkingSet64;
        var watch = Stopwatch.StartNew();
        var handles = new AcoCoroutineHandle[settings.Count];
        for (long i = 0; i < settings.Count; i++)
        {
            handles[i] = pool.Spawn(hold, (nint)i, stoppingToken);
        }
        _held = handles;
        while (pool.Schedulers.Sum(s => s.Counters.SleepingNative) < settings.Count && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(10, CancellationToken.None); // until every one is asleep
        }
        var spawned = watch.Elapsed;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var rss = Process.GetCurrentProcess().WorkingSet64;
        LogHolding(settings.Count, spawned.TotalSeconds, rss / (1024 * 1024), (double)(rss - rssBefore) / Math.Max(settings.Count, 1));
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            // the host is stopping: the pool cancels and drains the coroutines after this service has stopped
        }
    }

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "holding {Count} coroutines (spawned and asleep in {Seconds:F2} s, RSS {RssMiB} MiB, {BytesEach:F0} B each over the host's own); stop the host (Ctrl+C, SIGTERM) to cancel them")]
    private partial void LogHolding(long count, double seconds, long rssMiB, double bytesEach);

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "{What}: {Done}/{Total} done, {Rate:F0}/s, {Live} live, {Queued} waiting to start; since the last line: start to end p50 {P50Ms:F1} ms p99 {P99Ms:F1} ms, waited to start p99 {WaitedP99Ms:F0} ms; RSS {RssMiB} MiB")]
    private partial void LogProgress(string what, long done, long total, double rate, long live, long queued, double p50Ms, double p99Ms, double waitedP99Ms, long rssMiB);
}
