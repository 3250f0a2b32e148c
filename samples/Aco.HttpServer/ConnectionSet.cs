namespace Aco.HttpServer;

/// <summary>
/// The managed connections of one scheduler. Only that scheduler's thread touches it (connections add and remove
/// themselves from their coroutines; the sweep and the stop steps are posted to the scheduler), so it needs no lock.
/// </summary>
internal sealed class ConnectionSet
{
    private ManagedConnection[] _items = new ManagedConnection[64];
    private int _count;

    /// <summary>The server is stopping: connections close once they have answered what they have fully received.</summary>
    public bool Draining { get; private set; }

    /// <summary>Connections in the set.</summary>
    public int Count => _count;

    public void Add(ManagedConnection connection)
    {
        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _count * 2);
        }
        connection.IndexInSet = _count;
        _items[_count++] = connection;
    }

    /// <summary>Removes in O(1): the last connection takes the removed one's place.</summary>
    public void Remove(ManagedConnection connection)
    {
        var index = connection.IndexInSet;
        var last = _items[--_count];
        _items[index] = last;
        last.IndexInSet = index;
        _items[_count] = null!;
    }

    /// <summary>Acts on every connection whose deadline has passed (see <see cref="ManagedConnection.CloseIfExpired"/>).</summary>
    public void CloseExpired(long now)
    {
        // Nothing leaves the set during a walk: a connection woken here resumes later, on this thread.
        for (var i = 0; i < _count; i++)
        {
            _items[i].CloseIfExpired(now);
        }
    }

    /// <summary>Stop, step 1: from now on connections close when idle; those idle now close at once.</summary>
    public void BeginDrain()
    {
        Draining = true;
        for (var i = 0; i < _count; i++)
        {
            _items[i].CloseIfIdle();
        }
    }

    /// <summary>Stop, step 2: closes every connection now.</summary>
    public void AbortAll()
    {
        for (var i = 0; i < _count; i++)
        {
            _items[i].Abort();
        }
    }

    /// <summary>Runs the sweep on <paramref name="timer"/>'s ticks until it is disposed (a managed coroutine on this set's scheduler).</summary>
    public async ValueTask SweepAsync(PeriodicTimer timer, TimeProvider time)
    {
        while (await timer.WaitForNextTickAsync())
        {
            CloseExpired(time.GetTimestamp());
        }
    }
}
