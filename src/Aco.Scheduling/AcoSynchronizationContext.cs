namespace Aco.Scheduling;

/// <summary>Posts continuations of managed coroutines to their scheduler's queue.</summary>
internal sealed class AcoSynchronizationContext(AcoScheduler scheduler) : SynchronizationContext
{
    public AcoScheduler Scheduler { get; } = scheduler;

    public override void Post(SendOrPostCallback d, object? state) => Scheduler.QueueWork(new WorkItem(d, state));

    public override void Send(SendOrPostCallback d, object? state)
    {
        if (Environment.CurrentManagedThreadId == Scheduler.ManagedThreadId)
        {
            d(state);
            return;
        }
        using var done = new ManualResetEventSlim();
        Exception? error = null;
        Post(_ =>
        {
            try
            {
                d(state);
            }
            catch (Exception e)
            {
                error = e;
            }
            finally
            {
                done.Set();
            }
        }, null);
        done.Wait();
        if (error is not null)
        {
            throw new InvalidOperationException("The callback sent to the scheduler threw.", error);
        }
    }

    public override SynchronizationContext CreateCopy() => this;
}
