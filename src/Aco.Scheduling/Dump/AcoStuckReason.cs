namespace Aco.Scheduling;

/// <summary>Why a waiting coroutine can never be answered (nothing but its cancellation will end its wait).</summary>
public enum AcoStuckReason
{
    /// <summary>Not stuck (as far as the scheduler can tell).</summary>
    None,

    /// <summary>
    /// <c>aco_bridge_await</c> on an operation whose task has been collected by the GC: nothing held it (its
    /// <see cref="TaskCompletionSource{TResult}"/> was dropped), so nothing can complete it. Seen after the next
    /// garbage collection. (An operation id that was never registered does not wait: the call fails at once.)
    /// </summary>
    OperationDropped,

    /// <summary>
    /// A receive or send on a bridged channel that has since been replaced under its id: sends and receives
    /// through the bridge reach the new channel, so only .NET code that kept the old one could answer.
    /// </summary>
    ChannelReplaced,

    /// <summary>
    /// <c>aco_bridge_await</c> on the completion of a coroutine that itself waits, directly or through others,
    /// for this one: a cycle of coroutines awaiting each other's handles.
    /// </summary>
    AwaitCycle,

    /// <summary><c>aco_bridge_await</c> on the completion of a coroutine that is stuck itself.</summary>
    AwaitsStuck,
}
