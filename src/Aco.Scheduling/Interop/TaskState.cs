namespace Aco.Scheduling.Interop;

/// <summary>Where a task is (ACO_TASK_* in aco_loop.h).</summary>
internal enum TaskState : byte
{
    Ready = 0,
    Running = 1,
    Waiting = 2,
}
