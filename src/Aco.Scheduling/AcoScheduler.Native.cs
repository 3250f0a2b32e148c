using System.Diagnostics;
using System.Runtime.CompilerServices;
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
    // their deadline; a cancelled sleeper leaves it in O(log n) (see SleeperHeap).
    private readonly SleeperHeap _sleepers = new();
    private readonly ITimer _timer;
    private long _timerDue = long.MaxValue; // what the timer is armed for, as far as this thread knows
    private int _timerFired;                // set by the timer's callback, cleared by FireTimers
    private long _earliestSleeperDue = long.MaxValue; // published for other threads (SleepersOverdue)

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
            while (_sleepers.TryTakeAny(out var sleeper))
            {
                EndTask(sleeper, TaskEnd.Destroyed);
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
        var task = LoopNative.Spawn(_loop, entry, argument, id, (nuint)_options.InitialSaveStackSize);
        if (handle is not null)
        {
            handle.Task = (nint)task;
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
        _turnStarted = Stopwatch.GetTimestamp();
        _longTurnCounted = false;
        // Requests answered at once go to the back of the queue: they continue in this turn while budget is left.
        while (budget > 0 && stats->Ready > 0)
        {
            var before = stats->Resumes;
            var n = (int)LoopNative.Run(_loop, (nuint)budget, _batch, BatchCapacity);
            var ran = stats->Resumes - before;
            budget -= (int)ran;
            // Counted before the batch is served: whoever sees a coroutine of it end sees its resumes too.
            Bump(ref _resumes, ran);
            for (var i = 0; i < n; i++)
            {
                Serve(_batch[i]);
            }
            done += n;
        }
        var resumed = stats->Resumes - resumesBefore;
        if (resumed > 0)
        {
            CountLongTurn();
        }
        _turnStarted = 0;
        Volatile.Write(ref _readyNative, stats->Ready);
        return (int)resumed + done;
    }

    private long _turnStarted;     // when the current native run began (0 outside RunNative)
    private bool _longTurnCounted; // this run was counted as long already

    /// <summary>
    /// Counts the current native run as long if it has taken longer than the threshold (found after the fact:
    /// some coroutine ran that long without yielding). Called at the end of the run, and before a coroutine's
    /// handle completes, so whoever sees the end of a coroutine that hogged the thread also sees the long turn.
    /// </summary>
    private void CountLongTurn()
    {
        if (_turnStarted == 0 || _longTurnCounted)
        {
            return;
        }
        var took = Stopwatch.GetElapsedTime(_turnStarted);
        if (took > _options.LongTurnThreshold)
        {
            _longTurnCounted = true;
            LastLongTurn = took;
            Bump(ref _longTurns);
            _options.Observer?.LongTurn(this, took);
        }
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
            Answer(t, BridgeStatus.Cancelled);
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
                Answer(t, BridgeStatus.Error);
                break;
        }
    }

    /// <summary>
    /// Answers a request: the task goes to the back of the ready queue, even when the answer was
    /// immediate, so a coroutine that keeps asking (say, a cancelled one in a loop) never takes the
    /// turn of one that waits behind it. The run loop still resumes it in the same turn if budget is left.
    /// </summary>
    private void Answer(NativeTask* t, BridgeStatus status)
    {
        t->Status = status;
        LoopNative.Ready(_loop, t);
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
        Answer(t, item.Status);
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // bursts (a mass cancel, a stop) must not run unoptimized code
    private void EndTask(NativeTask* t, TaskEnd how)
    {
        _parked.Remove((nint)t);
        // Counted before the handle completes: whoever sees the end also sees it in the counters.
        Bump(ref _liveNative, -1);
        CompleteHandle(t, how);
        LoopNative.DestroyTask(_loop, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // bursts (a mass cancel, a stop) must not run unoptimized code
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
        handle.Task = 0; // its block is about to be freed; a late cancel sees it has ended
        CountLongTurn(); // before the awaiter can look: only for awaited coroutines, so detached ends read no clock
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

    /// <summary>
    /// Cancels one coroutine in O(1) (O(log n) for a sleeper): its handle knows its control block, and
    /// the block's state says where it waits. Nothing is scanned, nothing looked up.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // bursts (a mass cancel, a stop) must not run unoptimized code
    private void CancelNative(AcoCoroutineHandle handle)
    {
        var t = (NativeTask*)handle.Task;
        if (t == null)
        {
            return; // not started here, or ended already
        }
        if (t->Cancel != 0)
        {
            return;
        }
        t->Cancel = 1;
        handle.Cancellation?.Cancel(); // wakes a wait on a channel, a handler or an operation
        if (t->State == TaskState.Ready)
        {
            // Its answer stands (a value received is not taken back); its next request is answered "cancelled".
        }
        else if (SleeperHeap.Contains(t))
        {
            _sleepers.Remove(t);
            Answer(t, BridgeStatus.Cancelled);
        }
        else if (t->Op is TaskOp.YieldValue && _parked.Remove((nint)t))
        {
            Answer(t, BridgeStatus.Cancelled);
        }
    }

    private CancellationToken TokenFor(NativeTask* t) =>
        t->Id != 0 && _handles.TryGetValue(t->Id, out var h)
            ? (h.Cancellation ??= CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token)).Token
            : _stopping.Token;

    // ---- sleeps: one heap and one timer for all of them ----------------------------------
    //
    // Invariant, true whenever the scheduler thread blocks (WaitForWork checks it): while a
    // sleeper exists, the timer is armed to fire no later than the earliest due time
    // (_timerDue <= _sleepers.EarliestDue), or a fire is pending (_timerFired), or the loop is awake.
    //
    // The timer is one-shot and is trusted for nothing but a wake-up: it may fire early (a system
    // timer counts whole milliseconds; a TimeProvider may do anything), late, or twice. Every fire
    // means "no longer armed": FireTimers forgets _timerDue, answers the sleepers that are due by
    // the clock (never before their time), and arms again for the earliest one left. An early
    // fire costs a re-arm, a late one only delays, a stale or duplicate one costs a spare re-arm.

    private const long MaxTimerDelayMs = 24 * 60 * 60 * 1000; // longer sleeps re-arm each day

    private void OnTimerFired()
    {
        Volatile.Write(ref _timerFired, 1);
        _wake.Set(); // unconditionally: WaitForWork resets before it looks, so this cannot be lost
    }

    private void Sleep(NativeTask* t)
    {
        t->InLength = 0; // the heap slot (a sleep request does not use in_len)
        var ms = t->Value;
        if (ms <= 0)
        {
            Answer(t, BridgeStatus.Ok);
            return;
        }
        var provider = _options.TimeProvider;
        var now = provider.GetTimestamp();
        var frequency = provider.TimestampFrequency;
        var ticks = ms <= long.MaxValue / frequency ? ms * frequency / 1000 : long.MaxValue;
        var due = ticks < long.MaxValue - 1 - now ? now + ticks : long.MaxValue - 1; // saturates: "never"
        _sleepers.Add(t, due);
        if (due < _timerDue)
        {
            ArmTimer(due);
            Volatile.Write(ref _earliestSleeperDue, due);
        }
    }

    private void ArmTimer(long due)
    {
        _timerDue = due;
        var provider = _options.TimeProvider;
        var ticks = due - provider.GetTimestamp();
        // Rounded up to whole milliseconds, so a millisecond timer does not fire before the due time (if it
        // still does, FireTimers arms it again); never 0, which some timers take as "do not fire": a sleeper
        // already due is taken by the loop itself, which does not block while one is (TimerDue).
        var ms = Math.Clamp(Math.Ceiling(ticks * 1000.0 / provider.TimestampFrequency), 1, MaxTimerDelayMs);
        _timer.Change(TimeSpan.FromMilliseconds(ms), Timeout.InfiniteTimeSpan);
    }

    private bool TimerDue() => _sleepers.EarliestDue <= _options.TimeProvider.GetTimestamp();

    private int FireTimers()
    {
        if (Volatile.Read(ref _timerFired) != 0 && Interlocked.Exchange(ref _timerFired, 0) != 0)
        {
            _timerDue = long.MaxValue; // the one-shot timer is spent, whatever time it fired at
        }
        var n = 0;
        if (_sleepers.Count > 0)
        {
            var now = _options.TimeProvider.GetTimestamp();
            while (_sleepers.TryTakeDue(now, out var sleeper))
            {
                Answer(sleeper, BridgeStatus.Ok);
                n++;
            }
        }
        var earliest = _sleepers.EarliestDue;
        if (earliest < _timerDue)
        {
            ArmTimer(earliest);
        }
        else if (earliest == long.MaxValue && _timerDue != long.MaxValue)
        {
            _timerDue = long.MaxValue; // nobody sleeps: let it rest
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
        Volatile.Write(ref _earliestSleeperDue, earliest);
        return n;
    }

    /// <summary>
    /// How long the earliest sleeper is overdue (zero when none is): a scheduler that keeps up stays near
    /// zero; one that grows means the loop is stuck or starved. Readable from any thread.
    /// </summary>
    public TimeSpan SleepersOverdue
    {
        get
        {
            var due = Volatile.Read(ref _earliestSleeperDue);
            if (due == long.MaxValue || !IsRunning)
            {
                return TimeSpan.Zero;
            }
            var late = _options.TimeProvider.GetElapsedTime(due, _options.TimeProvider.GetTimestamp());
            return late > TimeSpan.Zero ? late : TimeSpan.Zero;
        }
    }

    // ---- stopping ------------------------------------------------------------------------

    // Set when the loop takes the stop message: everything posted before the stop has been taken by then.
    private bool _stopBegun;

    private void BeginStop()
    {
        _stopBegun = true;
        _stopping.Cancel(); // wakes channel, handler and operation waits, and managed code that listens
        for (var t = LoopNative.FirstReady(_loop); t != null; t = t->Next)
        {
            t->Cancel = 1; // answers already given stand; the next request is answered "cancelled"
        }
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
            Answer((NativeTask*)ptr, BridgeStatus.Cancelled);
        }
        while (_sleepers.TryTakeAny(out var sleeper))
        {
            sleeper->Cancel = 1;
            Answer(sleeper, BridgeStatus.Cancelled);
        }
        foreach (var handle in _handles.Values)
        {
            handle.Cancellation?.Cancel();
        }
    }

    private bool StopDeadlinePassed() => _stopDeadline.IsCancellationRequested;

    /// <summary>
    /// Stopping ends when the stop message has been taken and nothing is alive, or when the caller's
    /// deadline passed. (Ending as soon as the state said "stopping" with nothing alive ended the loop
    /// before it took a spawn posted just ahead of the stop, and before the stop message itself.)
    /// </summary>
    private bool TryFinishStop() =>
        (_stopBegun && Interlocked.Read(ref _liveNative) == 0 && Interlocked.Read(ref _liveManaged) == 0 && _managed.Count == 0)
        || StopDeadlinePassed();
}
