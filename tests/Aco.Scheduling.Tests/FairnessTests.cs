namespace Aco.Scheduling.Tests;

/// <summary>
/// Admission keeps coroutines already running ahead of new work: a sleeping probe, running before the flood comes,
/// keeps waking while a flood of spawns or cancels is worked through. The probe counts its wakes from the moment the
/// flood's first job has ended; each flood is large enough that no machine could finish it within the probe's few
/// one-millisecond sleeps after that, and a slower machine slows the flood as much as the probe (one thread runs
/// both), so the condition holds however fast or busy the machine is.
/// </summary>
public sealed class FairnessTests
{
    private const int ProbeRounds = 5;
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task A_sleeping_probe_keeps_waking_while_a_flood_of_spawns_is_worked_through()
    {
        const int Flood = 400_000;
        var scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 4 });
        scheduler.Start();
        var counter = Native.Alloc(1);
        var log = Native.Alloc(3 + ProbeRounds);
        try
        {
            Native.Set(log, 0, counter);
            Native.Set(log, 1, ProbeRounds);
            Native.Set(log, 2, 1);
            var probe = scheduler.Spawn(Bodies.Probe, log);
            await LivenessTests.WaitUntil(() => scheduler.Counters.SleepingNative == 1, Bound);
            var flood = Task.Run(() =>
            {
                for (var i = 0; i < Flood; i++)
                {
                    scheduler.SpawnDetached(Bodies.FloodJob, counter);
                }
            });
            Assert.Equal(ProbeRounds, await probe.Completion.WaitAsync(Bound));
            // When the probe woke the last time, most of the flood had not yet ended: it was not made to wait
            // behind the new work.
            Assert.True(Native.Get(log, 3 + ProbeRounds - 1) < Flood, $"the flood had ended ({Native.Get(log, 3 + ProbeRounds - 1)} of {Flood}) before the probe's last wake");
            await flood.WaitAsync(Bound);
            await LivenessTests.WaitUntil(() => Native.Get(counter, 0) == Flood, Bound);
        }
        finally
        {
            await scheduler.StopAsync().WaitAsync(Bound);
            await scheduler.DisposeAsync();
            Native.Free(counter);
            Native.Free(log);
        }
    }

    [Fact]
    public async Task A_sleeping_probe_keeps_waking_while_a_flood_of_cancels_is_worked_through()
    {
        const int Sleepers = 200_000;
        var scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 4 });
        scheduler.Start();
        var counter = Native.Alloc(1);
        var log = Native.Alloc(3 + ProbeRounds);
        try
        {
            Native.Set(log, 0, counter);
            Native.Set(log, 1, ProbeRounds);
            Native.Set(log, 2, 1);
            var sleepers = Enumerable.Range(0, Sleepers).Select(_ => scheduler.Spawn(Bodies.CountOnCancel, counter)).ToArray();
            var probe = scheduler.Spawn(Bodies.Probe, log);
            await LivenessTests.WaitUntil(() => scheduler.Counters.SleepingNative == Sleepers + 1, Bound);
            var cancels = Task.Run(() => Array.ForEach(sleepers, s => s.Cancel()));
            Assert.Equal(ProbeRounds, await probe.Completion.WaitAsync(Bound));
            Assert.True(Native.Get(log, 3 + ProbeRounds - 1) < Sleepers, $"every cancel was served ({Native.Get(log, 3 + ProbeRounds - 1)}) before the probe's last wake");
            await cancels.WaitAsync(Bound);
            await Task.WhenAll(sleepers.Select(s => s.Completion.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(Bound);
            Assert.Equal(Sleepers, Native.Get(counter, 0));
        }
        finally
        {
            await scheduler.StopAsync().WaitAsync(Bound);
            await scheduler.DisposeAsync();
            Native.Free(counter);
            Native.Free(log);
        }
    }
}
