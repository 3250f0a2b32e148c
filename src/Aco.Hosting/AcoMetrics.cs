using System.Diagnostics.Metrics;
using Aco.Core;

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
            new Measurement<long>(c.CancelledNative, new KeyValuePair<string, object?>("outcome", "cancelled")),
        }), "{coroutine}", "Native coroutines that ended, by outcome");
        meter.CreateObservableCounter("aco.resumes", () => Measure(static c => new[] { new Measurement<long>(c.Resumes) }), "{resume}", "Native resumes");
        meter.CreateObservableCounter("aco.share_stack.copied_bytes", () => AcoNativeCounters.Read().CopiedBytes, "By",
            "Bytes copied between share stacks and save stacks (process-wide)");
        meter.CreateObservableGauge("aco.ready_queue.length", () => Pools().SelectMany(p => p.Schedulers)
            .Select(s => new Measurement<long>(s.ReadyNative, new KeyValuePair<string, object?>("scheduler", s.Options.Name))), "{coroutine}",
            "Native coroutines ready to run, per scheduler");
        meter.CreateObservableCounter("aco.bridge.requests", () => Pools().SelectMany(p => p.Schedulers)
            .SelectMany(s => s.RequestsByKind())
            .GroupBy(kv => kv.Key)
            .Select(g => new Measurement<long>(g.Sum(kv => kv.Value), new KeyValuePair<string, object?>("kind", g.Key))), "{request}",
            "Bridge requests served in .NET, by kind");
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

    private IEnumerable<Measurement<long>> Measure(Func<Scheduling.AcoSchedulerCounters, Measurement<long>[]> select)
    {
        var pools = Pools();
        var total = pools.SelectMany(p => p.Schedulers).Select(s => s.Counters)
            .Aggregate(default(Scheduling.AcoSchedulerCounters), static (a, c) => new(
                a.SpawnedNative + c.SpawnedNative, a.CompletedNative + c.CompletedNative, a.FaultedNative + c.FaultedNative,
                a.CancelledNative + c.CancelledNative, a.LiveNative + c.LiveNative, a.LiveManaged + c.LiveManaged,
                a.Resumes + c.Resumes, a.BridgeRequests + c.BridgeRequests));
        return select(total);
    }
}
