using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using Aco.Tests.Shared;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // child hosts of a million-coroutine sample: one at a time

namespace Aco.Tools.Tests;

/// <summary>dotnet-aco against real processes: the worker sample holding coroutines, and a process without AddAcoScheduler.</summary>
public sealed class DumpCommandTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);

    private static string WorkerDll => typeof(DumpCommandTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "AcoWorkerServiceDll").Value!;

    private static string ToolDll => typeof(DumpCommand).Assembly.Location;

    /// <summary>Runs the worker sample holding <paramref name="count"/> coroutines, calls <paramref name="whileHolding"/> with its pid, then stops it.</summary>
    private static async Task<(T Value, BoundedProcess.Result Worker)> WhileWorkerHolds<T>(int count, Func<int, Task<T>> whileHolding)
    {
        var psi = BoundedProcess.Start("dotnet", WorkerDll, "--count", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "--hold");
        psi.WorkingDirectory = Path.GetDirectoryName(WorkerDll)!;
        psi.Environment["Aco__SchedulerCount"] = "2";
        var holding = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = BoundedProcess.RunAsync(psi, Bound, (process, line) =>
        {
            if (line.Contains($"holding {count} coroutines", StringComparison.Ordinal))
            {
                holding.TrySetResult(process.Id);
            }
        });
        var pid = await holding.Task.WaitAsync(Bound);
        T value;
        try
        {
            value = await whileHolding(pid);
        }
        finally
        {
            using var process = Process.GetProcessById(pid);
            BoundedProcess.Terminate(process);
        }
        return (value, await worker);
    }

    private static Task<BoundedProcess.Result> Tool(params string[] args) =>
        BoundedProcess.RunAsync(BoundedProcess.Start("dotnet", [ToolDll, .. args]), Bound);

    [Fact]
    public async Task Dump_of_a_worker_sample_holding_coroutines_over_the_diagnostics_channel()
    {
        var ((text, json), worker) = await WhileWorkerHolds(20_000, async pid =>
            (await Tool("dump", "-p", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)),
             await Tool("dump", "--process-id", pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json", "--max-per-group", "3")));
        Assert.True(text.ExitCode == 0, text.Output);
        Assert.Contains("20,000 coroutines (20,000 native, 0 managed), 0 stuck", text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("20,000 x native, sleep", text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("worker_hold+0x", text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("aco_bridge_sleep_ms+0x", text.StandardOutput, StringComparison.Ordinal);
        Assert.True(json.ExitCode == 0, json.Output);
        using var doc = JsonDocument.Parse(json.StandardOutput);
        Assert.Equal(20_000, doc.RootElement.GetProperty("coroutines").GetInt64());
        var group = doc.RootElement.GetProperty("groups")[0];
        Assert.Equal("sleep", group.GetProperty("wait").GetString());
        Assert.Equal(3, group.GetProperty("coroutines").GetArrayLength());
        Assert.Equal(19_997, group.GetProperty("notListed").GetInt32());
        Assert.Equal(0, worker.ExitCode);
    }

    [Fact]
    public async Task A_process_that_does_not_use_AddAcoScheduler_gets_a_clear_message()
    {
        // This test process is a .NET process without AddAcoScheduler: it answers the diagnostic port, not the dump.
        var result = await Tool("dump", "-p", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), "--timeout", "3");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("does not use AddAcoScheduler()", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_process_that_is_not_running_gets_a_clear_message()
    {
        var result = await Tool("dump", "-p", "2147483646");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("No process with id 2147483646", result.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dump")]
    [InlineData("dump", "-p")]
    [InlineData("dump", "-p", "x")]
    [InlineData("dump", "-p", "1", "--frobnicate")]
    [InlineData("frobnicate")]
    public async Task Bad_usage_exits_2_with_the_usage(params string[] args)
    {
        var result = await Tool(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Usage: dotnet aco dump --process-id", result.StandardError, StringComparison.Ordinal);
    }
}
