using System.Diagnostics;
using System.Threading.Channels;
using Aco.Core;

namespace Aco.Scheduling;

/// <summary>
/// Runs native and managed coroutines on one thread, round-robin. Native coroutines run in a native loop that also
/// serves their sleeps and socket waits; they reach .NET only through the bridge requests it cannot serve
/// (<c>aco_bridge.h</c>), which the scheduler serves on its own thread stack. Managed coroutines are C# async
/// methods run under the scheduler's <see cref="System.Threading.SynchronizationContext"/> and
/// <see cref="System.Threading.Tasks.TaskScheduler"/>. Other threads hand it work through an inbox.
/// </summary>
/// <remarks>
/// Each turn admits a bounded amount of work (coroutines whose wait is over, messages, new coroutines), runs the
/// native ready queue and serves what it asked for, then runs the managed queue. An idle scheduler blocks until
/// work arrives. Coroutines never migrate between threads. docs/architecture.md states the admission policy and
/// the idle/wake protocol.
/// </remarks>
[DebuggerDisplay("{ToString(),nq}")]
public sealed partial class AcoScheduler : IAsyncDisposable
{
    /// <summary>The scheduler whose thread this is (set on that thread only).</summary>
    [ThreadStatic]
    private static AcoScheduler? t_current;

    // ---- set at construction ---------------------------------------------------------------------------

    private readonly AcoSchedulerOptions _options;

    /// <summary>Messages from other threads: wake-ups, cancels, managed work, the stop. Any thread writes; the scheduler thread reads.</summary>
    private readonly Channel<InboxItem> _inbox = Channel.CreateUnbounded<InboxItem>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>New coroutines waiting for admission, from other threads. Any thread enqueues; the scheduler thread dequeues.</summary>
    private readonly SpawnQueue _spawns = new();

    /// <summary>New coroutines waiting for admission, spawned on the scheduler thread itself (no lock, no wake-up). Scheduler thread only.</summary>
    private readonly SpawnSegments _localSpawns = new();

    /// <summary>The count of <see cref="_localSpawns"/>, for other threads (written by the scheduler thread).</summary>
    private long _localSpawnCount;

    /// <summary>
    /// The most slots a queue of the scheduler thread keeps once it has emptied: a burst (a million spawns made on
    /// the thread, a gate releasing a million continuations) grows it, and the memory goes back when it is over.
    /// </summary>
    internal const int KeptQueueCapacity = 4096;

    /// <summary>The capacities of the thread's own queues (scheduler thread only; for tests).</summary>
    internal (int LocalSpawns, int Managed) QueueCapacities
    {
        get
        {
            AssertSchedulerThread();
            return (_localSpawns.Capacity, _managed.Capacity);
        }
    }

    /// <summary>Completes when the scheduler has stopped and freed everything.</summary>
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Canceled when stopping begins (on the scheduler thread).</summary>
    private readonly CancellationTokenSource _stopping = new();

    // ---- shared between threads ------------------------------------------------------------------------

    /// <summary>A <see cref="SchedulerState"/>; moves forward only, by Interlocked.</summary>
    private int _state;

    /// <summary>Ids of handles; incremented by any spawning thread.</summary>
    private long _nextId;

    /// <summary>The dedicated thread (<see cref="Start"/>); written once before it starts.</summary>
    private Thread? _thread;

    /// <summary>Creates a scheduler; it runs once <see cref="Start"/> or <see cref="Run"/> is called.</summary>
    public AcoScheduler(AcoSchedulerOptions? options = null)
    {
        _options = options ?? new AcoSchedulerOptions();
        SynchronizationContext = new AcoSynchronizationContext(this);
        TaskScheduler = new AcoTaskScheduler(this);
        _timer = _options.TimeProvider == TimeProvider.System
            ? null // the native loop reads the system clock and bounds its own wait by the earliest deadline
            : _options.TimeProvider.CreateTimer(static s => ((AcoScheduler)s!).OnTimerFired(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The scheduler running on the calling thread, or null.</summary>
    public static AcoScheduler? Current => t_current;

    /// <summary>The options it was created with.</summary>
    public AcoSchedulerOptions Options => _options;

    /// <summary>Runs managed coroutines' continuations on the scheduler thread.</summary>
    public SynchronizationContext SynchronizationContext { get; }

    /// <summary>A <see cref="System.Threading.Tasks.TaskScheduler"/> with concurrency 1 that runs tasks on the scheduler thread.</summary>
    public TaskScheduler TaskScheduler { get; }

    /// <summary>Canceled when the scheduler starts stopping.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>The managed id of the scheduler thread (0 before it runs).</summary>
    public int ManagedThreadId { get; private set; }

    /// <summary>Whether it is running (started and not yet stopped).</summary>
    public bool IsRunning => State is SchedulerState.Running or SchedulerState.Stopping;

    /// <summary>The error that ended the scheduler thread, if one did (a bug in the scheduler).</summary>
    public Exception? Fault { get; private set; }

    /// <summary>Completes when the scheduler has stopped and freed everything.</summary>
    public Task Completion => _stopped.Task;

    private SchedulerState State => (SchedulerState)Volatile.Read(ref _state);

    private bool TryMoveState(SchedulerState from, SchedulerState to) =>
        Interlocked.CompareExchange(ref _state, (int)to, (int)from) == (int)from;

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
        if (!TryMoveState(SchedulerState.Created, SchedulerState.Running))
        {
            throw new InvalidOperationException("The scheduler has been started already; a scheduler runs once.");
        }
    }

    /// <summary>
    /// Stops the scheduler: no new work is accepted, every coroutine is asked to cancel (native code sees
    /// ACO_BRIDGE_CANCELLED), and the scheduler keeps running until all have ended or
    /// <paramref name="cancellationToken"/> is canceled; then it destroys what remains. Every handle
    /// completes (result, error or cancellation).
    /// </summary>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (TryMoveState(SchedulerState.Running, SchedulerState.Stopping))
        {
            _stopDeadline = cancellationToken;
            _stopRegistration = cancellationToken.Register(static s => ((AcoScheduler)s!).Wake(), this);
            TryPost(new InboxItem(InboxKind.Stop)); // refused only if the deadline has already ended the loop
        }
        else if (TryMoveState(SchedulerState.Created, SchedulerState.Stopped))
        {
            _stopped.TrySetResult(); // never started
        }
        return _stopped.Task;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _timer?.Dispose();
        _stopping.Dispose();
    }

    /// <summary>
    /// Spawns a native coroutine running <paramref name="entry"/> with <paramref name="argument"/>
    /// (what <c>aco_get_arg()</c> returns). Callable from any thread; it starts when the scheduler admits it.
    /// </summary>
    /// <returns>A handle: await it for the result.</returns>
    /// <exception cref="ArgumentException">The entry point is empty.</exception>
    /// <exception cref="InvalidOperationException">The scheduler is stopping or stopped.</exception>
    public AcoCoroutineHandle Spawn(AcoEntryPoint entry, nint argument = 0, CancellationToken cancellationToken = default)
    {
        CheckSpawn(entry);
        var handle = new AcoCoroutineHandle(this, Interlocked.Increment(ref _nextId));
        QueueSpawn(new SpawnRequest(entry.Address, argument, handle, cancellationToken)); // the token is registered at admission
        return handle;
    }

    /// <summary>
    /// Spawns a native coroutine that nobody awaits: no managed object is created for it, and the native loop
    /// destroys it when it ends. Its end is counted in <see cref="Counters"/>. Callable from any thread.
    /// </summary>
    /// <exception cref="ArgumentException">The entry point is empty.</exception>
    /// <exception cref="InvalidOperationException">The scheduler is stopping or stopped.</exception>
    public void SpawnDetached(AcoEntryPoint entry, nint argument = 0)
    {
        CheckSpawn(entry);
        QueueSpawn(new SpawnRequest(entry.Address, argument, null));
    }

    /// <summary>How loaded the scheduler is: live coroutines plus spawns waiting for admission.</summary>
    public long Load => Volatile.Read(ref _liveNative) + Interlocked.Read(ref _liveManaged) + QueuedSpawnCount;

    private long QueuedSpawnCount => _spawns.Count + Volatile.Read(ref _localSpawnCount);

    private void CheckSpawn(AcoEntryPoint entry)
    {
        if (!entry.IsValid)
        {
            throw new ArgumentException("The entry point is empty; create it with AcoEntryPoint.FromExport.", nameof(entry));
        }
        ThrowIfNotAccepting();
    }

    private void ThrowIfNotAccepting()
    {
        if (State >= SchedulerState.Stopping)
        {
            throw new InvalidOperationException("The scheduler is stopping or stopped; it accepts no new coroutines.");
        }
    }

    private void QueueSpawn(in SpawnRequest request)
    {
        if (t_current == this)
        {
            _localSpawns.Enqueue(request); // the thread is awake: it admits this in its next turn
            Volatile.Write(ref _localSpawnCount, _localSpawns.Count);
            return;
        }
        _spawns.Enqueue(request);
        WakeIfIdle(); // after the enqueue, with a full fence (see the idle/wake protocol)
        if (State == SchedulerState.Stopped)
        {
            CancelQueuedSpawns(); // the loop ended after the check: nobody else will take it
        }
    }

    /// <summary>What the scheduler has done so far, and what it holds now. Any thread; values are recent, not a snapshot of one moment.</summary>
    public AcoSchedulerCounters Counters => new()
    {
        SpawnedNative = Volatile.Read(ref _spawnedNative),
        CompletedNative = Volatile.Read(ref _completedNative),
        FaultedNative = Volatile.Read(ref _faultedNative),
        CanceledNative = Volatile.Read(ref _canceledNative),
        LiveNative = Volatile.Read(ref _liveNative),
        LiveManaged = Interlocked.Read(ref _liveManaged),
        ReadyNative = Volatile.Read(ref _readyNative),
        SleepingNative = Volatile.Read(ref _sleepingNative),
        WaitingOnSockets = Volatile.Read(ref _waitingOnSockets),
        QueuedSpawns = QueuedSpawnCount,
        Resumes = Volatile.Read(ref _resumes),
        BridgeRequests = Volatile.Read(ref _bridgeRequests),
        LongTurns = Volatile.Read(ref _longTurns),
        WorkFailures = Interlocked.Read(ref _workFailures),
        DestroyedAtStop = Volatile.Read(ref _destroyedAtStop),
    };

    /// <summary>Bridge requests made so far, by kind (plain yields included), wherever they were served. Any thread.</summary>
    public IReadOnlyDictionary<AcoRequestKind, long> RequestsByKind()
    {
        var result = new Dictionary<AcoRequestKind, long>();
        foreach (var kind in Enum.GetValues<AcoRequestKind>())
        {
            result[kind] = Volatile.Read(ref _requestsByKind[(int)kind]);
        }
        return result;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var c = Counters;
        return $"AcoScheduler({_options.Name}, {State.ToString().ToLowerInvariant()}, {c.LiveNative} native + {c.LiveManaged} managed live, {c.SpawnedNative} spawned)";
    }

    /// <summary>Checks that the caller is the scheduler thread (debug builds): the state it touches is that thread's alone.</summary>
    [Conditional("DEBUG")]
    private void AssertSchedulerThread() =>
        Debug.Assert(t_current == this, "scheduler-thread state touched from another thread");
}
