using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using Aco.Scheduling;
using Aco.Tests.Shared;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Aco.Hosting.Tests;

public sealed class DumpHostingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static IHost BuildHost(Action<IServiceCollection>? configure = null, FakeLogCollector? logs = null) =>
        HostingTests.BuildHost(configure, logs: logs);

    /// <summary>
    /// A child started with SIGQUIT at its default disposition: a process inherits an ignored SIGQUIT (as from a test
    /// run started in the background by a non-interactive shell), and .NET leaves an ignored signal ignored.
    /// </summary>
    private static ProcessStartInfo WithSigQuit(string file, params string[] args) =>
        BoundedProcess.Start("env", ["--default-signal=QUIT", file, .. args]);

    [Fact]
    public async Task The_pool_dumps_the_coroutines_of_all_its_schedulers_in_one_dump()
    {
        using var host = BuildHost();
        await host.StartAsync().WaitAsync(Timeout);
        var pool = host.Services.GetRequiredService<IAcoSchedulerPool>();
        var handles = Enumerable.Range(0, 1000).Select(_ => pool.Spawn(Bodies.Get("sched_until_cancelled"))).ToList();
        var watch = Stopwatch.StartNew();
        AcoDump dump;
        while ((dump = await pool.GetDumpAsync().WaitAsync(Timeout)).Count < 1000)
        {
            Assert.True(watch.Elapsed < Timeout);
            await Task.Delay(10);
        }
        Assert.Equal(2, dump.Schedulers.Count);
        Assert.Equal(1000, dump.Schedulers.Sum(s => s.Coroutines));
        Assert.All(dump.Schedulers, s => Assert.True(s.Coroutines > 0));
        Assert.Equal(handles.Select(h => h.Id).Order(), dump.Groups.SelectMany(g => g.Coroutines).Select(c => c.Id).Order());
        await host.StopAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task The_health_check_turns_unhealthy_when_a_coroutine_is_stuck()
    {
        using var host = BuildHost(services => services.AddHealthChecks().AddAcoSchedulers());
        await host.StartAsync().WaitAsync(Timeout);
        var pool = host.Services.GetRequiredService<IAcoSchedulerPool>();
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var sleepers = Enumerable.Range(0, 10_000).Select(_ => pool.Spawn(Bodies.Get("sched_until_cancelled"))).ToList();
        var live = new TaskCompletionSource<long>();
        var scheduler = pool[0];
        var healthy = scheduler.Spawn(Bodies.Get("sched_await"), (nint)scheduler.RegisterOperation(live.Task));
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
        var stuck = scheduler.Spawn(Bodies.Get("sched_await"), (nint)RegisterDropped(scheduler));
        var watch = Stopwatch.StartNew();
        HealthReport report;
        while ((report = await health.CheckHealthAsync()).Status == HealthStatus.Healthy)
        {
            if (watch.Elapsed > Timeout)
            {
                Assert.Fail($"the stuck coroutine never showed in the health check: {report.Entries["aco"].Description}\n{(await pool.GetDumpAsync(new AcoDumpOptions { Frames = false }).WaitAsync(Timeout)).ToText(3)}");
            }
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(10);
        }
        Assert.Contains("1 coroutine(s) stuck", report.Entries["aco"].Description, StringComparison.Ordinal);
        Assert.Contains("OperationDropped", report.Entries["aco"].Description, StringComparison.Ordinal);
        stuck.Cancel();
        await Assert.ThrowsAsync<AcoCoroutineException>(() => stuck.Completion.WaitAsync(Timeout)); // sched_await fails a canceled await
        live.SetResult(1);
        await healthy.Completion.WaitAsync(Timeout);
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);
        await host.StopAsync().WaitAsync(Timeout);
        Assert.All(sleepers, h => Assert.True(h.Completion.IsCompleted));
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // nothing of the caller's frame keeps the task alive
    private static long RegisterDropped(AcoScheduler scheduler) => scheduler.RegisterOperation(new TaskCompletionSource<long>().Task);

    [Fact]
    public async Task SIGQUIT_writes_a_dump_to_the_log_of_a_child_host()
    {
        var dll = typeof(DumpHostingTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "AcoWorkerServiceDll").Value!;
        var psi = WithSigQuit("dotnet", dll, "--count", "20000", "--hold");
        psi.WorkingDirectory = Path.GetDirectoryName(dll)!;
        psi.Environment["Aco__SchedulerCount"] = "2";
        var quit = 0;
        var stopped = 0;
        var result = await BoundedProcess.RunAsync(psi, TimeSpan.FromMinutes(2), (process, line) =>
        {
            if (line.Contains("holding 20000 coroutines", StringComparison.Ordinal) && Interlocked.Exchange(ref quit, 1) == 0)
            {
                Signal(process, "-QUIT");
            }
            else if (line.Contains("... and 19,990 more", StringComparison.Ordinal) && Interlocked.Exchange(ref stopped, 1) == 0)
            {
                BoundedProcess.Terminate(process); // the dump is in the log: stop the host (if the console lifetime has not)
            }
        });
        Assert.True(stopped == 1 && result.ExitCode == 0, $"exit code {result.ExitCode}\n{result.Output}");
        var stdout = result.StandardOutput;
        Assert.Contains("Aco coroutine dump (SIGQUIT)", stdout, StringComparison.Ordinal);
        Assert.Contains("20,000 x native, sleep", stdout, StringComparison.Ordinal);
        Assert.Contains("worker_hold+0x", stdout, StringComparison.Ordinal);
        // Every coroutine was read before the stop cancelled them, and the host stopped cleanly.
        // (Each scheduler's stop line; how the 20,000 were spread over the two schedulers is the pool's choice.)
        var firstStop = stdout.IndexOf(" stopped: 0 coroutines completed", StringComparison.Ordinal);
        Assert.True(firstStop >= 0 && stdout.IndexOf("20,000 x native, sleep", StringComparison.Ordinal) < firstStop, stdout);
        Assert.Contains("hold: 20,000 coroutines, 20,000 ended cancelled", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_DumpOnSigQuit_off_SIGQUIT_is_left_to_the_console_lifetime_which_stops_the_host_without_a_dump()
    {
        var dll = typeof(DumpHostingTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "AcoWorkerServiceDll").Value!;
        var psi = WithSigQuit("dotnet", dll, "--count", "1000", "--hold");
        psi.WorkingDirectory = Path.GetDirectoryName(dll)!;
        psi.Environment["Aco__SchedulerCount"] = "2";
        psi.Environment["Aco__DumpOnSigQuit"] = "false";
        var quit = 0;
        var result = await BoundedProcess.RunAsync(psi, TimeSpan.FromMinutes(2), (process, line) =>
        {
            if (line.Contains("holding 1000 coroutines", StringComparison.Ordinal) && Interlocked.Exchange(ref quit, 1) == 0)
            {
                Signal(process, "-QUIT");
            }
        });
        Assert.True(quit == 1 && result.ExitCode == 0, $"exit code {result.ExitCode}\n{result.Output}");
        Assert.Contains("hold: 1,000 coroutines, 1,000 ended cancelled", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Aco coroutine dump", result.StandardOutput, StringComparison.Ordinal);
    }

    private static void Signal(Process process, string signal)
    {
        using var kill = Process.Start(BoundedProcess.Start("kill", signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)))!;
        kill.WaitForExit(5000);
    }
}
