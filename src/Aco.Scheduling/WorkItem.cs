namespace Aco.Scheduling;

/// <summary>One piece of managed work: a continuation, a posted callback, a coroutine to start, or a task.</summary>
internal readonly struct WorkItem
{
    private readonly object _target;
    private readonly object? _state;

    public WorkItem(Action action) => _target = action;

    public WorkItem(SendOrPostCallback callback, object? state)
    {
        _target = callback;
        _state = state;
    }

    public WorkItem(Task task) => _target = task;

    public WorkItem(ManagedCoroutine coroutine) => _target = coroutine;

    /// <summary>The managed coroutine this item starts, if it starts one.</summary>
    public ManagedCoroutine? Coroutine => _target as ManagedCoroutine;

    public void Invoke(AcoScheduler scheduler)
    {
        switch (_target)
        {
            case Action action:
                action();
                break;
            case SendOrPostCallback callback:
                callback(_state);
                break;
            case ManagedCoroutine coroutine:
                coroutine.Start();
                break;
            case Task task:
                scheduler.TryExecuteTaskHere(task);
                break;
        }
    }
}
