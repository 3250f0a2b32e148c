namespace Aco.Scheduling.Interop;

/// <summary>Answer statuses (ACO_BRIDGE_* in aco_bridge.h).</summary>
internal enum BridgeStatus : byte
{
    Ok = 0,
    Canceled = 1,
    Error = 2,
    Closed = 3,
    NotScheduled = 4,
    Timeout = 5,
    NotSupported = 6,
}
