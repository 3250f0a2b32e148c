using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aco.Hosting;

/// <summary>
/// Unhealthy when a scheduler thread has died, a sleeper is overdue beyond the threshold, or a turn took longer
/// than the threshold since the last check.
/// </summary>
internal sealed class AcoHealthCheck(AcoSchedulerPool pool) : IHealthCheck
{
    private long _longTurnsSeen;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (healthy, description) = pool.Health(ref _longTurnsSeen);
        return Task.FromResult(healthy ? HealthCheckResult.Healthy(description) : new HealthCheckResult(context.Registration.FailureStatus, description));
    }
}
