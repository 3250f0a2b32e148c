using System.Diagnostics;
using System.Threading.Channels;
using Aco.Core;
using Aco.Tests.Shared;
using Microsoft.Extensions.Time.Testing;

namespace Aco.Scheduling.Tests;

/// <summary>
/// A scheduler never hangs: sleeps wake whatever the timers do, cancellation does not scan,
/// stopping is fair and ends every handle. Every wait here has a bound.
/// </summary>
public sealed class LivenessTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData(1, 100)]
    [InlineData(10, 40)]
    [InlineData(100, 6)]
    public async Task A_single_sleep_on_an_idle_scheduler_returns_every_time(int milliseconds, int tries)
    {
        for (var batch = 0; batch < tries; batch += 5)
        {
            // A fresh scheduler now and then, and an idle one in between: both ways a first program goes.
            await using var run = new RunningScheduler(new AcoSchedulerOptions { ShareStackCount = 1 });
            for (var j = 0; j < Math.Min(5, tries - batch); j++)
            {
                var watch = Stopwatch.StartNew();
                var status = await run.Scheduler.Spawn(Bodies.Sleep, milliseconds).Completion.WaitAsync(Bound);
                Assert.Equal(0, status);
                Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(milliseconds), $"woke after {watch.Elapsed.TotalMilliseconds} ms");
                await Task.Delay(j); // let the scheduler go idle
            }
        }
    }

    [Theory]
    [InlineData(TimerBehaviour.Early)]
    [InlineData(TimerBehaviour.TruncatedMilliseconds)]
    [InlineData(TimerBehaviour.Late)]
    [InlineData(TimerBehaviour.Twice)]
    public async Task Sleeps_wake_on_time_whatever_the_timer_does(TimerBehaviour behaviour)
    {
        var time = new MisbehavingTimeProvider(behaviour);
        await using var run = new RunningScheduler(new AcoSchedulerOptions { TimeProvider = time, ShareStackCount = 2 });
        for (var round = 0; round < 3; round++)
        {
            var started = time.GetTimestamp();
            var sleeps = Enumerable.Range(1, 40).Select(ms => (Ms: ms, Woke: Woke(run.Scheduler.Spawn(Bodies.Sleep, ms)))).ToList();
            foreach (var (ms, woke) in sleeps)
            {
                var at = await woke.WaitAsync(Bound);
                Assert.True(time.GetElapsedTime(started, at) >= TimeSpan.FromMilliseconds(ms), $"a {ms} ms sleep woke after {time.GetElapsedTime(started, at).TotalMilliseconds} ms");
            }
            await Task.Delay(20); // idle, then again: the timer must be armed afresh
        }

        async Task<long> Woke(AcoCoroutineHandle handle)
        {
            await handle.Completion.ConfigureAwait(false);
            return time.GetTimestamp();
        }
    }

    [Fact]
    public async Task Sleepers_wake_exactly_when_fake_time_reaches_them_and_never_before()
    {
        var time = new FakeTimeProvider();
        await using var run = new RunningScheduler(new AcoSchedulerOptions { TimeProvider = time, ShareStackCount = 1 });
        var handles = Enumerable.Range(1, 10).Select(i => run.Scheduler.Spawn(Bodies.Sleep, 10 * i)).ToList();
        await WaitUntil(() => run.Scheduler.GetSnapshotAsync(0).Result.SleepingNative == 10);
        for (var i = 1; i <= 10; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(9));
            await Task.Delay(5);
            Assert.False(handles[i - 1].Completion.IsCompleted, $"sleeper {i} woke 1 ms early");
            time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(0, await handles[i - 1].Completion.WaitAsync(Bound));
            Assert.All(handles.Skip(i), h => Assert.False(h.Completion.IsCompleted));
        }
    }

    [Fact]
    public async Task A_sleep_longer_than_any_timer_can_count_stays_asleep_and_can_be_cancelled()
    {
        var time = new FakeTimeProvider();
        await using var run = new RunningScheduler(new AcoSchedulerOptions { TimeProvider = time, ShareStackCount = 1 });
        var forever = run.Scheduler.Spawn(Bodies.Sleep, nint.MaxValue);
        var soon = run.Scheduler.Spawn(Bodies.Sleep, 1000);
        await WaitUntil(() => run.Scheduler.GetSnapshotAsync(0).Result.SleepingNative == 2);
        time.Advance(TimeSpan.FromDays(3)); // past the timer's longest delay: it fires and is armed again
        Assert.Equal(0, await soon.Completion.WaitAsync(Bound));
        await Task.Delay(20);
        Assert.False(forever.Completion.IsCompleted);
        forever.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => forever.Completion.WaitAsync(Bound));
    }

    [Fact]
    public async Task Rounds_of_short_sleepers_on_a_pool_of_two_all_finish()
    {
        var before = AcoNativeCounters.Read();
        var pool = new[] { new AcoScheduler(new AcoSchedulerOptions { Name = "a", ShareStackCount = 2 }), new AcoScheduler(new AcoSchedulerOptions { Name = "b", ShareStackCount = 2 }) };
        Array.ForEach(pool, s => s.Start());
        for (var round = 0; round < 10; round++)
        {
            var handles = Enumerable.Range(0, 2000).Select(i => pool[i % 2].Spawn(Bodies.SleepRounds, i)).ToList();
            var results = await Task.WhenAll(handles.Select(h => h.Completion)).WaitAsync(Bound);
            Assert.Equal(Enumerable.Range(0, 2000).Select(i => (long)i), results);
        }
        foreach (var s in pool)
        {
            await s.StopAsync().WaitAsync(Bound);
            await s.DisposeAsync();
        }
        Assert.Equal(before with { CopiedBytes = 0 }, AcoNativeCounters.Read() with { CopiedBytes = 0 });
    }

    [Fact]
    public async Task Cancelled_sleepers_leave_and_the_others_keep_their_order()
    {
        var time = new FakeTimeProvider();
        await using var run = new RunningScheduler(new AcoSchedulerOptions { TimeProvider = time, ShareStackCount = 1 });
        var random = new Random(7);
        var delays = Enumerable.Range(0, 500).Select(_ => random.Next(1, 1000)).ToList();
        var handles = delays.Select(ms => run.Scheduler.Spawn(Bodies.Sleep, ms)).ToList();
        await WaitUntil(() => run.Scheduler.GetSnapshotAsync(0).Result.SleepingNative == 500);
        var cancelled = Enumerable.Range(0, 500).Where(i => random.Next(3) == 0).ToHashSet();
        foreach (var i in cancelled)
        {
            handles[i].Cancel();
        }
        foreach (var i in cancelled)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => handles[i].Completion.WaitAsync(Bound));
        }
        // Step through time: exactly the sleepers due so far have woken.
        for (var now = 0; now < 1000; now += 50)
        {
            time.Advance(TimeSpan.FromMilliseconds(50));
            var due = Enumerable.Range(0, 500).Where(i => !cancelled.Contains(i) && delays[i] <= now + 50).ToList();
            await Task.WhenAll(due.Select(i => handles[i].Completion)).WaitAsync(Bound);
            Assert.All(Enumerable.Range(0, 500).Where(i => !cancelled.Contains(i) && delays[i] > now + 50), i => Assert.False(handles[i].Completion.IsCompleted));
        }
    }

    [Fact]
    public async Task A_cancel_after_the_end_touches_no_other_coroutine()
    {
        await using var run = new RunningScheduler(new AcoSchedulerOptions { ShareStackCount = 1 });
        var ended = run.Scheduler.Spawn(Bodies.Sleep, 0);
        await ended.Completion.WaitAsync(Bound);
        // The next coroutine gets the ended one's memory (the native block cache gives the last block back first).
        var sleeper = run.Scheduler.Spawn(Bodies.Sleep, 3_600_000);
        await WaitUntil(() => run.Scheduler.GetSnapshotAsync(0).Result.SleepingNative == 1);
        ended.Cancel();
        var after = await run.Scheduler.GetSnapshotAsync(0).WaitAsync(Bound); // answered after the cancel (one inbox, in order)
        Assert.Equal(1, after.SleepingNative);
        Assert.False(sleeper.Completion.IsCompleted);
        sleeper.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sleeper.Completion.WaitAsync(Bound));
    }

    [Fact]
    public async Task Cancelling_half_of_200k_sleepers_one_by_one_ends_exactly_those()
    {
        await using var run = new RunningScheduler(new AcoSchedulerOptions { ShareStackCount = 4 });
        var handles = Enumerable.Range(0, 200_000).Select(_ => run.Scheduler.Spawn(Bodies.Sleep, 3_600_000)).ToList();
        await WaitUntil(() => run.Scheduler.GetSnapshotAsync(0).Result.SleepingNative == 200_000, TimeSpan.FromSeconds(60));
        for (var i = 0; i < handles.Count; i += 2)
        {
            handles[i].Cancel();
        }
        // A scan per cancel (quadratic) would take minutes here; each takes O(log n).
        await Task.WhenAll(handles.Where((_, i) => i % 2 == 0).Select(h => h.Completion.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(handles.Where((_, i) => i % 2 == 0), h => Assert.True(h.Completion.IsCanceled));
        Assert.All(handles.Where((_, i) => i % 2 == 1), h => Assert.False(h.Completion.IsCompleted));
        Assert.Equal(100_000, (await run.Scheduler.GetSnapshotAsync(0)).SleepingNative);
    }

    [Fact]
    public async Task Stopping_is_fair_coroutines_that_end_by_themselves_do_end()
    {
        var scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 4 });
        scheduler.Start();
        // 600 coroutines that ignore cancellation and keep asking (every answer comes at once once
        // cancelled), and 100 that would end by themselves after many turns.
        var stubborn = Enumerable.Range(0, 600).Select(_ => scheduler.Spawn(Bodies.StubbornSleeper)).ToList();
        var finishers = Enumerable.Range(0, 100).Select(_ => scheduler.Spawn(Bodies.FinishAfterYields, 3000)).ToList();
        await WaitUntil(() => scheduler.Counters.SpawnedNative == 700); // all started (spawns still queued at stop never start); a count that only grows
        // The deadline comes once every finisher has ended, or after a minute if they starve (then they fail below).
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        _ = Task.WhenAll(finishers.Select(h => h.Completion)).ContinueWith(_ => deadline.Cancel(), TaskScheduler.Default);
        await scheduler.StopAsync(deadline.Token).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.All(finishers, h => Assert.Equal(3000, h.Completion.Result));
        Assert.All(stubborn, h => Assert.True(h.Completion.IsCanceled));
        Assert.Equal(600, scheduler.Counters.DestroyedAtStop);
        await scheduler.DisposeAsync();
    }

    [Fact]
    public async Task Stopping_ends_as_soon_as_the_last_managed_coroutine_ends_even_when_its_end_is_counted_on_another_thread()
    {
        // The end of a managed body is counted by a continuation that runs on the thread pool; a stopping
        // scheduler that has gone idle must be woken by it.
        for (var round = 0; round < 20; round++)
        {
            var scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 1 });
            scheduler.Start();
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var coroutine = scheduler.Spawn(async () =>
            {
                started.SetResult();
                await release.Task;
            });
            await started.Task.WaitAsync(Bound); // a coroutine still waiting for admission would not start at all
            var stopped = scheduler.StopAsync(); // no deadline: it waits for the coroutine
            await Task.Delay(5);
            Assert.False(stopped.IsCompleted);
            release.SetResult();
            await stopped.WaitAsync(Bound);
            await coroutine.WaitAsync(Bound);
            await scheduler.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_cancel_or_stop_never_takes_back_an_answer_already_given(bool byStop)
    {
        // A receive answered with a value waits in the ready queue behind 200 busy coroutines (one
        // resume per turn); the cancel (or stop) arrives meanwhile. The coroutine must still get its
        // value: every value taken from the channel is in its log, or still in the channel.
        const int Values = 50;
        for (var round = 0; round < 3; round++)
        {
            var scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 2, RunLoopBudget = 1 });
            scheduler.Start();
            var channel = Channel.CreateUnbounded<long>();
            scheduler.RegisterChannel(30, channel);
            var log = Native.Alloc(2 + Values);
            try
            {
                Native.Set(log, 0, 30);
                var busy = Enumerable.Range(0, 200).Select(_ => scheduler.Spawn(Bodies.FinishAfterYields, 100_000)).ToList();
                var receiver = scheduler.Spawn(Bodies.ReceiveLog, log);
                for (var i = 1; i <= Values; i++)
                {
                    channel.Writer.TryWrite(i);
                }
                await WaitUntil(() => Native.Get(log, 1) > 0);
                if (byStop)
                {
                    // The busy ones ignore cancellation: the deadline comes once the receiver has ended.
                    using var deadline = new CancellationTokenSource(Bound);
                    _ = receiver.Completion.ContinueWith(_ => deadline.Cancel(), TaskScheduler.Default);
                    await scheduler.StopAsync(deadline.Token).WaitAsync(Bound + Bound);
                }
                else
                {
                    receiver.Cancel();
                }
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => receiver.Completion.WaitAsync(Bound));
                var logged = Enumerable.Range(0, (int)Native.Get(log, 1)).Select(i => Native.Get(log, 2 + i)).ToList();
                var left = new List<long>();
                while (channel.Reader.TryRead(out var v))
                {
                    left.Add(v);
                }
                Assert.Equal(Enumerable.Range(1, Values).Select(i => (long)i), logged.Concat(left));
                await scheduler.StopAsync(new CancellationToken(canceled: true)).WaitAsync(Bound);
                await scheduler.DisposeAsync();
                GC.KeepAlive(busy);
            }
            finally
            {
                Native.Free(log);
            }
        }
    }

    [Fact]
    public async Task Stopping_after_the_deadline_still_ends_every_handle_including_spawns_waiting_for_admission()
    {
        var scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 1, RunLoopBudget = 64 });
        scheduler.Start();
        var handles = new List<AcoCoroutineHandle>();
        for (var i = 0; i < 20_000; i++)
        {
            handles.Add(scheduler.Spawn(Bodies.Sleep, 60_000));
        }
        await scheduler.StopAsync(new CancellationToken(canceled: true)).WaitAsync(Bound);
        await Task.WhenAll(handles.Select(h => h.Completion.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(Bound);
        Assert.All(handles, h => Assert.True(h.Completion.IsCanceled));
        Assert.Equal(0, scheduler.Counters.LiveNative);
        Assert.Equal(0, scheduler.Load);
        await scheduler.DisposeAsync();
    }

    [Fact]
    public async Task Reading_values_of_a_coroutine_that_already_ended_ends_at_once()
    {
        await using var run = new RunningScheduler();
        var handle = run.Scheduler.Spawn(Bodies.YieldN, 3);
        Assert.Equal(3, await handle.Completion.WaitAsync(Bound));
        using var bound = new CancellationTokenSource(Bound);
        var values = new List<long>();
        await foreach (var v in handle.ReadAllAsync(bound.Token))
        {
            values.Add(v);
        }
        Assert.Empty(values);
    }

    [Fact]
    public async Task Registering_an_id_twice_throws_unless_asked_to_replace()
    {
        await using var run = new RunningScheduler();
        var scheduler = run.Scheduler;
        scheduler.RegisterHandler(5, (input, output) => 0);
        var e = Assert.Throws<InvalidOperationException>(() => scheduler.RegisterHandler(5, (input, output) => 1));
        Assert.Contains("id 5", e.Message, StringComparison.Ordinal);
        scheduler.RegisterHandler(5, (input, output) => { "HELLO"u8.CopyTo(output); return 5; }, replace: true);
        Assert.Equal(5, await scheduler.Spawn(Bodies.CallUpper, 5).Completion.WaitAsync(Bound)); // the replacement answers

        scheduler.RegisterChannel(9, Channel.CreateUnbounded<long>());
        Assert.Throws<InvalidOperationException>(() => scheduler.RegisterChannel(9, Channel.CreateUnbounded<long>()));
        scheduler.RegisterChannel(9, Channel.CreateUnbounded<long>(), replace: true);
        Assert.True(scheduler.IsChannelRegistered(9));
        Assert.False(scheduler.IsChannelRegistered(10));
    }

    [Fact]
    public async Task A_sleeper_whose_timer_never_fires_shows_as_overdue()
    {
        await using var run = new RunningScheduler(new AcoSchedulerOptions { TimeProvider = new MisbehavingTimeProvider(TimerBehaviour.Never), ShareStackCount = 1 });
        Assert.Equal(TimeSpan.Zero, run.Scheduler.SleepersOverdue);
        var stuck = run.Scheduler.Spawn(Bodies.Sleep, 10);
        await WaitUntil(() => run.Scheduler.SleepersOverdue > TimeSpan.FromMilliseconds(100));
        Assert.False(stuck.Completion.IsCompleted);
        stuck.Cancel(); // any wake-up (here a cancel) lets the scheduler notice it: the sleep ends, due or canceled
        await stuck.Completion.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(Bound);
        Assert.Equal(TimeSpan.Zero, run.Scheduler.SleepersOverdue);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after the bound.</summary>
    internal static async Task WaitUntil(Func<bool> condition, TimeSpan? bound = null)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(watch.Elapsed < (bound ?? Bound), "the condition did not hold within the bound");
            await Task.Delay(5);
        }
    }
}
