namespace Aco.Scheduling;

/// <summary>
/// Coroutines waiting for admission: any thread enqueues, the scheduler thread dequeues. <see cref="SpawnSegments"/>
/// under one lock, so a burst of a million spawns leaves no memory behind (a
/// <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/> keeps its largest segment: 24 MB after a million).
/// </summary>
/// <remarks>One lock, taken for each operation: spawners rarely contend, and it keeps the invariants obvious.</remarks>
internal sealed class SpawnQueue
{
    private readonly Lock _lock = new();
    private readonly SpawnSegments _segments = new();
    private long _count;

    /// <summary>Spawns waiting now. Any thread.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>Whether none waits. Any thread.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>Adds a spawn at the back. Any thread.</summary>
    public void Enqueue(in SpawnRequest request)
    {
        lock (_lock)
        {
            _segments.Enqueue(request);
            Volatile.Write(ref _count, _segments.Count);
        }
    }

    /// <summary>Takes the oldest spawn. The scheduler thread, or any thread once the scheduler has stopped.</summary>
    public bool TryDequeue(out SpawnRequest request)
    {
        lock (_lock)
        {
            if (!_segments.TryDequeue(out request))
            {
                return false;
            }
            Volatile.Write(ref _count, _segments.Count);
            return true;
        }
    }
}
