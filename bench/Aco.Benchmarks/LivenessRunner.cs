using System.Diagnostics;
using Aco.Core;
using Aco.Hosting;
using Aco.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Aco.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Aco.Benchmarks -- liveness [tries | cancel]</c>: the measured runs behind the
/// scheduler-liveness targets (docs/benchmarks.md): hangs in many single sleeps on an idle scheduler,
/// the cost of cancelling sleepers one by one, and stopping a host with 1M live coroutines.
/// </summary>
internal static class LivenessRunner
{
    public static int Run(string[] args)
    {
        if (args is ["cancel"])
        {
            return CancelHalf(200_000) ? 0 : 1;
        }
        var sleeps = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1000;
        var ok = SingleSleeps(sleeps);
        ok &= CancelHalf(200_000);
        ok &= HostStop(1_000_000).GetAwaiter().GetResult();
        return ok ? 0 : 1;
    }

    /// <summary>Single sleeps of 1, 10 and 100 ms on a scheduler with nothing else to do; a fresh scheduler every 10 tries.</summary>
    private static bool SingleSleeps(int tries)
    {
        var sleep = Bodies.Get("bench_sleep_ms");
        var hangs = 0;
        var late = new List<double>();
        var watch = Stopwatch.StartNew();
        AcoScheduler? scheduler = null;
        for (var i = 0; i < tries; i++)
        {
            if (i % 10 == 0)
            {
                scheduler?.DisposeAsync().AsTask().GetAwaiter().GetResult();
                scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 1 });
                scheduler.Start();
            }
            var ms = i % 20 == 19 ? 100 : i % 4 == 3 ? 10 : 1;
            var started = Stopwatch.GetTimestamp();
            var handle = scheduler!.Spawn(sleep, ms);
            if (!handle.Completion.Wait(TimeSpan.FromMilliseconds(2000 + ms)))
            {
                hangs++;
                handle.Cancel();
                continue;
            }
            late.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds - ms);
            Thread.Sleep(i % 3); // idle in between
        }
        scheduler?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        late.Sort();
        Console.WriteLine($"single sleeps: {tries} tries (1/10/100 ms), {hangs} hangs, wake-up after the due time: median {late[late.Count / 2]:F2} ms, p99 {late[(int)(late.Count * 0.99)]:F2} ms, max {late[^1]:F2} ms ({watch.Elapsed.TotalSeconds:F1} s)");
        return hangs == 0;
    }

    /// <summary>Cancels every other one of <paramref name="count"/> sleepers, one by one.</summary>
    private static bool CancelHalf(int count)
    {
        var sleeper = Bodies.Get("bench_sleep_forever");
        var scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 4 });
        scheduler.Start();
        var handles = new AcoCoroutineHandle[count];
        for (var i = 0; i < count; i++)
        {
            handles[i] = scheduler.Spawn(sleeper);
        }
        while (scheduler.GetSnapshotAsync(0).GetAwaiter().GetResult().SleepingNative < count)
        {
            Thread.Sleep(10);
        }
        var tid = scheduler.Spawn(() => ValueTask.FromResult(Gettid())).GetAwaiter().GetResult();
        var schedulerCpu = ThreadCpu(tid);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < count; i += 2)
        {
            handles[i].Cancel();
        }
        var cancelled = handles.Where((_, i) => i % 2 == 0).Select(h => h.Completion);
        var ended = Task.WhenAll(cancelled.Select(c => c.ContinueWith(static _ => { }, TaskScheduler.Default))).Wait(TimeSpan.FromMinutes(5));
        var elapsed = watch.Elapsed;
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var schedulerCpuUsed = ThreadCpu(tid) - schedulerCpu;
        var stillAsleep = scheduler.GetSnapshotAsync(0).GetAwaiter().GetResult().SleepingNative;
        scheduler.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Console.WriteLine($"cancel one by one: {count / 2:N0} of {count:N0} sleepers in {elapsed.TotalMilliseconds:F0} ms wall, scheduler thread {schedulerCpuUsed.TotalMilliseconds:F0} ms CPU (process {cpuUsed.TotalMilliseconds:F0} ms), {stillAsleep:N0} still asleep");
        return ended && stillAsleep == count / 2;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "gettid")]
    private static extern int Gettid();

    /// <summary>CPU time a thread has used (Linux: /proc/self/task/TID/schedstat, in nanoseconds).</summary>
    private static TimeSpan ThreadCpu(int tid) =>
        TimeSpan.FromTicks(long.Parse(File.ReadAllText($"/proc/self/task/{tid}/schedstat").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 100);

    /// <summary>The README's hosting pattern at scale: spawn with stoppingToken, then stop the host.</summary>
    private static async Task<bool> HostStop(int count)
    {
        var before = AcoNativeCounters.Read();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddAcoScheduler(o =>
        {
            o.SchedulerCount = 2;
            o.StopGracePeriod = TimeSpan.FromSeconds(30);
        });
        var spawned = new TaskCompletionSource<AcoCoroutineHandle[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        builder.Services.AddHostedService(sp => new Spawner(sp.GetRequiredService<IAcoSchedulerPool>(), count, spawned));
        using var host = builder.Build();
        await host.StartAsync().ConfigureAwait(false);
        var pool = host.Services.GetRequiredService<IAcoSchedulerPool>();
        var handles = await spawned.Task.ConfigureAwait(false);
        while (pool.Schedulers.Sum(s => s.Counters.LiveNative) < count)
        {
            await Task.Delay(10).ConfigureAwait(false);
        }
        var watch = Stopwatch.StartNew();
        await host.StopAsync().ConfigureAwait(false);
        var elapsed = watch.Elapsed;
        var allEnded = handles.All(h => h.Completion.IsCanceled);
        var destroyed = pool.Schedulers.Sum(s => s.Counters.DestroyedAtStop);
        var countersZero = (before with { CopiedBytes = 0 }) == (AcoNativeCounters.Read() with { CopiedBytes = 0 });
        Console.WriteLine($"host stop: {count:N0} coroutines spawned with stoppingToken, stopped in {elapsed.TotalMilliseconds:F0} ms, every handle cancelled: {allEnded}, destroyed at the deadline: {destroyed}, native counters back to zero: {countersZero}");
        return allEnded && destroyed == 0 && countersZero;
    }

    private sealed class Spawner(IAcoSchedulerPool pool, int count, TaskCompletionSource<AcoCoroutineHandle[]> spawned) : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() =>
        {
            var sleeper = Bodies.Get("bench_sleep_forever");
            var handles = new AcoCoroutineHandle[count];
            for (var i = 0; i < count; i++)
            {
                handles[i] = pool.Spawn(sleeper, 0, stoppingToken);
            }
            spawned.SetResult(handles);
        }, stoppingToken);
    }
}
