using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

using Aco.Tests.Shared;

namespace Aco.Scheduling.Tests;

public sealed class NativeCoroutineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Awaiting_a_spawned_coroutine_gives_its_result()
    {
        await using var run = new RunningScheduler();
        var handle = run.Scheduler.Spawn(Bodies.YieldN, 100);
        Assert.Equal(100, await handle.Completion.WaitAsync(Timeout));
        Assert.True(run.Scheduler.Counters.Resumes >= 101);
    }

    [Fact]
    public async Task Whoever_sees_a_coroutine_end_also_sees_its_resumes_counted()
    {
        // Others keep the loop's turn going after the awaited coroutine ends; the count must not wait for
        // the end of the turn (a Wine run saw 'Resumes >= 101' fail in the test above).
        await using var run = new RunningScheduler(new AcoSchedulerOptions { ShareStackCount = 2, ShareStackSize = 64 * 1024, RunLoopBudget = 1_000_000 });
        for (var round = 0; round < 20; round++)
        {
            var others = Enumerable.Range(0, 200).Select(_ => run.Scheduler.Spawn(Bodies.YieldN, 2000)).ToList();
            var before = run.Scheduler.Counters.Resumes;
            var handle = run.Scheduler.Spawn(Bodies.YieldN, 100);
            Assert.Equal(100, await handle.Completion.WaitAsync(Timeout));
            Assert.True(run.Scheduler.Counters.Resumes - before >= 101);
            await Task.WhenAll(others.Select(h => h.Completion)).WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task Plain_yields_run_round_robin_and_never_reach_managed_code()
    {
        await using var run = new RunningScheduler();
        const int Coroutines = 5, Rounds = 50;
        var log = Native.Alloc(1 + Coroutines * Rounds);
        var args = Native.Alloc(3 * Coroutines);
        try
        {
            // Spawned from the scheduler thread in one go, so all are ready before the first runs.
            var handles = await run.Scheduler.Spawn(() =>
            {
                var list = new List<AcoCoroutineHandle>();
                for (var i = 0; i < Coroutines; i++)
                {
                    Native.Set(args, 3 * i, log);
                    Native.Set(args, 3 * i + 1, i);
                    Native.Set(args, 3 * i + 2, Rounds);
                    list.Add(run.Scheduler.Spawn(Bodies.LogRounds, Native.At(args, 3 * i)));
                }
                return ValueTask.FromResult(list);
            }).WaitAsync(Timeout);
            await Task.WhenAll(handles.Select(h => h.Completion)).WaitAsync(Timeout);
            Assert.Equal(Coroutines * Rounds, Native.Get(log, 0));
            for (var k = 0; k < Coroutines * Rounds; k++)
            {
                Assert.Equal(k % Coroutines, Native.Get(log, 1 + k));
            }
            var counters = run.Scheduler.Counters;
            Assert.Equal(Coroutines, counters.BridgeRequests); // only the finishes came back to .NET
        }
        finally
        {
            Native.Free(log);
            Native.Free(args);
        }
    }

    [Fact]
    public async Task A_sleep_ends_when_the_time_provider_says_so()
    {
        var time = new FakeTimeProvider();
        await using var run = new RunningScheduler(new AcoSchedulerOptions { TimeProvider = time, ShareStackCount = 1 });
        var shortSleep = run.Scheduler.Spawn(Bodies.Sleep, 100);
        var longSleep = run.Scheduler.Spawn(Bodies.Sleep, 5000);
        await Task.Delay(100);
        Assert.False(shortSleep.Completion.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(99));
        await Task.Delay(50);
        Assert.False(shortSleep.Completion.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, await shortSleep.Completion.WaitAsync(Timeout));
        Assert.False(longSleep.Completion.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, await longSleep.Completion.WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_synchronous_handler_reads_and_writes_the_coroutines_own_buffers()
    {
        await using var run = new RunningScheduler(new AcoSchedulerOptions { ShareStackCount = 1 });
        var threads = new List<int>();
        run.Scheduler.RegisterHandler(1, (input, output) =>
        {
            threads.Add(Environment.CurrentManagedThreadId);
            return Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(input).ToUpperInvariant(), output);
        });
        // Several at once on one share stack: buffers of waiting coroutines are in their save stacks.
        var handles = Enumerable.Range(0, 10).Select(_ => run.Scheduler.Spawn(Bodies.CallUpper, 1)).ToList();
        foreach (var h in handles)
        {
            Assert.Equal(5, await h.Completion.WaitAsync(Timeout));
        }
        Assert.All(threads, t => Assert.Equal(run.Scheduler.ManagedThreadId, t));
    }

    [Fact]
    public async Task An_asynchronous_handler_parks_the_coroutine_until_it_completes()
    {
        await using var run = new RunningScheduler(new AcoSchedulerOptions { ShareStackCount = 1 });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        run.Scheduler.RegisterHandler(2, async (input, output, ct) =>
        {
            await gate.Task.WaitAsync(ct);
            return Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(input.Span).ToUpperInvariant(), output.Span);
        });
        var waiting = Enumerable.Range(0, 5).Select(_ => run.Scheduler.Spawn(Bodies.CallUpper, 2)).ToList();
        var busy = run.Scheduler.Spawn(Bodies.YieldN, 1000); // runs while the others wait
        Assert.Equal(1000, await busy.Completion.WaitAsync(Timeout));
        Assert.All(waiting, h => Assert.False(h.Completion.IsCompleted));
        gate.SetResult();
        foreach (var h in waiting)
        {
            Assert.Equal(5, await h.Completion.WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task A_handler_that_throws_fails_only_that_call()
    {
        await using var run = new RunningScheduler();
        run.Scheduler.RegisterHandler(3, (_, _) => throw new InvalidOperationException("handler bug"));
        var e = await Assert.ThrowsAsync<AcoCoroutineException>(() => run.Scheduler.Spawn(Bodies.CallUpper, 3).Completion.WaitAsync(Timeout));
        Assert.Equal(102, e.Code); // 100 + ACO_BRIDGE_ERROR
        var missing = await Assert.ThrowsAsync<AcoCoroutineException>(() => run.Scheduler.Spawn(Bodies.CallUpper, 77).Completion.WaitAsync(Timeout));
        Assert.Equal(102, missing.Code);
        Assert.Equal(10, await run.Scheduler.Spawn(Bodies.YieldN, 10).Completion.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Channels_carry_values_between_native_and_managed_code()
    {
        await using var run = new RunningScheduler();
        var input = Channel.CreateBounded<long>(4);
        var output = Channel.CreateUnbounded<long>();
        run.Scheduler.RegisterChannel(10, input);
        run.Scheduler.RegisterChannel(11, output);
        var handle = run.Scheduler.Spawn(Bodies.ChannelSum, 10);
        for (var i = 1; i <= 100; i++)
        {
            await input.Writer.WriteAsync(i); // the bounded channel makes the coroutine wait too
        }
        input.Writer.Complete();
        Assert.Equal(5050, await handle.Completion.WaitAsync(Timeout));
        Assert.Equal(5050, await output.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Yielded_values_arrive_exactly_once_in_order()
    {
        await using var run = new RunningScheduler();
        var handle = run.Scheduler.Spawn(Bodies.Generate, 500);
        var values = new List<long>();
        await foreach (var v in handle.ReadAllAsync())
        {
            values.Add(v);
        }
        Assert.Equal(Enumerable.Range(1, 500).Select(i => (long)i), values);
        Assert.Equal(500, await handle);
    }

    [Fact]
    public async Task A_failing_coroutine_throws_its_code_and_message()
    {
        await using var run = new RunningScheduler();
        var e = await Assert.ThrowsAsync<AcoCoroutineException>(() => run.Scheduler.Spawn(Bodies.Fail).Completion.WaitAsync(Timeout));
        Assert.Equal(42, e.Code);
        Assert.Equal("boom 42", e.Message);
    }

    [Fact]
    public async Task Cancelling_the_token_cancels_the_coroutine()
    {
        await using var run = new RunningScheduler();
        using var cts = new CancellationTokenSource();
        var handle = run.Scheduler.Spawn(Bodies.UntilCancelled, 0, cts.Token);
        await Task.Delay(50);
        Assert.False(handle.Completion.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => handle.Completion.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Cancelling_one_sleeper_wakes_only_that_one()
    {
        var time = new FakeTimeProvider();
        await using var run = new RunningScheduler(new AcoSchedulerOptions { TimeProvider = time });
        using var cts = new CancellationTokenSource();
        var others = Enumerable.Range(0, 10).Select(i => run.Scheduler.Spawn(Bodies.Sleep, 1000 + i)).ToList();
        var victim = run.Scheduler.Spawn(Bodies.Sleep, 500, cts.Token);
        await Task.Delay(100);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => victim.Completion.WaitAsync(Timeout));
        Assert.All(others, h => Assert.False(h.Completion.IsCompleted));
        Assert.Equal(10, (await run.Scheduler.GetSnapshotAsync()).SleepingNative);
        time.Advance(TimeSpan.FromSeconds(2));
        foreach (var h in others)
        {
            Assert.Equal(0, await h.Completion.WaitAsync(Timeout)); // ACO_BRIDGE_OK
        }
    }

    [Fact]
    public async Task A_coroutine_awaits_a_dotnet_operation()
    {
        await using var run = new RunningScheduler();
        var source = new TaskCompletionSource<long>();
        var id = run.Scheduler.RegisterOperation(source.Task);
        var handle = run.Scheduler.Spawn(Bodies.Await, (nint)id);
        await Task.Delay(50);
        Assert.False(handle.Completion.IsCompleted);
        source.SetResult(77);
        Assert.Equal(77, await handle.Completion.WaitAsync(Timeout));
        var done = run.Scheduler.RegisterOperation(Task.FromResult(5L));
        Assert.Equal(5, await run.Scheduler.Spawn(Bodies.Await, (nint)done).Completion.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Stopping_under_load_completes_every_handle_and_frees_everything()
    {
        var run = new RunningScheduler(new AcoSchedulerOptions { ShareStackCount = 4 });
        var handles = new List<AcoCoroutineHandle>();
        for (var i = 0; i < 2000; i++)
        {
            handles.Add(run.Scheduler.Spawn(i % 2 == 0 ? Bodies.UntilCancelled : Bodies.YieldN, 1_000_000));
        }
        for (var i = 0; i < 20000; i++)
        {
            run.Scheduler.SpawnDetached(Bodies.UntilCancelled);
        }
        await Task.Delay(200);
        await run.DisposeAsync(); // stops, then checks the native counters are back
        Assert.All(handles, h => Assert.True(h.Completion.IsCompleted));
        Assert.Contains(handles, h => h.Completion.IsCanceled);
        Assert.Equal(0, run.Scheduler.Counters.LiveNative);
        Assert.Throws<InvalidOperationException>(() => run.Scheduler.Spawn(Bodies.YieldN, 1));
    }

    [Fact]
    public async Task Stopping_right_after_a_spawn_neither_throws_nor_loses_the_handle()
    {
        // The loop used to end as soon as it saw "stopping" with nothing alive, before the spawn ahead of
        // the stop message was drained; the stop message then found the inbox closed and StopAsync threw.
        // Work posted from another thread keeps the loop turning with no coroutine alive: the window.
        for (var i = 0; i < 100; i++)
        {
            var scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 1, ShareStackSize = 64 * 1024 });
            scheduler.Start();
            var busy = true;
            var poster = Task.Run(() =>
            {
                while (Volatile.Read(ref busy) && scheduler.IsRunning)
                {
                    scheduler.SynchronizationContext.Post(static _ => { }, null);
                }
            });
            await Task.Delay(1);
            var handle = scheduler.Spawn(Bodies.YieldN, 3);
            var stopped = scheduler.StopAsync();
            Volatile.Write(ref busy, false);
            await poster.WaitAsync(Timeout);
            await stopped.WaitAsync(Timeout);
            await handle.Completion.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(Timeout);
            Assert.True(handle.Completion.IsCompleted);
            await scheduler.DisposeAsync();
        }
    }

    [Fact]
    public async Task Stopping_with_a_deadline_destroys_coroutines_that_do_not_end()
    {
        var run = new RunningScheduler();
        // Ignores cancellation: it keeps yielding.
        var stubborn = run.Scheduler.Spawn(Bodies.Get("sched_stubborn"));
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await run.Scheduler.StopAsync(deadline.Token).WaitAsync(Timeout);
        await run.DisposeAsync();
        Assert.True(stubborn.Completion.IsCanceled);
    }

    [Fact]
    public async Task Spawning_from_many_threads_loses_nothing_and_runs_nothing_twice()
    {
        await using var run = new RunningScheduler();
        const int Threads = 4, PerThread = 5000;
        var handles = new AcoCoroutineHandle[Threads * PerThread];
        await Task.WhenAll(Enumerable.Range(0, Threads).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                var n = t * PerThread + i;
                handles[n] = run.Scheduler.Spawn(Bodies.YieldN, n % 7);
            }
        })));
        for (var n = 0; n < handles.Length; n++)
        {
            Assert.Equal(n % 7, await handles[n].Completion.WaitAsync(Timeout));
        }
        var c = run.Scheduler.Counters;
        Assert.Equal(handles.Length, c.SpawnedNative);
        Assert.Equal(handles.Length, c.CompletedNative);
    }

    [Fact]
    public async Task A_million_detached_coroutines_run_to_completion()
    {
        await using var run = new RunningScheduler(new AcoSchedulerOptions { ShareStackCount = 4 });
        const int Count = 1_000_000;
        // A bound that only catches a hang: a million spawns take about a second natively, several under emulation,
        // and more on a busy machine.
        var bound = TimeSpan.FromMinutes(2);
        await run.Scheduler.Spawn(() =>
        {
            for (var i = 0; i < Count; i++)
            {
                run.Scheduler.SpawnDetached(Bodies.YieldN, 1);
            }
            return ValueTask.CompletedTask;
        }).WaitAsync(bound);
        await LivenessTests.WaitUntil(() => run.Scheduler.Counters.CompletedNative == Count || run.Scheduler.Completion.IsCompleted, bound);
        Assert.Null(run.Scheduler.Fault);
        var c = run.Scheduler.Counters;
        Assert.Equal(Count, c.CompletedNative);
        Assert.Equal(0, c.LiveNative);
    }
}

public sealed class SnapshotTests
{
    [Fact]
    public async Task A_snapshot_shows_waiting_and_ready_coroutines_with_their_stacks()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        await using var run = new RunningScheduler(new AcoSchedulerOptions { TimeProvider = time, ShareStackCount = 2 });
        var sleepers = Enumerable.Range(0, 3).Select(_ => run.Scheduler.Spawn(Bodies.Sleep, 1000)).ToList();
        var busy = run.Scheduler.Spawn(Bodies.YieldN, int.MaxValue);
        await Task.Delay(100);
        var snapshot = await run.Scheduler.GetSnapshotAsync();
        Assert.Equal(3, snapshot.SleepingNative);
        Assert.Equal(3, snapshot.WaitingNative);
        Assert.Equal(4, snapshot.Counters.LiveNative);
        var waiting = snapshot.Coroutines.Where(c => c.State == AcoCoroutineState.Waiting).ToList();
        Assert.Equal(sleepers.Select(s => s.Id).Order(), waiting.Select(w => w.Id).Order());
        Assert.All(waiting, w => Assert.Equal("Sleep", w.PendingRequest));
        Assert.All(snapshot.Coroutines, c => Assert.InRange(c.StackIndex, 0, 1));
        Assert.Contains(snapshot.Coroutines, c => c.Id == busy.Id && c.State == AcoCoroutineState.Ready);
        time.Advance(TimeSpan.FromSeconds(1));
        await Task.WhenAll(sleepers.Select(s => s.Completion));
        busy.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => busy.Completion);
    }
}

public sealed class ContinuationTests
{
    [Fact]
    public async Task Code_awaiting_a_handle_never_continues_on_the_scheduler_thread_by_default()
    {
        await using var run = new RunningScheduler();
        // Awaited from the scheduler thread itself: the continuation must still leave it.
        var continuedOn = await run.Scheduler.Spawn(async () =>
        {
            await run.Scheduler.Spawn(Bodies.YieldN, 3).Completion.ConfigureAwait(false);
            return Environment.CurrentManagedThreadId;
        });
        Assert.NotEqual(run.Scheduler.ManagedThreadId, continuedOn);
    }
}
