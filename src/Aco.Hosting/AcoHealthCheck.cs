using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aco.Hosting;

/// <summary>
/// Unhealthy when a scheduler thread has died, a sleeper is overdue beyond the threshold, a turn took longer
/// than the threshold since the last check, or a coroutine is stuck (its wait can never be answered).
/// </summary>
internal sealed class AcoHealthCheck(AcoSchedulerPool pool) : IHealthCheck
{
    private long _longTurnsSeen;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (healthy, description) = pool.Health(ref _longTurnsSeen);
        if (healthy && await StuckAsync(cancellationToken).ConfigureAwait(false) is { } stuck)
        {
            (healthy, description) = (false, stuck);
        }
        return healthy ? HealthCheckResult.Healthy(description) : new HealthCheckResult(context.Registration.FailureStatus, description);
    }

    /// <summary>
    /// Coroutines whose waits can never be answered (only waits on .NET are looked at: sleepers cost nothing here),
    /// described; null when there are none. A scheduler too busy to answer within the bound is left to the other checks.
    /// </summary>
    private async Task<string?> StuckAsync(CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(StuckCheckBound);
        IReadOnlyList<Scheduling.AcoDumpedCoroutine> stuck;
        try
        {
            stuck = await pool.FindStuckAsync(bound.Token).WaitAsync(bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        if (stuck.Count == 0)
        {
            return null;
        }
        var summary = string.Join(", ", stuck.GroupBy(c => c.Stuck).Select(g => $"{g.Count()} {g.Key}"));
        return $"{stuck.Count} coroutine(s) stuck, their waits can never be answered ({summary}); take a dump (dotnet aco dump) for their frames";
    }

    private static readonly TimeSpan StuckCheckBound = TimeSpan.FromSeconds(5);
}
