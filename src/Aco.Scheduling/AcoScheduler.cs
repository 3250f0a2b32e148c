using System.Diagnostics;
using System.Threading.Channels;
using Aco.Core;
using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

/// <summary>
/// Runs native and managed coroutines on one thread, round-robin. Native coroutines run in a
/// native loop and reach .NET only through bridge requests (<c>aco_bridge.h</c>), which the
/// scheduler serves on its own thread stack; managed coroutines are C# async methods run under
/// the scheduler's <see cref="System.Threading.SynchronizationContext"/> and
/// <see cref="System.Threading.Tasks.TaskScheduler"/>. Other threads hand it work through an inbox.
/// </summary>
/// <remarks>
/// Each turn serves, with a budget each: the inbox, due timers, the native ready queue (and the
/// requests it produced), the managed ready queue. An idle scheduler blocks until work arrives.
/// Coroutines never migrate between threads.
/// </remarks>
[DebuggerDisplay("{ToString(),nq}")]
public sealed partial class AcoScheduler : IAsyncDisposable
{
    [ThreadStatic]
    private static AcoScheduler? t_current;

    private readonly AcoSchedulerOptions _options;
    private readonly Channel<InboxItem> _inbox = Channel.CreateUnbounded<InboxItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private int _idle;
    private int _state; // 0 created, 1 running, 2 stopping, 3 stopped
    private long _nextId;
    private Thread? _thread;

    // Scheduler-thread state.
    private AcoThread? _acoThread;
    private readonly List<AcoShareStack> _stacks = [];
    private nint _loop;
    private readonly Dictionary<long, AcoCoroutineHandle> _handles = [];

    /// <summary>Creates a scheduler; it runs once <see cref="Start"/> or <see cref="Run"/> is called.</summary>
    public AcoScheduler(AcoSchedulerOptions? options = null)
    {
        _options = options ?? new AcoSchedulerOptions();
        _options.Validate();
        SynchronizationContext = new AcoSynchronizationContext(this);
        TaskScheduler = new AcoTaskScheduler(this);
        _timer = _options.TimeProvider.CreateTimer(static s => ((AcoScheduler)s!).OnTimerFired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The scheduler running on the calling thread, or null.</summary>
    public static AcoScheduler? Current => t_current;

    /// <summary>The options it was created with.</summary>
    public AcoSchedulerOptions Options => _options;

    /// <summary>Runs managed coroutines' continuations on the scheduler thread.</summary>
    public SynchronizationContext SynchronizationContext { get; }

    /// <summary>A <see cref="System.Threading.Tasks.TaskScheduler"/> with concurrency 1 that runs tasks on the scheduler thread.</summary>
    public TaskScheduler TaskScheduler { get; }

    /// <summary>Cancelled when the scheduler starts stopping.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>The managed id of the scheduler thread (0 before it runs).</summary>
    public int ManagedThreadId { get; private set; }

    /// <summary>Whether it is running (started and not yet stopped).</summary>
    public bool IsRunning => Volatile.Read(ref _state) is 1 or 2;

    /// <summary>Native coroutines still alive when stopping ran out of time, and destroyed.</summary>
    public long DestroyedAtStop { get; private set; }

    /// <summary>The error that ended the scheduler thread, if one did (a bug in the scheduler).</summary>
    public Exception? Fault { get; private set; }

    /// <summary>Completes when the scheduler has stopped and freed everything.</summary>
    public Task Completion => _stopped.Task;

    /// <summary>Starts the scheduler on a dedicated thread named <see cref="AcoSchedulerOptions.Name"/>.</summary>
    /// <exception cref="InvalidOperationException">It was started already.</exception>
    public void Start()
    {
        BeginRunning();
        _thread = new Thread(() => RunLoopAsPump(CancellationToken.None)) { Name = _options.Name, IsBackground = true };
        _thread.Start();
    }

    /// <summary>Runs the scheduler on the calling thread until it stops (<see cref="StopAsync"/>, or <paramref name="cancellationToken"/>).</summary>
    /// <exception cref="InvalidOperationException">It was started already.</exception>
    public void Run(CancellationToken cancellationToken = default)
    {
        BeginRunning();
        RunLoopAsPump(cancellationToken);
    }

    private void BeginRunning()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("The scheduler has been started already; a scheduler runs once.");
        }
    }

    /// <summary>
    /// Stops the scheduler: no new work is accepted, every coroutine is asked to cancel (native code sees
    /// ACO_BRIDGE_CANCELLED), and the scheduler keeps running until all have ended or
    /// <paramref name="cancellationToken"/> is cancelled; then it destroys what remains. Every handle
    /// completes (result, error or cancellation).
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 2, 1) == 1)
        {
            _stopDeadline = cancellationToken;
            _stopRegistration = cancellationToken.Register(static s => ((AcoScheduler)s!).Wake(), this);
            TryPost(new InboxItem(InboxKind.Stop)); // refused only if the deadline has already ended the loop
        }
        else if (Interlocked.CompareExchange(ref _state, 3, 0) == 0)
        {
            _stopped.TrySetResult(); // never started
        }
        return _stopped.Task;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _timer.Dispose();
        _wake.Dispose();
        _stopping.Dispose();
    }

    /// <summary>
    /// Spawns a native coroutine running <paramref name="entry"/> with <paramref name="argument"/>
    /// (what <c>aco_get_arg()</c> returns). Callable from any thread.
    /// </summary>
    /// <returns>A handle: await it for the result.</returns>
    public AcoCoroutineHandle Spawn(AcoEntryPoint entry, nint argument = 0, CancellationToken cancellationToken = default)
    {
        CheckEntry(entry);
        var handle = new AcoCoroutineHandle(this, Interlocked.Increment(ref _nextId), _options.RunContinuationsAsynchronously);
        if (cancellationToken.CanBeCanceled)
        {
            handle.Registration = cancellationToken.Register(static h => ((AcoCoroutineHandle)h!).Cancel(), handle);
        }
        Interlocked.Increment(ref _queuedSpawns);
        Post(new InboxItem(InboxKind.Spawn) { Pointer = entry.Address, Value = (long)argument, Object = handle });
        return handle;
    }

    /// <summary>
    /// Spawns a native coroutine that nobody awaits: no managed object is created for it. Its end
    /// is counted in <see cref="Counters"/>. Callable from any thread.
    /// </summary>
    public void SpawnDetached(AcoEntryPoint entry, nint argument = 0)
    {
        CheckEntry(entry);
        if (Environment.CurrentManagedThreadId == ManagedThreadId && _loop != 0 && Volatile.Read(ref _state) == 1)
        {
            SpawnNative(entry.Address, argument, null);
            return;
        }
        Interlocked.Increment(ref _queuedSpawns);
        Post(new InboxItem(InboxKind.Spawn) { Pointer = entry.Address, Value = (long)argument });
    }

    private long _queuedSpawns;

    /// <summary>How loaded the scheduler is: live coroutines plus spawns still in its inbox.</summary>
    public long Load => Volatile.Read(ref _liveNative) + Interlocked.Read(ref _liveManaged) + Interlocked.Read(ref _queuedSpawns);

    private void CheckEntry(AcoEntryPoint entry)
    {
        if (!entry.IsValid)
        {
            throw new ArgumentException("The entry point is empty; create it with AcoEntryPoint.FromExport.", nameof(entry));
        }
        if (Volatile.Read(ref _state) >= 2)
        {
            throw new InvalidOperationException("The scheduler is stopping or stopped; it accepts no new coroutines.");
        }
    }

    /// <summary>What the scheduler has done so far.</summary>
    public AcoSchedulerCounters Counters => new(
        Volatile.Read(ref _spawnedNative), Volatile.Read(ref _completedNative), Volatile.Read(ref _faultedNative),
        Volatile.Read(ref _cancelledNative), Volatile.Read(ref _liveNative), Interlocked.Read(ref _liveManaged),
        Volatile.Read(ref _resumes), Volatile.Read(ref _bridgeRequests));

    private long _spawnedNative, _completedNative, _faultedNative, _cancelledNative, _liveNative, _liveManaged, _resumes, _bridgeRequests, _longTurns;
    private readonly long[] _requestsByKind = new long[16];

    /// <summary>Native runs that took longer than <see cref="AcoSchedulerOptions.LongTurnThreshold"/>.</summary>
    public long LongTurns => Volatile.Read(ref _longTurns);

    /// <summary>How long the last long turn took (zero if there was none).</summary>
    public TimeSpan LastLongTurn { get; private set; }

    /// <summary>Native coroutines in the ready queue (read without synchronisation: a recent value).</summary>
    public long ReadyNative => Volatile.Read(ref _readyNative);

    private long _readyNative;

    /// <summary>Bridge requests served so far, by kind (sleep, call, send, receive, await, yield_value, finish, fail, cancelled).</summary>
    public IReadOnlyDictionary<string, long> RequestsByKind()
    {
        var result = new Dictionary<string, long>();
        foreach (var op in Enum.GetValues<TaskOp>())
        {
            if (op is not TaskOp.None and not TaskOp.Yield)
            {
                result[op switch { TaskOp.YieldValue => "yield_value", _ => op.ToString().ToLowerInvariant() }] = Volatile.Read(ref _requestsByKind[(int)op]);
            }
        }
        return result;
    }

    internal void Post(in InboxItem item)
    {
        if (!TryPost(item))
        {
            throw new InvalidOperationException("The scheduler has stopped.");
        }
    }

    internal bool TryPost(in InboxItem item)
    {
        if (!_inbox.Writer.TryWrite(item))
        {
            return false;
        }
        // TryWrite is a full fence; see WaitForWork for why this cannot lose a wake-up.
        if (Volatile.Read(ref _idle) == 1)
        {
            _wake.Set();
        }
        return true;
    }

    internal void Wake() => _wake.Set();

    /// <summary>Wakes a parked task; after a stop there is nothing left to wake, so it is a no-op then.</summary>
    internal void PostWake(nint task, long seq, long value, BridgeStatus status) =>
        TryPost(new InboxItem(InboxKind.Wake) { Pointer = task, Seq = seq, Value = value, Status = status });

    internal void RequestCancel(AcoCoroutineHandle handle) => TryPost(new InboxItem(InboxKind.Cancel) { Object = handle }); // after a stop there is nothing to cancel

    /// <summary>
    /// Runs the loop inside one long-lived task of the scheduler's own <see cref="TaskScheduler"/>, so that
    /// everything on this thread (coroutine bodies, their continuations) sees it as
    /// <see cref="TaskScheduler.Current"/>, with no task per coroutine.
    /// </summary>
    private void RunLoopAsPump(CancellationToken runToken)
    {
        ManagedThreadId = Environment.CurrentManagedThreadId; // lets the task scheduler run the pump inline
        var pump = new Task(static s => { var (self, token) = ((AcoScheduler, CancellationToken))s!; self.RunLoop(token); }, (this, runToken), TaskCreationOptions.DenyChildAttach);
        pump.RunSynchronously(TaskScheduler);
    }

    private void RunLoop(CancellationToken runToken)
    {
        using var runRegistration = runToken.Register(static s => ((AcoScheduler)s!).StopAsync(), this);
        ManagedThreadId = Environment.CurrentManagedThreadId;
        t_current = this;
        var previousContext = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(SynchronizationContext);
        try
        {
            StartNative();
            while (true)
            {
                var work = DrainInbox();
                work += FireTimers();
                work += RunNative();
                work += RunManaged();
                if (Volatile.Read(ref _state) == 2 && TryFinishStop())
                {
                    break;
                }
                if (work == 0)
                {
                    WaitForWork();
                }
            }
        }
        catch (Exception e)
        {
            // A bug in the scheduler itself: stop cleanly and report it through Completion and Fault.
            Fault = e;
        }
        finally
        {
            StopNative();
            SynchronizationContext.SetSynchronizationContext(previousContext);
            t_current = null;
            Volatile.Write(ref _state, 3);
            _inbox.Writer.TryComplete();
            AbandonInbox();
            _stopRegistration.Dispose();
            if (Fault is { } fault)
            {
                _stopped.TrySetException(fault);
            }
            else
            {
                _stopped.TrySetResult();
            }
        }
    }

    // ---- idle and wake-up: the one protocol ------------------------------------------------
    //
    // The scheduler thread blocks only in WaitForWork, on _wake, and only after it has seen that
    // no source of work has anything for it. Every source either is looked at by that check or
    // sets _wake after making its work visible:
    //
    //   source                                   made visible by          wakes with
    //   spawns, cancels, wake-ups (handler and    the inbox (a Channel)    TryPost: _wake.Set() if _idle
    //     operation completions, channel
    //     readiness, yielded values taken),
    //     managed work from other threads, stop
    //   managed work from the scheduler thread    _managed                 (the thread is awake)
    //   native coroutines made ready              the loop's ready count   (the thread is awake)
    //   sleepers                                  _timerFired / the heap   OnTimerFired: _wake.Set()
    //   the stop deadline                         _stopDeadline            its registration: _wake.Set()
    //   the last managed coroutine ending while   _liveManaged             ManagedEnded: _wake.Set()
    //     stopping (counted on any thread)
    //
    // WaitForWork resets _wake, then announces _idle with a full fence, then checks every source.
    // A writer that ran before the announcement is seen by the check; one that runs after it sees
    // _idle (or sets _wake unconditionally) and its Set lands after the Reset. So no wake-up is
    // lost, and the thread never spins. The timer's own invariant is stated at FireTimers.

    private unsafe void WaitForWork()
    {
        _wake.Reset();
        Interlocked.Exchange(ref _idle, 1);
        Debug.Assert(_sleepers.Count == 0 || _timerDue <= _sleepers.EarliestDue || Volatile.Read(ref _timerFired) != 0,
            "a sleeper exists but no timer is armed for it");
        if (!_inbox.Reader.TryPeek(out _) && _managed.Count == 0 && _loopStats->Ready == 0
            && Volatile.Read(ref _timerFired) == 0 && !TimerDue() && !(Volatile.Read(ref _state) == 2 && TryFinishStop()))
        {
            _wake.Wait();
        }
        Volatile.Write(ref _idle, 0);
    }

    private int DrainInbox()
    {
        var n = 0;
        // The stop deadline cuts a long drain short (1M cancellations may be queued at a host's stop).
        while (n < _options.InboxBudget && !StopDeadlinePassed() && _inbox.Reader.TryRead(out var item))
        {
            n++;
            switch (item.Kind)
            {
                case InboxKind.Spawn:
                    Interlocked.Decrement(ref _queuedSpawns);
                    if (Volatile.Read(ref _state) >= 2)
                    {
                        (item.Object as AcoCoroutineHandle)?.SetCanceled();
                    }
                    else
                    {
                        SpawnNative((nint)item.Pointer, (nint)item.Value, item.Object as AcoCoroutineHandle);
                    }
                    break;
                case InboxKind.Wake:
                    Wake(item);
                    break;
                case InboxKind.Cancel:
                    CancelNative((AcoCoroutineHandle)item.Object!);
                    break;
                case InboxKind.Work:
                    _managed.Enqueue(item.Work);
                    break;
                case InboxKind.Stop:
                    BeginStop();
                    break;
            }
        }
        return n;
    }

    /// <summary>
    /// After the loop has ended (the inbox is closed, so nothing more arrives): every message still in
    /// it gets an end, so no handle is left pending and no continuation is lost.
    /// </summary>
    private void AbandonInbox()
    {
        while (_inbox.Reader.TryRead(out var item))
        {
            switch (item.Kind)
            {
                case InboxKind.Spawn:
                    Interlocked.Decrement(ref _queuedSpawns);
                    (item.Object as AcoCoroutineHandle)?.SetCanceled();
                    break;
                case InboxKind.Wake when item.Object is PooledCall call:
                    call.Return();
                    break;
                case InboxKind.Work when item.Work.Coroutine is { } coroutine:
                    coroutine.Abandon(); // never started
                    break;
                case InboxKind.Work:
                    RunLate(item.Work);
                    break;
            }
        }
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var c = Counters;
        var state = Volatile.Read(ref _state) switch { 0 => "created", 1 => "running", 2 => "stopping", _ => "stopped" };
        return $"AcoScheduler({_options.Name}, {state}, {c.LiveNative} native + {c.LiveManaged} managed live, {c.SpawnedNative} spawned)";
    }
}

/// <summary>What a scheduler has done so far.</summary>
/// <param name="SpawnedNative">Native coroutines spawned.</param>
/// <param name="CompletedNative">Native coroutines that finished with a result.</param>
/// <param name="FaultedNative">Native coroutines that failed.</param>
/// <param name="CancelledNative">Native coroutines that ended cancelled (or were destroyed at stop).</param>
/// <param name="LiveNative">Native coroutines alive now.</param>
/// <param name="LiveManaged">Managed coroutines alive now.</param>
/// <param name="Resumes">Native resumes.</param>
/// <param name="BridgeRequests">Bridge requests served in .NET (plain yields are not counted: they stay native).</param>
public readonly record struct AcoSchedulerCounters(
    long SpawnedNative, long CompletedNative, long FaultedNative, long CancelledNative,
    long LiveNative, long LiveManaged, long Resumes, long BridgeRequests);

internal enum InboxKind : byte
{
    Spawn,
    Wake,
    Cancel,
    Work,
    Stop,
}

/// <summary>A message to the scheduler thread.</summary>
internal struct InboxItem(InboxKind kind)
{
    public InboxKind Kind = kind;
    public nint Pointer;
    public long Seq;
    public long Value;
    public BridgeStatus Status;
    public object? Object;
    public WorkItem Work;
}
