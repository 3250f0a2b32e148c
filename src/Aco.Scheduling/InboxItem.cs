using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

/// <summary>A message from another thread to the scheduler thread (see <see cref="InboxKind"/> for what each field means).</summary>
internal struct InboxItem(InboxKind kind)
{
    public InboxKind Kind = kind;
    public BridgeStatus Status;
    public nint Pointer;
    public long Seq;
    public long Value;
    public object? Object;
    public WorkItem Work;
}
