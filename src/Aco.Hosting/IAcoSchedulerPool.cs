using Aco.Core;
using Aco.Scheduling;

namespace Aco.Hosting;

/// <summary>
/// The schedulers of a host (one thread each). Spawning picks the least-loaded scheduler; a
/// coroutine stays on the scheduler it started on.
/// </summary>
public interface IAcoSchedulerPool
{
    /// <summary>All schedulers of the pool.</summary>
    IReadOnlyList<AcoScheduler> Schedulers { get; }

    /// <summary>The scheduler at <paramref name="index"/>.</summary>
    AcoScheduler this[int index] { get; }

    /// <summary>Spawns a native coroutine on the least-loaded scheduler; await the handle for its result.</summary>
    AcoCoroutineHandle Spawn(AcoEntryPoint entry, nint argument = 0, CancellationToken cancellationToken = default);

    /// <summary>Spawns a native coroutine nobody awaits (no managed object per coroutine).</summary>
    void SpawnDetached(AcoEntryPoint entry, nint argument = 0);

    /// <summary>Runs a managed coroutine on the least-loaded scheduler (see <see cref="AcoScheduler.Spawn(Func{ValueTask}, CancellationToken)"/>).</summary>
    ValueTask Spawn(Func<ValueTask> body, CancellationToken cancellationToken = default);

    /// <summary>Runs a managed coroutine with a result on the least-loaded scheduler.</summary>
    ValueTask<T> Spawn<T>(Func<ValueTask<T>> body, CancellationToken cancellationToken = default);

    /// <summary>Runs a managed coroutine on the least-loaded scheduler, passing <paramref name="state"/> to its body (no closure).</summary>
    ValueTask Spawn<TState>(Func<TState, ValueTask> body, TState state, CancellationToken cancellationToken = default);

    /// <summary>Runs a managed coroutine with a result on the least-loaded scheduler, passing <paramref name="state"/> to its body (no closure).</summary>
    ValueTask<T> Spawn<TState, T>(Func<TState, ValueTask<T>> body, TState state, CancellationToken cancellationToken = default);

    /// <summary>Registers a synchronous handler on every scheduler.</summary>
    /// <exception cref="InvalidOperationException">The id is taken on a scheduler and <paramref name="replace"/> is false (nothing is registered then).</exception>
    void RegisterHandler(int id, AcoSyncHandler handler, bool replace = false);

    /// <summary>Registers an asynchronous handler on every scheduler.</summary>
    /// <exception cref="InvalidOperationException">The id is taken on a scheduler and <paramref name="replace"/> is false (nothing is registered then).</exception>
    void RegisterHandler(int id, AcoAsyncHandler handler, bool replace = false);

    /// <summary>Bridges a channel on every scheduler.</summary>
    /// <exception cref="InvalidOperationException">The id is taken on a scheduler and <paramref name="replace"/> is false (nothing is registered then).</exception>
    void RegisterChannel(int id, System.Threading.Channels.Channel<long> channel, bool replace = false);

    /// <summary>Snapshots of all schedulers.</summary>
    Task<IReadOnlyList<AcoSchedulerSnapshot>> GetSnapshotsAsync(int maxCoroutinesEach = 100);

    /// <summary>
    /// A dump of every coroutine of every scheduler, grouped and symbolized (see <see cref="AcoScheduler.GetDumpAsync"/>):
    /// the schedulers are read at the same time, each in slices between its turns.
    /// </summary>
    Task<AcoDump> GetDumpAsync(AcoDumpOptions? options = null, CancellationToken cancellationToken = default);
}
