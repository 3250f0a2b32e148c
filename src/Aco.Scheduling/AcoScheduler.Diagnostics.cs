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
        var list = new List<AcoCoroutineInfo>();
        for (var t = LoopNative.FirstReady(_loop); t != null && list.Count < max; t = t->Next)
        {
            list.Add(Describe(t, AcoCoroutineState.Ready));
        }
        foreach (var ptr in _parked.Keys.Concat(_sleepers.Tasks()))
        {
            if (list.Count >= max)
            {
                break;
            }
            list.Add(Describe((NativeTask*)ptr, AcoCoroutineState.Waiting));
        }
        var sleeping = _sleepers.Count;
        return new AcoSchedulerSnapshot(Counters, _loopStats->Ready, _parked.Count + sleeping, sleeping, _managed.Count, list);
    }

    private AcoCoroutineInfo Describe(NativeTask* t, AcoCoroutineState state)
    {
        var co = (NativeCoroutine*)((byte*)t + sizeof(NativeTask));
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

/// <summary>Where a native coroutine is.</summary>
public enum AcoCoroutineState
{
    /// <summary>In the ready queue: it runs in its turn.</summary>
    Ready,

    /// <summary>Waiting for the answer to a bridge request.</summary>
    Waiting,
}

/// <summary>One native coroutine in a snapshot.</summary>
/// <param name="Id">Its handle's id (0 for a detached coroutine).</param>
/// <param name="State">Ready or waiting.</param>
/// <param name="StackIndex">Which share stack of the pool it runs on.</param>
/// <param name="SaveStack">Its save-stack statistics.</param>
/// <param name="StackHighWaterMark">The deepest stack it used at a suspension point.</param>
/// <param name="PendingRequest">The request it waits on (Sleep, Call, Send, Receive, Await, YieldValue), if waiting.</param>
public sealed record AcoCoroutineInfo(long Id, AcoCoroutineState State, int StackIndex, AcoSaveStackStats SaveStack, long StackHighWaterMark, string? PendingRequest);

/// <summary>A scheduler's state at one moment.</summary>
/// <param name="Counters">Totals so far.</param>
/// <param name="ReadyNative">Native coroutines in the ready queue.</param>
/// <param name="WaitingNative">Native coroutines waiting for an answer.</param>
/// <param name="SleepingNative">Of those, the sleeping ones.</param>
/// <param name="ManagedQueue">Managed work items queued.</param>
/// <param name="Coroutines">Details of the native coroutines (up to the limit asked for).</param>
public sealed record AcoSchedulerSnapshot(
    AcoSchedulerCounters Counters, long ReadyNative, long WaitingNative, long SleepingNative, long ManagedQueue,
    IReadOnlyList<AcoCoroutineInfo> Coroutines);
