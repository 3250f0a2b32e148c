using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aco.Core;

[assembly: DisableRuntimeMarshalling]

namespace Aco.Scheduling.Interop;

/// <summary>
/// The run loop of aco_loop.h. aco_loop_run switches stacks and runs coroutine code, and aco_loop_wait blocks:
/// both keep the GC transition. The calls marked SuppressGCTransition are a few instructions, or one system call
/// that never blocks (a poll with no timeout, an eventfd write), and never switch stacks or call back.
/// </summary>
internal static unsafe partial class LoopNative
{
    private const string Library = "aco";

    static LoopNative() => AcoNativeLibrary.ResolveFor(typeof(LoopNative).Assembly);

    [LibraryImport(Library, EntryPoint = "aco_loop_new")]
    internal static partial nint New(nint mainCoroutine);

    [LibraryImport(Library, EntryPoint = "aco_loop_destroy")]
    internal static partial void Destroy(nint loop);

    [LibraryImport(Library, EntryPoint = "aco_loop_destroy_tasks")]
    internal static partial void DestroyTasks(nint loop);

    [LibraryImport(Library, EntryPoint = "aco_loop_add_stack")]
    internal static partial void AddStack(nint loop, nint stack);

    [LibraryImport(Library, EntryPoint = "aco_loop_spawn")]
    internal static partial NativeTask* Spawn(nint loop, nint entry, nint argument, long id, nuint saveStackSize);

    [LibraryImport(Library, EntryPoint = "aco_loop_admit")]
    [SuppressGCTransition]
    internal static partial nuint Admit(nint loop, nuint limit, nuint floor);

    [LibraryImport(Library, EntryPoint = "aco_loop_run")]
    internal static partial nuint Run(nint loop, nuint budget, NativeTask** batch, nuint capacity);

    [LibraryImport(Library, EntryPoint = "aco_loop_ready")]
    [SuppressGCTransition]
    internal static partial void Ready(nint loop, NativeTask* task);

    [LibraryImport(Library, EntryPoint = "aco_loop_cancel")]
    [SuppressGCTransition]
    internal static partial int Cancel(nint loop, NativeTask* task);

    [LibraryImport(Library, EntryPoint = "aco_loop_cancel_all")]
    internal static partial nuint CancelAll(nint loop);

    [LibraryImport(Library, EntryPoint = "aco_loop_destroy_task")]
    internal static partial void DestroyTask(nint loop, NativeTask* task);

    [LibraryImport(Library, EntryPoint = "aco_loop_stats")]
    internal static partial LoopStats* Stats(nint loop);

    [LibraryImport(Library, EntryPoint = "aco_loop_clock_frequency")]
    internal static partial long ClockFrequency();

    [LibraryImport(Library, EntryPoint = "aco_loop_use_external_clock")]
    internal static partial void UseExternalClock(nint loop, long frequency);

    [LibraryImport(Library, EntryPoint = "aco_loop_set_time")]
    [SuppressGCTransition]
    internal static partial void SetTime(nint loop, long now);

    [LibraryImport(Library, EntryPoint = "aco_loop_sleep_until")]
    [SuppressGCTransition]
    internal static partial void SleepUntil(nint loop, NativeTask* task, long due);

    [LibraryImport(Library, EntryPoint = "aco_loop_wait")]
    internal static partial int Wait(nint loop, long timeoutNanoseconds);

    [LibraryImport(Library, EntryPoint = "aco_loop_wake")]
    [SuppressGCTransition]
    internal static partial void Wake(nint loop);

    [LibraryImport(Library, EntryPoint = "aco_loop_first_ready")]
    [SuppressGCTransition]
    internal static partial NativeTask* FirstReady(nint loop);

    [LibraryImport(Library, EntryPoint = "aco_loop_list_waiting")]
    internal static partial nuint ListWaiting(nint loop, NativeTask** tasks, nuint capacity);

    /// <summary>
    /// Where the bytes [p, p + length) of a waiting task's stack are now: where it left them, or in its save stack
    /// when another coroutine owns the share stack.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "aco_task_resolve")]
    [SuppressGCTransition]
    internal static partial byte* Resolve(NativeTask* task, byte* p, nuint length);
}
