using System.Diagnostics.Metrics;
using Aco.Core;
using Aco.Scheduling;

namespace Aco.Hosting;

/// <summary>
/// The meter named <c>Aco</c> (see it with <c>dotnet-counters monitor --counters Aco</c>). Its instruments are
/// observable: they read the schedulers' counters when a listener collects, so the scheduler threads pay nothing.
/// </summary>
public sealed class AcoMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Aco";

    private readonly List<AcoSchedulerPool> _pools = [];

    /// <summary>Creates the meter through <paramref name="meterFactory"/>.</summary>
    public AcoMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableUpDownCounter("aco.coroutines.live", () => Measure(static c => new[]
        {
            new Measurement<long>(c.LiveNative, new KeyValuePair<string, object?>("kind", "native")),
            new Measurement<long>(c.LiveManaged, new KeyValuePair<string, object?>("kind", "managed")),
        }), "{coroutine}", "Coroutines alive, by kind");
        meter.CreateObservableCounter("aco.coroutines.spawned", () => Measure(static c => new[]
        {
            new Measurement<long>(c.SpawnedNative, new KeyValuePair<string, object?>("kind", "native")),
        }), "{coroutine}", "Native coroutines spawned");
        meter.CreateObservableCounter("aco.coroutines.completed", () => Measure(static c => new[]
        {
            new Measurement<long>(c.CompletedNative, new KeyValuePair<string, object?>("outcome", "completed")),
            new Measurement<long>(c.FaultedNative, new KeyValuePair<string, object?>("outcome", "faulted")),
            new Measurement<long>(c.CanceledNative, new KeyValuePair<string, object?>("outcome", "canceled")),
        }), "{coroutine}", "Native coroutines that ended, by outcome");
        meter.CreateObservableCounter("aco.resumes", () => Measure(static c => new[] { new Measurement<long>(c.Resumes) }), "{resume}", "Native resumes");
        meter.CreateObservableCounter("aco.share_stack.copied_bytes", () => AcoNativeCounters.Read().CopiedBytes, "By",
            "Bytes copied between share stacks and save stacks (process-wide)");
        meter.CreateObservableGauge("aco.ready_queue.length", () => Pools().SelectMany(p => p.Schedulers)
            .Select(s => new Measurement<long>(s.Counters.ReadyNative, new KeyValuePair<string, object?>("scheduler", s.Options.Name))), "{coroutine}",
            "Native coroutines ready to run, per scheduler");
        meter.CreateObservableCounter("aco.bridge.requests", () => Pools().SelectMany(p => p.Schedulers)
            .SelectMany(s => s.RequestsByKind())
            .Where(kv => kv.Key != AcoRequestKind.Yield)
            .GroupBy(kv => kv.Key)
            .Select(g => new Measurement<long>(g.Sum(kv => kv.Value), new KeyValuePair<string, object?>("kind", KindName(g.Key)))), "{request}",
            "Bridge requests other than plain yields, by kind");
    }

    internal void Observe(AcoSchedulerPool pool)
    {
        lock (_pools)
        {
            _pools.Add(pool);
        }
    }

    private List<AcoSchedulerPool> Pools()
    {
        lock (_pools)
        {
            return [.. _pools];
        }
    }

    private IEnumerable<Measurement<long>> Measure(Func<AcoSchedulerCounters, Measurement<long>[]> select) =>
        select(Pools().SelectMany(p => p.Schedulers).Aggregate(default(AcoSchedulerCounters), static (sum, s) => sum + s.Counters));

    /// <summary>The metric's tag value for a kind: snake case, as OpenTelemetry names go (yield_value, socket_read).</summary>
    internal static string KindName(AcoRequestKind kind) => kind switch
    {
        AcoRequestKind.YieldValue => "yield_value",
        AcoRequestKind.SocketRead => "socket_read",
        AcoRequestKind.SocketWrite => "socket_write",
        AcoRequestKind.SocketPoll => "socket_poll",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
