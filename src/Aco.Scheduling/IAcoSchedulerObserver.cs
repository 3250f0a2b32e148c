namespace Aco.Scheduling;

/// <summary>Receives a scheduler's notable events, on the scheduler thread; must not block.</summary>
public interface IAcoSchedulerObserver
{
    /// <summary>A native coroutine ended with <c>aco_bridge_fail</c>.</summary>
    void CoroutineFaulted(AcoScheduler scheduler, long id, int code, string message);

    /// <summary>One native run took <paramref name="duration"/>, longer than <see cref="AcoSchedulerOptions.LongTurnThreshold"/>.</summary>
    void LongTurn(AcoScheduler scheduler, TimeSpan duration);
}
