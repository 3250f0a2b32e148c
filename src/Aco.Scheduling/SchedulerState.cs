namespace Aco.Scheduling;

/// <summary>Where a scheduler is in its life. It only moves forward: Created, Running, Stopping, Stopped.</summary>
internal enum SchedulerState
{
    /// <summary>Constructed; <see cref="AcoScheduler.Start"/> or <see cref="AcoScheduler.Run"/> not called yet.</summary>
    Created,

    /// <summary>Its thread runs the loop and accepts new work.</summary>
    Running,

    /// <summary>StopAsync was called: no new work, coroutines cancelled, the loop runs until they end or the deadline.</summary>
    Stopping,

    /// <summary>The loop has ended and everything is freed.</summary>
    Stopped,
}
