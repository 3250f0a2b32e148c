namespace Aco.Scheduling.Tests;

/// <summary>
/// The scheduler thread's own queues give their memory back after a burst: a queue that grew to hold a burst keeps
/// at most <see cref="AcoScheduler.KeptQueueCapacity"/> slots once it has emptied (a queue that kept its peak held
/// 48 MB after a million spawns made on the scheduler thread).
/// </summary>
public sealed class QueueMemoryTests
{
    private const int Burst = 100_000;
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Spawns_made_on_the_scheduler_thread_leave_no_large_queue_behind()
    {
        await using var scheduler = new AcoScheduler();
        scheduler.Start();
        await scheduler.Spawn(() =>
        {
            for (var i = 0; i < Burst; i++)
            {
                scheduler.SpawnDetached(Bodies.YieldN, 1); // queued on the thread until admitted
            }
            return ValueTask.CompletedTask;
        }).AsTask().WaitAsync(Bound);
        await LivenessTests.WaitUntil(() => scheduler.Counters is { CompletedNative: Burst, LiveNative: 0 }, Bound);
        var (localSpawns, _) = await CapacitiesAsync(scheduler);
        Assert.InRange(localSpawns, 0, AcoScheduler.KeptQueueCapacity);
    }

    [Fact]
    public async Task Continuations_released_at_once_on_the_scheduler_thread_leave_no_large_queue_behind()
    {
        await using var scheduler = new AcoScheduler();
        scheduler.Start();
        var gate = new TaskCompletionSource();
        var waiters = Enumerable.Range(0, Burst).Select(_ => scheduler.Spawn(static async g => await g.Task, gate).AsTask()).ToArray();
        await LivenessTests.WaitUntil(() => scheduler.GetSnapshotAsync(0).Result.ManagedQueue == 0 && scheduler.Counters.QueuedSpawns == 0, Bound);
        // Completed on the scheduler thread, the gate puts every waiter's continuation on the managed queue at once.
        await scheduler.Spawn(() => { gate.SetResult(); return ValueTask.CompletedTask; }).AsTask().WaitAsync(Bound);
        await Task.WhenAll(waiters).WaitAsync(Bound);
        var (_, managed) = await CapacitiesAsync(scheduler);
        Assert.InRange(managed, 0, AcoScheduler.KeptQueueCapacity);
    }

    /// <summary>The capacities of the thread's queues, read on the scheduler thread by a managed coroutine.</summary>
    private static async Task<(int LocalSpawns, int Managed)> CapacitiesAsync(AcoScheduler scheduler)
    {
        (int, int) seen = default;
        await scheduler.Spawn(() => { seen = scheduler.QueueCapacities; return ValueTask.CompletedTask; }).AsTask().WaitAsync(Bound);
        return seen;
    }
}
