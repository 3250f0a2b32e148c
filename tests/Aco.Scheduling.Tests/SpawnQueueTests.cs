namespace Aco.Scheduling.Tests;

/// <summary>The queue of spawns waiting for admission: many producers, one consumer, nothing lost or doubled, order kept per producer.</summary>
public sealed class SpawnQueueTests
{
    [Fact]
    public void Spawns_come_out_in_the_order_they_went_in_across_segments()
    {
        var queue = new SpawnQueue();
        for (var i = 0; i < 5000; i++)
        {
            queue.Enqueue(new SpawnRequest(i, -i, null));
        }
        Assert.Equal(5000, queue.Count);
        for (var i = 0; i < 5000; i++)
        {
            Assert.True(queue.TryDequeue(out var request));
            Assert.Equal((nint)i, request.Entry);
            Assert.Equal((nint)(-i), request.Argument);
        }
        Assert.False(queue.TryDequeue(out _));
        Assert.True(queue.IsEmpty);
        queue.Enqueue(new SpawnRequest(7, 0, null)); // usable again after it emptied
        Assert.True(queue.TryDequeue(out var again));
        Assert.Equal((nint)7, again.Entry);
    }

    [Fact]
    public async Task Concurrent_producers_lose_nothing_and_keep_their_own_order()
    {
        const int Producers = 4, Each = 50_000;
        var queue = new SpawnQueue();
        var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(() =>
        {
            for (var i = 0; i < Each; i++)
            {
                queue.Enqueue(new SpawnRequest(p, i, null));
            }
        })).ToArray();
        var next = new int[Producers];
        var taken = 0;
        var all = Task.WhenAll(producers);
        while (taken < Producers * Each)
        {
            if (queue.TryDequeue(out var request))
            {
                Assert.Equal(next[request.Entry], (int)request.Argument); // each producer's items in its order
                next[request.Entry]++;
                taken++;
            }
            else if (all.IsFaulted)
            {
                await all; // surfaces the producer's error
            }
        }
        await all.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(next, n => Assert.Equal(Each, n));
        Assert.True(queue.IsEmpty);
    }
}
