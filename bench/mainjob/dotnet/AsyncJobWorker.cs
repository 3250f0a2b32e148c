using System.Diagnostics;
using System.Threading.Channels;

namespace MainJobAsync;

/// <summary>How many jobs to run.</summary>
public sealed record JobSettings(long Count);

/// <summary>
/// Starts <see cref="JobSettings.Count"/> async jobs from one thread. Each sleeps and yields three times,
/// doubles its value and writes it to a channel that this service sums; the host stops when all are in.
/// </summary>
public sealed class AsyncJobWorker(JobSettings settings, IHostApplicationLifetime lifetime) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var count = settings.Count;
        var results = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
        var expected = ExpectedSum(count);

        var watch = Stopwatch.StartNew();
        var spawner = Task.Run(() =>
        {
            for (long i = 0; i < count && !stoppingToken.IsCancellationRequested; i++)
            {
                // Fire and forget: a job reports a failure by completing the channel with it.
                _ = RunJobAsync(i, results.Writer);
            }
        }, stoppingToken);

        long received = 0, sum = 0;
        try
        {
            while (received < count && await results.Reader.WaitToReadAsync(stoppingToken))
            {
                while (results.Reader.TryRead(out var value))
                {
                    received++;
                    sum += value;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        await spawner;
        var seconds = watch.Elapsed.TotalSeconds;
        Console.WriteLine($"summary: {received:N0} async jobs finished in {seconds:F1} s ({received / seconds:N0}/s), " +
            $"sum {sum:N0} ({(sum == expected ? "correct" : $"expected {expected:N0}")}), " +
            $"peak RSS {Process.GetCurrentProcess().PeakWorkingSet64 / (1024 * 1024):N0} MiB");
        lifetime.StopApplication();
    }

    /// <summary>One job: what samples/native worker_job does, as an async method.</summary>
    /// <remarks>
    /// The delays take no token: a cancellable delay holds a registration with the token's source while
    /// it waits, a million of them at once here, which costs about 40% in wall time (README.md).
    /// On stop the process ends with the reader.
    /// </remarks>
    private static async Task RunJobAsync(long job, ChannelWriter<long> results)
    {
        try
        {
            for (var i = 0; i < 3; i++)
            {
                await Task.Delay(1 + (int)((job + i) % 3));
                await Task.Yield();
            }
            await results.WriteAsync(Double(job % 1000));
        }
        catch (Exception e)
        {
            results.TryComplete(e);
        }
    }

    /// <summary>The sample's managed handler, as a plain call.</summary>
    private static long Double(long value) => value * 2;

    /// <summary>The sum of 2 * (job % 1000) over jobs 0..count-1.</summary>
    private static long ExpectedSum(long count)
    {
        long rest = count % 1000;
        return 999L * 1000 * (count / 1000) + rest * (rest - 1);
    }
}
