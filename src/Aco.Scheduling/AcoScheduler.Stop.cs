using System.Runtime.InteropServices;
using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

// Stopping: no new work, every coroutine canceled, the loop runs until they end or the deadline, then
// everything left is destroyed and every handle completes.
public sealed unsafe partial class AcoScheduler
{
    /// <summary>The caller's deadline for the stop (set by StopAsync before it posts the stop).</summary>
    private CancellationToken _stopDeadline;

    /// <summary>Wakes the loop when the deadline passes.</summary>
    private CancellationTokenRegistration _stopRegistration;

    /// <summary>Set when the loop takes the stop message: everything posted before the stop has been taken by then (scheduler thread only).</summary>
    private bool _stopBegun;

    private void BeginStop()
    {
        AssertSchedulerThread();
        _stopBegun = true;
        _stopping.Cancel(); // wakes channel, handler and operation waits, and managed code that listens
        CancelQueuedSpawns();
        LoopNative.CancelAll(_loop); // answers already given stand; sleeps and socket waits end "canceled"
        List<nint>? answered = null;
        foreach (var ptr in _parked.Keys)
        {
            var t = (NativeTask*)ptr;
            t->Cancel = 1;
            if (t->Op is TaskOp.YieldValue)
            {
                (answered ??= []).Add(ptr); // nobody will take the value now
            }
        }
        foreach (var ptr in answered ?? [])
        {
            _parked.Remove(ptr);
            Answer((NativeTask*)ptr, BridgeStatus.Canceled);
        }
        foreach (var handle in _handles.Values)
        {
            handle.Cancellation?.Cancel();
        }
    }

    private bool StopDeadlinePassed() => _stopDeadline.IsCancellationRequested;

    /// <summary>
    /// Stopping ends when the stop message has been taken and nothing is alive, or when the caller's deadline
    /// passed. (Ending as soon as the state says "stopping" with nothing alive would end the loop before it took a
    /// spawn posted just ahead of the stop, and before the stop message itself.)
    /// </summary>
    private bool TryFinishStop() =>
        (_stopBegun && _loopStats->Live == 0 && Interlocked.Read(ref _liveManaged) == 0 && _managed.Count == 0)
        || StopDeadlinePassed();

    /// <summary>
    /// Frees everything native, on the scheduler thread: coroutines still alive (the deadline passed) are
    /// destroyed and their handles complete as canceled; then the stacks, and the loop once no other thread is
    /// waking it.
    /// </summary>
    private void StopNative()
    {
        if (_loop != 0)
        {
            foreach (var task in _parked.Keys.ToList())
            {
                EndTask((NativeTask*)task, TaskEnd.Destroyed);
                Bump(ref _destroyedAtStop);
            }
            LoopNative.CancelAll(_loop); // every task the loop holds is on its ready queue now
            for (var t = LoopNative.FirstReady(_loop); t != null; t = t->Next)
            {
                CompleteHandle(t, TaskEnd.Destroyed);
                Bump(ref _destroyedAtStop);
            }
            LoopNative.DestroyTasks(_loop);
            ReleaseGroups();
            PublishLoopCounts();
            Volatile.Write(ref _liveNative, 0);
            _loop = 0;
            _loopStats = null;
            _loopHandle?.Dispose(); // frees the loop when no other thread is waking it
        }
        FailRemainingManaged();
        if (_batch != null)
        {
            NativeMemory.Free(_batch);
            _batch = null;
        }
        foreach (var stack in _stacks)
        {
            stack.Dispose();
        }
        _stacks.Clear();
        _acoThread?.Dispose();
        _acoThread = null;
    }
}
