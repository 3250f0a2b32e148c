using System.Diagnostics;
using System.Runtime.InteropServices;
using Aco.Scheduling;

namespace Aco.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Aco.Benchmarks -- fairness [spawns] [cancels]</c>: how late a probe
/// coroutine that sleeps 10 ms in a loop wakes while one scheduler works through a flood: another thread spawning
/// jobs as fast as it can (default 2,000,000), or canceling sleepers (default 1,000,000). Prints the probe's
/// overshoot (wake-up after its due time) over the rounds that ended while the flood was still being worked through.
/// </summary>
internal static unsafe class FairnessRunner
{
    private const int Rounds = 1000;
    private const int SleepMs = 10;

    public static int Run(string[] args)
    {
        var spawns = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 2_000_000;
        var cancels = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000;
        Console.WriteLine("| flood | probe rounds during it | overshoot p50 | p99 | max | flood worked through in |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        SpawnFlood(spawns);
        CancelFlood(cancels);
        return 0;
    }

    private static void SpawnFlood(int count)
    {
        var job = Bodies.Get("bench_flood_job");
        Probe("spawns of " + count.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " jobs (3 sleeps of 1-3 ms)", scheduler =>
        {
            var spawner = new Thread(() =>
            {
                for (var i = 0; i < count; i++)
                {
                    scheduler.SpawnDetached(job, i);
                }
            });
            spawner.Start();
            return () => scheduler.Counters is var c && (spawner.IsAlive || c.QueuedSpawns > 0 || c.LiveNative > 1);
        });
    }

    private static void CancelFlood(int count)
    {
        var sleeper = Bodies.Get("bench_sleep_forever");
        AcoCoroutineHandle[] handles = [];
        Probe("cancels of " + count.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " sleepers", scheduler =>
        {
            handles = new AcoCoroutineHandle[count];
            for (var i = 0; i < count; i++)
            {
                handles[i] = scheduler.Spawn(sleeper);
            }
            while (scheduler.Counters.SleepingNative < count)
            {
                Thread.Sleep(10);
            }
            var canceller = new Thread(() => Array.ForEach(handles, h => h.Cancel()));
            canceller.Start();
            // Counters, not each handle's Completion: that task is made on first use, and asking a million handles
            // every few milliseconds would allocate a million of them and put the GC into the figures.
            return () => canceller.IsAlive || scheduler.Counters.LiveNative > 1;
        }, before: true);
        GC.KeepAlive(handles);
    }

    /// <summary>Runs the probe, starts the flood (before the probe when <paramref name="before"/>), and reports the rounds that ended during it.</summary>
    private static void Probe(string flood, Func<AcoScheduler, Func<bool>> start, bool before = false)
    {
        var scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 4 });
        scheduler.Start();
        var log = (long*)NativeMemory.AllocZeroed((nuint)(3 + Rounds), sizeof(long));
        log[0] = Rounds;
        log[1] = SleepMs;
        Func<bool>? busy = null;
        if (before)
        {
            busy = start(scheduler);
        }
        var probe = scheduler.Spawn(Bodies.Get("bench_probe"), (nint)log);
        var watch = Stopwatch.StartNew();
        busy ??= start(scheduler);
        var overshoots = new List<double>();
        var seen = 0L;
        while (busy() && !probe.Completion.IsCompleted)
        {
            Thread.Sleep(5);
            var done = Volatile.Read(ref log[2]);
            for (; seen < done; seen++)
            {
                overshoots.Add(log[3 + seen] / 1000.0);
            }
        }
        var took = watch.Elapsed;
        probe.Cancel();
        probe.Completion.ContinueWith(_ => { }).Wait();
        scheduler.StopAsync().Wait();
        NativeMemory.Free(log);
        overshoots.Sort();
        string At(double p) => overshoots.Count == 0 ? "-" : $"{overshoots[Math.Min(overshoots.Count - 1, (int)(overshoots.Count * p))]:F2} ms";
        Console.WriteLine($"| {flood} | {overshoots.Count} | {At(0.5)} | {At(0.99)} | {(overshoots.Count == 0 ? "-" : $"{overshoots[^1]:F2} ms")} | {took.TotalSeconds:F1} s |");
    }
}
