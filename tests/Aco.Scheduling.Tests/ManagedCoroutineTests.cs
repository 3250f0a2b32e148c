using System.Runtime.CompilerServices;
using Aco.Tests.Shared;

namespace Aco.Scheduling.Tests;

public sealed class ManagedCoroutineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_managed_coroutine_runs_on_the_scheduler_thread_under_its_context_and_task_scheduler()
    {
        await using var run = new RunningScheduler();
        var s = run.Scheduler;
        var seen = await s.Spawn(async () =>
        {
            var before = (Thread: Environment.CurrentManagedThreadId, Context: SynchronizationContext.Current, Tasks: TaskScheduler.Current);
            await Task.Delay(10); // continues through the scheduler's SynchronizationContext
            var after = (Thread: Environment.CurrentManagedThreadId, Context: SynchronizationContext.Current);
            return (before, after);
        }).WaitAsync(Timeout);
        Assert.Equal(s.ManagedThreadId, seen.before.Thread);
        Assert.Same(s.SynchronizationContext, seen.before.Context);
        Assert.Same(s.TaskScheduler, seen.before.Tasks);
        Assert.Equal(s.ManagedThreadId, seen.after.Thread);
        Assert.Same(s.SynchronizationContext, seen.after.Context);
        Assert.Equal(1, s.TaskScheduler.MaximumConcurrencyLevel);
    }

    [Fact]
    public async Task Yield_interleaves_managed_coroutines_round_robin()
    {
        await using var run = new RunningScheduler();
        var order = new List<int>();
        var tasks = await run.Scheduler.Spawn(() => ValueTask.FromResult(Enumerable.Range(0, 3).Select(id => run.Scheduler.Spawn(async () =>
        {
            for (var i = 0; i < 4; i++)
            {
                order.Add(id);
                await AcoScheduler.Yield();
            }
        }).AsTask()).ToList())).WaitAsync(Timeout);
        await Task.WhenAll(tasks).WaitAsync(Timeout);
        Assert.Equal([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], order);
    }

    [Fact]
    public async Task Async_locals_flow_per_managed_coroutine()
    {
        await using var run = new RunningScheduler();
        var local = new AsyncLocal<int>();
        var results = await Task.WhenAll(Enumerable.Range(1, 3).Select(id => run.Scheduler.Spawn(async () =>
        {
            local.Value = id;
            for (var i = 0; i < 5; i++)
            {
                await AcoScheduler.Yield();
                if (local.Value != id)
                {
                    return -1;
                }
            }
            return local.Value;
        }).AsTask())).WaitAsync(Timeout);
        Assert.Equal([1, 2, 3], results);
    }

    [Fact]
    public async Task An_exception_faults_only_its_own_coroutine()
    {
        await using var run = new RunningScheduler();
        var bad = run.Scheduler.Spawn(async () =>
        {
            await AcoScheduler.Yield();
            throw new InvalidOperationException("managed bug");
        });
        var good = run.Scheduler.Spawn(async () =>
        {
            await AcoScheduler.Yield();
            return 7;
        });
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => bad.WaitAsync(Timeout));
        Assert.Equal("managed bug", e.Message);
        Assert.Equal(7, await good.WaitAsync(Timeout));
        Assert.Equal(3, await run.Scheduler.Spawn(() => ValueTask.FromResult(3)).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Native_and_managed_coroutines_do_not_starve_each_other()
    {
        await using var run = new RunningScheduler(new AcoSchedulerOptions { RunLoopBudget = 64, ManagedBudget = 64 });
        var managedRounds = 0;
        var native = run.Scheduler.Spawn(Bodies.YieldN, int.MaxValue); // yields until cancelled
        var managed = run.Scheduler.Spawn(async () =>
        {
            while (managedRounds < 10_000)
            {
                managedRounds++;
                await AcoScheduler.Yield();
            }
        });
        await managed.WaitAsync(Timeout); // managed progress although a native coroutine never stops
        var resumesBefore = run.Scheduler.Counters.Resumes;
        var busyManaged = run.Scheduler.Spawn(async () =>
        {
            for (var i = 0; i < 50_000; i++)
            {
                await AcoScheduler.Yield();
            }
        });
        await busyManaged.WaitAsync(Timeout);
        Assert.True(run.Scheduler.Counters.Resumes > resumesBefore + 1000); // and native progress meanwhile
        native.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => native.Completion.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Yield_outside_a_scheduler_continues_on_the_thread_pool()
    {
        await AcoScheduler.Yield();
        Assert.True(Thread.CurrentThread.IsThreadPoolThread);
    }

    [Fact]
    public async Task Run_uses_the_calling_thread_until_stopped()
    {
        var scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 1 });
        using var cts = new CancellationTokenSource();
        var thread = new Thread(() => scheduler.Run(cts.Token));
        thread.Start();
        var ran = await scheduler.Spawn(() => ValueTask.FromResult(Environment.CurrentManagedThreadId)).WaitAsync(Timeout);
        Assert.Equal(thread.ManagedThreadId, ran);
        await cts.CancelAsync();
        await scheduler.Completion.WaitAsync(Timeout);
        Assert.True(thread.Join(TimeSpan.FromMinutes(1)), "the thread did not end within a minute");
        Assert.False(scheduler.IsRunning);
        Assert.Throws<InvalidOperationException>(() => scheduler.Run());
        await scheduler.DisposeAsync();
    }

    [Fact]
    public async Task The_spawners_async_locals_flow_into_the_body_and_changes_stay_inside()
    {
        await using var run = new RunningScheduler();
        var local = new AsyncLocal<string>();
        local.Value = "spawner";
        var seen = await run.Scheduler.Spawn(async () =>
        {
            var first = local.Value;
            local.Value = "body";
            await AcoScheduler.Yield();
            return (first, local.Value);
        }).WaitAsync(Timeout);
        Assert.Equal(("spawner", "body"), seen);
        Assert.Equal("spawner", local.Value);
    }

    [Fact]
    public async Task A_body_with_state_gets_its_state_and_gives_its_result()
    {
        await using var run = new RunningScheduler();
        var results = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => run.Scheduler.Spawn(static async n =>
        {
            await AcoScheduler.Yield();
            return n * 2;
        }, i).AsTask())).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => i * 2), results);
        var seen = new StrongBox<int>();
        await run.Scheduler.Spawn(static box => { box.Value = 7; return ValueTask.CompletedTask; }, seen).WaitAsync(Timeout);
        Assert.Equal(7, seen.Value);
    }

    [Fact]
    public async Task A_coroutine_cancelled_before_it_starts_never_runs()
    {
        await using var run = new RunningScheduler();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var ran = false;
        var coroutine = run.Scheduler.Spawn(() => { ran = true; return ValueTask.CompletedTask; }, cts.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => coroutine.WaitAsync(Timeout));
        Assert.False(ran);
        Assert.Equal(0, run.Scheduler.Counters.LiveManaged);
    }

    [Fact]
    public async Task Awaiting_before_the_start_after_the_end_and_synchronously_all_give_the_result()
    {
        await using var run = new RunningScheduler();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Blocks the scheduler's managed queue until released, so the next spawn is awaited before it starts.
        var blocker = run.Scheduler.Spawn(() => { gate.Task.Wait(Timeout); return ValueTask.CompletedTask; });
        var early = run.Scheduler.Spawn(() => ValueTask.FromResult(1));
        var awaitedEarly = early.AsTask();
        Assert.False(awaitedEarly.IsCompleted);
        gate.SetResult();
        Assert.Equal(1, await awaitedEarly.WaitAsync(Timeout));
        await blocker.WaitAsync(Timeout);

        var late = run.Scheduler.Spawn(() => ValueTask.FromResult(2));
        await LivenessTests.WaitUntil(() => late.IsCompleted);
        Assert.Equal(2, await late);

        var blocking = run.Scheduler.Spawn(async () => { await Task.Delay(20); return 3; });
        Assert.Equal(3, await Task.Run(() => blocking.GetAwaiter().GetResult()).WaitAsync(Timeout)); // sync-over-async from another thread
    }

    [Fact]
    public async Task A_faulting_body_faults_its_coroutine_and_the_live_count_returns_to_zero()
    {
        await using var run = new RunningScheduler();
        var throwsAtOnce = run.Scheduler.Spawn(() => throw new InvalidOperationException("at once"));
        var throwsLater = run.Scheduler.Spawn(async () => { await AcoScheduler.Yield(); throw new InvalidOperationException("later"); });
        Assert.Equal("at once", (await Assert.ThrowsAsync<InvalidOperationException>(() => throwsAtOnce.WaitAsync(Timeout))).Message);
        Assert.Equal("later", (await Assert.ThrowsAsync<InvalidOperationException>(() => throwsLater.WaitAsync(Timeout))).Message);
        await LivenessTests.WaitUntil(() => run.Scheduler.Counters.LiveManaged == 0);
    }
}


public sealed class LateContinuationTests
{
    [Fact]
    public async Task A_continuation_arriving_after_stop_runs_on_the_thread_pool_instead_of_crashing()
    {
        var scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 1 });
        scheduler.Start();
        var resumedAfterStop = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var coroutine = scheduler.Spawn(async () =>
        {
            started.SetResult();
            await Task.Delay(2000); // completes after the scheduler is gone (and after the checks below, even on a loaded machine)
            resumedAfterStop.SetResult(Thread.CurrentThread.IsThreadPoolThread);
        });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10)); // suspended in its await, not still queued
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await scheduler.StopAsync(deadline.Token).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(coroutine.IsCanceled); // abandoned by the stop
        Assert.True(await resumedAfterStop.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        await scheduler.DisposeAsync();
    }
}
