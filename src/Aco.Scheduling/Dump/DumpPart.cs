namespace Aco.Scheduling;

/// <summary>What a dump read on one scheduler's thread, before symbols and groups (built off that thread).</summary>
internal sealed class DumpPart(string scheduler, int index, int capacity)
{
    public string Scheduler { get; } = scheduler;

    public short Index { get; } = (short)index;

    public DumpEntry[] Entries = new DumpEntry[Math.Max(capacity, 16)];

    public int Count;

    /// <summary>The distinct native stacks (return addresses, innermost first); entries point here by index.</summary>
    public readonly List<nint[]> NativeStacks = [];

    /// <summary>The distinct managed chains (innermost first); managed entries point here by index.</summary>
    public readonly List<AcoStackFrame[]> ManagedStacks = [];

    /// <summary>Native coroutines waiting in aco_bridge_await on a live operation: the entry and the operation's task.</summary>
    public readonly List<(int Entry, Task Operation)> AwaitedOperations = [];

    /// <summary>The completion tasks of the scheduler's handles that someone asked for, and whose they are (read when an await was seen).</summary>
    public readonly Dictionary<Task, long> Completions = new(ReferenceEqualityComparer.Instance);

    public int Slices;

    public TimeSpan LongestPause;

    /// <summary>Coroutines that ended between the start of the dump and their turn to be read.</summary>
    public long EndedMeanwhile;

    /// <summary>The scheduler stopped before the dump had read everything.</summary>
    public bool Interrupted;

    public ref DumpEntry Add()
    {
        if (Count == Entries.Length)
        {
            Array.Resize(ref Entries, Entries.Length * 2);
        }
        return ref Entries[Count++];
    }

    /// <summary>Counts a slice: how long it held the scheduler's thread.</summary>
    public void Paused(TimeSpan took)
    {
        Slices++;
        if (took > LongestPause)
        {
            LongestPause = took;
        }
    }
}

/// <summary>Interns stacks by content: equal arrays of return addresses get one index.</summary>
internal sealed class StackTable
{
    private readonly Dictionary<nint[], int> _index = new(Comparer.Instance);
    private readonly Dictionary<nint[], int>.AlternateLookup<ReadOnlySpan<nint>> _lookup;
    private readonly List<nint[]> _stacks;

    public StackTable(List<nint[]> stacks)
    {
        _stacks = stacks;
        _lookup = _index.GetAlternateLookup<ReadOnlySpan<nint>>();
    }

    public int Intern(ReadOnlySpan<nint> stack)
    {
        if (_lookup.TryGetValue(stack, out var index))
        {
            return index;
        }
        var copy = stack.ToArray();
        index = _stacks.Count;
        _stacks.Add(copy);
        _index.Add(copy, index);
        return index;
    }

    private sealed class Comparer : IEqualityComparer<nint[]>, IAlternateEqualityComparer<ReadOnlySpan<nint>, nint[]>
    {
        public static readonly Comparer Instance = new();

        public bool Equals(nint[]? x, nint[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

        public int GetHashCode(nint[] obj) => Hash(obj);

        public bool Equals(ReadOnlySpan<nint> alternate, nint[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<nint> alternate) => Hash(alternate);

        public nint[] Create(ReadOnlySpan<nint> alternate) => alternate.ToArray();

        private static int Hash(ReadOnlySpan<nint> stack)
        {
            var h = new HashCode();
            h.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(stack));
            return h.ToHashCode();
        }
    }
}
