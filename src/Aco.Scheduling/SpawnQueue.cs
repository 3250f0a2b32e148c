namespace Aco.Scheduling;

/// <summary>
/// Coroutines waiting for admission: any thread enqueues, the scheduler thread dequeues. Kept in segments of
/// <see cref="SegmentSize"/> that go as they are emptied, so a burst of a million spawns leaves no memory behind (a
/// <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/> keeps its largest segment: 24 MB after a million).
/// </summary>
/// <remarks>One lock, taken for each operation: spawners rarely contend, and it keeps the invariants obvious.</remarks>
internal sealed class SpawnQueue
{
    private const int SegmentSize = 1024;

    private readonly Lock _lock = new();
    private Segment? _head;   // the oldest segment: taken from at _headIndex
    private int _headIndex;
    private Segment? _tail;   // the newest segment: written at its Count
    private Segment? _spare;  // one emptied segment kept for the next burst
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
            if (_tail is null || _tail.Count == SegmentSize)
            {
                var segment = _spare ?? new Segment();
                _spare = null;
                if (_tail is null)
                {
                    _head = segment;
                    _headIndex = 0;
                }
                else
                {
                    _tail.Next = segment;
                }
                _tail = segment;
            }
            _tail.Items[_tail.Count++] = request;
            Volatile.Write(ref _count, _count + 1);
        }
    }

    /// <summary>Takes the oldest spawn. The scheduler thread, or any thread once the scheduler has stopped.</summary>
    public bool TryDequeue(out SpawnRequest request)
    {
        lock (_lock)
        {
            if (_head is null || _headIndex == _head.Count)
            {
                request = default;
                return false;
            }
            request = _head.Items[_headIndex];
            _head.Items[_headIndex++] = default; // no reference kept to a handle or a coroutine
            Volatile.Write(ref _count, _count - 1);
            if (_headIndex == _head.Count && (_headIndex == SegmentSize || _head == _tail))
            {
                // Emptied: the next one becomes the head (none: the queue is empty).
                var emptied = _head;
                _head = emptied.Next;
                _headIndex = 0;
                if (_head is null)
                {
                    _tail = null;
                }
                emptied.Next = null;
                emptied.Count = 0;
                _spare = emptied;
            }
            return true;
        }
    }

    private sealed class Segment
    {
        public readonly SpawnRequest[] Items = new SpawnRequest[SegmentSize];
        public int Count;
        public Segment? Next;
    }
}
