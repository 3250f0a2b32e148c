namespace Aco.Scheduling.Interop;

/// <summary>What a task asks for (ACO_OP_* in aco_loop.h).</summary>
internal enum TaskOp : byte
{
    None = 0,
    Yield = 1,
    YieldValue = 2,
    Sleep = 3,
    Call = 4,
    Send = 5,
    Receive = 6,
    Await = 7,
    Finish = 8,
    Fail = 9,
    Canceled = 10,
    WaitRead = 11,
    WaitWrite = 12,
    WaitAny = 13,
}
