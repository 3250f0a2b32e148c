using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Aco.Scheduling.Interop;

/// <summary>
/// aco_dump.h: frames of suspended coroutines, deadlines, and holds that keep tasks readable across the turns of a
/// dump. Each call reads memory and returns: none switches stacks, blocks or calls back, so the short ones skip the
/// GC transition. Addresses are named through Aco.Core's NativeImage.
/// </summary>
internal static unsafe partial class DumpNative
{
    private const string Library = "aco";

    // The assembly's resolver for "aco" is LoopNative's (one per assembly).
    static DumpNative() => RuntimeHelpers.RunClassConstructor(typeof(LoopNative).TypeHandle);

    /// <summary>How a walk ended (ACO_FRAMES_* in aco_dump.h).</summary>
    internal const int FramesComplete = 0, FramesTruncated = 1, FramesBroken = 2, FramesNotStarted = 3, FramesNotSuspended = 4, FramesUnsupported = 5;

    [LibraryImport(Library, EntryPoint = "aco_task_frames")]
    [SuppressGCTransition]
    internal static partial nuint TaskFrames(NativeTask* task, nint* pcs, nuint max, int* end);

    [LibraryImport(Library, EntryPoint = "aco_loop_task_deadline")]
    [SuppressGCTransition]
    internal static partial long TaskDeadline(nint loop, NativeTask* task);

    [LibraryImport(Library, EntryPoint = "aco_loop_hold_begin")]
    internal static partial nuint HoldBegin(nint loop, NativeTask** extra, nuint extraCount);

    [LibraryImport(Library, EntryPoint = "aco_loop_hold_next")]
    [SuppressGCTransition]
    internal static partial nuint HoldNext(nint loop, nuint* cursor, NativeTask** tasks, nuint capacity);

    [LibraryImport(Library, EntryPoint = "aco_loop_hold_end")]
    internal static partial void HoldEnd(nint loop);

    [LibraryImport(Library, EntryPoint = "aco_loop_clock_now")]
    [SuppressGCTransition]
    internal static partial long ClockNow();
}
