using System.Threading.Channels;
using Aco.Core;
using Aco.Scheduling;

namespace AcoWorker1.Tests;

/// <summary>The C body of native/bodies.c, run on a scheduler of its own.</summary>
public sealed class JobTests
{
    [Fact]
    public async Task A_job_finishes_with_its_number_doubled_by_the_handler_and_sends_it()
    {
        await using var scheduler = new AcoScheduler();
        var sent = Channel.CreateUnbounded<long>();
        scheduler.RegisterHandler(1, Bodies.Double);
        scheduler.RegisterChannel(1, sent);
        scheduler.Start();

        var job = AcoEntryPoint.FromExport(AcoNativeLibrary.LoadBodies(Bodies.DefaultLibrary), "job");
        long result = await scheduler.Spawn(job, 21).Completion.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(42, result);
        Assert.True(sent.Reader.TryRead(out var value));
        Assert.Equal(42, value);
    }
}
