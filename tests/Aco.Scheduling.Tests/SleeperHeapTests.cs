using System.Runtime.InteropServices;
using Aco.Scheduling.Interop;

namespace Aco.Scheduling.Tests;

/// <summary>The sleeper heap against a plain model, under random adds, cancels and takes.</summary>
public sealed unsafe class SleeperHeapTests
{
    private delegate void BlocksTest(NativeTask* blocks);

    /// <summary>Runs <paramref name="test"/> on <paramref name="count"/> zeroed task blocks, freed afterwards.</summary>
    private static void WithBlocks(int count, BlocksTest test)
    {
        var blocks = (NativeTask*)NativeMemory.AllocZeroed((nuint)count, (nuint)sizeof(NativeTask));
        try
        {
            test(blocks);
        }
        finally
        {
            NativeMemory.Free(blocks);
        }
    }

    [Fact]
    public void Random_adds_removals_and_takes_give_sleepers_in_due_order_and_keep_every_slot_right()
    {
        const int Tasks = 2000;
        WithBlocks(Tasks, blocks =>
        {
            var heap = new SleeperHeap();
            var model = new Dictionary<int, long>(); // task index -> due
            var random = new Random(11);
            var now = 0L;
            for (var step = 0; step < 50_000; step++)
            {
                var i = random.Next(Tasks);
                var t = &blocks[i];
                switch (random.Next(3))
                {
                    case 0 when !model.ContainsKey(i):
                        t->Op = TaskOp.Sleep;
                        t->InLength = 0;
                        var due = now + random.Next(1, 1000);
                        heap.Add(t, due);
                        model[i] = due;
                        break;
                    case 1 when model.ContainsKey(i):
                        Assert.True(SleeperHeap.Contains(t));
                        heap.Remove(t); // a cancel
                        model.Remove(i);
                        Assert.False(SleeperHeap.Contains(t));
                        break;
                    default:
                        now += random.Next(0, 20);
                        while (heap.TryTakeDue(now, out var taken))
                        {
                            var index = (int)(taken - blocks);
                            Assert.True(model.Remove(index, out var takenDue));
                            Assert.True(takenDue <= now);
                            Assert.All(model.Values, d => Assert.True(d >= takenDue)); // nothing earlier was left behind
                        }
                        break;
                }
                Assert.Equal(model.Count, heap.Count);
                if (model.Count == 0)
                {
                    Assert.Equal(long.MaxValue, heap.EarliestDue);
                }
                else
                {
                    // A cancelled entry may still be on top: never later than the earliest live one.
                    Assert.True(heap.EarliestDue <= model.Values.Min());
                }
                if (step % 500 == 0)
                {
                    var live = heap.Tasks().Select(p => (int)((NativeTask*)p - blocks)).Order().ToList();
                    Assert.Equal(model.Keys.Order(), live);
                    Assert.All(live, i => Assert.True(SleeperHeap.Contains(&blocks[i])));
                }
            }
        });
    }

    [Fact]
    public void Sleepers_cancelled_in_due_order_leave_and_the_rest_come_out_in_order()
    {
        const int Tasks = 10_000;
        WithBlocks(Tasks, blocks =>
        {
            var heap = new SleeperHeap();
            for (var i = 0; i < Tasks; i++)
            {
                blocks[i].Op = TaskOp.Sleep;
                heap.Add(&blocks[i], 1000 + i);
            }
            for (var i = 0; i < Tasks; i += 2) // from the top down, as a stop or a mass cancel does
            {
                heap.Remove(&blocks[i]);
                Assert.False(SleeperHeap.Contains(&blocks[i]));
            }
            Assert.Equal(Tasks / 2, heap.Count);
            Assert.True(heap.EarliestDue <= 1001);
            Assert.All(Enumerable.Range(0, Tasks).Where(i => i % 2 == 1), i => Assert.True(SleeperHeap.Contains(&blocks[i])));
            for (var i = 1; i < Tasks; i += 2)
            {
                Assert.True(heap.TryTakeDue(long.MaxValue, out var t));
                Assert.Equal(i, (int)(t - blocks));
            }
            Assert.False(heap.TryTakeDue(long.MaxValue, out _));
            Assert.Equal(0, heap.Count);
            Assert.Equal(long.MaxValue, heap.EarliestDue);
        });
    }

    [Fact]
    public void When_the_cancelled_outnumber_the_live_the_heap_is_rebuilt_in_order()
    {
        const int Tasks = 1000;
        WithBlocks(Tasks, blocks =>
        {
            var heap = new SleeperHeap();
            for (var i = 0; i < Tasks; i++)
            {
                blocks[i].Op = TaskOp.Sleep;
                heap.Add(&blocks[i], (i * 7919) % Tasks); // every due time once, in a scrambled order
            }
            var kept = Enumerable.Range(0, Tasks).Where(i => i % 5 == 0).ToList();
            foreach (var i in Enumerable.Range(0, Tasks).Where(i => i % 5 != 0))
            {
                heap.Remove(&blocks[i]); // 800 of 1000: rebuilds on the way
            }
            Assert.Equal(kept.Count, heap.Count);
            Assert.All(kept, i => Assert.True(SleeperHeap.Contains(&blocks[i])));
            // The slots the rebuild wrote are right: cancelling by them takes out exactly those.
            foreach (var i in kept.Take(kept.Count / 2))
            {
                heap.Remove(&blocks[i]);
            }
            kept = kept.Skip(kept.Count / 2).ToList();
            var dues = new List<long>();
            while (heap.TryTakeDue(long.MaxValue, out var t))
            {
                var i = (int)(t - blocks);
                Assert.Contains(i, kept);
                dues.Add((i * 7919) % Tasks);
            }
            Assert.Equal(kept.Count, dues.Count);
            Assert.Equal(dues.Order(), dues);
        });
    }

    [Fact]
    public void Cancelling_every_sleeper_empties_the_heap_and_it_works_again()
    {
        const int Tasks = 1000;
        WithBlocks(Tasks, blocks =>
        {
            var heap = new SleeperHeap();
            for (var round = 0; round < 3; round++)
            {
                for (var i = 0; i < Tasks; i++)
                {
                    blocks[i].Op = TaskOp.Sleep;
                    heap.Add(&blocks[i], (i * 7919) % Tasks);
                }
                for (var i = 0; i < Tasks; i++)
                {
                    heap.Remove(&blocks[i]);
                }
                Assert.Equal(0, heap.Count);
                Assert.Equal(long.MaxValue, heap.EarliestDue);
                Assert.False(heap.TryTakeAny(out _));
            }
        });
    }
}
