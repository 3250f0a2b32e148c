namespace Aco.HttpServer.Tests;

/// <summary>Graceful stop: stop accepting, answer what was fully received, close idle connections, end every coroutine.</summary>
public sealed class StopTests
{
    [Theory]
    [InlineData("managed")]
    public async Task Stopping_answers_requests_in_flight_closes_idle_connections_and_ends_every_coroutine(string mode)
    {
        // Many connections, so that rare states (a wake-up with nothing to read, a coroutine yielding when the stop
        // comes) are met in every run.
        const int Connections = 2000;
        var server = await TestServer.StartAsync(mode, new() { ["Aco:StopGracePeriod"] = "00:00:20" });
        var clients = new RawHttpConnection[Connections];
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, Connections), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
            {
                clients[i] = await server.ConnectAsync();
                if (i % 2 == 0)
                {
                    // Idle after two requests: the second wakes a connection that was waiting for it.
                    Assert.Equal(200, (await clients[i].RequestAsync("/plaintext")).StatusCode);
                    Assert.Equal(200, (await clients[i].RequestAsync("/plaintext")).StatusCode);
                }
                else
                {
                    // In flight: a request and the start of the next in one write. Once the first is answered, the
                    // server holds the start of the second (one segment, read in one receive).
                    await clients[i].SendAsync(RawHttpConnection.Get("/json") + "GET /plaintext HTTP/1.1\r\nHost: t\r\n");
                    Assert.Equal(200, (await clients[i].ReadResponseAsync())!.StatusCode);
                }
            });
            var pool = server.Pool;
            var stopping = server.StopAsync();
            await Parallel.ForEachAsync(Enumerable.Range(0, Connections), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
            {
                if (i % 2 == 1)
                {
                    await clients[i].SendAsync("\r\n");
                    var response = await clients[i].ReadResponseAsync();
                    Assert.True(response?.Body == "Hello, World!", $"connection {i}: the request in flight was not answered ({response})");
                }
                Assert.True(await clients[i].ClosesWithoutResponseAsync(), $"connection {i} got bytes after its last answer");
            });
            await stopping;
            Assert.Equal(0, server.OpenConnections());
            Assert.Equal(0, pool.Schedulers.Sum(s => s.Counters.LiveManaged + s.Counters.LiveNative));
            Assert.Empty(server.Logged(6)); // nothing was left for the deadline
            await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(server.ConnectAsync); // nobody listens any more
        }
        finally
        {
            Array.ForEach(clients, c => c?.Dispose());
            await server.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("managed")]
    public async Task At_the_stop_deadline_connections_still_open_are_closed(string mode)
    {
        var server = await TestServer.StartAsync(mode, new()
        {
            ["Aco:StopGracePeriod"] = "00:00:01",
            ["HttpServer:IdleTimeout"] = "01:00:00", // only the stop's deadline can end the slow request
        });
        try
        {
            using var slow = await server.ConnectAsync();
            await slow.SendAsync(RawHttpConnection.Get("/json") + "GET /plaintext HTTP/1.1\r\nHost");
            Assert.Equal(200, (await slow.ReadResponseAsync())!.StatusCode);
            var pool = server.Pool;
            await server.StopAsync();
            Assert.Null(await slow.ReadResponseAsync()); // closed without an answer: its request never arrived in full
            Assert.Single(server.Logged(6)); // closed at the deadline
            Assert.Equal(0, server.OpenConnections());
            Assert.Equal(0, pool.Schedulers.Sum(s => s.Counters.LiveManaged + s.Counters.LiveNative));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
