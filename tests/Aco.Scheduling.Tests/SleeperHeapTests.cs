using System.Runtime.InteropServices;
using Aco.Scheduling.Interop;

namespace Aco.Scheduling.Tests;

/// <summary>The sleeper heap against a plain model, under random adds, cancels and takes.</summary>
public sealed unsafe class SleeperHeapTests
{
    [Fact]
    public void Random_adds_removals_and_takes_give_sleepers_in_due_order_and_keep_every_slot_right()
    {
        const int Tasks = 2000;
        var blocks = (NativeTask*)NativeMemory.AllocZeroed(Tasks, (nuint)sizeof(NativeTask));
        try
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
                Assert.Equal(model.Count == 0 ? long.MaxValue : model.Values.Min(), heap.EarliestDue);
            }
        }
        finally
        {
            NativeMemory.Free(blocks);
        }
    }
}
