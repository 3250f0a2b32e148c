using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

// The asynchronous halves of bridge requests that could not be answered at once: they run off
// the scheduler thread and report back through the inbox. (No pointers here: async methods
// cannot run in an unsafe context.)
public sealed partial class AcoScheduler
{
    private async Task CompleteCallLater(ValueTask<int> pending, nint task, long seq, PooledCall call)
    {
        BridgeStatus status;
        var written = 0;
        try
        {
            written = await pending.ConfigureAwait(false);
            status = BridgeStatus.Ok;
        }
        catch (OperationCanceledException)
        {
            status = BridgeStatus.Canceled;
        }
        catch (Exception)
        {
            status = BridgeStatus.Error;
        }
        if (!TryPost(new InboxItem(InboxKind.Wake) { Pointer = task, Seq = seq, Value = written, Status = status, Object = call }))
        {
            call.Return(); // the scheduler has stopped
        }
    }

    /// <summary>Posts "serve the request again" once <paramref name="waitable"/> completes, however it completes.</summary>
    private async Task RetryLater(Task waitable, nint task, long seq, CancellationToken cancellationToken = default)
    {
        try
        {
            await waitable.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Canceled or failed: serving the request again answers accordingly.
        }
        TryPost(new InboxItem(InboxKind.Wake) { Pointer = task, Seq = seq, Status = RetryStatus }); // refused once the scheduler has stopped
    }
}
