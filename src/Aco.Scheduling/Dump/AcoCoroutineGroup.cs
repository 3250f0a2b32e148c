using System.Collections;
using System.Globalization;
using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

/// <summary>
/// Coroutines of a dump that are in the same place: the same kind, body and frames, the same state and kind of
/// wait (and the same channel or handler), the same verdict on being stuck. A dump lists its groups largest first.
/// </summary>
public sealed class AcoCoroutineGroup
{
    internal AcoCoroutineGroup(
        AcoCoroutineKind kind, AcoCoroutineState state, AcoRequestKind? wait, long? argument, AcoStuckReason stuck,
        AcoStackFrame? body, IReadOnlyList<AcoStackFrame> frames, AcoFramesStatus framesStatus, IReadOnlyList<AcoDumpedCoroutine> coroutines,
        TimeSpan? longestWait, TimeSpan? oldest)
    {
        Kind = kind;
        State = state;
        Wait = wait;
        Argument = argument;
        Stuck = stuck;
        Body = body;
        Frames = frames;
        FramesStatus = framesStatus;
        Coroutines = coroutines;
        LongestWait = longestWait;
        Oldest = oldest;
    }

    /// <summary>How many coroutines are in it.</summary>
    public int Count => Coroutines.Count;

    /// <summary>Native or managed.</summary>
    public AcoCoroutineKind Kind { get; }

    /// <summary>Ready or waiting.</summary>
    public AcoCoroutineState State { get; }

    /// <summary>What they wait for (native, waiting); null otherwise.</summary>
    public AcoRequestKind? Wait { get; }

    /// <summary>The channel or handler id they all wait on (calls, sends, receives); null for other waits.</summary>
    public long? Argument { get; }

    /// <summary>Why their waits can never be answered, if they cannot.</summary>
    public AcoStuckReason Stuck { get; }

    /// <summary>The entry function (native) they run, when it could be named.</summary>
    public AcoStackFrame? Body { get; }

    /// <summary>Their frames, innermost first: where they are suspended, then each caller up to the body.</summary>
    public IReadOnlyList<AcoStackFrame> Frames { get; }

    /// <summary>How their frames were read.</summary>
    public AcoFramesStatus FramesStatus { get; }

    /// <summary>Each coroutine of the group.</summary>
    public IReadOnlyList<AcoDumpedCoroutine> Coroutines { get; }

    /// <summary>The longest any of them has been in its current wait, when known.</summary>
    public TimeSpan? LongestWait { get; }

    /// <summary>The age of the oldest of them, when known.</summary>
    public TimeSpan? Oldest { get; }

    /// <summary>"receive, channel 7", "sleep", "ready", "async": what the coroutines of this group are doing.</summary>
    public string Description => Kind == AcoCoroutineKind.Managed ? "async (managed)" : State == AcoCoroutineState.Ready ? "ready" : Wait switch
    {
        AcoRequestKind.Sleep => "sleep",
        AcoRequestKind.Call => string.Create(CultureInfo.InvariantCulture, $"call, handler {Argument}"),
        AcoRequestKind.Send => string.Create(CultureInfo.InvariantCulture, $"send, channel {Argument}"),
        AcoRequestKind.Receive => string.Create(CultureInfo.InvariantCulture, $"receive, channel {Argument}"),
        AcoRequestKind.Await => "await, operation",
        AcoRequestKind.YieldValue => "yield a value (until the reader takes it)",
        AcoRequestKind.SocketRead => "socket, readable",
        AcoRequestKind.SocketWrite => "socket, writable",
        AcoRequestKind.SocketPoll => "socket, readable or writable",
        null => "waiting",
        var other => other.Value.ToString().ToLowerInvariant(),
    };

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Count} x {Description}");
}

/// <summary>The coroutines of a group: a view over the dump's compact entries, made into records as they are read.</summary>
internal sealed class DumpEntryList(DumpPart[] parts, long[] members) : IReadOnlyList<AcoDumpedCoroutine>
{
    public int Count => members.Length;

    public AcoDumpedCoroutine this[int index]
    {
        get
        {
            var member = members[index];
            var part = parts[(int)(member >> 32)];
            ref readonly var e = ref part.Entries[(int)member];
            return new AcoDumpedCoroutine(
                e.Id, e.Kind, e.State, e.Op == TaskOp.None ? null : (AcoRequestKind)e.Op, e.Argument,
                e.DueInMs == long.MinValue ? null : TimeSpan.FromMilliseconds(e.DueInMs),
                e.WaitingMs == uint.MaxValue ? null : TimeSpan.FromMilliseconds(e.WaitingMs),
                e.AgeMs == uint.MaxValue ? null : TimeSpan.FromMilliseconds(e.AgeMs),
                part.Scheduler, e.Stack, e.SaveStackBytes, e.CancelRequested, e.Stuck, e.AwaitsId);
        }
    }

    public IEnumerator<AcoDumpedCoroutine> GetEnumerator()
    {
        for (var i = 0; i < members.Length; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
