using System.Diagnostics;
using Aco.Core;
using Aco.Scheduling;

namespace Aco.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Aco.Benchmarks -- memory [native counts...]</c>: RSS per live
/// coroutine under one scheduler, managed bookkeeping included. Each figure comes from a fresh process.
/// </summary>
internal static class MemoryRunner
{
    public static int Run(string[] args)
    {
        if (args is ["one", var oneKind, var countText])
        {
            return One(oneKind, long.Parse(countText, System.Globalization.CultureInfo.InvariantCulture));
        }
        Console.WriteLine("| coroutines alive | kind | RSS per coroutine | native counters |");
        Console.WriteLine("|---:|---|---:|---|");
        foreach (var (kind, count) in new[] { ("native", 1_000_000L), ("native-sleeping", 1_000_000L), ("native-sleeping", 10_000_000L), ("managed", 1_000_000L), ("bare-async", 1_000_000L), ("bare-async-context", 1_000_000L), ("managed-shared", 1_000_000L), ("bare-async-shared", 1_000_000L) })
        {
            var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            {
                psi.ArgumentList.Add(typeof(MemoryRunner).Assembly.Location); // run through `dotnet x.dll`
            }
            psi.ArgumentList.Add("memory");
            psi.ArgumentList.Add("one");
            psi.ArgumentList.Add(kind);
            psi.ArgumentList.Add(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var p = Process.Start(psi)!;
            Console.Write(p.StandardOutput.ReadToEnd());
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                return p.ExitCode;
            }
        }
        return 0;
    }

    private static async Task Idle(TaskCompletionSource wait) => await wait.Task;

    /// <summary>A context that awaits capture; nothing is ever posted to it here (the awaited tasks never complete).</summary>
    private sealed class CapturedContext : SynchronizationContext;

    private static long Rss() => Process.GetCurrentProcess().WorkingSet64;

    /// <summary>
    /// A full, compacting collection that also gives free memory back to the system: what a row measures is what
    /// the coroutines keep, not what the burst that spawned them left for the collector to reuse.
    /// </summary>
    private static void Settle() => GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    private static int One(string kind, long count)
    {
        // Ready coroutines that only yield keep the ready queue full, and new ones are admitted while it has room:
        // a budget as large as the count admits them all at once. Beyond the largest budget, rows use sleepers
        // (admission leaves new work waiting while the ready queue is full of yielders, by design).
        if (kind == "native" && count > AcoSchedulerOptions.MaxBudget)
        {
            Console.Error.WriteLine($"native (yielding) rows go up to {AcoSchedulerOptions.MaxBudget:N0} coroutines; use native-sleeping for more");
            return 2;
        }
        var scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 4, RunLoopBudget = (int)Math.Min(count, AcoSchedulerOptions.MaxBudget) });
        scheduler.Start();
        var entry = Bodies.Get(kind == "native-sleeping" ? "bench_sleep_forever" : "bench_bridge_yield_forever");
        scheduler.Spawn(() => ValueTask.CompletedTask).GetAwaiter().GetResult(); // warmed up
        // What the coroutines wait on exists before the baseline: it is the same for both kinds.
        var shared = kind.EndsWith("-shared", StringComparison.Ordinal);
        TaskCompletionSource[]? waits = kind.StartsWith("native", StringComparison.Ordinal)
            ? null
            : Enumerable.Range(0, shared ? 1 : (int)count).Select(_ => new TaskCompletionSource()).ToArray();
        Settle();
        var before = Rss();
        if (kind.StartsWith("native", StringComparison.Ordinal))
        {
            scheduler.Spawn(() =>
            {
                for (long i = 0; i < count; i++)
                {
                    scheduler.SpawnDetached(entry); // alive: yielding in the ready queue, or asleep on the timer heap
                }
                return ValueTask.CompletedTask;
            }).GetAwaiter().GetResult();
            while (scheduler.Counters is var now && (now.QueuedSpawns > 0 || now.Resumes < count))
            {
                Thread.Sleep(10); // until each is admitted and has run once
            }
        }
        else
        {
            // Idle managed coroutines, or (the baseline) plain async methods: each awaiting its own
            // TaskCompletionSource, or all one shared task ("-shared").
            var wait = waits!;
            if (kind.StartsWith("managed", StringComparison.Ordinal))
            {
                scheduler.Spawn(() =>
                {
                    for (long i = 0; i < count; i++)
                    {
                        _ = scheduler.Spawn(static async w => await w.Task, wait[shared ? 0 : i]);
                    }
                    return ValueTask.CompletedTask;
                }).GetAwaiter().GetResult();
                while (scheduler.Counters.QueuedSpawns > 0 || scheduler.GetSnapshotAsync(0).GetAwaiter().GetResult().ManagedQueue > 0)
                {
                    Thread.Sleep(10); // until every body has started and suspended
                }
            }
            else
            {
                // "-context": started under a SynchronizationContext, as every await on a scheduler thread is, so
                // each await captures it (a continuation object and a delegate of its own): the floor of an idle
                // coroutine of any single-threaded scheduler.
                var previous = SynchronizationContext.Current;
                if (kind.Contains("-context", StringComparison.Ordinal))
                {
                    SynchronizationContext.SetSynchronizationContext(new CapturedContext());
                }
                for (long i = 0; i < count; i++)
                {
                    _ = Idle(wait[shared ? 0 : i]);
                }
                SynchronizationContext.SetSynchronizationContext(previous);
            }
        }
        Settle();
        var after = Rss();
        GC.KeepAlive(waits);
        var c = AcoNativeCounters.Read();
        Console.WriteLine($"| {count:N0} | {kind} | {(double)(after - before) / count:F0} B | {c.LiveCoroutines:N0} coroutines, {c.SaveStackBytes:N0} save-stack bytes |");
        if (Environment.GetEnvironmentVariable("ACO_MEMORY_PAUSE") == "1")
        {
            Console.Out.Flush();
            Console.In.ReadLine(); // to inspect the process (dotnet-gcdump, dotnet-counters) before it exits
        }
        Environment.Exit(0); // no orderly stop: it would take longer than the measurement
        return 0;
    }
}
