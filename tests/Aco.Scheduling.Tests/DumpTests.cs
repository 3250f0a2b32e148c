using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Aco.Core;
using Aco.Tests.Shared;

namespace Aco.Scheduling.Tests;

internal static class DumpBodies
{
    public static readonly nint Library = AcoNativeLibrary.LoadBodies(Path.Combine(AppContext.BaseDirectory, "libaco_dump_bodies.so"));
    public static readonly nint NoFramePointers = AcoNativeLibrary.LoadBodies(Path.Combine(AppContext.BaseDirectory, "libaco_dump_bodies_nofp.so"));

    public static readonly AcoEntryPoint Receive = AcoEntryPoint.FromExport(Library, "dump_receive");
    public static readonly AcoEntryPoint Send = AcoEntryPoint.FromExport(Library, "dump_send");
    public static readonly AcoEntryPoint Sleep = AcoEntryPoint.FromExport(Library, "dump_sleep");
    public static readonly AcoEntryPoint Await = AcoEntryPoint.FromExport(Library, "dump_await");
    public static readonly AcoEntryPoint AwaitAt = AcoEntryPoint.FromExport(Library, "dump_await_at");
    public static readonly AcoEntryPoint Yield = AcoEntryPoint.FromExport(Library, "dump_yield");
    public static readonly AcoEntryPoint Quick = AcoEntryPoint.FromExport(Library, "dump_quick");
    public static readonly AcoEntryPoint ReceiveNoFramePointers = AcoEntryPoint.FromExport(NoFramePointers, "dump_receive");
}

public sealed class DumpTests
{
    // A bound for a hang, not for speed: 100k coroutines under qemu-aarch64 on a busy machine take a minute or more.
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    private static AcoSchedulerOptions Options(int stacks = 4) => new() { ShareStackCount = stacks, ShareStackSize = 64 * 1024 };

    /// <summary>Waits (bounded) until the scheduler has <paramref name="count"/> native coroutines waiting.</summary>
    private static async Task WaitUntilWaiting(AcoScheduler scheduler, long count)
    {
        var until = DateTime.UtcNow + Timeout;
        while ((await scheduler.GetSnapshotAsync(0).WaitAsync(Timeout)).WaitingNative < count)
        {
            Assert.True(DateTime.UtcNow < until, $"fewer than {count} coroutines waiting after {Timeout}");
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task A_hundred_thousand_receivers_in_f1_f2_receive_are_one_group_with_symbolized_frames()
    {
        await using var run = new RunningScheduler(Options());
        var s = run.Scheduler;
        s.RegisterChannel(7, Channel.CreateUnbounded<long>());
        const int Count = 100_000;
        for (var i = 0; i < Count; i++)
        {
            s.SpawnDetached(DumpBodies.Receive, 7);
        }
        await WaitUntilWaiting(s, Count);

        var dump = await s.GetDumpAsync().WaitAsync(Timeout);

        var group = Assert.Single(dump.Groups);
        Assert.Equal(Count, group.Count);
        Assert.Equal(Count, dump.Count);
        Assert.Equal(AcoRequestKind.Receive, group.Wait);
        Assert.Equal(7, group.Argument);
        Assert.Equal("receive, channel 7", group.Description);
        Assert.Equal(AcoStuckReason.None, group.Stuck);
        Assert.Equal(AcoFramesStatus.Complete, group.FramesStatus);
        Assert.Equal("dump_receive", group.Body?.Function);
        var functions = group.Frames.Select(f => f.Function).ToList();
        Assert.Equal(["aco_bridge_receive", "dump_f2", "dump_f1", "dump_receive"], functions.SkipWhile(f => f != "aco_bridge_receive"));
        var f2 = group.Frames.Single(f => f.Function == "dump_f2");
        Assert.Equal("libaco_dump_bodies.so", f2.Module);
        Assert.EndsWith("aco_dump_bodies.c", f2.File);
        Assert.True(f2.Line > 0);
        Assert.All(group.Coroutines.Take(100), c => Assert.True(c.Wait == AcoRequestKind.Receive && c.Argument == 7 && c.ShareStack >= 0 && c.Waiting is not null));

        var text = dump.ToText();
        Assert.Contains("100,000 x native, receive, channel 7", text);
        Assert.Contains("dump_f2+0x", text);
        Assert.Contains("aco_dump_bodies.c:", text);
        using var json = JsonDocument.Parse(dump.ToJson(maxCoroutinesPerGroup: 5));
        var g = json.RootElement.GetProperty("groups")[0];
        Assert.Equal(Count, g.GetProperty("count").GetInt32());
        Assert.Equal(7, g.GetProperty("channel").GetInt32());
        Assert.Equal(5, g.GetProperty("coroutines").GetArrayLength());
        Assert.Contains(g.GetProperty("frames").EnumerateArray(), f => f.TryGetProperty("function", out var fn) && fn.GetString() == "dump_f1");
    }

    [Fact]
    public async Task A_dump_reads_in_slices_when_one_would_pause_the_scheduler_too_long()
    {
        await using var run = new RunningScheduler(Options());
        var s = run.Scheduler;
        for (var i = 0; i < 50_000; i++)
        {
            s.SpawnDetached(DumpBodies.Sleep);
        }
        await WaitUntilWaiting(s, 50_000);
        var dump = await s.GetDumpAsync(new AcoDumpOptions { MaxPause = TimeSpan.FromMilliseconds(1) }).WaitAsync(Timeout);
        Assert.Equal(50_000, dump.Count);
        Assert.True(dump.Schedulers[0].Slices > 1, $"{dump.Schedulers[0].Slices} slices");
        var group = Assert.Single(dump.Groups);
        Assert.Equal(AcoRequestKind.Sleep, group.Wait);
        Assert.All(group.Coroutines.Take(10), c => Assert.True(c.DueIn > TimeSpan.FromMinutes(50)));
    }

    [Fact]
    public async Task Ready_coroutines_and_ones_that_have_not_started_are_listed_too()
    {
        await using var run = new RunningScheduler(Options());
        var s = run.Scheduler;
        var yielders = Enumerable.Range(0, 3).Select(_ => s.Spawn(DumpBodies.Yield)).ToList();
        var dump = await s.GetDumpAsync().WaitAsync(Timeout);
        var ready = dump.Groups.Where(g => g.State == AcoCoroutineState.Ready).Sum(g => g.Count);
        Assert.Equal(3, ready);
        Assert.Contains(dump.Groups, g => g.Description == "ready" && g.Frames.Any(f => f.Function == "dump_yield"));
        Assert.Equal(yielders.Select(h => h.Id).Order(), dump.Groups.SelectMany(g => g.Coroutines).Select(c => c.Id).Order());
    }

    [Fact]
    public async Task A_body_built_without_frame_pointers_shows_what_could_be_read_and_says_why()
    {
        await using var run = new RunningScheduler(Options());
        var s = run.Scheduler;
        s.RegisterChannel(3, Channel.CreateUnbounded<long>());
        for (var i = 0; i < 10; i++)
        {
            s.SpawnDetached(DumpBodies.ReceiveNoFramePointers, 3);
        }
        await WaitUntilWaiting(s, 10);
        var dump = await s.GetDumpAsync().WaitAsync(Timeout);
        Assert.Equal(10, dump.Count);
        Assert.All(dump.Groups, g =>
        {
            Assert.Contains(g.FramesStatus, new[] { AcoFramesStatus.Broken, AcoFramesStatus.Incomplete, AcoFramesStatus.Unsupported });
            Assert.NotEmpty(g.Frames);
        });
        Assert.Contains("frame pointers", dump.ToText());
    }

    [Fact]
    public async Task Managed_coroutines_show_the_async_methods_they_are_suspended_in()
    {
        await using var run = new RunningScheduler(Options());
        var s = run.Scheduler;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bodies = Enumerable.Range(0, 5).Select(_ => s.Spawn(() => OuterAsync(gate.Task)).AsTask()).ToList();
        var until = DateTime.UtcNow + Timeout;
        AcoDump dump;
        do
        {
            dump = await s.GetDumpAsync().WaitAsync(Timeout);
            Assert.True(DateTime.UtcNow < until);
        }
        while (dump.Count < 5);
        var group = Assert.Single(dump.Groups);
        Assert.Equal(AcoCoroutineKind.Managed, group.Kind);
        Assert.Equal(5, group.Count);
        var functions = group.Frames.Select(f => f.Function).ToList();
        Assert.Contains(functions, f => f!.EndsWith("DumpTests.InnerAsync", StringComparison.Ordinal));
        Assert.Contains(functions, f => f!.EndsWith("DumpTests.OuterAsync", StringComparison.Ordinal));
        Assert.StartsWith("awaits ", functions[0]);
        gate.SetResult();
        await Task.WhenAll(bodies).WaitAsync(Timeout);
        dump = await s.GetDumpAsync().WaitAsync(Timeout);
        Assert.Equal(0, dump.Count);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async ValueTask OuterAsync(Task gate)
    {
        await InnerAsync(gate);
        await Task.Yield();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task InnerAsync(Task gate) => await gate;

    /// <summary>
    /// The three stuck patterns among 100k healthy sleepers and healthy waits on .NET: only the stuck ones are named,
    /// in the dump and by FindStuckAsync.
    /// </summary>
    [Fact]
    public async Task Each_stuck_pattern_is_named_and_nothing_healthy_is()
    {
        await using var run = new RunningScheduler(Options());
        var s = run.Scheduler;
        var slots = Native.Alloc(4);
        try
        {
            // Healthy: sleepers, a receiver on a live channel, an await on an operation someone will complete.
            for (var i = 0; i < 100_000; i++)
            {
                s.SpawnDetached(DumpBodies.Sleep);
            }
            s.RegisterChannel(7, Channel.CreateUnbounded<long>());
            s.SpawnDetached(DumpBodies.Receive, 7);
            var live = new TaskCompletionSource<long>();
            var healthyAwait = s.Spawn(DumpBodies.Await, (nint)s.RegisterOperation(live.Task));

            // Stuck: an operation whose completion source is dropped...
            var dropped = s.Spawn(DumpBodies.Await, (nint)RegisterDroppedOperation(s));
            // ...a receive on a channel that is then replaced...
            s.RegisterChannel(9, Channel.CreateUnbounded<long>());
            var replaced = s.Spawn(DumpBodies.Receive, 9);
            // ...a coroutine awaiting its own completion, two awaiting each other, and one awaiting one of those.
            var self = s.Spawn(DumpBodies.AwaitAt, Native.At(slots, 0));
            var a = s.Spawn(DumpBodies.AwaitAt, Native.At(slots, 1));
            var b = s.Spawn(DumpBodies.AwaitAt, Native.At(slots, 2));
            var c = s.Spawn(DumpBodies.AwaitAt, Native.At(slots, 3));
            Native.Set(slots, 0, s.RegisterOperation(self.Completion));
            Native.Set(slots, 1, s.RegisterOperation(b.Completion));
            Native.Set(slots, 2, s.RegisterOperation(a.Completion));
            Native.Set(slots, 3, s.RegisterOperation(a.Completion));
            await WaitUntilWaiting(s, 100_000 + 2 + 2 + 4);
            s.RegisterChannel(9, Channel.CreateUnbounded<long>(), replace: true);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();

            var dump = await s.GetDumpAsync().WaitAsync(Timeout);
            var stuck = dump.Groups.Where(g => g.Stuck != AcoStuckReason.None).SelectMany(g => g.Coroutines).ToDictionary(x => x.Id, x => x.Stuck);
            Assert.Equal(AcoStuckReason.OperationDropped, stuck[dropped.Id]);
            Assert.Equal(AcoStuckReason.ChannelReplaced, stuck[replaced.Id]);
            Assert.Equal(AcoStuckReason.AwaitCycle, stuck[self.Id]);
            Assert.Equal(AcoStuckReason.AwaitCycle, stuck[a.Id]);
            Assert.Equal(AcoStuckReason.AwaitCycle, stuck[b.Id]);
            Assert.Equal(AcoStuckReason.AwaitsStuck, stuck[c.Id]);
            Assert.Equal(6, stuck.Count);
            Assert.Equal(6, dump.StuckCount);
            Assert.Equal(100_000 + 2 + 6, dump.Count);
            Assert.Contains("STUCK", dump.ToText());

            var found = await s.FindStuckAsync().WaitAsync(Timeout);
            Assert.Equal(stuck.Keys.Order(), found.Select(x => x.Id).Order());

            // The healthy await completes; the stuck ones end only by cancellation.
            live.SetResult(5);
            Assert.Equal(5, await healthyAwait.Completion.WaitAsync(Timeout));
            foreach (var h in new[] { dropped, replaced, self, a, b, c })
            {
                h.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => h.Completion.WaitAsync(Timeout));
            }
        }
        finally
        {
            await s.StopAsync().WaitAsync(Timeout);
            Native.Free(slots);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long RegisterDroppedOperation(AcoScheduler s) => s.RegisterOperation(new TaskCompletionSource<long>().Task);

    [Fact]
    public async Task An_operation_that_completes_after_its_waiter_parked_still_answers_it()
    {
        await using var run = new RunningScheduler(Options());
        var s = run.Scheduler;
        var handles = new List<(TaskCompletionSource<long> Source, AcoCoroutineHandle Handle)>();
        for (var i = 0; i < 100; i++)
        {
            var source = new TaskCompletionSource<long>();
            handles.Add((source, s.Spawn(DumpBodies.Await, (nint)s.RegisterOperation(source.Task))));
        }
        await WaitUntilWaiting(s, 100);
        GC.Collect();
        for (var i = 0; i < handles.Count; i++)
        {
            handles[i].Source.SetResult(i);
        }
        GC.Collect(); // the registrations are strong again before the waiters are served
        for (var i = 0; i < handles.Count; i++)
        {
            Assert.Equal(i, await handles[i].Handle.Completion.WaitAsync(Timeout));
        }
    }

    /// <summary>Dumps taken while coroutines spawn, end and are cancelled, and while the scheduler stops: never a crash, never a wrong coroutine.</summary>
    [Fact]
    public async Task Dumps_taken_while_coroutines_come_go_and_are_cancelled_and_the_scheduler_stops()
    {
        var before = AcoNativeCounters.Read();
        var s = new AcoScheduler(Options());
        s.Start();
        s.RegisterChannel(1, Channel.CreateUnbounded<long>());
        using var stop = new CancellationTokenSource();
        var churn = Task.Run(async () =>
        {
            var random = new Random(42);
            var sleepers = new List<AcoCoroutineHandle>();
            while (!stop.IsCancellationRequested)
            {
                for (var i = 0; i < 200; i++)
                {
                    s.SpawnDetached(DumpBodies.Quick);
                    s.SpawnDetached(DumpBodies.Send, 1);
                    sleepers.Add(s.Spawn(DumpBodies.Sleep));
                }
                // At most 2,000 sleepers: however fast this loop runs against the dumps (an emulator, a busy
                // machine), each dump has a bounded number of coroutines to read.
                for (var cancels = Math.Max(150, sleepers.Count - 2_000); cancels > 0; cancels--)
                {
                    var k = random.Next(sleepers.Count);
                    sleepers[k].Cancel();
                    sleepers.RemoveAt(k);
                }
                // Paced by the scheduler (a managed no-op runs after what came before it): the churn never runs
                // ahead of it, so the dumps' slices, which queue behind it, keep their turns on any machine.
                await s.Spawn(static () => ValueTask.CompletedTask);
            }
        });
        try
        {
            for (var round = 0; round < 20; round++)
            {
                var dump = await s.GetDumpAsync(new AcoDumpOptions { MaxPause = TimeSpan.FromMilliseconds(1) }).WaitAsync(Timeout);
                Assert.Equal(dump.Count, dump.Groups.Sum(g => (long)g.Count));
                Assert.All(dump.Groups, g => Assert.Equal(AcoStuckReason.None, g.Stuck));
                Assert.All(dump.Groups.Where(g => g.FramesStatus == AcoFramesStatus.Complete), g => Assert.StartsWith("dump_", g.Body?.Function));
            }
            // A dump in progress when the scheduler stops ends with what it read.
            var last = s.GetDumpAsync(new AcoDumpOptions { MaxPause = TimeSpan.FromMilliseconds(1) });
            stop.Cancel();
            await churn.WaitAsync(Timeout);
            await s.StopAsync().WaitAsync(Timeout);
            var final = await last.WaitAsync(Timeout);
            Assert.Equal(final.Count, final.Groups.Sum(g => (long)g.Count));
            var after = await s.GetDumpAsync().WaitAsync(Timeout);
            Assert.Equal(0, after.Count);
        }
        finally
        {
            stop.Cancel();
            await s.DisposeAsync();
        }
        Assert.Equal(before with { CopiedBytes = 0 }, AcoNativeCounters.Read() with { CopiedBytes = 0 });
    }
}
