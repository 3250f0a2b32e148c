using System.Diagnostics;
using System.Threading.Channels;
using Aco.Core;
using Aco.Hosting;
using Microsoft.Extensions.Options;

namespace AcoWorker1;

/// <summary>Settings of the worker (section "Worker").</summary>
public sealed class WorkerOptions
{
    /// <summary>How many coroutines to run.</summary>
    public int Count { get; set; } = 100_000;

    /// <summary>The library of coroutine bodies; by default the one this project builds from native/*.c.</summary>
    public string BodiesLibrary { get; set; } = Bodies.DefaultLibrary;
}

/// <summary>The C bodies of native/bodies.c.</summary>
public static class Bodies
{
    /// <summary>lib&lt;assembly name&gt;.bodies.so: the file the AcoNativeBody items are compiled into.</summary>
    public static string DefaultLibrary => $"lib{typeof(Bodies).Assembly.GetName().Name}.bodies.so";

    /// <summary>The managed handler the bodies call (id 1): doubles a 64-bit value.</summary>
    public static int Double(ReadOnlySpan<byte> input, Span<byte> output) =>
        BitConverter.TryWriteBytes(output, BitConverter.ToInt64(input) * 2) ? sizeof(long) : 0;
}

/// <summary>Runs <see cref="WorkerOptions.Count"/> native coroutines, sums what they send, and stops the host.</summary>
public sealed partial class Worker(IAcoSchedulerPool pool, IOptions<WorkerOptions> options, ILogger<Worker> logger, IHostApplicationLifetime lifetime)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        nint bodies;
        try
        {
            // Binds every symbol now and checks the libaco.so it uses: a bad library is an exception here.
            bodies = AcoNativeLibrary.LoadBodies(settings.BodiesLibrary);
        }
        catch (Exception e) when (e is AcoBodiesLoadException or DllNotFoundException)
        {
            LogLoadFailed(e, settings.BodiesLibrary);
            Environment.ExitCode = 2;
            lifetime.StopApplication();
            return;
        }
        var job = AcoEntryPoint.FromExport(bodies, "job");

        var results = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
        pool.RegisterHandler(1, Bodies.Double);
        pool.RegisterChannel(1, results);

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < settings.Count; i++)
        {
            pool.SpawnDetached(job, i);          // no managed object per coroutine
        }
        long received = 0, sum = 0;
        while (received < settings.Count && await results.Reader.WaitToReadAsync(stoppingToken))
        {
            while (results.Reader.TryRead(out var value))
            {
                received++;
                sum += value;
            }
        }
        var expected = 2L * settings.Count * (settings.Count - 1) / 2;
        LogDone(received, watch.Elapsed.TotalSeconds, sum, sum == expected ? "correct" : $"expected {expected}");
        lifetime.StopApplication();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "done: {Count} coroutines in {Seconds:F2} s, sum {Sum} ({Check})")]
    private partial void LogDone(long count, double seconds, long sum, string check);

    [LoggerMessage(EventId = 2, Level = LogLevel.Critical, Message = "could not load the coroutine bodies {Library}")]
    private partial void LogLoadFailed(Exception exception, string library);
}
