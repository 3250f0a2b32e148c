using System.Runtime.InteropServices;
using Aco.Core.Interop;

namespace Aco.Scheduling.Interop;

/// <summary>Checks the scheduler's mirrors of the run loop's structures against the layout the library published.</summary>
internal static unsafe class TaskLayout
{
    static TaskLayout() => AcoLayout.ThrowIfMismatched("run loop", Check(AcoLayout.Native));

    /// <summary>Throws <see cref="PlatformNotSupportedException"/> once if the mirrors do not match.</summary>
    public static void EnsureChecked()
    {
        // The static constructor runs the check, once.
    }

    /// <summary>Null when <see cref="NativeTask"/> and <see cref="LoopStats"/> match the library's; otherwise what differs.</summary>
    public static string? Check(in NativeLayout layout) => AcoLayout.Compare(
        ("size of aco_task_t", layout.TaskSize, sizeof(NativeTask)),
        ("offset of id", layout.TaskId, Offset(nameof(NativeTask.Id))),
        ("offset of value", layout.TaskValue, Offset(nameof(NativeTask.Value))),
        ("offset of in", layout.TaskIn, Offset(nameof(NativeTask.In))),
        ("offset of out", layout.TaskOut, Offset(nameof(NativeTask.Out))),
        ("offset of in_len", layout.TaskInLength, Offset(nameof(NativeTask.InLength))),
        ("offset of out_len", layout.TaskOutLength, Offset(nameof(NativeTask.OutLength))),
        ("offset of code", layout.TaskCode, Offset(nameof(NativeTask.Code))),
        ("offset of born_ms", layout.TaskBornMs, Offset(nameof(NativeTask.BornMs))),
        ("offset of since_ms", layout.TaskSinceMs, Offset(nameof(NativeTask.SinceMs))),
        ("offset of state", layout.TaskState, Offset(nameof(NativeTask.State))),
        ("offset of op", layout.TaskOp, Offset(nameof(NativeTask.Op))),
        ("offset of status", layout.TaskStatus, Offset(nameof(NativeTask.Status))),
        ("offset of cancel", layout.TaskCancel, Offset(nameof(NativeTask.Cancel))),
        ("size of aco_loop_stats_t", layout.LoopStatsSize, sizeof(LoopStats)));

    private static long Offset(string field) => Marshal.OffsetOf<NativeTask>(field);
}
