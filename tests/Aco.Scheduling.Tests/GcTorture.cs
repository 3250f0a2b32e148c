using System.Diagnostics;
using System.Threading.Channels;

using Aco.Tests.Shared;

namespace Aco.Scheduling.Tests;

/// <summary>
/// Native and managed coroutines that hold data across many yields, bridge calls and channel
/// traffic while the GC runs constantly (tiny gen0, a thread allocating garbage, a compacting full
/// collection every few rounds). Runs in a child process so the GC settings apply from its start.
/// </summary>
public sealed class GcTortureTests
{
    [Fact]
    public async Task Coroutines_keep_their_data_through_constant_compacting_collections()
    {
        var psi = Aco.Tests.Shared.BoundedProcess.Start("dotnet", typeof(GcTortureTests).Assembly.Location, "torture");
        psi.Environment["DOTNET_GCgen0size"] = "0x40000"; // 256 KiB: a gen0 collection every few hundred allocations
        psi.Environment["DOTNET_gcConcurrent"] = "0";
        var result = await Aco.Tests.Shared.BoundedProcess.RunAsync(psi, TimeSpan.FromMinutes(5));
        Assert.True(result.ExitCode == 0, $"exit code {result.ExitCode}\n{result.Output}");
        Assert.Contains("torture: ok", result.StandardOutput, StringComparison.Ordinal);
    }
}

internal static class Program
{
    public static int Main(string[] args) => args switch
    {
        ["torture", ..] => Torture.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 100_000),
        // Without a test host (e.g. a linux-arm64 publish under qemu-aarch64): the named tests, or all.
        ["selftest", .. var filters] => Aco.Tests.Shared.SelfTestRunner.Run(typeof(Program).Assembly, filters, TimeSpan.FromMinutes(5)),
        _ => 0,
    };
}

internal static class Torture
{
    public static int Run(int coroutines)
    {
        var sw = Stopwatch.StartNew();
        using var stopAllocating = new CancellationTokenSource();
        var allocator = new Thread(() =>
        {
            var keep = new List<byte[]>();
            while (!stopAllocating.IsCancellationRequested)
            {
                keep.Add(new byte[Random.Shared.Next(16, 4096)]);
                if (keep.Count > 2000)
                {
                    keep.RemoveRange(0, 1000);
                }
            }
        }) { IsBackground = true };
        allocator.Start();

        var scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 8, ShareStackSize = 64 * 1024 });
        scheduler.Start();
        scheduler.RegisterHandler(1, (input, output) =>
        {
            var text = System.Text.Encoding.ASCII.GetString(input).ToUpperInvariant(); // allocates, on purpose
            return System.Text.Encoding.ASCII.GetBytes(text, output);
        });
        var channel = Channel.CreateUnbounded<long>();
        var sums = Channel.CreateUnbounded<long>();
        scheduler.RegisterChannel(20, channel);
        scheduler.RegisterChannel(21, sums);

        var native = new List<(AcoCoroutineHandle Handle, long Expected)>();
        var managed = new List<ValueTask<long>>();
        var third = coroutines / 3;
        for (var i = 0; i < third; i++)
        {
            native.Add((scheduler.Spawn(Bodies.HoldData, i), Enumerable.Range(0, 32).Sum(k => (long)i * 31 + k)));
            native.Add((scheduler.Spawn(Bodies.CallUpper, 1), 5));
        }
        var consumer = scheduler.Spawn(Bodies.ChannelSum, 20);
        for (var i = 0; i < coroutines - 2 * third; i++)
        {
            var seed = i;
            managed.Add(scheduler.Spawn(async () =>
            {
                var held = Enumerable.Range(0, 16).Select(k => new string((char)('a' + k), seed % 7 + 1)).ToList();
                for (var round = 0; round < 10; round++)
                {
                    await AcoScheduler.Yield();
                    if (round == 5)
                    {
                        await channel.Writer.WriteAsync(1);
                    }
                }
                return held.Sum(s => (long)s.Length) == 16 * (seed % 7 + 1) ? 1L : -1_000_000L;
            }));
        }
        using var allDone = new CancellationTokenSource();
        var collector = scheduler.Spawn(async () =>
        {
            // A compacting full collection every couple of milliseconds while everything runs.
            var rounds = 0;
            while (!allDone.IsCancellationRequested)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                rounds++;
                try
                {
                    await Task.Delay(2, allDone.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
            return rounds;
        });

        var ok = true;
        foreach (var (handle, expected) in native)
        {
            var result = handle.Completion.GetAwaiter().GetResult();
            ok &= result == expected;
        }
        var managedOk = Task.WhenAll(managed.Select(m => m.AsTask())).GetAwaiter().GetResult().All(r => r == 1);
        channel.Writer.Complete();
        var total = consumer.Completion.GetAwaiter().GetResult();
        allDone.Cancel();
        var rounds = collector.GetAwaiter().GetResult();
        scheduler.StopAsync().GetAwaiter().GetResult();
        stopAllocating.Cancel();
        allocator.Join();
        var expectedTotal = coroutines - 2 * third;
        Console.WriteLine($"native ok: {ok}, managed ok: {managedOk}, channel total {total}/{expectedTotal}, {rounds} collector rounds, gen2 collections {GC.CollectionCount(2)}, {sw.Elapsed.TotalSeconds:F1} s");
        if (!ok || !managedOk || total != expectedTotal)
        {
            return 1;
        }
        Console.WriteLine("torture: ok");
        return 0;
    }
}
