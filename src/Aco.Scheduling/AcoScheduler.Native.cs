using System.Diagnostics;
using System.Runtime.InteropServices;
using Aco.Core;
using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

// The native side: the run loop, its batches of bridge requests, parking and waking.
public sealed unsafe partial class AcoScheduler
{
    // A task waiting for an answer is "parked" under a sequence number; a wake-up (from a timer,
    // a channel, a handler, a consumer) carries the number, so a late or duplicate wake-up for a
    // task that has since moved on (or been destroyed, its memory reused) is ignored.
    private readonly Dictionary<nint, long> _parked = [];
    private long _parkSeq;

    // Sleeping tasks are not parked: they live only in this heap (16 bytes each), keyed by
    // their deadline. An entry leaves it when due, or when its task is cancelled (Remove), so
    // it never goes stale and needs no sequence number.
    private readonly PriorityQueue<nint, long> _sleepers = new();
    private readonly ITimer _timer;
    private long _timerDue = long.MaxValue;

    private NativeTask** _batch;
    private LoopStats* _loopStats; // read directly: no call per look
    private const int BatchCapacity = 256;

    private CancellationToken _stopDeadline;
    private CancellationTokenRegistration _stopRegistration;

    private void StartNative()
    {
        _acoThread = AcoThread.Initialize(new AcoThreadOptions { ShareFpuEnvironment = _options.ShareFpuEnvironment });
        _loop = LoopNative.New(_acoThread.MainCoroutine.DangerousGetHandle());
        _loopStats = LoopNative.Stats(_loop);
        for (var i = 0; i < _options.ShareStackCount; i++)
        {
            var stack = _acoThread.CreateShareStack(_options.ShareStackSize, _options.GuardPages);
            _stacks.Add(stack);
            LoopNative.AddStack(_loop, stack.DangerousGetHandle());
        }
        _batch = (NativeTask**)NativeMemory.Alloc(BatchCapacity, (nuint)sizeof(NativeTask*));
    }

    private void StopNative()
    {
        if (_loop != 0)
        {
            foreach (var task in _parked.Keys.ToList())
            {
                EndTask((NativeTask*)task, TaskEnd.Destroyed);
                DestroyedAtStop++;
            }
            while (_sleepers.TryDequeue(out var sleeper, out _))
            {
                EndTask((NativeTask*)sleeper, TaskEnd.Destroyed);
                DestroyedAtStop++;
            }
            for (var t = LoopNative.FirstReady(_loop); t != null; t = t->Next)
            {
                CompleteHandle(t, TaskEnd.Destroyed);
                DestroyedAtStop++;
            }
            LoopNative.Destroy(_loop); // frees the tasks still on the ready queue
            Volatile.Write(ref _liveNative, 0);
            _loop = 0;
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

    private void SpawnNative(nint entry, nint argument, AcoCoroutineHandle? handle)
    {
        var id = handle?.Id ?? 0;
        LoopNative.Spawn(_loop, entry, argument, id, (nuint)_options.InitialSaveStackSize);
        if (handle is not null)
        {
            _handles.Add(id, handle);
        }
        Bump(ref _spawnedNative);
        Bump(ref _liveNative);
    }

    private int RunNative()
    {
        var budget = _options.RunLoopBudget;
        var done = 0;
        var stats = _loopStats;
        if (stats->Ready == 0)
        {
            return 0;
        }
        var resumesBefore = stats->Resumes;
        var started = Stopwatch.GetTimestamp();
        // Requests answered at once put their task at the front: it continues in the same turn.
        while (budget > 0 && stats->Ready > 0)
        {
            var before = stats->Resumes;
            var n = (int)LoopNative.Run(_loop, (nuint)budget, _batch, BatchCapacity);
            budget -= (int)(stats->Resumes - before);
            for (var i = 0; i < n; i++)
            {
                Serve(_batch[i]);
            }
            done += n;
        }
        var resumed = stats->Resumes - resumesBefore;
        if (resumed > 0)
        {
            var took = Stopwatch.GetElapsedTime(started);
            if (took > _options.LongTurnThreshold)
            {
                // Found after the fact: some coroutine ran this long without yielding.
                Bump(ref _longTurns);
                LastLongTurn = took;
                _options.Observer?.LongTurn(this, took);
            }
        }
        Volatile.Write(ref _readyNative, stats->Ready);
        Bump(ref _resumes, resumed);
        return (int)resumed + done;
    }

    /// <summary>Adds to a counter that only the scheduler thread writes (others read it with Volatile.Read).</summary>
    private static void Bump(ref long counter, long by = 1) => Volatile.Write(ref counter, counter + by);

    /// <summary>Serves one request of a task from the batch.</summary>
    private void Serve(NativeTask* t)
    {
        Bump(ref _bridgeRequests);
        Bump(ref _requestsByKind[(int)t->Op & 15]);
        switch (t->Op)
        {
            case TaskOp.Finish:
                EndTask(t, TaskEnd.Finished);
                return;
            case TaskOp.Fail:
                EndTask(t, TaskEnd.Failed);
                return;
            case TaskOp.Cancelled:
                EndTask(t, TaskEnd.Cancelled);
                return;
        }
        if (t->Cancel != 0)
        {
            // Cancellation was requested: every request is answered "cancelled" right away.
            Answer(t, BridgeStatus.Cancelled, front: true);
            return;
        }
        switch (t->Op)
        {
            case TaskOp.Sleep:
                Sleep(t);
                break;
            case TaskOp.Call:
                Call(t);
                break;
            case TaskOp.Send:
                Send(t);
                break;
            case TaskOp.Receive:
                Receive(t);
                break;
            case TaskOp.Await:
                AwaitOperation(t);
                break;
            case TaskOp.YieldValue:
                YieldValue(t);
                break;
            default:
                Answer(t, BridgeStatus.Error, front: true);
                break;
        }
    }

    private void Answer(NativeTask* t, BridgeStatus status, bool front)
    {
        t->Status = status;
        if (front)
        {
            LoopNative.ReadyFront(_loop, t);
        }
        else
        {
            LoopNative.Ready(_loop, t);
        }
    }

    private long Park(NativeTask* t)
    {
        var seq = ++_parkSeq;
        _parked[(nint)t] = seq;
        return seq;
    }

    /// <summary>A wake-up from the inbox: answers a parked task, or retries its request.</summary>
    private void Wake(in InboxItem item)
    {
        if (!_parked.TryGetValue(item.Pointer, out var seq) || seq != item.Seq)
        {
            if (item.Object is PooledCall stale)
            {
                stale.Return();
            }
            return; // stale: the task moved on
        }
        _parked.Remove(item.Pointer);
        var t = (NativeTask*)item.Pointer;
        if (item.Object is PooledCall call)
        {
            FinishCall(t, call, item.Status, (int)item.Value);
            return;
        }
        if (item.Status == RetryStatus)
        {
            Serve(t); // the channel or operation may be ready now
            return;
        }
        t->Value = item.Value;
        Answer(t, item.Status, front: false);
    }

    /// <summary>Marker status for "serve the request again".</summary>
    internal const BridgeStatus RetryStatus = (BridgeStatus)255;

    private enum TaskEnd
    {
        Finished,
        Failed,
        Cancelled,
        Destroyed,
    }

    private void EndTask(NativeTask* t, TaskEnd how)
    {
        _parked.Remove((nint)t);
        CompleteHandle(t, how);
        LoopNative.DestroyTask(_loop, t);
        Bump(ref _liveNative, -1);
    }

    private void CompleteHandle(NativeTask* t, TaskEnd how)
    {
        switch (how)
        {
            case TaskEnd.Finished:
                Bump(ref _completedNative);
                break;
            case TaskEnd.Failed:
                Bump(ref _faultedNative);
                _options.Observer?.CoroutineFaulted(this, t->Id, t->Code, FailureMessage(t));
                break;
            default:
                Bump(ref _cancelledNative);
                break;
        }
        if (t->Id == 0 || !_handles.Remove(t->Id, out var handle))
        {
            return;
        }
        switch (how)
        {
            case TaskEnd.Finished:
                handle.SetResult(t->Value);
                break;
            case TaskEnd.Failed:
                handle.SetException(new AcoCoroutineException(t->Code, FailureMessage(t)));
                break;
            default:
                handle.SetCanceled();
                break;
        }
    }

    private static string FailureMessage(NativeTask* t) =>
        t->In == null ? "" : Marshal.PtrToStringUTF8((nint)t->In, (int)t->InLength);

    private void CancelNative(long id)
    {
        if (!_handles.TryGetValue(id, out var handle))
        {
            return; // ended already
        }
        var cts = handle.Cancellation ??= new CancellationTokenSource();
        cts.Cancel(); // wakes a wait on a channel, a handler or an operation
        foreach (var (ptr, _) in _parked)
        {
            var t = (NativeTask*)ptr;
            if (t->Id == id)
            {
                t->Cancel = 1;
                if (t->Op is TaskOp.YieldValue)
                {
                    _parked.Remove(ptr);
                    Answer(t, BridgeStatus.Cancelled, front: false);
                }
                return;
            }
        }
        foreach (var (ptr, _) in _sleepers.UnorderedItems)
        {
            var t = (NativeTask*)ptr;
            if (t->Id == id)
            {
                _sleepers.Remove(ptr, out _, out _); // a scan: cancelling one sleeper is rare
                t->Cancel = 1;
                Answer(t, BridgeStatus.Cancelled, front: false);
                return;
            }
        }
        // Ready or running: mark it; its next request is answered "cancelled".
        for (var t = LoopNative.FirstReady(_loop); t != null; t = t->Next)
        {
            if (t->Id == id)
            {
                t->Cancel = 1;
                t->Status = BridgeStatus.Cancelled;
                return;
            }
        }
    }

    private CancellationToken TokenFor(NativeTask* t) =>
        t->Id != 0 && _handles.TryGetValue(t->Id, out var h)
            ? (h.Cancellation ??= CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token)).Token
            : _stopping.Token;

    // ---- sleeps: one heap and one timer for all of them ----------------------------------

    private void Sleep(NativeTask* t)
    {
        var ms = t->Value;
        if (ms <= 0)
        {
            Answer(t, BridgeStatus.Ok, front: false);
            return;
        }
        var provider = _options.TimeProvider;
        var due = provider.GetTimestamp() + ms * provider.TimestampFrequency / 1000;
        _sleepers.Enqueue((nint)t, due);
        if (due < _timerDue)
        {
            ArmTimer(due);
        }
    }

    private void ArmTimer(long due)
    {
        _timerDue = due;
        var provider = _options.TimeProvider;
        var delay = provider.GetElapsedTime(provider.GetTimestamp(), due);
        _timer.Change(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan);
    }

    private bool TimerDue() =>
        _sleepers.TryPeek(out _, out var due) && due <= _options.TimeProvider.GetTimestamp();

    private int FireTimers()
    {
        var now = _options.TimeProvider.GetTimestamp();
        var n = 0;
        while (_sleepers.TryPeek(out var sleeper, out var due) && due <= now)
        {
            _sleepers.Dequeue();
            Answer((NativeTask*)sleeper, BridgeStatus.Ok, front: false);
            n++;
        }
        if (_sleepers.TryPeek(out _, out var next))
        {
            if (next != _timerDue)
            {
                ArmTimer(next);
            }
        }
        else if (_timerDue != long.MaxValue)
        {
            _timerDue = long.MaxValue;
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        return n;
    }

    // ---- stopping ------------------------------------------------------------------------

    private void BeginStop()
    {
        _stopping.Cancel(); // wakes channel, handler and operation waits, and managed code that listens
        for (var t = LoopNative.FirstReady(_loop); t != null; t = t->Next)
        {
            t->Cancel = 1;
            t->Status = BridgeStatus.Cancelled;
        }
        foreach (var ptr in _parked.Keys.ToList())
        {
            var t = (NativeTask*)ptr;
            t->Cancel = 1;
            if (t->Op is TaskOp.YieldValue)
            {
                _parked.Remove(ptr);
                Answer(t, BridgeStatus.Cancelled, front: false);
            }
        }
        while (_sleepers.TryDequeue(out var sleeper, out _))
        {
            var t = (NativeTask*)sleeper;
            t->Cancel = 1;
            Answer(t, BridgeStatus.Cancelled, front: false);
        }
        foreach (var handle in _handles.Values)
        {
            handle.Cancellation?.Cancel();
        }
    }

    private bool StopDeadlinePassed() => _stopDeadline.IsCancellationRequested;

    /// <summary>Stopping ends when nothing is alive, or when the caller's deadline passed.</summary>
    private bool TryFinishStop() =>
        (Interlocked.Read(ref _liveNative) == 0 && Interlocked.Read(ref _liveManaged) == 0 && _managed.Count == 0)
        || StopDeadlinePassed();
}
