using System.Diagnostics;
using System.Reflection;
using Aco.Core;
using Aco.Scheduling;
using Aco.Tests.Shared;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // native counters are process-wide

namespace Aco.Hosting.Tests;

internal static class Bodies
{
    public static readonly nint Library = AcoNativeLibrary.LoadBodies(Path.Combine(AppContext.BaseDirectory, "libaco_test_bodies.so"));

    public static AcoEntryPoint Get(string name) => AcoEntryPoint.FromExport(Library, name);
}

public sealed class HostingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    internal static IHost BuildHost(Action<IServiceCollection>? configure = null, Dictionary<string, string?>? settings = null, FakeLogCollector? logs = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?> { ["Aco:SchedulerCount"] = "2" });
        if (logs is not null)
        {
            builder.Logging.AddProvider(new FakeLoggerProvider(logs));
        }
        builder.Services.AddAcoScheduler();
        configure?.Invoke(builder.Services);
        return builder.Build();
    }

    [Fact]
    public async Task Options_come_from_the_Aco_section_and_the_pool_has_that_many_schedulers()
    {
        using var host = BuildHost(settings: new() { ["Aco:SchedulerCount"] = "3", ["Aco:ShareStacksPerScheduler"] = "2" });
        await host.StartAsync().WaitAsync(Timeout);
        var pool = host.Services.GetRequiredService<IAcoSchedulerPool>();
        Assert.Equal(3, pool.Schedulers.Count);
        Assert.All(pool.Schedulers, s => Assert.True(s.IsRunning));
        Assert.All(pool.Schedulers, s => Assert.Equal(2, s.Options.ShareStackCount));
        await host.StopAsync().WaitAsync(Timeout);
        Assert.All(pool.Schedulers, s => Assert.False(s.IsRunning));
    }

    [Theory]
    [InlineData("SchedulerCount", "0")]
    [InlineData("ShareStacksPerScheduler", "5000")]
    [InlineData("RunLoopBudget", "-1")]
    [InlineData("ShareStackSize", "100")] // below the smallest share stack: refused, never rounded up silently
    [InlineData("InitialSaveStackSize", "8")]
    [InlineData("LongTurnThreshold", "00:00:00")]
    public async Task A_bad_option_stops_the_host_at_start_naming_the_key_and_range(string key, string value)
    {
        using var host = BuildHost(settings: new() { [$"Aco:{key}"] = value });
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Timeout));
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
        Assert.Contains("between", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schedulers_are_running_before_other_hosted_services_execute()
    {
        using var host = BuildHost(services => services.AddHostedService<SpawnsAtOnce>());
        await host.StartAsync().WaitAsync(Timeout);
        var probe = host.Services.GetServices<IHostedService>().OfType<SpawnsAtOnce>().Single();
        Assert.Equal(10, await probe.Result.WaitAsync(Timeout));
        await host.StopAsync().WaitAsync(Timeout);
    }

    private sealed class SpawnsAtOnce(IAcoSchedulerPool pool) : BackgroundService
    {
        private readonly TaskCompletionSource<long> _result = new();

        public Task<long> Result => _result.Task;

        protected override async Task ExecuteAsync(CancellationToken stoppingToken) =>
            _result.SetResult(await pool.Spawn(Bodies.Get("sched_yield_n"), 10, stoppingToken));
    }

    [Fact]
    public async Task Stopping_under_load_ends_every_coroutine_in_time_and_frees_everything()
    {
        var before = AcoNativeCounters.Read();
        using var host = BuildHost(settings: new() { ["Aco:SchedulerCount"] = "2", ["Aco:StopGracePeriod"] = "00:00:05" });
        await host.StartAsync().WaitAsync(Timeout);
        var pool = host.Services.GetRequiredService<IAcoSchedulerPool>();
        var sleeper = Bodies.Get("sched_until_cancelled");
        var awaited = Enumerable.Range(0, 1000).Select(_ => pool.Spawn(sleeper)).ToList();
        for (var i = 0; i < 99_000; i++)
        {
            pool.SpawnDetached(sleeper);
        }
        while (pool.Schedulers.Sum(s => s.Counters.LiveNative) < 100_000)
        {
            await Task.Delay(20);
        }
        var watch = Stopwatch.StartNew();
        await host.StopAsync().WaitAsync(Timeout);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {watch.Elapsed}");
        Assert.All(awaited, h => Assert.True(h.Completion.IsCanceled));
        Assert.Equal(before with { CopiedBytes = 0 }, AcoNativeCounters.Read() with { CopiedBytes = 0 });
    }

    [Fact]
    public async Task Logs_have_stable_event_ids()
    {
        var logs = new FakeLogCollector();
        using var host = BuildHost(logs: logs, settings: new() { ["Aco:SchedulerCount"] = "1" });
        await host.StartAsync().WaitAsync(Timeout);
        var pool = host.Services.GetRequiredService<IAcoSchedulerPool>();
        await Assert.ThrowsAsync<AcoCoroutineException>(() => pool.Spawn(Bodies.Get("sched_fail")).Completion.WaitAsync(Timeout));
        await host.StopAsync().WaitAsync(Timeout);
        var records = logs.GetSnapshot();
        Assert.Contains(records, r => r.Id.Id == 1 && r.Message.Contains("started", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Id.Id == 3 && r.Level == LogLevel.Warning && r.Message.Contains("boom 42", StringComparison.Ordinal));
        Assert.Contains(records, r => r.Id.Id == 2 && r.Message.Contains("1 faulted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stop_that_runs_out_of_time_is_logged_and_still_frees_everything()
    {
        var before = AcoNativeCounters.Read();
        var logs = new FakeLogCollector();
        using var host = BuildHost(logs: logs, settings: new() { ["Aco:SchedulerCount"] = "1", ["Aco:StopGracePeriod"] = "00:00:00.200" });
        await host.StartAsync().WaitAsync(Timeout);
        var pool = host.Services.GetRequiredService<IAcoSchedulerPool>();
        var stubborn = pool.Spawn(Bodies.Get("sched_stubborn")); // ignores cancellation
        await Task.Delay(50);
        await host.StopAsync().WaitAsync(Timeout);
        Assert.True(stubborn.Completion.IsCanceled);
        Assert.True(logs.GetSnapshot().Any(r => r.Id.Id == 5), string.Join("\n", logs.GetSnapshot().Select(r => $"{r.Id.Id} {r.Message}")));
        Assert.Equal(before with { CopiedBytes = 0 }, AcoNativeCounters.Read() with { CopiedBytes = 0 });
    }

    [Fact]
    public async Task The_Aco_meter_reports_coroutines_resumes_and_requests()
    {
        using var host = BuildHost(settings: new() { ["Aco:SchedulerCount"] = "1" });
        await host.StartAsync().WaitAsync(Timeout);
        var pool = host.Services.GetRequiredService<IAcoSchedulerPool>();
        var meterFactory = host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var spawned = new MetricCollector<long>(meterFactory, AcoMetrics.MeterName, "aco.coroutines.spawned");
        using var completed = new MetricCollector<long>(meterFactory, AcoMetrics.MeterName, "aco.coroutines.completed");
        using var resumes = new MetricCollector<long>(meterFactory, AcoMetrics.MeterName, "aco.resumes");
        using var requests = new MetricCollector<long>(meterFactory, AcoMetrics.MeterName, "aco.bridge.requests");
        using var live = new MetricCollector<long>(meterFactory, AcoMetrics.MeterName, "aco.coroutines.live");
        using var ready = new MetricCollector<long>(meterFactory, AcoMetrics.MeterName, "aco.ready_queue.length");
        using var copied = new MetricCollector<long>(meterFactory, AcoMetrics.MeterName, "aco.share_stack.copied_bytes");
        // Spawned together on the scheduler thread: 20 coroutines take turns on 4 share stacks, so stacks are copied.
        var entry = Bodies.Get("sched_yield_n");
        var handles = await pool[0].Spawn(() => ValueTask.FromResult(Enumerable.Range(0, 20).Select(_ => pool[0].Spawn(entry, 5)).ToList()));
        await Task.WhenAll(handles.Select(h => h.Completion));
        await Assert.ThrowsAsync<AcoCoroutineException>(() => pool.Spawn(Bodies.Get("sched_fail")).Completion.WaitAsync(Timeout));
        spawned.RecordObservableInstruments();
        completed.RecordObservableInstruments();
        resumes.RecordObservableInstruments();
        requests.RecordObservableInstruments();
        live.RecordObservableInstruments();
        ready.RecordObservableInstruments();
        copied.RecordObservableInstruments();
        Assert.Equal(21, spawned.LastMeasurement!.Value);
        Assert.Contains(completed.GetMeasurementSnapshot(), m => m.Tags["outcome"] as string == "completed" && m.Value == 20);
        Assert.Contains(completed.GetMeasurementSnapshot(), m => m.Tags["outcome"] as string == "faulted" && m.Value == 1);
        Assert.True(resumes.LastMeasurement!.Value >= 20 * 6, $"resumes {resumes.LastMeasurement!.Value}");
        Assert.Contains(requests.GetMeasurementSnapshot(), m => m.Tags["kind"] as string == "finish" && m.Value == 20);
        Assert.Contains(live.GetMeasurementSnapshot(), m => m.Tags["kind"] as string == "native" && m.Value == 0);
        Assert.NotEmpty(ready.GetMeasurementSnapshot());
        Assert.True(copied.LastMeasurement!.Value > 0, $"copied {copied.LastMeasurement!.Value}");
        await host.StopAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task The_health_check_turns_unhealthy_after_a_long_turn()
    {
        using var host = BuildHost(services => services.AddHealthChecks().AddAcoSchedulers(),
            new() { ["Aco:SchedulerCount"] = "1", ["Aco:LongTurnThreshold"] = "00:00:00.050" });
        await host.StartAsync().WaitAsync(Timeout);
        var health = host.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
        var pool = host.Services.GetRequiredService<IAcoSchedulerPool>();
        await pool.Spawn(Bodies.Get("sched_yield_n"), 100_000).Completion.WaitAsync(Timeout); // busy, but yielding
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
        await pool.Spawn(Bodies.Get("sched_spin_ms"), 200).Completion.WaitAsync(Timeout); // 200 ms without a yield
        var report = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains("long turn", report.Entries["aco"].Description, StringComparison.Ordinal);
        await host.StopAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task The_health_check_turns_unhealthy_when_a_sleeper_is_overdue()
    {
        // Timers that never fire: the sleeper is never woken, and the health check must say so. Its deadline is an
        // hour away and the clock is then moved two hours on, so no turn of the scheduler (however slow the machine)
        // can find it due before the clock moves, and once it has moved nothing wakes the idle scheduler.
        var clock = new ShiftedClock(new MisbehavingTimeProvider(TimerBehaviour.Never));
        using var host = BuildHost(services => services.AddSingleton<TimeProvider>(clock).AddHealthChecks().AddAcoSchedulers(),
            settings: new() { ["Aco:SchedulerCount"] = "1", ["Aco:SleeperOverdueThreshold"] = "00:00:00.050" });
        await host.StartAsync().WaitAsync(Timeout);
        var pool = host.Services.GetRequiredService<IAcoSchedulerPool>();
        var health = host.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
        var stuck = pool.Spawn(Bodies.Get("sched_sleep"), 3_600_000);
        var watch = Stopwatch.StartNew();
        while (pool.Schedulers[0].Counters.SleepingNative != 1)
        {
            Assert.True(watch.Elapsed < Timeout, "the sleeper never went to sleep");
            await Task.Delay(10);
        }
        clock.Shift(TimeSpan.FromHours(2));
        HealthReport report;
        while ((report = await health.CheckHealthAsync()).Status == HealthStatus.Healthy)
        {
            Assert.True(watch.Elapsed < Timeout, "the overdue sleeper never showed in the health check");
            await Task.Delay(10);
        }
        Assert.Equal(HealthStatus.Unhealthy, report.Status);
        Assert.Contains("sleepers overdue", report.Entries["aco"].Description, StringComparison.Ordinal);
        Assert.False(stuck.Completion.IsCompleted);
        await host.StopAsync().WaitAsync(Timeout);
        Assert.True(stuck.Completion.IsCompleted); // the stop's wake-up lets the loop see it due, or cancels it
    }

    [Fact]
    public async Task A_million_coroutines_spawned_with_the_stopping_token_all_end_within_the_grace_period()
    {
        var before = AcoNativeCounters.Read();
        using var host = BuildHost(services => services.AddHostedService<MillionSleepers>(),
            settings: new() { ["Aco:SchedulerCount"] = "2", ["Aco:StopGracePeriod"] = "00:00:30" });
        await host.StartAsync().WaitAsync(Timeout);
        var pool = host.Services.GetRequiredService<IAcoSchedulerPool>();
        var worker = host.Services.GetServices<IHostedService>().OfType<MillionSleepers>().Single();
        var handles = await worker.Spawned.WaitAsync(TimeSpan.FromMinutes(2));
        var watch = Stopwatch.StartNew();
        while (pool.Schedulers.Sum(s => s.Counters.LiveNative) < MillionSleepers.Count)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromMinutes(2), "the coroutines did not all start");
            await Task.Delay(20);
        }
        await host.StopAsync().WaitAsync(TimeSpan.FromMinutes(2)); // cancels stoppingToken: 1M cancellations
        // Each coroutine saw ACO_BRIDGE_CANCELLED and ended by itself: none was left for the deadline to destroy.
        Assert.All(pool.Schedulers, s => Assert.Equal(0, s.Counters.DestroyedAtStop));
        Assert.All(handles, h => Assert.True(h.Completion.IsCanceled));
        Assert.Equal(MillionSleepers.Count, pool.Schedulers.Sum(s => s.Counters.CanceledNative));
        Assert.Equal(before with { CopiedBytes = 0 }, AcoNativeCounters.Read() with { CopiedBytes = 0 });
    }

    /// <summary>The README's pattern at scale: spawn with stoppingToken, then wait for the host to stop.</summary>
    private sealed class MillionSleepers(IAcoSchedulerPool pool) : BackgroundService
    {
        public const int Count = 1_000_000;
        private readonly TaskCompletionSource<AcoCoroutineHandle[]> _spawned = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<AcoCoroutineHandle[]> Spawned => _spawned.Task;

        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(async () =>
        {
            var sleeper = Bodies.Get("sched_until_cancelled");
            var handles = new AcoCoroutineHandle[Count];
            for (var i = 0; i < Count; i++)
            {
                handles[i] = pool.Spawn(sleeper, 0, stoppingToken);
            }
            _spawned.SetResult(handles);
            await Task.Delay(System.Threading.Timeout.Infinite, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }, stoppingToken);
    }

    [Fact]
    public async Task The_worker_sample_holding_coroutines_exits_cleanly_on_SIGTERM()
    {
        var dll = typeof(HostingTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "AcoWorkerServiceDll").Value!;
        var psi = Aco.Tests.Shared.BoundedProcess.Start("dotnet", dll, "--count", "200000", "--hold");
        psi.WorkingDirectory = Path.GetDirectoryName(dll)!;
        psi.Environment["Aco__SchedulerCount"] = "2";
        var signalled = 0;
        var result = await Aco.Tests.Shared.BoundedProcess.RunAsync(psi, TimeSpan.FromMinutes(2), (process, line) =>
        {
            if (line.Contains("holding 200000 coroutines", StringComparison.Ordinal) && Interlocked.Exchange(ref signalled, 1) == 0)
            {
                Aco.Tests.Shared.BoundedProcess.Terminate(process); // as systemd or Kubernetes would stop it
            }
        });
        Assert.True(signalled == 1 && result.ExitCode == 0, $"exit code {result.ExitCode}\n{result.Output}");
        Assert.Contains("hold: 200,000 coroutines, 200,000 ended cancelled, 0 still pending, destroyed at the deadline 0, native coroutines alive 0", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_worker_service_sample_runs_a_small_count_and_exits_cleanly()
    {
        var dll = typeof(HostingTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "AcoWorkerServiceDll").Value!;
        var psi = Aco.Tests.Shared.BoundedProcess.Start("dotnet", dll, "--count", "20000");
        psi.WorkingDirectory = Path.GetDirectoryName(dll)!;
        psi.Environment["Aco__SchedulerCount"] = "2";
        var result = await Aco.Tests.Shared.BoundedProcess.RunAsync(psi, TimeSpan.FromMinutes(2)); // a hang is killed and fails
        var stdout = result.StandardOutput;
        Assert.True(result.ExitCode == 0, $"exit code {result.ExitCode}\n{result.Output}");
        Assert.Contains("summary: 20,000 coroutines finished", stdout, StringComparison.Ordinal);
        Assert.Contains("(correct)", stdout, StringComparison.Ordinal);
        Assert.Contains("2 schedulers", stdout, StringComparison.Ordinal);
    }
}

/// <summary>A clock that the test moves on at will; its timers are those of the clock it wraps.</summary>
internal sealed class ShiftedClock(TimeProvider inner) : TimeProvider
{
    private long _shift;

    /// <summary>Moves the clock on by <paramref name="by"/>.</summary>
    public void Shift(TimeSpan by) => Interlocked.Add(ref _shift, (long)(by.TotalSeconds * inner.TimestampFrequency));

    public override long GetTimestamp() => inner.GetTimestamp() + Interlocked.Read(ref _shift);

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        inner.CreateTimer(callback, state, dueTime, period);
}
