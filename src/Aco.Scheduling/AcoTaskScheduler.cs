namespace Aco.Scheduling;

/// <summary>Runs tasks on the scheduler thread, one at a time (concurrency 1).</summary>
internal sealed class AcoTaskScheduler(AcoScheduler scheduler) : TaskScheduler
{
    public override int MaximumConcurrencyLevel => 1;

    protected override void QueueTask(Task task) => scheduler.QueueWork(new WorkItem(task));

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        Environment.CurrentManagedThreadId == scheduler.ManagedThreadId && TryExecuteTask(task);

    protected override IEnumerable<Task>? GetScheduledTasks() => null;

    internal bool Execute(Task task) => TryExecuteTask(task);
}
