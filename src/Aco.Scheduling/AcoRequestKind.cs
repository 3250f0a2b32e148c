namespace Aco.Scheduling;

/// <summary>The kinds of request a native coroutine makes through <c>aco_bridge.h</c>.</summary>
public enum AcoRequestKind
{
    /// <summary><c>aco_bridge_yield</c>: stays runnable (served by the native loop).</summary>
    Yield = 1,

    /// <summary><c>aco_bridge_yield_value</c>: hands a value to the reader of the coroutine's values.</summary>
    YieldValue = 2,

    /// <summary><c>aco_bridge_sleep_ms</c>.</summary>
    Sleep = 3,

    /// <summary><c>aco_bridge_call</c>: a registered managed handler.</summary>
    Call = 4,

    /// <summary><c>aco_bridge_send</c> on a bridged channel.</summary>
    Send = 5,

    /// <summary><c>aco_bridge_receive</c> on a bridged channel.</summary>
    Receive = 6,

    /// <summary><c>aco_bridge_await</c>: a registered .NET operation.</summary>
    Await = 7,

    /// <summary>The coroutine ended with a result.</summary>
    Finish = 8,

    /// <summary>The coroutine ended with <c>aco_bridge_fail</c>.</summary>
    Fail = 9,

    /// <summary>The coroutine ended as canceled.</summary>
    Canceled = 10,

    /// <summary>A socket call waits until its descriptor is readable (read, accept).</summary>
    SocketRead = 11,

    /// <summary>A socket call waits until its descriptor is writable (write, connect).</summary>
    SocketWrite = 12,

    /// <summary><c>aco_bridge_poll</c> waits until its descriptor is readable or writable.</summary>
    SocketPoll = 13,
}
