using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aco.Core;

[assembly: DisableRuntimeMarshalling]

namespace Aco.Scheduling.Interop;

/// <summary>
/// The run loop of aco_loop.h. Only aco_loop_run switches stacks and runs coroutine code; it keeps the
/// GC transition. The queue operations and reads marked SuppressGCTransition are a few instructions that
/// never block, switch stacks or call back.
/// </summary>
internal static unsafe partial class LoopNative
{
    private const string Library = "aco";

    static LoopNative() => AcoNativeLibrary.ResolveFor(typeof(LoopNative).Assembly);

    [LibraryImport(Library, EntryPoint = "aco_loop_new")]
    internal static partial nint New(nint mainCoroutine);

    [LibraryImport(Library, EntryPoint = "aco_loop_destroy")]
    internal static partial void Destroy(nint loop);

    [LibraryImport(Library, EntryPoint = "aco_loop_add_stack")]
    internal static partial void AddStack(nint loop, nint stack);

    [LibraryImport(Library, EntryPoint = "aco_loop_spawn")]
    internal static partial NativeTask* Spawn(nint loop, nint entry, nint argument, long id, nuint saveStackSize);

    [LibraryImport(Library, EntryPoint = "aco_loop_run")]
    internal static partial nuint Run(nint loop, nuint budget, NativeTask** batch, nuint capacity);

    [LibraryImport(Library, EntryPoint = "aco_loop_ready")]
    [SuppressGCTransition]
    internal static partial void Ready(nint loop, NativeTask* task);

    [LibraryImport(Library, EntryPoint = "aco_loop_destroy_task")]
    internal static partial void DestroyTask(nint loop, NativeTask* task);

    [LibraryImport(Library, EntryPoint = "aco_task_resolve")]
    [SuppressGCTransition]
    internal static partial byte* Resolve(NativeTask* task, void* pointer, nuint length);

    [LibraryImport(Library, EntryPoint = "aco_loop_live")]
    [SuppressGCTransition]
    internal static partial long Live(nint loop);

    [LibraryImport(Library, EntryPoint = "aco_loop_ready_count")]
    [SuppressGCTransition]
    internal static partial long ReadyCount(nint loop);

    [LibraryImport(Library, EntryPoint = "aco_loop_resumes")]
    [SuppressGCTransition]
    internal static partial long Resumes(nint loop);

    [LibraryImport(Library, EntryPoint = "aco_loop_stats")]
    internal static partial LoopStats* Stats(nint loop);

    /// <summary>
    /// Where the bytes [p, p + length) of a waiting task's stack are now: where it left them, or in its
    /// save stack when another coroutine owns the share stack (the C aco_task_resolve, without a call).
    /// </summary>
    internal static byte* ResolveHere(NativeTask* t, byte* p, uint length)
    {
        var co = (Aco.Core.Interop.NativeCoroutine*)((byte*)t + sizeof(NativeTask));
        var fields = Aco.Core.Interop.AcoLayout.Fields(co);
        var stack = fields->ShareStack;
        var sp = Aco.Core.Interop.AcoLayout.StackPointer(co);
        var top = (byte*)stack->AlignRetPtr;
        if (stack->Owner == co || p < sp || p + length > top)
        {
            return p;
        }
        return (byte*)fields->SaveStack.Ptr + (p - sp);
    }

    [LibraryImport(Library, EntryPoint = "aco_loop_first_ready")]
    [SuppressGCTransition]
    internal static partial NativeTask* FirstReady(nint loop);
}

/// <summary>aco_loop_stats_t.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LoopStats
{
    public long Ready;
    public long Live;
    public long Resumes;
}

/// <summary>What a task asks for (ACO_OP_*).</summary>
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
    Cancelled = 10,
}

/// <summary>Where a task is (ACO_TASK_*).</summary>
internal enum TaskState : byte
{
    Ready = 0,
    Running = 1,
    Waiting = 2,
}

/// <summary>Answer statuses (ACO_BRIDGE_*).</summary>
internal enum BridgeStatus : byte
{
    Ok = 0,
    Cancelled = 1,
    Error = 2,
    Closed = 3,
}

/// <summary>aco_task_t: a native coroutine's control block.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeTask
{
    public NativeTask* Next;
    public long Id;
    public long Value;
    public byte* In;
    public byte* Out;
    public uint InLength; // while a sleep waits: its slot in the scheduler's SleeperHeap (index + 1)
    public uint OutLength;
    public TaskState State;
    public TaskOp Op;
    public BridgeStatus Status;
    public byte Cancel;
    public int Code;
}
