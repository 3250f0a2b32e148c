using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

/// <summary>
/// The sleeping native coroutines of one scheduler, ordered by due time: a 4-ary min-heap of
/// 16-byte entries (due timestamp, task); four children a node halve the depth of a binary heap,
/// and with it the task blocks a removal writes to (each a likely cache miss at scale). Each sleeping task keeps its own position in the heap
/// (<see cref="NativeTask.InLength"/>, unused by a sleep request; see aco_loop.h), so a cancelled
/// sleeper leaves in O(log n) without a scan, and no entry ever outlives its task.
/// </summary>
/// <remarks>Scheduler thread only.</remarks>
internal sealed unsafe class SleeperHeap
{
    private const int Arity = 4;
    private Entry[] _entries = new Entry[16];
    private int _count;

    [StructLayout(LayoutKind.Sequential)]
    private struct Entry
    {
        public long Due;
        public nint Task;

        public readonly NativeTask* Block => (NativeTask*)Task;
    }

    public int Count => _count;

    /// <summary>The earliest due time, or <see cref="long.MaxValue"/> when nobody sleeps.</summary>
    public long EarliestDue => _count == 0 ? long.MaxValue : _entries[0].Due;

    /// <summary>Whether <paramref name="t"/> is in the heap (a sleep request waiting for its time).</summary>
    public static bool Contains(NativeTask* t) => t->Op == TaskOp.Sleep && t->InLength != 0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(NativeTask* t, long due)
    {
        Debug.Assert(t->Op == TaskOp.Sleep);
        if (_count == _entries.Length)
        {
            Array.Resize(ref _entries, _count * 2);
        }
        SiftUp(_count++, new Entry { Due = due, Task = (nint)t });
    }

    /// <summary>Takes the earliest sleeper if it is due at <paramref name="now"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryTakeDue(long now, out NativeTask* t)
    {
        if (_count == 0 || _entries[0].Due > now)
        {
            t = null;
            return false;
        }
        t = _entries[0].Block;
        RemoveAt(0);
        return true;
    }

    /// <summary>Takes any sleeper (for stopping).</summary>
    public bool TryTakeAny(out NativeTask* t)
    {
        if (_count == 0)
        {
            t = null;
            return false;
        }
        t = _entries[_count - 1].Block;
        RemoveAt(_count - 1);
        return true;
    }

    /// <summary>Removes a sleeper before its time (it was cancelled).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Remove(NativeTask* t)
    {
        Debug.Assert(Contains(t) && _entries[t->InLength - 1].Task == (nint)t);
        RemoveAt((int)t->InLength - 1);
    }

    /// <summary>The sleeping tasks, in no particular order (for snapshots).</summary>
    public IEnumerable<nint> Tasks() => _entries.Take(_count).Select(e => e.Task).ToArray();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RemoveAt(int index)
    {
        _entries[index].Block->InLength = 0;
        var last = _entries[--_count];
        _entries[_count] = default;
        if (index == _count)
        {
            return;
        }
        // The last entry fills the hole, then moves whichever way restores the order.
        if (index > 0 && last.Due < _entries[(index - 1) / Arity].Due)
        {
            SiftUp(index, last);
        }
        else
        {
            SiftDown(index, last);
        }
        if (_count < _entries.Length / 4 && _entries.Length > 16)
        {
            Array.Resize(ref _entries, _entries.Length / 2); // give memory back after a burst
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SiftUp(int index, Entry entry)
    {
        while (index > 0)
        {
            var parent = (index - 1) / Arity;
            if (_entries[parent].Due <= entry.Due)
            {
                break;
            }
            Place(index, _entries[parent]);
            index = parent;
        }
        Place(index, entry);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SiftDown(int index, Entry entry)
    {
        while (true)
        {
            var first = Arity * index + 1;
            if (first >= _count)
            {
                break;
            }
            var child = first;
            var end = Math.Min(first + Arity, _count);
            for (var c = first + 1; c < end; c++)
            {
                if (_entries[c].Due < _entries[child].Due)
                {
                    child = c;
                }
            }
            if (entry.Due <= _entries[child].Due)
            {
                break;
            }
            Place(index, _entries[child]);
            index = child;
        }
        Place(index, entry);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Place(int index, Entry entry)
    {
        _entries[index] = entry;
        entry.Block->InLength = (uint)index + 1;
    }
}
