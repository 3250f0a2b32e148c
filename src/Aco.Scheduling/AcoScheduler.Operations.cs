namespace Aco.Scheduling;

// Waits on registered operations (aco_bridge_await) that cannot be answered at once.
//
// While coroutines wait for an operation, the scheduler holds its task weakly: the registration becomes a weak
// reference, and the continuation and the cancellation registration that end the wait hold no reference to the
// task. So when nothing else holds it (its TaskCompletionSource was dropped), nothing can ever complete it, and
// the GC collects it: a dump then names the wait as stuck (AcoStuckReason.OperationDropped), and an await of that
// id fails at once instead of hanging. When the task completes, its continuation makes the registration strong
// again before the waiter is served, so the result is there to take.
public sealed partial class AcoScheduler
{
    /// <summary>The task of a registration (strong, or weak while waited for), or null once it was collected.</summary>
    private static Task<long>? OperationOf(object registered) =>
        registered as Task<long> ?? (((WeakReference<Task<long>>)registered).TryGetTarget(out var task) ? task : null);

    /// <summary>Parks a coroutine on an operation that has not completed; serves its request again when it does or the wait is canceled.</summary>
    private void AwaitLater(long id, object registered, Task<long> operation, nint task, long seq, CancellationToken cancellationToken)
    {
        if (registered is Task<long>)
        {
            _operations.TryUpdate(id, new WeakReference<Task<long>>(operation), registered);
        }
        var waiter = new OperationWaiter(this, id, task, seq);
        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.UnsafeRegister(static s => ((OperationWaiter)s!).Retry(), waiter);
        }
        operation.ContinueWith(static (done, s) => ((OperationWaiter)s!).Completed(done), waiter,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>One wait on an operation: it references the scheduler and the task's block, never the operation's task.</summary>
    private sealed class OperationWaiter(AcoScheduler scheduler, long id, nint task, long seq)
    {
        public CancellationTokenRegistration Registration;

        public void Completed(Task<long> operation)
        {
            // Strong again, only if it is still the weak registration of this operation (not taken meanwhile).
            if (scheduler._operations.TryGetValue(id, out var registered) && registered is WeakReference<Task<long>> weak
                && weak.TryGetTarget(out var target) && target == operation)
            {
                scheduler._operations.TryUpdate(id, operation, registered);
            }
            Registration.Dispose();
            Retry();
        }

        /// <summary>Serves the request again: the result, or "canceled" (a stale wake-up is ignored by its sequence number).</summary>
        public void Retry() => scheduler.PostWake(task, seq, 0, RetryStatus);
    }
}
