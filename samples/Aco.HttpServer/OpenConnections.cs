namespace Aco.HttpServer;

/// <summary>
/// Counts open connections against the cap, for both modes: a connection is counted from its accept to the end
/// of its coroutine. Thread-safe.
/// </summary>
internal sealed class OpenConnections(int max)
{
    private long _count;
    private TaskCompletionSource? _allClosed; // set once stopping waits for the count to reach zero

    /// <summary>Connections open now.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>The cap.</summary>
    public int Max => max;

    /// <summary>Counts a new connection; false (and not counted) if the cap is reached.</summary>
    public bool TryOpen()
    {
        if (Interlocked.Increment(ref _count) <= max)
        {
            return true;
        }
        Closed();
        return false;
    }

    /// <summary>A connection has closed and its coroutine is ending.</summary>
    public void Closed()
    {
        // The decrement is a full fence: a waiter that published _allClosed before it either sees the
        // zero itself (in WhenAllClosed) or is seen here.
        if (Interlocked.Decrement(ref _count) == 0)
        {
            Volatile.Read(ref _allClosed)?.TrySetResult();
        }
    }

    /// <summary>Completes when no connection is open. Call once accepting has stopped (no count can rise again).</summary>
    public Task WhenAllClosed()
    {
        var allClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        allClosed = Interlocked.CompareExchange(ref _allClosed, allClosed, null) ?? allClosed;
        if (Interlocked.Read(ref _count) == 0)
        {
            allClosed.TrySetResult();
        }
        return allClosed.Task;
    }
}
