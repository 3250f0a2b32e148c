using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Aco.Scheduling;

/// <summary>
/// A native coroutine spawned with <see cref="AcoScheduler.Spawn(Aco.Core.AcoEntryPoint, nint, CancellationToken)"/>:
/// await it for its result (or its error or cancellation), read the values it yields with
/// <see cref="ReadAllAsync"/>, cancel it with <see cref="Cancel"/>.
/// </summary>
[DebuggerDisplay("AcoCoroutineHandle #{Id}, {Completion.Status}")]
public sealed class AcoCoroutineHandle
{
    private readonly TaskCompletionSource<long> _completion;
    private readonly AcoScheduler _scheduler;
    private Channel<(long Value, nint Task, long Seq)>? _values;

    internal AcoCoroutineHandle(AcoScheduler scheduler, long id, bool runContinuationsAsynchronously)
    {
        _scheduler = scheduler;
        Id = id;
        _completion = new TaskCompletionSource<long>(runContinuationsAsynchronously ? TaskCreationOptions.RunContinuationsAsynchronously : TaskCreationOptions.None);
    }

    /// <summary>The scheduler's id for this coroutine.</summary>
    public long Id { get; }

    /// <summary>Completes with the coroutine's result, its <see cref="AcoCoroutineException"/>, or cancellation.</summary>
    public Task<long> Completion => _completion.Task;

    /// <summary>Lets <c>await handle</c> give the result.</summary>
    public TaskAwaiter<long> GetAwaiter() => _completion.Task.GetAwaiter();

    /// <summary>
    /// Requests cancellation: the coroutine's bridge calls answer ACO_BRIDGE_CANCELLED from now on (a sleep or socket
    /// wait in progress ends at once). A coroutine still waiting for admission never starts.
    /// </summary>
    public void Cancel()
    {
        Volatile.Write(ref _cancelRequested, true); // before the message: admission sees one or the other
        _scheduler.RequestCancel(this);
    }

    private bool _cancelRequested;

    /// <summary>Whether <see cref="Cancel"/> was called.</summary>
    internal bool IsCancellationRequested => Volatile.Read(ref _cancelRequested);

    internal CancellationTokenSource? Cancellation { get; set; }

    /// <summary>The native control block while the coroutine lives, 0 before and after (scheduler thread only).</summary>
    internal nint Task { get; set; }

    internal CancellationTokenRegistration Registration { get; set; }

    private bool _ended;

    /// <summary>
    /// The values yielded and not yet taken. Created on first use, by the reader or the first yield; if
    /// the coroutine has ended by then, it is created complete, so a late reader ends instead of waiting.
    /// </summary>
    internal Channel<(long Value, nint Task, long Seq)> Values
    {
        get
        {
            // Once it exists it is the answer (EndValues completes it under the lock); only creating it needs the lock.
            if (Volatile.Read(ref _values) is { } values)
            {
                return values;
            }
            lock (_completion) // private: no caller can hold it
            {
                if (_values is null)
                {
                    _values = Channel.CreateUnbounded<(long, nint, long)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
                    if (_ended)
                    {
                        _values.Writer.TryComplete();
                    }
                }
                return _values;
            }
        }
    }

    /// <summary>No more values: the coroutine has ended (its values already yielded stay readable).</summary>
    private void EndValues()
    {
        lock (_completion)
        {
            _ended = true;
            _values?.Writer.TryComplete();
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
        await _completion.Task.ConfigureAwait(false);
    }

    internal void SetResult(long value)
    {
        EndValues();
        _completion.TrySetResult(value);
        Dispose();
    }

    internal void SetException(Exception error)
    {
        EndValues();
        _completion.TrySetException(error);
        Dispose();
    }

    internal void SetCanceled()
    {
        EndValues();
        _completion.TrySetCanceled();
        Dispose();
    }

    private void Dispose()
    {
        Registration.Dispose();
        Cancellation?.Dispose();
    }
}
