using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aco.Core;
using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

// The native side: the run loop, its batches of requests, parking and waking, ends and cancellation.
public sealed unsafe partial class AcoScheduler
{
    private const int BatchCapacity = 256;

    // ---- scheduler thread only ----------------------------------------------------------------------

    /// <summary>The thread's coroutine runtime (main coroutine, share stacks).</summary>
    private AcoThread? _acoThread;

    /// <summary>The share stacks the loop spreads coroutines over.</summary>
    private readonly List<AcoShareStack> _stacks = [];

    /// <summary>The native loop (aco_loop_t*); 0 before the start and after the stop.</summary>
    private nint _loop;

    /// <summary>The loop's counts, read directly (no call per look).</summary>
    private LoopStats* _loopStats;

    /// <summary>Where aco_loop_run puts the tasks whose requests .NET serves.</summary>
    private NativeTask** _batch;

    /// <summary>Handles of live native coroutines that someone may await, by id.</summary>
    private readonly Dictionary<long, AcoCoroutineHandle> _handles = [];

    /// <summary>
    /// Tasks waiting for an answer from .NET, under a sequence number: a wake-up (from a handler, a channel, an
    /// operation, a reader of yielded values) carries the number, so a late or duplicate wake-up for a task that
    /// has moved on (or been destroyed, its memory reused) is ignored.
    /// </summary>
    private readonly Dictionary<nint, long> _parked = [];
    private long _parkSeq;

    /// <summary>When the current native run began (0 outside RunNative).</summary>
    private long _turnStarted;

    /// <summary>Whether this run was counted as long already.</summary>
    private bool _longTurnCounted;

    /// <summary>Spawns and ends the loop counted itself (detached coroutines), already added to the counters below.</summary>
    private long _nativeFinishedSeen, _nativeCanceledSeen, _nativeSpawnedSeen;

    // ---- written by the scheduler thread, read by any (Counters) -----------------------------------------

    private long _spawnedNative, _completedNative, _faultedNative, _canceledNative, _liveNative;
    private long _readyNative, _sleepingNative, _waitingOnSockets, _resumes, _bridgeRequests, _longTurns, _destroyedAtStop;
    private readonly long[] _requestsByKind = new long[16];

    /// <summary>The earliest deadline in the loop's timer heap, for <see cref="SleepersOverdue"/>.</summary>
    private long _earliestSleeperDue = long.MaxValue;

    /// <summary>The loop, for waking it from other threads; released (and the loop freed) after the stop.</summary>
    private LoopHandle? _loopHandle;

    /// <summary>How long the last long turn took (zero if there was none).</summary>
    public TimeSpan LastLongTurn { get; private set; }

    private void StartNative()
    {
        TaskLayout.EnsureChecked();
        _acoThread = AcoThread.Initialize(new AcoThreadOptions { ShareFpuEnvironment = _options.ShareFpuEnvironment });
        _loop = LoopNative.New(_acoThread.MainCoroutine.DangerousGetHandle());
        if (_loop == 0)
        {
            throw new InvalidOperationException($"The native run loop could not be created (error {Marshal.GetLastSystemError()}).");
        }
        _loopStats = LoopNative.Stats(_loop);
        if (_timer is not null)
        {
            LoopNative.UseExternalClock(_loop, _options.TimeProvider.TimestampFrequency);
        }
        for (var i = 0; i < _options.ShareStackCount; i++)
        {
            var stack = _acoThread.CreateShareStack(_options.ShareStackSize, _options.GuardPages);
            _stacks.Add(stack);
            LoopNative.AddStack(_loop, stack.DangerousGetHandle());
        }
        _batch = (NativeTask**)NativeMemory.Alloc(BatchCapacity, (nuint)sizeof(NativeTask*));
        Volatile.Write(ref _loopHandle, new LoopHandle(_loop)); // from now on other threads can wake the loop
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
        var stats = _loopStats;
        if (stats->Ready == 0)
        {
            PublishLoopCounts();
            return 0;
        }
        var budget = _options.RunLoopBudget;
        var done = 0;
        var resumesBefore = stats->Resumes;
        _turnStarted = Stopwatch.GetTimestamp();
        _longTurnCounted = false;
        // Requests answered at once go to the back of the queue: they continue in this turn while budget is left.
        while (budget > 0 && stats->Ready > 0)
        {
            var before = stats->Resumes;
            var n = (int)LoopNative.Run(_loop, (nuint)budget, _batch, BatchCapacity);
            budget -= (int)(stats->Resumes - before);
            // Counted before the batch is served: whoever sees a coroutine of it end sees its resumes too.
            PublishLoopCounts();
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
        PublishRequestCounts();
        return (int)resumed + done;
    }

    /// <summary>Copies the loop's counts into the fields other threads read, with the ends the loop counted itself.</summary>
    private void PublishLoopCounts()
    {
        var stats = _loopStats;
        Volatile.Write(ref _resumes, stats->Resumes);
        Volatile.Write(ref _readyNative, stats->Ready);
        Volatile.Write(ref _sleepingNative, stats->Sleeping);
        Volatile.Write(ref _waitingOnSockets, stats->WaitingIo);
        Volatile.Write(ref _earliestSleeperDue, stats->EarliestDue);
        var spawned = stats->Spawned - _nativeSpawnedSeen;
        if (spawned != 0)
        {
            _nativeSpawnedSeen = stats->Spawned;
            Bump(ref _liveNative, spawned);
            Bump(ref _spawnedNative, spawned);
        }
        var finished = stats->Finished - _nativeFinishedSeen;
        var canceled = stats->Canceled - _nativeCanceledSeen;
        if (finished + canceled != 0)
        {
            _nativeFinishedSeen = stats->Finished;
            _nativeCanceledSeen = stats->Canceled;
            Bump(ref _liveNative, -(finished + canceled)); // the live count first: whoever sees an end counted sees it gone
            Bump(ref _completedNative, finished);
            Bump(ref _canceledNative, canceled);
        }
    }

    private void PublishRequestCounts()
    {
        long served = 0;
        for (var op = 0; op < 16; op++)
        {
            var count = _loopStats->Requests[op];
            Volatile.Write(ref _requestsByKind[op], count);
            if (op > (int)TaskOp.Yield)
            {
                served += count;
            }
        }
        Volatile.Write(ref _bridgeRequests, served);
    }

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

    /// <summary>Serves one request of a task from the batch: one the native loop leaves to .NET.</summary>
    private void Serve(NativeTask* t)
    {
        switch (t->Op)
        {
            case TaskOp.Finish:
                EndTask(t, TaskEnd.Finished);
                return;
            case TaskOp.Fail:
                EndTask(t, TaskEnd.Failed);
                return;
            case TaskOp.Canceled:
                EndTask(t, TaskEnd.Canceled);
                return;
        }
        if (t->Cancel != 0)
        {
            // Cancellation was requested: every request is answered "canceled" right away.
            Answer(t, BridgeStatus.Canceled);
            return;
        }
        switch (t->Op)
        {
            case TaskOp.Sleep:
                SleepOnProviderClock(t);
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
    /// immediate, so a coroutine that keeps asking (say, a canceled one in a loop) never takes the
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

    /// <summary>A wake-up from the inbox: answers a parked task, or serves its request again.</summary>
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
        Canceled,
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
                Bump(ref _canceledNative);
                break;
        }
        if (t->Id == 0 || !_handles.Remove(t->Id, out var handle))
        {
            return;
        }
        handle.Task = 0; // its block is about to be freed; a late cancel sees it has ended
        LeaveGroup(handle);
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
    /// Cancels one coroutine in O(1): its handle knows its control block. A sleep or socket wait (served by the
    /// loop) ends at once; a wait on .NET (a handler, a channel, an operation) ends through its token; a value
    /// yielded and not yet taken is given up. An answer already given stands (a value received is not taken
    /// back): its next request is answered "canceled".
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // bursts (a mass cancel, a stop) must not run unoptimized code
    private void CancelNative(AcoCoroutineHandle handle)
    {
        var t = (NativeTask*)handle.Task;
        if (t == null || t->Cancel != 0)
        {
            return; // not started here (it never will: the handle says canceled), ended, or canceled already
        }
        if (LoopNative.Cancel(_loop, t) != 0)
        {
            return; // it was asleep or on a socket: answered
        }
        handle.Cancellation?.Cancel(); // wakes a wait on a channel, a handler or an operation
        if (t->State == TaskState.Waiting && t->Op == TaskOp.YieldValue && _parked.Remove((nint)t))
        {
            Answer(t, BridgeStatus.Canceled);
        }
    }

    private CancellationToken TokenFor(NativeTask* t) =>
        t->Id != 0 && _handles.TryGetValue(t->Id, out var h) ? h.WaitToken(_stopping.Token) : _stopping.Token;

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
}
