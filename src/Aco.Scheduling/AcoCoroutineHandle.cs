using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Aco.Scheduling;

/// <summary>
/// A native coroutine spawned with <see cref="AcoScheduler.Spawn(Aco.Core.AcoEntryPoint, nint, CancellationToken)"/>:
/// await it for its result (or its error or cancellation), read the values it yields with
/// <see cref="ReadAllAsync"/>, cancel it with <see cref="Cancel"/>.
/// </summary>
/// <remarks>
/// A handle is small (a million of them are a normal load): its <see cref="Completion"/> task is made only when
/// someone asks for it (or at the end), and what few coroutines use (yielded values, the cancellation of waits
/// on .NET) lives in a separate object made on first use.
/// </remarks>
[DebuggerDisplay("AcoCoroutineHandle #{Id}")]
public sealed class AcoCoroutineHandle
{
    /// <summary>
    /// The outcome of every canceled coroutine nobody was awaiting yet: one completed task for all (it never changes),
    /// so a million canceled at a stop or by a token make no garbage.
    /// </summary>
    private static readonly Task<long> s_canceled = System.Threading.Tasks.Task.FromCanceled<long>(new CancellationToken(canceled: true));

    private readonly AcoScheduler _scheduler;

    /// <summary>
    /// null while nobody asked and the coroutine runs; a <see cref="TaskCompletionSource{TResult}"/> when someone
    /// asked before the end; the outcome's <see cref="Task{TResult}"/> once it ended first. Any thread, by Interlocked.
    /// </summary>
    private object? _completion;

    /// <summary>Made on first use, by Interlocked; see <see cref="Extras"/>.</summary>
    private Extras? _extras;

    private int _cancelRequested;

    /// <summary>1 once the coroutine has ended: a reader of values that comes later ends at once. Any thread.</summary>
    private int _ended;

    internal AcoCoroutineHandle(AcoScheduler scheduler, long id)
    {
        _scheduler = scheduler;
        Id = id;
    }

    /// <summary>The scheduler's id for this coroutine.</summary>
    public long Id { get; }

    /// <summary>Completes with the coroutine's result, its <see cref="AcoCoroutineException"/>, or cancellation.</summary>
    public Task<long> Completion
    {
        get
        {
            var current = Volatile.Read(ref _completion);
            if (current is null)
            {
                var options = _scheduler.Options.RunContinuationsAsynchronously ? TaskCreationOptions.RunContinuationsAsynchronously : TaskCreationOptions.None;
                current = Interlocked.CompareExchange(ref _completion, new TaskCompletionSource<long>(options), null) ?? _completion!;
            }
            return current as Task<long> ?? ((TaskCompletionSource<long>)current).Task;
        }
    }

    /// <summary>The completion task if someone has asked for it (a dump looks for it among awaited operations), else null.</summary>
    internal Task<long>? CompletionIfAsked => Volatile.Read(ref _completion) switch
    {
        Task<long> task => task,
        TaskCompletionSource<long> source => source.Task,
        _ => null,
    };

    /// <summary>Lets <c>await handle</c> give the result.</summary>
    public TaskAwaiter<long> GetAwaiter() => Completion.GetAwaiter();

    /// <summary>
    /// Requests cancellation: the coroutine's bridge calls answer ACO_BRIDGE_CANCELLED from now on (a sleep or socket
    /// wait in progress ends at once). A coroutine still waiting for admission never starts.
    /// </summary>
    public void Cancel()
    {
        Volatile.Write(ref _cancelRequested, 1); // before the message: admission sees one or the other
        _scheduler.RequestCancel(this);
    }

    /// <summary>Whether <see cref="Cancel"/> was called.</summary>
    internal bool IsCancellationRequested => Volatile.Read(ref _cancelRequested) != 0;

    /// <summary>The native control block while the coroutine lives, 0 before and after (scheduler thread only).</summary>
    internal nint Task;

    /// <summary>The token group it belongs to, and its neighbours there (scheduler thread only).</summary>
    internal TokenGroup? Group;
    internal AcoCoroutineHandle? GroupPrevious, GroupNext;

    /// <summary>Cancels the coroutine's waits on .NET (handlers, channels, operations), made on the first such wait.</summary>
    internal CancellationTokenSource? Cancellation => Volatile.Read(ref _extras)?.Cancellation;

    internal CancellationToken WaitToken(CancellationToken stopping)
    {
        var extras = GetExtras();
        return (extras.Cancellation ??= CancellationTokenSource.CreateLinkedTokenSource(stopping)).Token; // scheduler thread only
    }

    private Extras GetExtras() =>
        Volatile.Read(ref _extras) ?? Interlocked.CompareExchange(ref _extras, new Extras(), null) ?? _extras!;

    /// <summary>
    /// The values yielded and not yet taken. Created on first use, by the reader or the first yield; if
    /// the coroutine has ended by then, it is created complete, so a late reader ends instead of waiting.
    /// </summary>
    internal Channel<(long Value, nint Task, long Seq)> Values
    {
        get
        {
            var extras = GetExtras();
            // Once it exists it is the answer (EndValues completes it under the lock); only creating it needs the lock.
            if (Volatile.Read(ref extras.Values) is { } values)
            {
                return values;
            }
            lock (extras)
            {
                if (extras.Values is null)
                {
                    var created = Channel.CreateUnbounded<(long, nint, long)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
                    Volatile.Write(ref extras.Values, created);
                    // Read after the channel is published: an end that came before is seen here, one that comes
                    // after sees the channel (EndValues reads the extras after it sets _ended).
                    if (Volatile.Read(ref _ended) != 0)
                    {
                        created.Writer.TryComplete();
                    }
                }
                return extras.Values;
            }
        }
    }

    /// <summary>No more values: the coroutine has ended (its values already yielded stay readable).</summary>
    private void EndValues()
    {
        Interlocked.Exchange(ref _ended, 1); // a full fence: the read below cannot come before it
        if (Volatile.Read(ref _extras) is not { } extras)
        {
            return; // nobody asked for values: a reader that comes later sees _ended
        }
        lock (extras)
        {
            extras.Values?.Writer.TryComplete();
        }
    }

    /// <summary>
    /// The values the coroutine yields with <c>aco_bridge_yield_value</c>, each exactly once, in order.
    /// The coroutine waits until each is taken. Ends when the coroutine ends; throws what awaiting it throws.
    /// </summary>
    public async IAsyncEnumerable<long> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reader = Values.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                _scheduler.PostWake(item.Task, item.Seq, 0, 0);
                yield return item.Value;
            }
        }
        await Completion.ConfigureAwait(false);
    }

    internal void SetResult(long value)
    {
        if (Ending() is { } waiting || (waiting = Publish(System.Threading.Tasks.Task.FromResult(value))) is not null)
        {
            waiting.TrySetResult(value);
        }
    }

    internal void SetException(Exception error)
    {
        if (Ending() is { } waiting || (waiting = Publish(System.Threading.Tasks.Task.FromException<long>(error))) is not null)
        {
            waiting.TrySetException(error);
        }
    }

    internal void SetCanceled()
    {
        if (Ending() is { } waiting || (waiting = Publish(s_canceled)) is not null)
        {
            waiting.TrySetCanceled();
        }
    }

    /// <summary>The first step of an end: no more values, the waits' cancellation freed; whoever waits already, if anyone.</summary>
    private TaskCompletionSource<long>? Ending()
    {
        EndValues();
        Volatile.Read(ref _extras)?.Cancellation?.Dispose();
        return Volatile.Read(ref _completion) as TaskCompletionSource<long>;
    }

    /// <summary>Leaves the outcome for whoever asks later; returns who asked meanwhile instead, if someone did. Idempotent.</summary>
    private TaskCompletionSource<long>? Publish(Task<long> outcome) =>
        Interlocked.CompareExchange(ref _completion, outcome, null) as TaskCompletionSource<long>;

    /// <summary>What few coroutines use: kept out of the handle so that a million idle handles stay small.</summary>
    private sealed class Extras
    {
        public CancellationTokenSource? Cancellation;
        public Channel<(long Value, nint Task, long Seq)>? Values;
    }
}
