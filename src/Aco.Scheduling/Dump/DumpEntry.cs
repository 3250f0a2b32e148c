using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

/// <summary>
/// One coroutine as a dump read it, kept small (a million of them are a normal dump): times in milliseconds from
/// the moment it was read, frames as an index into its scheduler's table of distinct stacks.
/// </summary>
internal struct DumpEntry
{
    /// <summary>The handle's id (native; 0 when detached), or the body task's id (managed).</summary>
    public long Id;

    /// <summary>Channel or handler id, descriptor, or operation id, as the wait has one.</summary>
    public long Argument;

    /// <summary>Milliseconds until the wait's deadline (negative: overdue); <see cref="long.MinValue"/>: none.</summary>
    public long DueInMs;

    /// <summary>The coroutine whose completion it awaits (an await cycle's next), or 0.</summary>
    public long AwaitsId;

    /// <summary>The native entry function (its body).</summary>
    public nint Body;

    /// <summary>Index of its stack in the part's table, or -1.</summary>
    public int Frames;

    /// <summary>Milliseconds in its current wait, and since it was spawned; <see cref="uint.MaxValue"/>: unknown.</summary>
    public uint WaitingMs, AgeMs;

    /// <summary>Bytes of its save stack (allocated).</summary>
    public int SaveStackBytes;

    /// <summary>Its share stack's index, or -1.</summary>
    public short Stack;

    /// <summary>Its scheduler's index in the dump.</summary>
    public short Scheduler;

    public AcoCoroutineKind Kind;
    public AcoCoroutineState State;
    public TaskOp Op;
    public AcoFramesStatus FramesStatus;
    public AcoStuckReason Stuck;
    public bool CancelRequested;
}
