using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

/// <summary>
/// The sleeping native coroutines of one scheduler, ordered by due time: a 4-ary min-heap of
/// 16-byte entries (due timestamp, task); four children a node halve the depth of a binary heap,
/// and with it the task blocks a sift writes to (each a likely cache miss at scale). Each sleeping
/// task keeps its own position in the heap (<see cref="NativeTask.InLength"/>, unused by a sleep
/// request; see aco_loop.h), so a cancel finds its entry without a scan.
/// </summary>
/// <remarks>
/// <para>A cancel is O(1): it only marks the entry dead (task 0), so the task can end at once and no
/// entry ever points to a freed task. Dead entries keep their due time and their place in the order;
/// they leave when they reach the top (a take drops them), when a rebuild clears them (once they
/// outnumber the live ones, so the array stays within twice the live sleepers), or all at once when
/// the last live sleeper leaves. Removing each cancelled entry at once cost a sift per cancel; when
/// sleepers are cancelled in due order, as a stop or a mass cancel does, each sift ran the whole
/// depth of the heap.</para>
/// <para>So <see cref="EarliestDue"/> may be the due time of a dead entry: never later than the
/// earliest live one, which is all the timer needs (an early fire only re-arms).</para>
/// <para>Scheduler thread only.</para>
/// </remarks>
internal sealed unsafe class SleeperHeap
{
    private const int Arity = 4;
    private const int MinRebuild = 64; // below this, dead entries just wait for the top
    private Entry[] _entries = new Entry[16];
    private int _count; // entries, live and dead
    private int _dead;

    [StructLayout(LayoutKind.Sequential)]
    private struct Entry
    {
        public long Due;
        public nint Task; // 0: cancelled

        public readonly NativeTask* Block => (NativeTask*)Task;
    }

    /// <summary>Live sleepers.</summary>
    public int Count => _count - _dead;

    /// <summary>
    /// No later than the earliest live due time (it may be a cancelled entry's), or
    /// <see cref="long.MaxValue"/> when nobody sleeps.
    /// </summary>
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

    /// <summary>Takes the earliest live sleeper if it is due at <paramref name="now"/>; drops dead entries due by then.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryTakeDue(long now, out NativeTask* t)
    {
        while (_count != 0 && _entries[0].Due <= now)
        {
            t = _entries[0].Block;
            RemoveAt(0);
            if (t != null)
            {
                return true;
            }
        }
        t = null;
        return false;
    }

    /// <summary>Takes any live sleeper (for stopping).</summary>
    public bool TryTakeAny(out NativeTask* t)
    {
        while (_count != 0)
        {
            t = _entries[_count - 1].Block;
            RemoveAt(_count - 1);
            if (t != null)
            {
                return true;
            }
        }
        t = null;
        return false;
    }

    /// <summary>Removes a sleeper before its time (it was cancelled): marks its entry dead, O(1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Remove(NativeTask* t)
    {
        Debug.Assert(Contains(t) && _entries[t->InLength - 1].Task == (nint)t);
        var index = (int)t->InLength - 1;
        t->InLength = 0;
        _entries[index].Task = 0;
        _dead++;
        if (_dead == _count)
        {
            Clear(); // nobody sleeps any more
        }
        else if (_dead > _count - _dead && _count >= MinRebuild)
        {
            Rebuild();
        }
    }

    /// <summary>The sleeping tasks, in no particular order (for snapshots).</summary>
    public IEnumerable<nint> Tasks() => _entries.Take(_count).Where(e => e.Task != 0).Select(e => e.Task).ToArray();

    private void Clear()
    {
        Array.Clear(_entries, 0, _count);
        _count = 0;
        _dead = 0;
        Shrink();
    }

    /// <summary>Drops every dead entry and restores the order (Floyd's heap construction): O(n).</summary>
    private void Rebuild()
    {
        var live = 0;
        for (var i = 0; i < _count; i++)
        {
            if (_entries[i].Task != 0)
            {
                _entries[live++] = _entries[i];
            }
        }
        Array.Clear(_entries, live, _count - live);
        _count = live;
        _dead = 0;
        for (var i = _count - 1; i >= 0; i--)
        {
            SiftDown(i, _entries[i]); // leaves too: each gets its slot written
        }
        Shrink();
    }

    private void Shrink()
    {
        var length = _entries.Length;
        while (length > 16 && _count < length / 4)
        {
            length /= 2;
        }
        if (length != _entries.Length)
        {
            Array.Resize(ref _entries, length); // give memory back after a burst
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RemoveAt(int index)
    {
        if (_entries[index].Task == 0)
        {
            _dead--;
        }
        else
        {
            _entries[index].Block->InLength = 0;
        }
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
        Shrink();
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
        if (entry.Task != 0)
        {
            entry.Block->InLength = (uint)index + 1;
        }
    }
}
