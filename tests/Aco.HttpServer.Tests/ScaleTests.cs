using System.Text;

namespace Aco.HttpServer.Tests;

/// <summary>
/// Ten thousand connections at once, against the program in a child process (each side then needs its own
/// 10,000 descriptors, not 20,000 in one process).
/// </summary>
public sealed class ScaleTests
{
    private const int Connections = 10_000;
    private const int DescriptorsNeeded = Connections + 1_000;
    private const string StopReport = "stopped: 0 connections open, 0 coroutines alive";

    [ManyDescriptorsTheory(DescriptorsNeeded)]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Ten_thousand_concurrent_connections_each_get_an_answer(string mode)
    {
        await using var server = await ChildServer.StartAsync(mode);
        var clients = new RawHttpConnection[Connections];
        try
        {
            await ForEachAsync(Connections, async i => clients[i] = await RawHttpConnection.ConnectAsync(server.Port));
            // All 10,000 are open now; each asks once.
            await ForEachAsync(Connections, async i =>
            {
                var response = await clients[i].RequestAsync(i % 2 == 0 ? "/plaintext" : "/json");
                Assert.Equal(200, response.StatusCode);
            });
        }
        finally
        {
            Array.ForEach(clients, c => c?.Dispose());
        }
        server.Terminate();
        var result = await server.ExitedAsync();
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(StopReport, result.StandardOutput, StringComparison.Ordinal);
    }

    [ManyDescriptorsTheory(DescriptorsNeeded)]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Stopping_with_ten_thousand_connections_answers_requests_in_flight_and_closes_every_connection(string mode)
    {
        await using var server = await ChildServer.StartAsync(mode, "--Aco:StopGracePeriod=00:00:10");
        var clients = new RawHttpConnection[Connections];
        var midRequest = new bool[Connections];
        try
        {
            await ForEachAsync(Connections, async i => clients[i] = await RawHttpConnection.ConnectAsync(server.Port));
            // A quarter is in the middle of a request: a request and the start of the next in one write. Once the
            // first is answered, the server holds the start of the second (one segment, read in one receive).
            // Another quarter has been answered and is idle; the rest never sent anything.
            await ForEachAsync(Connections, async i =>
            {
                if (i % 4 == 0)
                {
                    midRequest[i] = true;
                    await clients[i].SendAsync(RawHttpConnection.Get("/plaintext") + "GET /json HTTP/1.1\r\nHo");
                    Assert.Equal(200, (await clients[i].ReadResponseAsync())!.StatusCode);
                }
                else if (i % 4 == 1)
                {
                    Assert.Equal(200, (await clients[i].RequestAsync("/plaintext")).StatusCode);
                }
            });

            server.Terminate();
            var rest = Encoding.ASCII.GetBytes("st: t\r\n\r\n");
            await ForEachAsync(Connections, async i =>
            {
                if (midRequest[i])
                {
                    await clients[i].SendAsync(rest);
                    var response = await clients[i].ReadResponseAsync();
                    Assert.True(response?.Body == """{"message":"Hello, World!"}""", $"connection {i}: the request in flight was not answered ({response})");
                }
                Assert.True(await clients[i].ClosesWithoutResponseAsync(), $"connection {i} got bytes after its last answer");
            });
        }
        finally
        {
            Array.ForEach(clients, c => c?.Dispose());
        }
        var result = await server.ExitedAsync();
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains(StopReport, result.StandardOutput, StringComparison.Ordinal);
        // Everything closed within the drain, before the deadline's forced close (event 6) was needed.
        Assert.DoesNotContain("were still open at the stop deadline", result.StandardError, StringComparison.Ordinal);
    }

    /// <summary>Runs <paramref name="action"/> for 0..count-1, a few hundred at a time.</summary>
    private static Task ForEachAsync(int count, Func<int, Task> action) =>
        Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 256 }, async (i, _) => await action(i));
}
