using System.Collections.Concurrent;
using System.Threading.Channels;
using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

// What native coroutines can ask of .NET: handlers, channels, operations, yielded values.
public sealed unsafe partial class AcoScheduler
{
    private const int MaxId = 1 << 20;

    // Copy-on-write tables: registered from any thread, read lock-free on the scheduler thread.
    private object?[] _handlers = [];
    private Channel<long>?[] _channels = [];
    private readonly Lock _registrationLock = new();
    /// <summary>Operations by id: a Task&lt;long&gt;, or a weak reference to it while coroutines wait for it (see AwaitLater).</summary>
    private readonly ConcurrentDictionary<long, object> _operations = new();
    private long _nextOperationId;

    /// <summary>
    /// Registers <paramref name="handler"/> under <paramref name="id"/> for <c>aco_bridge_call</c>. It runs on the
    /// scheduler thread with spans over the coroutine's own buffers (no copy); the coroutine continues in the same turn.
    /// </summary>
    /// <param name="id">The handler id the coroutine passes (0 to 1,048,575).</param>
    /// <param name="handler">The handler.</param>
    /// <param name="replace">Replace a handler already registered under <paramref name="id"/> instead of throwing.</param>
    /// <exception cref="InvalidOperationException">A handler is registered under <paramref name="id"/> already and <paramref name="replace"/> is false.</exception>
    public void RegisterHandler(int id, AcoSyncHandler handler, bool replace = false) => SetEntry(ref _handlers, id, handler, replace, "handler");

    /// <summary>
    /// Registers <paramref name="handler"/> under <paramref name="id"/> for <c>aco_bridge_call</c>. When its
    /// <see cref="ValueTask{TResult}"/> completes at once the coroutine continues in the same turn; otherwise it
    /// waits (parked) and is resumed when the handler completes.
    /// </summary>
    /// <param name="id">The handler id the coroutine passes (0 to 1,048,575).</param>
    /// <param name="handler">The handler.</param>
    /// <param name="replace">Replace a handler already registered under <paramref name="id"/> instead of throwing.</param>
    /// <exception cref="InvalidOperationException">A handler is registered under <paramref name="id"/> already and <paramref name="replace"/> is false.</exception>
    public void RegisterHandler(int id, AcoAsyncHandler handler, bool replace = false) => SetEntry(ref _handlers, id, handler, replace, "handler");

    /// <summary>Bridges <paramref name="channel"/> as channel <paramref name="id"/> for <c>aco_bridge_send</c> / <c>aco_bridge_receive</c>.</summary>
    /// <param name="id">The channel id the coroutine passes (0 to 1,048,575).</param>
    /// <param name="channel">The channel.</param>
    /// <param name="replace">Replace a channel already registered under <paramref name="id"/> instead of throwing.</param>
    /// <exception cref="InvalidOperationException">A channel is registered under <paramref name="id"/> already and <paramref name="replace"/> is false.</exception>
    public void RegisterChannel(int id, Channel<long> channel, bool replace = false) => SetEntry(ref _channels, id, channel, replace, "channel");

    /// <summary>Whether a handler is registered under <paramref name="id"/>.</summary>
    public bool IsHandlerRegistered(int id) => Lookup(Volatile.Read(ref _handlers), id) is not null;

    /// <summary>Whether a channel is registered under <paramref name="id"/>.</summary>
    public bool IsChannelRegistered(int id) => Lookup(Volatile.Read(ref _channels), id) is not null;

    /// <summary>Registers an operation a native coroutine can wait for with <c>aco_bridge_await(id, &amp;value)</c>.</summary>
    /// <returns>The operation's id.</returns>
    public long RegisterOperation(Task<long> operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var id = Interlocked.Increment(ref _nextOperationId);
        _operations[id] = operation;
        return id;
    }

    private void SetEntry<T>(ref T?[] table, int id, T value, bool replace, string what) where T : class
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, MaxId);
        lock (_registrationLock)
        {
            if (!replace && Lookup(table, id) is not null)
            {
                throw new InvalidOperationException($"A {what} is registered under id {id} already; pass replace: true to replace it.");
            }
            var copy = new T?[Math.Max(table.Length, id + 1)];
            table.CopyTo(copy, 0);
            copy[id] = value;
            Volatile.Write(ref table, copy);
        }
    }

    private static T? Lookup<T>(T?[] table, int id) where T : class =>
        (uint)id < (uint)table.Length ? table[id] : null;

    // ---- calls ---------------------------------------------------------------------------

    private void Call(NativeTask* t)
    {
        var entry = Lookup(Volatile.Read(ref _handlers), t->Code);
        if (entry is AcoSyncHandler sync)
        {
            var input = new ReadOnlySpan<byte>(LoopNative.Resolve(t, t->In, t->InLength), (int)t->InLength);
            var output = new Span<byte>(LoopNative.Resolve(t, t->Out, t->OutLength), (int)t->OutLength);
            BridgeStatus status;
            try
            {
                var written = sync(input, output);
                status = written >= 0 && written <= output.Length ? BridgeStatus.Ok : BridgeStatus.Error;
                t->OutLength = status == BridgeStatus.Ok ? (uint)written : 0;
            }
            catch (Exception)
            {
                status = BridgeStatus.Error; // a throwing handler fails the call, never the scheduler
            }
            Answer(t, status);
            return;
        }
        if (entry is AcoAsyncHandler handler)
        {
            var call = new PooledCall((int)t->InLength, (int)t->OutLength);
            new ReadOnlySpan<byte>(LoopNative.Resolve(t, t->In, t->InLength), (int)t->InLength).CopyTo(call.Input);
            ValueTask<int> pending;
            try
            {
                pending = handler(call.Input.AsMemory(0, (int)t->InLength), call.Output.AsMemory(0, (int)t->OutLength), TokenFor(t));
            }
            catch (Exception)
            {
                call.Return();
                Answer(t, BridgeStatus.Error);
                return;
            }
            if (pending.IsCompleted)
            {
                var (status, written) = Outcome(pending);
                FinishCall(t, call, status, written);
                return;
            }
            var seq = Park(t);
            _ = CompleteCallLater(pending, (nint)t, seq, call);
            return;
        }
        Answer(t, BridgeStatus.Error); // no such handler
    }

    private static (BridgeStatus Status, int Written) Outcome(ValueTask<int> completed)
    {
        try
        {
            return (BridgeStatus.Ok, completed.Result);
        }
        catch (OperationCanceledException)
        {
            return (BridgeStatus.Canceled, 0);
        }
        catch (Exception)
        {
            return (BridgeStatus.Error, 0);
        }
    }

    private void FinishCall(NativeTask* t, PooledCall call, BridgeStatus status, int written)
    {
        if (status == BridgeStatus.Ok && (written < 0 || written > t->OutLength))
        {
            status = BridgeStatus.Error;
        }
        if (status == BridgeStatus.Ok)
        {
            // Resolved now: the coroutine's buffer may have moved to its save stack meanwhile.
            call.Output.AsSpan(0, written).CopyTo(new Span<byte>(LoopNative.Resolve(t, t->Out, (nuint)written), written));
            t->OutLength = (uint)written;
        }
        call.Return();
        Answer(t, status);
    }

    // ---- channels ------------------------------------------------------------------------

    private void Receive(NativeTask* t)
    {
        var channel = Lookup(Volatile.Read(ref _channels), t->Code);
        if (channel is null)
        {
            Answer(t, BridgeStatus.Error);
            return;
        }
        if (channel.Reader.TryRead(out var value))
        {
            t->Value = value;
            Answer(t, BridgeStatus.Ok);
            return;
        }
        if (channel.Reader.Completion.IsCompleted)
        {
            Answer(t, BridgeStatus.Closed);
            return;
        }
        RetryWhen(channel.Reader.WaitToReadAsync(TokenFor(t)), t, channel);
    }

    private void Send(NativeTask* t)
    {
        var channel = Lookup(Volatile.Read(ref _channels), t->Code);
        if (channel is null)
        {
            Answer(t, BridgeStatus.Error);
            return;
        }
        if (channel.Writer.TryWrite(t->Value))
        {
            Answer(t, BridgeStatus.Ok);
            return;
        }
        if (channel.Reader.Completion.IsCompleted)
        {
            Answer(t, BridgeStatus.Closed);
            return;
        }
        RetryWhen(channel.Writer.WaitToWriteAsync(TokenFor(t)), t, channel);
    }

    /// <summary>Parks the task and serves its request again once <paramref name="ready"/> completes.</summary>
    private void RetryWhen(ValueTask<bool> ready, NativeTask* t, Channel<long> channel)
    {
        if (!ready.IsCompleted)
        {
            t->In = (byte*)ChannelStamp(channel); // which channel it waits on, for a dump (no CALL uses the slot now)
            _ = RetryLater(ready.AsTask(), (nint)t, Park(t));
            return;
        }
        bool more;
        try
        {
            more = ready.Result;
        }
        catch (Exception)
        {
            Answer(t, t->Cancel != 0 || _stopping.IsCancellationRequested ? BridgeStatus.Canceled : BridgeStatus.Error);
            return;
        }
        if (more)
        {
            Serve(t); // became ready in between: try again now
        }
        else
        {
            Answer(t, BridgeStatus.Closed);
        }
    }

    // ---- operations ------------------------------------------------------------------------

    private void AwaitOperation(NativeTask* t)
    {
        var id = t->Value;
        if (!_operations.TryGetValue(id, out var registered) || OperationOf(registered) is not { } operation)
        {
            Answer(t, BridgeStatus.Error); // never registered, taken already, or collected: nothing can complete it
            return;
        }
        if (!operation.IsCompleted)
        {
            AwaitLater(id, registered, operation, (nint)t, Park(t), TokenFor(t));
            return;
        }
        _operations.TryRemove(id, out _);
        if (operation.IsCompletedSuccessfully)
        {
            t->Value = operation.Result;
            Answer(t, BridgeStatus.Ok);
        }
        else
        {
            Answer(t, operation.IsCanceled ? BridgeStatus.Canceled : BridgeStatus.Error);
        }
    }

    // ---- yielded values --------------------------------------------------------------------

    private void YieldValue(NativeTask* t)
    {
        if (t->Id == 0 || !_handles.TryGetValue(t->Id, out var handle))
        {
            Answer(t, BridgeStatus.Ok); // nobody can read it: dropped
            return;
        }
        // The coroutine waits until the reader takes the value (it posts the wake-up).
        var seq = Park(t);
        handle.Values.Writer.TryWrite((t->Value, (nint)t, seq));
    }
}
