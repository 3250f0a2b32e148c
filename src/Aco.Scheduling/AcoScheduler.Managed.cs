using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Aco.Scheduling;

// The managed side: C# async bodies and continuations, interleaved with the native coroutines.
public sealed partial class AcoScheduler
{
    /// <summary>Managed work ready to run: continuations, posted callbacks, coroutines to start (scheduler thread only).</summary>
    private readonly Queue<WorkItem> _managed = new();

    /// <summary>Managed coroutines alive; counted up by spawners, down on whatever thread ends a body.</summary>
    private long _liveManaged;

    /// <summary>Work items that threw (scheduler thread writes, any thread reads).</summary>
    private long _workFailures;

    /// <summary>Counts the ends of bodies: one delegate shared by every body's task, so no object per coroutine.</summary>
    private Action? _managedEndedAction;

    /// <summary>
    /// Puts the awaiting managed coroutine at the back of the scheduler's round-robin queue. Allocates nothing.
    /// Outside a scheduler thread it yields to the thread pool.
    /// </summary>
    public static YieldAwaitable Yield() => default;

    /// <summary>
    /// Runs <paramref name="body"/> as a managed coroutine on the scheduler thread, under the scheduler's
    /// <see cref="SynchronizationContext"/> and <see cref="TaskScheduler"/>, in the caller's
    /// <see cref="ExecutionContext"/> (as <see cref="Task.Run(Func{Task})"/> flows it). Callable from any thread;
    /// the body starts in its turn, never inline.
    /// </summary>
    /// <param name="body">The coroutine's body: typically an async lambda.</param>
    /// <param name="cancellationToken">Cancels the coroutine if it has not started yet (the body sees nothing of it).</param>
    /// <returns>
    /// Completes when the body does (faulted or cancelled as it is), or cancelled if the scheduler stops first.
    /// Await it once, like any <see cref="ValueTask"/> (or call <see cref="ValueTask.AsTask"/>); nothing is
    /// allocated for it until it is awaited.
    /// </returns>
    public ValueTask Spawn(Func<ValueTask> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        return new ValueTask(SpawnManaged(new ManagedCoroutine<object?, VoidResult>(this, body, null, cancellationToken)), 0);
    }

    /// <summary>As <see cref="Spawn(Func{ValueTask}, CancellationToken)"/>, with a result.</summary>
    public ValueTask<T> Spawn<T>(Func<ValueTask<T>> body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        return new ValueTask<T>(SpawnManaged(new ManagedCoroutine<object?, T>(this, body, null, cancellationToken)), 0);
    }

    /// <summary>
    /// As <see cref="Spawn(Func{ValueTask}, CancellationToken)"/>, passing <paramref name="state"/> to the body: with a
    /// <c>static</c> lambda nothing is allocated for a closure or a delegate per coroutine.
    /// </summary>
    public ValueTask Spawn<TState>(Func<TState, ValueTask> body, TState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        return new ValueTask(SpawnManaged(new ManagedCoroutine<TState, VoidResult>(this, body, state, cancellationToken)), 0);
    }

    /// <summary>As <see cref="Spawn{TState}(Func{TState, ValueTask}, TState, CancellationToken)"/>, with a result.</summary>
    public ValueTask<T> Spawn<TState, T>(Func<TState, ValueTask<T>> body, TState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        return new ValueTask<T>(SpawnManaged(new ManagedCoroutine<TState, T>(this, body, state, cancellationToken)), 0);
    }

    private TCoroutine SpawnManaged<TCoroutine>(TCoroutine coroutine) where TCoroutine : ManagedCoroutine
    {
        ThrowIfNotAccepting();
        Interlocked.Increment(ref _liveManaged);
        QueueSpawn(new SpawnRequest(0, 0, coroutine));
        return coroutine;
    }

    /// <summary>Counts the body's end when its task completes (on whatever thread completes it).</summary>
    internal void TrackManagedEnd(Task task)
    {
        if (task.IsCompleted)
        {
            ManagedEnded();
            return;
        }
        task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_managedEndedAction ??= ManagedEnded);
        RememberBody(task); // for dumps
    }

    /// <summary>One managed coroutine fewer; never below zero (stopping zeroes the count of those it abandons).</summary>
    internal void ManagedEnded()
    {
        long live;
        do
        {
            live = Volatile.Read(ref _liveManaged);
            if (live == 0)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _liveManaged, live - 1, live) != live);
        if (live == 1 && State == SchedulerState.Stopping)
        {
            // The continuation that counts an end may run on a thread-pool thread (the scheduler's own
            // context forbids inlining it), while a stopping scheduler waits for this count to reach zero.
            Wake();
        }
    }

    /// <summary>Queues managed work: directly on the scheduler thread, through the inbox from any other.</summary>
    internal void QueueWork(in WorkItem work)
    {
        if (t_current == this)
        {
            _managed.Enqueue(work);
        }
        else if (!TryPost(new InboxItem(InboxKind.Work) { Work = work }))
        {
            RunLate(work);
        }
    }

    /// <summary>
    /// The scheduler has stopped: a continuation that arrives now (say, of a timer a managed coroutine
    /// awaited) still runs, on the thread pool, rather than being lost or throwing into whatever thread
    /// completed it.
    /// </summary>
    private void RunLate(in WorkItem work) =>
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.Item1.Invoke(s.Item2), (work, this), preferLocal: false);

    private int RunManaged()
    {
        var n = 0;
        var budget = _options.ManagedBudget;
        while (n < budget && _managed.TryDequeue(out var work))
        {
            n++;
            try
            {
                work.Invoke(this);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref _workFailures); // only that coroutine is affected
            }
        }
        TrimWhenEmpty(_managed);
        return n;
    }

    /// <summary>
    /// At the end of a stop: coroutines that never started end cancelled; bodies still suspended are
    /// abandoned (their awaiters see cancellation; a continuation that comes later runs on the thread pool).
    /// </summary>
    private void FailRemainingManaged()
    {
        while (_managed.TryDequeue(out var work))
        {
            if (work.Coroutine is { } coroutine)
            {
                coroutine.Abandon();
            }
        }
        Volatile.Write(ref _liveManaged, 0);
        ForgetBodies();
    }

    internal bool TryExecuteTaskHere(Task task) => ((AcoTaskScheduler)TaskScheduler).Execute(task);

    /// <summary>The awaitable of <see cref="Yield"/>.</summary>
    public readonly struct YieldAwaitable
    {
        /// <summary>Gets the awaiter.</summary>
        public YieldAwaiter GetAwaiter() => default;
    }

    /// <summary>The awaiter of <see cref="Yield"/>: always suspends, then continues at the back of the queue.</summary>
    public readonly struct YieldAwaiter : ICriticalNotifyCompletion
    {
        /// <summary>Always false: a yield always suspends.</summary>
        public bool IsCompleted => false;

        /// <summary>Nothing to return.</summary>
        public void GetResult()
        {
        }

        /// <inheritdoc/>
        public void OnCompleted(Action continuation) => Schedule(continuation, flowContext: true);

        /// <inheritdoc/>
        public void UnsafeOnCompleted(Action continuation) => Schedule(continuation, flowContext: false);

        private static void Schedule(Action continuation, bool flowContext)
        {
            // t_current is set only on a scheduler's own thread.
            if (t_current is { } scheduler)
            {
                scheduler._managed.Enqueue(new WorkItem(continuation));
            }
            else if (flowContext)
            {
                ThreadPool.QueueUserWorkItem(static a => a(), continuation, preferLocal: false);
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(static a => a(), continuation, preferLocal: false);
            }
        }
    }
}
