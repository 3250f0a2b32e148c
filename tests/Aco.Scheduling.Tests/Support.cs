using System.Runtime.InteropServices;
using Aco.Core;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // native counters are process-wide

namespace Aco.Scheduling.Tests;

internal static class Bodies
{
    public static readonly nint Library = AcoNativeLibrary.LoadBodies(Path.Combine(AppContext.BaseDirectory, "libaco_test_bodies.so"));

    public static AcoEntryPoint Get(string name) => AcoEntryPoint.FromExport(Library, name);

    public static readonly AcoEntryPoint YieldN = Get("sched_yield_n");
    public static readonly AcoEntryPoint LogRounds = Get("sched_log_rounds");
    public static readonly AcoEntryPoint Sleep = Get("sched_sleep");
    public static readonly AcoEntryPoint CallUpper = Get("sched_call_upper");
    public static readonly AcoEntryPoint ChannelSum = Get("sched_channel_sum");
    public static readonly AcoEntryPoint Generate = Get("sched_generate");
    public static readonly AcoEntryPoint Fail = Get("sched_fail");
    public static readonly AcoEntryPoint UntilCancelled = Get("sched_until_cancelled");
    public static readonly AcoEntryPoint Await = Get("sched_await");
    public static readonly AcoEntryPoint HoldData = Get("sched_hold_data");
    public static readonly AcoEntryPoint SleepRounds = Get("sched_sleep_rounds");
    public static readonly AcoEntryPoint FinishAfterYields = Get("sched_finish_after_yields");
    public static readonly AcoEntryPoint StubbornSleeper = Get("sched_stubborn_sleeper");
    public static readonly AcoEntryPoint ReceiveLog = Get("sched_receive_log");
    public static readonly AcoEntryPoint FloodJob = Get("sched_flood_job");
    public static readonly AcoEntryPoint CountOnCancel = Get("sched_count_on_cancel");
    public static readonly AcoEntryPoint Probe = Get("sched_probe");
}

/// <summary>A started scheduler that is stopped (and checked to free everything) at the end of a test.</summary>
internal sealed class RunningScheduler : IAsyncDisposable
{
    private readonly AcoNativeCounters _before = AcoNativeCounters.Read();

    public RunningScheduler(AcoSchedulerOptions? options = null)
    {
        Scheduler = new AcoScheduler(options ?? new AcoSchedulerOptions { ShareStackCount = 2, ShareStackSize = 64 * 1024 });
        Scheduler.Start();
    }

    public AcoScheduler Scheduler { get; }

    public async ValueTask DisposeAsync()
    {
        await Scheduler.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await Scheduler.DisposeAsync();
        Assert.Equal(_before with { CopiedBytes = 0 }, AcoNativeCounters.Read() with { CopiedBytes = 0 });
    }
}

/// <summary>Native int64 arrays for coroutine arguments (the tests' async methods cannot hold pointers).</summary>
internal static unsafe class Native
{
    public static nint Alloc(int count) => (nint)NativeMemory.AllocZeroed((nuint)(count * sizeof(long)));

    public static long Get(nint array, int index) => ((long*)array)[index];

    public static void Set(nint array, int index, long value) => ((long*)array)[index] = value;

    public static nint At(nint array, int index) => (nint)((long*)array + index);

    public static void Free(nint array) => NativeMemory.Free((void*)array);
}
