namespace Aco.HttpServer.Tests;

/// <summary>Graceful stop: stop accepting, answer what was fully received, close idle connections, end every coroutine.</summary>
public sealed class StopTests
{
    [Theory]
    [InlineData("managed")]
    public async Task Stopping_answers_requests_in_flight_closes_idle_connections_and_ends_every_coroutine(string mode)
    {
        var server = await TestServer.StartAsync(mode, new() { ["Aco:StopGracePeriod"] = "00:00:20" });
        var idle = new List<RawHttpConnection>();
        var inFlight = new List<RawHttpConnection>();
        try
        {
            for (var i = 0; i < 100; i++)
            {
                var connection = await server.ConnectAsync();
                if (i % 2 == 0)
                {
                    idle.Add(connection);
                    Assert.Equal(200, (await connection.RequestAsync("/plaintext")).StatusCode);
                }
                else
                {
                    // A request and the start of the next in one write: once the first is answered, the server
                    // holds the start of the second (one segment, read in one receive).
                    inFlight.Add(connection);
                    await connection.SendAsync(RawHttpConnection.Get("/json") + "GET /plaintext HTTP/1.1\r\nHost: t\r\n");
                    Assert.Equal(200, (await connection.ReadResponseAsync())!.StatusCode);
                }
            }
            var pool = server.Pool;
            var stopping = server.StopAsync();
            foreach (var connection in idle)
            {
                Assert.True(await connection.ClosesWithoutResponseAsync());
            }
            foreach (var connection in inFlight)
            {
                await connection.SendAsync("\r\n");
                var response = await connection.ReadResponseAsync();
                Assert.Equal("Hello, World!", response?.Body);
                Assert.True(await connection.ClosesWithoutResponseAsync());
            }
            await stopping;
            Assert.Equal(0, server.OpenConnections());
            Assert.Equal(0, pool.Schedulers.Sum(s => s.Counters.LiveManaged + s.Counters.LiveNative));
            Assert.Empty(server.Logged(6)); // nothing was left for the deadline
            await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(server.ConnectAsync); // nobody listens any more
        }
        finally
        {
            idle.Concat(inFlight).ToList().ForEach(c => c.Dispose());
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
