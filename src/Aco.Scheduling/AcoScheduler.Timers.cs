using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

// Sleeps on a TimeProvider other than the system clock. (On the system clock the native loop serves sleeps
// itself: its timer heap, its clock, and the deadline bounding its wait.)
public sealed unsafe partial class AcoScheduler
{
    // Invariant, true whenever the scheduler thread blocks: while a sleeper exists, the timer is armed to fire
    // no later than the earliest deadline in the loop's heap (_timerDue <= earliest), or a fire is pending
    // (_timerFired), or the loop is awake.
    //
    // The timer is one-shot and is trusted for nothing but a wake-up: it may fire early (a system timer counts
    // whole milliseconds; a TimeProvider may do anything), late, or twice. Every fire means "no longer armed":
    // the next turn forgets _timerDue, the loop answers the sleepers that are due by the provider's clock
    // (never before their time), and the timer is armed again for the earliest one left. An early fire costs a
    // re-arm, a late one only delays, a stale or duplicate one costs a spare re-arm.

    private const long MaxTimerDelayMs = 24 * 60 * 60 * 1000; // longer sleeps re-arm each day

    /// <summary>The provider's timer; null on the system clock. Created at construction.</summary>
    private readonly ITimer? _timer;

    /// <summary>What the timer is armed for, as far as the scheduler thread knows (scheduler thread only).</summary>
    private long _timerDue = long.MaxValue;

    /// <summary>Set by the timer's callback (any thread), cleared by the scheduler thread.</summary>
    private int _timerFired;

    private void OnTimerFired()
    {
        Volatile.Write(ref _timerFired, 1);
        Wake(); // unconditionally: the eventfd keeps it until the next wait
    }

    /// <summary>At the start of a turn on the provider's clock: the loop's time, and a spent timer forgotten.</summary>
    private void SetExternalTime()
    {
        if (_timer is null)
        {
            return;
        }
        if (Volatile.Read(ref _timerFired) != 0 && Interlocked.Exchange(ref _timerFired, 0) != 0)
        {
            _timerDue = long.MaxValue; // the one-shot timer is spent, whatever time it fired at
        }
        LoopNative.SetTime(_loop, _options.TimeProvider.GetTimestamp());
    }

    /// <summary>A sleep on the provider's clock: its deadline is read from the provider now, after the request.</summary>
    private void SleepOnProviderClock(NativeTask* t)
    {
        var ms = t->Value;
        if (ms <= 0)
        {
            Answer(t, BridgeStatus.Ok);
            return;
        }
        var provider = _options.TimeProvider;
        var now = provider.GetTimestamp();
        var frequency = provider.TimestampFrequency;
        var ticks = ms <= long.MaxValue / frequency ? ms * frequency / 1000 : long.MaxValue;
        var due = ticks < long.MaxValue - 1 - now ? now + ticks : long.MaxValue - 1; // saturates: "never"
        LoopNative.SleepUntil(_loop, t, due);
        ArmTimerForEarliest();
    }

    /// <summary>On the provider's clock, whether a sleeper is due already (the loop's wait cannot tell).</summary>
    private bool ProviderSleeperDue() => _timer is not null && _loopStats->EarliestDue <= _options.TimeProvider.GetTimestamp();

    /// <summary>Keeps the invariant: armed for the earliest deadline, or resting when nobody sleeps.</summary>
    private void ArmTimerForEarliest()
    {
        if (_timer is null)
        {
            return;
        }
        var earliest = _loopStats->EarliestDue;
        if (earliest < _timerDue)
        {
            _timerDue = earliest;
            var provider = _options.TimeProvider;
            var ticks = earliest - provider.GetTimestamp();
            // Rounded up to whole milliseconds, so a millisecond timer does not fire before the due time (if it
            // still does, the next turn arms it again); never 0, which some timers take as "do not fire": a sleeper
            // already due is taken by the loop itself, which does not block while one is.
            var ms = Math.Clamp(Math.Ceiling(ticks * 1000.0 / provider.TimestampFrequency), 1, MaxTimerDelayMs);
            _timer.Change(TimeSpan.FromMilliseconds(ms), Timeout.InfiniteTimeSpan);
        }
        else if (earliest == long.MaxValue && _timerDue != long.MaxValue)
        {
            _timerDue = long.MaxValue; // nobody sleeps: let it rest
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }
}
