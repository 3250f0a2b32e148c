namespace Aco.Scheduling.Tests;

/// <summary>
/// Tokens given at spawn: coroutines that share a token are canceled together when it fires, coroutines with other
/// tokens are not, and a token canceled before admission keeps its coroutine from starting. Every wait is bounded.
/// </summary>
public sealed class CancellationTokenTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Coroutines_sharing_a_token_are_canceled_together_and_others_are_not()
    {
        await using var run = new RunningScheduler();
        using var shared = new CancellationTokenSource();
        using var other = new CancellationTokenSource();
        var together = Enumerable.Range(0, 500).Select(_ => run.Scheduler.Spawn(Bodies.Sleep, 3_600_000, shared.Token)).ToList();
        var ended = run.Scheduler.Spawn(Bodies.Sleep, 0, shared.Token); // leaves the group when it ends
        var apart = run.Scheduler.Spawn(Bodies.Sleep, 3_600_000, other.Token);
        var untokened = run.Scheduler.Spawn(Bodies.Sleep, 3_600_000);
        Assert.Equal(0, await ended.Completion.WaitAsync(Bound));
        await LivenessTests.WaitUntil(() => run.Scheduler.Counters.SleepingNative == 502);
        shared.Cancel();
        foreach (var handle in together)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => handle.Completion.WaitAsync(Bound));
        }
        Assert.False(apart.Completion.IsCompleted);
        Assert.False(untokened.Completion.IsCompleted);
        other.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => apart.Completion.WaitAsync(Bound));
        Assert.False(untokened.Completion.IsCompleted);
        untokened.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => untokened.Completion.WaitAsync(Bound));
    }

    [Fact]
    public async Task A_token_canceled_before_admission_keeps_the_coroutine_from_starting()
    {
        await using var run = new RunningScheduler();
        using var canceled = new CancellationTokenSource();
        canceled.Cancel();
        var handle = run.Scheduler.Spawn(Bodies.Sleep, 3_600_000, canceled.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => handle.Completion.WaitAsync(Bound));
        Assert.Equal(0, run.Scheduler.Counters.SpawnedNative);
    }

    [Fact]
    public async Task A_coroutine_spawned_with_a_token_that_fires_later_in_a_new_group_is_canceled_too()
    {
        await using var run = new RunningScheduler();
        using var token = new CancellationTokenSource();
        var first = run.Scheduler.Spawn(Bodies.Sleep, 0, token.Token);
        Assert.Equal(0, await first.Completion.WaitAsync(Bound)); // the group emptied and went
        var second = run.Scheduler.Spawn(Bodies.Sleep, 3_600_000, token.Token);
        await LivenessTests.WaitUntil(() => run.Scheduler.Counters.SleepingNative == 1);
        token.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.Completion.WaitAsync(Bound));
    }

    [Fact]
    public async Task A_handle_asked_for_its_completion_only_after_the_end_still_gives_the_outcome()
    {
        await using var run = new RunningScheduler();
        var handle = run.Scheduler.Spawn(Bodies.Sleep, 0);
        await LivenessTests.WaitUntil(() => run.Scheduler.Counters.CompletedNative == 1);
        Assert.Same(handle.Completion, handle.Completion); // one task, whoever asks
        Assert.Equal(0, await handle.Completion.WaitAsync(Bound));
        Assert.Equal(0, await handle);
    }

    [Fact]
    public async Task Canceling_coroutines_nobody_awaited_makes_no_task_for_each()
    {
        await using var run = new RunningScheduler();
        var handles = Enumerable.Range(0, 3).Select(_ => run.Scheduler.Spawn(Bodies.Sleep, 3_600_000)).ToList();
        await LivenessTests.WaitUntil(() => run.Scheduler.Counters.SleepingNative == 3);
        handles.ForEach(h => h.Cancel());
        await LivenessTests.WaitUntil(() => run.Scheduler.Counters.LiveNative == 0);
        // A million canceled at a stop or by a token would otherwise each carry a task of their own into the GC.
        Assert.Same(handles[0].Completion, handles[1].Completion);
        Assert.Same(handles[1].Completion, handles[2].Completion);
        foreach (var handle in handles)
        {
            var canceled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => handle.Completion);
            Assert.True(canceled.CancellationToken.IsCancellationRequested);
        }
    }
}
