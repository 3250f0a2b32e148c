using System.Runtime.InteropServices;

namespace Aco.Scheduling.Interop;

/// <summary>
/// aco_task_t (aco_loop.h): a native coroutine's control block, right before its aco_t. Checked against the
/// library's published layout once (<see cref="TaskLayout"/>).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeTask
{
    public NativeTask* Next;
    public long Id;
    public long Value;
    public byte* In;
    public byte* Out;
    public uint InLength;
    public uint OutLength; // shares its place with timer_slot (a call never waits for a timer)
    public int Code;
    public uint BornMs;
    public uint SinceMs;
    public TaskState State;
    public TaskOp Op;
    public BridgeStatus Status;
    public byte Cancel;

    /// <summary>The coroutine (aco_t) right after the block.</summary>
    public static Core.Interop.NativeCoroutine* CoroutineOf(NativeTask* t) => (Core.Interop.NativeCoroutine*)(t + 1);
}
