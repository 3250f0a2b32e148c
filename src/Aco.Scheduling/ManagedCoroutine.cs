using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace Aco.Scheduling;

/// <summary>
/// A managed coroutine: the spawn request in the scheduler's queue, then the handle the spawner awaits.
/// It is the only object the scheduler adds to the body's own: the body's task (the box of its async
/// method) is the completion, so an idle coroutine costs this object and what the body itself holds.
/// </summary>
/// <remarks>
/// The spawner gets a <see cref="ValueTask"/> over this object. Awaiting it before or after the body
/// starts allocates a small <see cref="Waiter"/>; a coroutine nobody awaits never does.
/// </remarks>
internal abstract class ManagedCoroutine : IValueTaskSource
{
    private static readonly object s_started = new();

    private readonly AcoScheduler _scheduler;
    private readonly ExecutionContext? _context; // the spawner's, flowed into the body as Task.Run does
    private readonly CancellationToken _cancellationToken;
    private volatile Task? _task; // the body's own task, once it has started
    private object? _waiter;      // null, a Waiter (awaited before the start), or s_started

    protected ManagedCoroutine(AcoScheduler scheduler, CancellationToken cancellationToken)
    {
        _scheduler = scheduler;
        _cancellationToken = cancellationToken;
        var context = ExecutionContext.Capture();
        _context = context == s_defaultContext ? null : context; // the default flow needs nothing
    }

    /// <summary>The runtime's default context (no async locals): what a thread started without flow captures.</summary>
    private static readonly ExecutionContext? s_defaultContext = CaptureDefaultContext();

    private static ExecutionContext? CaptureDefaultContext()
    {
        ExecutionContext? context = null;
        var thread = new Thread(() => context = ExecutionContext.Capture());
        thread.UnsafeStart(); // no flow: the new thread starts in the default context
        thread.Join();
        return context;
    }

    private static readonly ContextCallback s_startInContext = static s => ((ManagedCoroutine)s!).StartHere();

    /// <summary>Runs the body up to its first suspension (scheduler thread), in the spawner's execution context.</summary>
    public void Start()
    {
        if (_cancellationToken.IsCancellationRequested)
        {
            Abandon(_cancellationToken);
            return;
        }
        if (_context is null)
        {
            StartHere();
        }
        else
        {
            ExecutionContext.Run(_context, s_startInContext, this);
        }
    }

    private void StartHere()
    {
        var task = RunBody();
        _scheduler.TrackManagedEnd(task);
        Publish(task);
    }

    /// <summary>Ends it as cancelled without running the body (its token was cancelled, or the scheduler stopped first).</summary>
    public void Abandon(CancellationToken cancellationToken = default)
    {
        _scheduler.ManagedEnded();
        Publish(Cancelled(cancellationToken.IsCancellationRequested ? cancellationToken : new CancellationToken(canceled: true)));
    }

    /// <summary>Calls the body and returns its own task (no wrapper when it suspended); a body that throws gives a faulted task.</summary>
    protected abstract Task RunBody();

    /// <summary>A cancelled task of the body's result type.</summary>
    protected abstract Task Cancelled(CancellationToken cancellationToken);

    private void Publish(Task task)
    {
        _task = task;
        if (Interlocked.Exchange(ref _waiter, s_started) is Waiter waiter)
        {
            waiter.Arm(task, _scheduler.Completion);
        }
    }

    // ---- IValueTaskSource: the spawner's view -----------------------------------------------

    /// <summary>The body's outcome; a body still suspended when its scheduler stopped counts as cancelled.</summary>
    public ValueTaskSourceStatus GetStatus(short token)
    {
        var task = _task;
        if (task is { IsCompleted: true })
        {
            return task.IsCompletedSuccessfully ? ValueTaskSourceStatus.Succeeded
                : task.IsCanceled ? ValueTaskSourceStatus.Canceled : ValueTaskSourceStatus.Faulted;
        }
        return _scheduler.Completion.IsCompleted ? ValueTaskSourceStatus.Canceled : ValueTaskSourceStatus.Pending;
    }

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
    {
        var waiter = new Waiter(_scheduler.Options.RunContinuationsAsynchronously);
        waiter.Register(continuation, state, flags);
        if (Interlocked.CompareExchange(ref _waiter, waiter, null) is null)
        {
            return; // Publish arms it when the body starts
        }
        waiter.Arm(_task!, _scheduler.Completion); // started already
    }

    public void GetResult(short token) => Completed().GetAwaiter().GetResult();

    /// <summary>The body's task once it is complete, waiting for it if need be (for synchronous callers).</summary>
    protected Task Completed()
    {
        var spin = new SpinWait();
        while (_task is null && !_scheduler.Completion.IsCompleted)
        {
            spin.SpinOnce(); // not started yet: only a synchronous GetResult() gets here before completion
        }
        var task = _task;
        if (task is { IsCompleted: false } && !_scheduler.Completion.IsCompleted)
        {
            Task.WaitAny(task, _scheduler.Completion);
        }
        if (task is not { IsCompleted: true })
        {
            throw new TaskCanceledException("The scheduler stopped before the managed coroutine ended.");
        }
        return task;
    }

    /// <summary>One await of the spawner's <see cref="ValueTask"/>: fires at the body's end or the scheduler's, whichever comes first.</summary>
    private sealed class Waiter
    {
        private ManualResetValueTaskSourceCore<bool> _core;
        private int _fired;

        public Waiter(bool runContinuationsAsynchronously) => _core.RunContinuationsAsynchronously = runContinuationsAsynchronously;

        public void Register(Action<object?> continuation, object? state, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, _core.Version, flags);

        public void Arm(Task body, Task schedulerStopped)
        {
            Action fire = Fire;
            body.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(fire);
            if (!body.IsCompleted)
            {
                schedulerStopped.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(fire);
            }
        }

        private void Fire()
        {
            if (Interlocked.Exchange(ref _fired, 1) == 0)
            {
                _core.SetResult(true); // runs the awaiter's continuation (asynchronously by default)
            }
        }
    }
}
