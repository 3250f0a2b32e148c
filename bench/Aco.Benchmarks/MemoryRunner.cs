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
        foreach (var (kind, count) in new[] { ("native", 1_000_000L), ("native", 10_000_000L), ("native-sleeping", 1_000_000L), ("managed", 1_000_000L) })
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

    private static long Rss() => Process.GetCurrentProcess().WorkingSet64;

    private static int One(string kind, long count)
    {
        var scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 4 });
        scheduler.Start();
        var entry = Bodies.Get(kind == "native-sleeping" ? "bench_sleep_forever" : "bench_bridge_yield_forever");
        scheduler.Spawn(() => ValueTask.CompletedTask).GetAwaiter().GetResult(); // warmed up
        GC.Collect();
        var before = Rss();
        var never = new TaskCompletionSource();
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
            while (scheduler.Counters.Resumes < count)
            {
                Thread.Sleep(10); // until each has run once
            }
        }
        else
        {
            scheduler.Spawn(() =>
            {
                for (long i = 0; i < count; i++)
                {
                    _ = scheduler.Spawn(async () => await never.Task); // idle: waiting
                }
                return ValueTask.CompletedTask;
            }).GetAwaiter().GetResult();
            while (scheduler.Counters.LiveManaged < count)
            {
                Thread.Sleep(10);
            }
            Thread.Sleep(200);
        }
        GC.Collect();
        var after = Rss();
        var c = AcoNativeCounters.Read();
        Console.WriteLine($"| {count:N0} | {kind} | {(double)(after - before) / count:F0} B | {c.LiveCoroutines:N0} coroutines, {c.SaveStackBytes:N0} save-stack bytes |");
        Environment.Exit(0); // no orderly stop: it would take longer than the measurement
        return 0;
    }
}
