namespace Aco.Tests.Shared;

/// <summary>How a <see cref="MisbehavingTimeProvider"/>'s timers fire.</summary>
public enum TimerBehaviour
{
    /// <summary>At half the requested delay (far too early).</summary>
    Early,

    /// <summary>At the requested delay truncated to whole milliseconds (a little early, as system timers can be).</summary>
    TruncatedMilliseconds,

    /// <summary>25 ms after the requested delay.</summary>
    Late,

    /// <summary>Twice: at half the requested delay and again at the full delay.</summary>
    Twice,

    /// <summary>Never.</summary>
    Never,
}

/// <summary>The system clock, with timers that fire early, late, twice or never.</summary>
public sealed class MisbehavingTimeProvider(TimerBehaviour behaviour) : TimeProvider
{
    public override long GetTimestamp() => System.GetTimestamp();

    public override long TimestampFrequency => System.TimestampFrequency;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        new Timer(behaviour, callback, state, dueTime);

    private sealed class Timer : ITimer
    {
        private readonly TimerBehaviour _behaviour;
        private readonly System.Threading.Timer _first;
        private readonly System.Threading.Timer _second;

        public Timer(TimerBehaviour behaviour, TimerCallback callback, object? state, TimeSpan dueTime)
        {
            _behaviour = behaviour;
            _first = new System.Threading.Timer(callback, state, Timeout.Infinite, Timeout.Infinite);
            _second = new System.Threading.Timer(callback, state, Timeout.Infinite, Timeout.Infinite);
            Change(dueTime, Timeout.InfiniteTimeSpan);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime == Timeout.InfiniteTimeSpan || _behaviour == TimerBehaviour.Never)
            {
                _first.Change(Timeout.Infinite, Timeout.Infinite);
                _second.Change(Timeout.Infinite, Timeout.Infinite);
                return true;
            }
            var ms = (long)dueTime.TotalMilliseconds;
            switch (_behaviour)
            {
                case TimerBehaviour.Early:
                    _first.Change(ms / 2, Timeout.Infinite);
                    break;
                case TimerBehaviour.TruncatedMilliseconds:
                    _first.Change((long)Math.Floor(dueTime.TotalMilliseconds - 0.999), Timeout.Infinite);
                    break;
                case TimerBehaviour.Late:
                    _first.Change(ms + 25, Timeout.Infinite);
                    break;
                case TimerBehaviour.Twice:
                    _first.Change(ms / 2, Timeout.Infinite);
                    _second.Change(ms, Timeout.Infinite);
                    break;
            }
            return true;
        }

        public void Dispose()
        {
            _first.Dispose();
            _second.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
