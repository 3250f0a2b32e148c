using System.Diagnostics;
using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

/// <summary>
/// Makes a dump of what the schedulers read (off their threads): finds await cycles, names the frames (each
/// distinct address once), and groups coroutines by place and wait, largest group first.
/// </summary>
internal static class DumpBuilder
{
    private readonly record struct GroupKey(
        AcoCoroutineKind Kind, int Stack, nint Body, AcoCoroutineState State, TaskOp Op, long Argument, AcoStuckReason Stuck, AcoFramesStatus Frames);

    public static AcoDump Build(DumpPart[] parts, AcoDumpOptions options, long started)
    {
        _ = options;
        MarkAwaitCycles(parts);
        foreach (var part in parts)
        {
            // The tasks were only for the cycles: a dump must not keep an operation alive (a dropped one is found
            // by its task being collected), however long the dump or its parts are kept.
            part.AwaitedOperations.Clear();
            part.Completions.Clear();
        }

        // Distinct native stacks across schedulers, and their frames named once per address.
        var frameCache = new Dictionary<nint, AcoStackFrame>();
        var bodyCache = new Dictionary<nint, AcoStackFrame?>();
        var globalStacks = new Dictionary<nint[], int>(new StackComparer());
        var stackFrames = new List<AcoStackFrame[]>();
        var stackStatus = new Dictionary<(int Stack, nint Body), AcoFramesStatus>();
        var localToGlobal = new int[parts.Length][];
        for (var p = 0; p < parts.Length; p++)
        {
            var part = parts[p];
            localToGlobal[p] = new int[part.NativeStacks.Count];
            for (var i = 0; i < part.NativeStacks.Count; i++)
            {
                var pcs = part.NativeStacks[i];
                if (!globalStacks.TryGetValue(pcs, out var id))
                {
                    id = stackFrames.Count;
                    globalStacks.Add(pcs, id);
                    stackFrames.Add([.. pcs.Select(pc => Frame(frameCache, pc))]);
                }
                localToGlobal[p][i] = id;
            }
        }
        var managedStacks = new Dictionary<string, int>(StringComparer.Ordinal);
        var managedFrames = new List<AcoStackFrame[]>();
        var managedLocal = new int[parts.Length][];
        for (var p = 0; p < parts.Length; p++)
        {
            managedLocal[p] = new int[parts[p].ManagedStacks.Count];
            for (var i = 0; i < parts[p].ManagedStacks.Count; i++)
            {
                var chain = parts[p].ManagedStacks[i];
                var key = string.Join('\n', chain.Select(f => f.Function));
                if (!managedStacks.TryGetValue(key, out var id))
                {
                    id = managedFrames.Count;
                    managedStacks.Add(key, id);
                    managedFrames.Add(chain);
                }
                managedLocal[p][i] = id;
            }
        }

        // Groups: one pass over every coroutine, members kept as (part, index).
        var groups = new Dictionary<GroupKey, List<long>>();
        for (var p = 0; p < parts.Length; p++)
        {
            var part = parts[p];
            for (var i = 0; i < part.Count; i++)
            {
                ref var e = ref part.Entries[i];
                var native = e.Kind == AcoCoroutineKind.Native;
                var stack = e.Frames < 0 ? -1 : native ? localToGlobal[p][e.Frames] : managedLocal[p][e.Frames];
                var status = e.FramesStatus;
                if (native && status == AcoFramesStatus.Complete && stack >= 0)
                {
                    status = Refine(stackStatus, stackFrames, stack, e.Body, part.NativeStacks[e.Frames]);
                }
                var key = new GroupKey(e.Kind, stack, native ? e.Body : 0, e.State, e.Op,
                    e.Op is TaskOp.Call or TaskOp.Send or TaskOp.Receive ? e.Argument : 0, e.Stuck, status);
                if (!groups.TryGetValue(key, out var members))
                {
                    groups.Add(key, members = []);
                }
                members.Add(((long)p << 32) | (uint)i);
            }
        }

        var result = new List<AcoCoroutineGroup>(groups.Count);
        foreach (var (key, members) in groups)
        {
            var frames = key.Stack < 0 ? [] : key.Kind == AcoCoroutineKind.Native ? stackFrames[key.Stack] : managedFrames[key.Stack];
            var body = key.Body == 0 ? null : Body(bodyCache, key.Body);
            uint longest = 0, oldest = 0;
            var anyWait = false;
            var anyAge = false;
            foreach (var m in members)
            {
                ref readonly var e = ref parts[(int)(m >> 32)].Entries[(int)m];
                if (e.WaitingMs != uint.MaxValue)
                {
                    anyWait = true;
                    longest = Math.Max(longest, e.WaitingMs);
                }
                if (e.AgeMs != uint.MaxValue)
                {
                    anyAge = true;
                    oldest = Math.Max(oldest, e.AgeMs);
                }
            }
            result.Add(new AcoCoroutineGroup(
                key.Kind, key.State, key.Op == TaskOp.None ? null : (AcoRequestKind)key.Op,
                key.Op is TaskOp.Call or TaskOp.Send or TaskOp.Receive ? key.Argument : null,
                key.Stuck, body, frames, key.Frames, new DumpEntryList(parts, [.. members]),
                anyWait ? TimeSpan.FromMilliseconds(longest) : null, anyAge ? TimeSpan.FromMilliseconds(oldest) : null));
        }
        result.Sort(static (a, b) => a.Count != b.Count ? b.Count.CompareTo(a.Count) : b.Stuck.CompareTo(a.Stuck));

        var schedulers = parts.Select(p => new AcoDumpScheduler(p.Scheduler, p.Count, p.Slices, p.LongestPause, p.EndedMeanwhile, p.Interrupted)).ToList();
        var took = Stopwatch.GetElapsedTime(started);
        return new AcoDump(DateTimeOffset.UtcNow - took, took, schedulers, result);
    }

    private static AcoStackFrame Frame(Dictionary<nint, AcoStackFrame> cache, nint pc)
    {
        if (!cache.TryGetValue(pc, out var frame))
        {
            cache.Add(pc, frame = Symbolizer.Resolve(pc, returnAddress: true));
        }
        return frame;
    }

    private static AcoStackFrame? Body(Dictionary<nint, AcoStackFrame?> cache, nint entry)
    {
        if (!cache.TryGetValue(entry, out var frame))
        {
            var resolved = Symbolizer.Resolve(entry, returnAddress: false);
            cache.Add(entry, frame = resolved with { Offset = resolved.Function is null ? resolved.Offset : 0 });
        }
        return frame;
    }

    /// <summary>
    /// A walk that reached the top of the stack ends in the body's own frame; when the outermost frame is in another
    /// function, a function without frame pointers hid the frames between (Incomplete).
    /// </summary>
    private static AcoFramesStatus Refine(Dictionary<(int, nint), AcoFramesStatus> cache, List<AcoStackFrame[]> frames, int stack, nint body, nint[] pcs)
    {
        if (!cache.TryGetValue((stack, body), out var status))
        {
            var start = Symbolizer.FunctionStart(pcs[^1], returnAddress: true);
            status = start == 0 || start == body || frames[stack].Length == 0 ? AcoFramesStatus.Complete : AcoFramesStatus.Incomplete;
            cache.Add((stack, body), status);
        }
        return status;
    }

    /// <summary>
    /// Coroutines that await (aco_bridge_await) the completion of another coroutine: each has at most one such edge,
    /// so following edges either ends, meets a stuck coroutine (AwaitsStuck) or comes back round (AwaitCycle).
    /// </summary>
    private static void MarkAwaitCycles(DumpPart[] parts)
    {
        if (parts.All(p => p.AwaitedOperations.Count == 0))
        {
            return;
        }
        // Whose completion each awaited task is, over all schedulers.
        var completionOwner = new Dictionary<Task, (int Part, long Id)>(ReferenceEqualityComparer.Instance);
        for (var p = 0; p < parts.Length; p++)
        {
            foreach (var (task, id) in parts[p].Completions)
            {
                completionOwner[task] = (p, id);
            }
        }
        // Coroutines by (part, id) that are in the graph: awaiters with an edge, and stuck ones.
        var node = new Dictionary<(int, long), (int Part, int Entry)>();
        var next = new Dictionary<(int, long), (int, long)>();
        for (var p = 0; p < parts.Length; p++)
        {
            var part = parts[p];
            for (var i = 0; i < part.Count; i++)
            {
                if (part.Entries[i].Stuck != AcoStuckReason.None && part.Entries[i].Id != 0)
                {
                    node[(p, part.Entries[i].Id)] = (p, i);
                }
            }
            foreach (var (entry, task) in part.AwaitedOperations)
            {
                ref var e = ref part.Entries[entry];
                if (!completionOwner.TryGetValue(task, out var owner))
                {
                    continue;
                }
                e.AwaitsId = owner.Id;
                if (e.Id != 0)
                {
                    node[(p, e.Id)] = (p, entry);
                    next[(p, e.Id)] = owner;
                }
            }
        }
        // Follow each chain; 0: not seen, 1: on the current path, 2: done.
        var color = new Dictionary<(int, long), int>();
        foreach (var start in next.Keys)
        {
            var path = new List<(int, long)>();
            var at = start;
            AcoStuckReason verdict;
            while (true)
            {
                color.TryGetValue(at, out var c);
                if (c == 1)
                {
                    verdict = AcoStuckReason.AwaitCycle;
                    var from = path.IndexOf(at);
                    foreach (var member in path.Skip(from))
                    {
                        Set(parts, node, member, AcoStuckReason.AwaitCycle);
                        color[member] = 2;
                    }
                    path.RemoveRange(from, path.Count - from);
                    break;
                }
                if (c == 2 || !next.TryGetValue(at, out var target))
                {
                    verdict = node.TryGetValue(at, out var n) ? parts[n.Part].Entries[n.Entry].Stuck : AcoStuckReason.None;
                    if (c != 2 && next.ContainsKey(at) == false)
                    {
                        color[at] = 2;
                    }
                    break;
                }
                color[at] = 1;
                path.Add(at);
                at = target;
            }
            foreach (var member in path)
            {
                color[member] = 2;
                if (verdict != AcoStuckReason.None)
                {
                    Set(parts, node, member, AcoStuckReason.AwaitsStuck);
                }
            }
        }
    }

    private static void Set(DumpPart[] parts, Dictionary<(int, long), (int Part, int Entry)> node, (int, long) member, AcoStuckReason reason)
    {
        if (node.TryGetValue(member, out var n) && parts[n.Part].Entries[n.Entry].Stuck == AcoStuckReason.None)
        {
            parts[n.Part].Entries[n.Entry].Stuck = reason;
        }
    }

    private sealed class StackComparer : IEqualityComparer<nint[]>
    {
        public bool Equals(nint[]? x, nint[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

        public int GetHashCode(nint[] obj)
        {
            var h = new HashCode();
            h.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(obj.AsSpan()));
            return h.ToHashCode();
        }
    }
}
