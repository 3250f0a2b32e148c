namespace Aco.Scheduling;

/// <summary>
/// A FIFO of spawns kept in segments of <see cref="SegmentSize"/> that go as they are emptied (one is kept for the
/// next burst), so a burst of a million spawns leaves no memory behind and never needs one large array (a
/// <see cref="Queue{T}"/> doubles into the large-object heap: 64 MB allocated for a million). Not thread-safe:
/// <see cref="SpawnQueue"/> adds the lock for spawns from any thread; the scheduler thread's own spawns use it as is.
/// </summary>
internal sealed class SpawnSegments
{
    internal const int SegmentSize = 1024;

    private Segment? _head;   // the oldest segment: taken from at _headIndex
    private int _headIndex;
    private Segment? _tail;   // the newest segment: written at its Count
    private Segment? _spare;  // one emptied segment kept for the next burst

    /// <summary>Spawns waiting now.</summary>
    public long Count { get; private set; }

    /// <summary>Slots held: the segments in use and the spare.</summary>
    public int Capacity
    {
        get
        {
            var segments = _spare is null ? 0 : 1;
            for (var s = _head; s is not null; s = s.Next)
            {
                segments++;
            }
            return segments * SegmentSize;
        }
    }

    /// <summary>Adds a spawn at the back.</summary>
    public void Enqueue(in SpawnRequest request)
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
        Count++;
    }

    /// <summary>Takes the oldest spawn.</summary>
    public bool TryDequeue(out SpawnRequest request)
    {
        if (_head is null || _headIndex == _head.Count)
        {
            request = default;
            return false;
        }
        request = _head.Items[_headIndex];
        _head.Items[_headIndex++] = default; // no reference kept to a handle or a coroutine
        Count--;
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

    private sealed class Segment
    {
        public readonly SpawnRequest[] Items = new SpawnRequest[SegmentSize];
        public int Count;
        public Segment? Next;
    }
}
