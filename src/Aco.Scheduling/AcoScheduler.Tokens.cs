namespace Aco.Scheduling;

// Cancellation tokens given at spawn: one registration per token and scheduler (see TokenGroup).
public sealed partial class AcoScheduler
{
    /// <summary>The groups of coroutines by the token they were spawned with (scheduler thread only).</summary>
    private readonly Dictionary<CancellationToken, TokenGroup> _tokenGroups = [];

    /// <summary>Adds a coroutine just spawned to its token's group, registering on the token when the group is new.</summary>
    private void JoinGroup(AcoCoroutineHandle handle, CancellationToken token)
    {
        AssertSchedulerThread();
        if (!_tokenGroups.TryGetValue(token, out var group))
        {
            group = new TokenGroup(this, token);
            _tokenGroups.Add(token, group);
            group.Registration = token.UnsafeRegister(static g => ((TokenGroup)g!).Fire(), group); // may run at once
        }
        handle.Group = group;
        handle.GroupNext = group.First;
        if (group.First is { } next)
        {
            next.GroupPrevious = handle;
        }
        group.First = handle;
        if (group.Fired)
        {
            CancelNative(handle); // joined after its token fired
        }
    }

    /// <summary>Takes an ended coroutine out of its group; the last one out unregisters the group from its token.</summary>
    private void LeaveGroup(AcoCoroutineHandle handle)
    {
        if (handle.Group is not { } group)
        {
            return;
        }
        if (handle.GroupPrevious is { } previous)
        {
            previous.GroupNext = handle.GroupNext;
        }
        else
        {
            group.First = handle.GroupNext;
        }
        if (handle.GroupNext is { } next)
        {
            next.GroupPrevious = handle.GroupPrevious;
        }
        handle.Group = null;
        handle.GroupPrevious = handle.GroupNext = null;
        if (group.First is null)
        {
            _tokenGroups.Remove(group.Token);
            group.Registration.Unregister(); // never waits for a callback running now: it only posts
        }
    }

    /// <summary>A group's token was canceled: every member is canceled (on the scheduler thread).</summary>
    private void CancelGroup(TokenGroup group)
    {
        group.Fired = true;
        for (var handle = group.First; handle is not null; handle = handle.GroupNext)
        {
            CancelNative(handle); // never ends a coroutine here, so the list stays as it is
        }
    }

    /// <summary>At the stop: no group keeps a registration on its token.</summary>
    private void ReleaseGroups()
    {
        foreach (var group in _tokenGroups.Values)
        {
            group.Registration.Unregister();
        }
        _tokenGroups.Clear();
    }

    /// <summary>Asks the scheduler thread to cancel a token group; after a stop there is nothing to cancel.</summary>
    internal void RequestCancel(TokenGroup group) => TryPost(new InboxItem(InboxKind.CancelGroup) { Object = group });
}
