namespace Aco.Scheduling;

/// <summary>
/// The native coroutines of one scheduler spawned with one <see cref="CancellationToken"/>: one registration on the
/// token for all of them (a million coroutines spawned with a host's stopping token cost one registration, not a
/// million), and a list of their handles through <see cref="AcoCoroutineHandle.GroupNext"/>. Scheduler thread only,
/// but for <see cref="Fire"/>, which the token calls on whatever thread cancels it.
/// </summary>
internal sealed class TokenGroup(AcoScheduler scheduler, CancellationToken token)
{
    public CancellationToken Token { get; } = token;

    public CancellationTokenRegistration Registration;

    /// <summary>The first member; the others follow through <see cref="AcoCoroutineHandle.GroupNext"/>.</summary>
    public AcoCoroutineHandle? First;

    /// <summary>The token has been canceled and the members told (a member that joins later is canceled at once).</summary>
    public bool Fired;

    /// <summary>The token's callback: asks the scheduler thread to cancel every member.</summary>
    public void Fire() => scheduler.RequestCancel(this);
}
