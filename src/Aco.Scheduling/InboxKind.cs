namespace Aco.Scheduling;

/// <summary>What an <see cref="InboxItem"/> asks of the scheduler thread.</summary>
internal enum InboxKind : byte
{
    /// <summary>Answer a parked native coroutine (or serve its request again): <see cref="InboxItem.Pointer"/>, <see cref="InboxItem.Seq"/>.</summary>
    Wake,

    /// <summary>Cancel the native coroutine of the handle in <see cref="InboxItem.Object"/>.</summary>
    Cancel,

    /// <summary>Cancel every native coroutine of the token group in <see cref="InboxItem.Object"/> (its token fired).</summary>
    CancelGroup,

    /// <summary>Run managed work (<see cref="InboxItem.Work"/>).</summary>
    Work,

    /// <summary>Begin stopping.</summary>
    Stop,
}
