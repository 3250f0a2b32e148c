using Aco.Core;
using Aco.Core.Interop;
using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

// Snapshots of what the scheduler holds, taken on its own thread.
public sealed unsafe partial class AcoScheduler
{
    /// <summary>
    /// Takes a snapshot on the scheduler thread: counts by state, and details of up to
    /// <paramref name="maxCoroutines"/> native coroutines.
    /// </summary>
    public Task<AcoSchedulerSnapshot> GetSnapshotAsync(int maxCoroutines = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCoroutines);
        var result = new TaskCompletionSource<AcoSchedulerSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!IsRunning)
        {
            result.SetResult(new AcoSchedulerSnapshot(Counters, 0, 0, 0, 0, []));
            return result.Task;
        }
        QueueWork(new WorkItem(() => result.TrySetResult(TakeSnapshot(maxCoroutines))));
        return result.Task;
    }

    private AcoSchedulerSnapshot TakeSnapshot(int max)
    {
        AssertSchedulerThread();
        var list = new List<AcoCoroutineInfo>();
        for (var t = LoopNative.FirstReady(_loop); t != null && list.Count < max; t = t->Next)
        {
            list.Add(Describe(t, AcoCoroutineState.Ready));
        }
        foreach (var ptr in _parked.Keys)
        {
            if (list.Count >= max)
            {
                break;
            }
            list.Add(Describe((NativeTask*)ptr, AcoCoroutineState.Waiting));
        }
        var room = max - list.Count;
        if (room > 0)
        {
            var waiting = new NativeTask*[room];
            fixed (NativeTask** p = waiting)
            {
                var n = (int)LoopNative.ListWaiting(_loop, p, (nuint)room);
                for (var i = 0; i < n; i++)
                {
                    list.Add(Describe(p[i], AcoCoroutineState.Waiting));
                }
            }
        }
        var stats = _loopStats;
        return new AcoSchedulerSnapshot(Counters, stats->Ready, _parked.Count + stats->Sleeping + stats->WaitingIo, stats->Sleeping, _managed.Count, list);
    }

    private AcoCoroutineInfo Describe(NativeTask* t, AcoCoroutineState state)
    {
        var co = NativeTask.CoroutineOf(t);
        var fields = AcoLayout.Fields(co);
        var stackIndex = _stacks.FindIndex(s => s.DangerousGetHandle() == (nint)fields->ShareStack);
        var save = fields->SaveStack;
        return new AcoCoroutineInfo(
            t->Id, state, stackIndex,
            new AcoSaveStackStats((long)save.Size, (long)save.ValidSize, (long)save.MaxCopySize, (long)save.SaveCount, (long)save.RestoreCount),
            (long)AcoNative.GetStackHighWaterMark(co),
            state == AcoCoroutineState.Waiting ? t->Op.ToString() : null);
    }
}
