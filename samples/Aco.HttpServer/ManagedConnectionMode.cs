using System.Net.Sockets;
using Aco.Hosting;
using Aco.Scheduling;

namespace Aco.HttpServer;

/// <summary>
/// Managed mode: each connection is a managed coroutine (<see cref="ManagedConnection"/>, a C# async body) on its
/// scheduler, doing I/O with <see cref="Socket"/>; its awaits resume on that scheduler's thread, round-robin with
/// the other coroutines there. Each scheduler also runs one sweep coroutine that enforces the deadlines.
/// </summary>
internal sealed class ManagedConnectionMode(IAcoSchedulerPool pool, ManagedConnectionContext context) : ConnectionMode
{
    private readonly Dictionary<AcoScheduler, ConnectionSet> _sets = [];
    private readonly List<(PeriodicTimer Timer, Task Sweep)> _sweeps = [];

    public override void Start()
    {
        foreach (var scheduler in pool.Schedulers)
        {
            var set = new ConnectionSet();
            _sets.Add(scheduler, set);
            var timer = new PeriodicTimer(context.SweepPeriod, context.Time);
            var sweep = scheduler.Spawn(static s => s.Set.SweepAsync(s.Timer, s.Time), (Set: set, Timer: timer, context.Time));
            _sweeps.Add((timer, sweep.AsTask()));
        }
    }

    public override void Serve(Socket socket, AcoScheduler scheduler)
    {
        var connection = new ManagedConnection(socket, _sets[scheduler], context);
        _ = scheduler.Spawn(static c => c.RunAsync(), connection); // awaited by nobody: its end is counted in OpenConnections
    }

    public override void BeginDrain() => OnEachScheduler(static set => set.BeginDrain());

    public override void AbortAll() => OnEachScheduler(static set => set.AbortAll());

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var (timer, _) in _sweeps)
        {
            timer.Dispose(); // the sweep's wait returns false, and its coroutine ends
        }
        await Task.WhenAll(_sweeps.Select(s => s.Sweep)).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="action"/> on each scheduler's thread, where its set lives.</summary>
    private void OnEachScheduler(Action<ConnectionSet> action)
    {
        foreach (var (scheduler, set) in _sets)
        {
            scheduler.SynchronizationContext.Post(static s =>
            {
                var (action, set) = ((Action<ConnectionSet>, ConnectionSet))s!;
                action(set);
            }, (action, set));
        }
    }
}
