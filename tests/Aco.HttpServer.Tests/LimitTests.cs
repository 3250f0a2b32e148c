namespace Aco.HttpServer.Tests;

/// <summary>The limits: head size, body size, idle timeout, connection cap, what is not implemented.</summary>
public sealed class LimitTests
{
    /// <summary>A GET of /plaintext whose head is exactly <paramref name="headBytes"/> long, padded with a header line.</summary>
    private static string HeadOfLength(int headBytes)
    {
        var bare = RawHttpConnection.Get("/plaintext", "X-Pad: ");
        return RawHttpConnection.Get("/plaintext", "X-Pad: " + new string('p', headBytes - bare.Length));
    }

    [Theory]
    [InlineData("managed")]
    public async Task A_head_of_exactly_8192_bytes_is_answered(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        var head = HeadOfLength(8192);
        Assert.Equal(8192, head.Length);
        await client.SendAsync(head);
        Assert.Equal(200, (await client.ReadResponseAsync())!.StatusCode);
        // Again after a short request, so the long head starts in the middle of the server's buffer.
        await client.SendAsync(RawHttpConnection.Get("/json") + head);
        Assert.Equal(200, (await client.ReadResponseAsync())!.StatusCode);
        Assert.Equal("Hello, World!", (await client.ReadResponseAsync())!.Body);
    }

    [Theory]
    [InlineData("managed", 8193)]
    [InlineData("managed", 9 * 1024)]
    [InlineData("managed", 64 * 1024)]
    public async Task A_head_over_8192_bytes_gets_431_and_the_connection_closes(string mode, int headBytes)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        await client.SendAsync(HeadOfLength(headBytes));
        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 431 Request Header Fields Too Large", response!.StatusLine);
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(await client.EndsCleanlyAsync());
    }

    [Theory]
    [InlineData("managed")]
    public async Task A_request_line_longer_than_the_head_limit_gets_431(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        await client.SendAsync("GET /" + new string('a', 10_000) + " HTTP/1.1\r\nHost: t\r\n\r\n");
        Assert.Equal(431, (await client.ReadResponseAsync())!.StatusCode);
    }

    [Theory]
    [InlineData("managed")]
    public async Task The_head_limit_comes_from_the_options(string mode)
    {
        await using var server = await TestServer.StartAsync(mode, new() { ["HttpServer:MaxRequestHeadBytes"] = "100" });
        using var client = await server.ConnectAsync();
        await client.SendAsync(HeadOfLength(100));
        Assert.Equal(200, (await client.ReadResponseAsync())!.StatusCode);
        await client.SendAsync(HeadOfLength(101));
        Assert.Equal(431, (await client.ReadResponseAsync())!.StatusCode);
    }

    [Theory]
    [InlineData("managed")]
    public async Task A_body_over_1_MiB_gets_413_and_the_connection_closes(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        await client.SendAsync($"POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: {(1 << 20) + 1}\r\n\r\nsome of it");
        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 413 Content Too Large", response!.StatusLine);
        Assert.True(await client.EndsCleanlyAsync());
    }

    [Theory]
    [InlineData("managed", "Transfer-Encoding: chunked")]
    [InlineData("managed", "transfer-encoding: gzip, chunked")]
    public async Task Transfer_encoding_gets_501_and_the_connection_closes(string mode, string header)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        await client.SendAsync($"POST /plaintext HTTP/1.1\r\nHost: t\r\n{header}\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 501 Not Implemented", response!.StatusLine);
        Assert.True(await client.EndsCleanlyAsync());
    }

    [Theory]
    [InlineData("managed")]
    public async Task An_idle_connection_is_closed_after_the_idle_timeout(string mode)
    {
        await using var server = await TestServer.StartAsync(mode, new() { ["HttpServer:IdleTimeout"] = "00:00:00.300" });
        using var neverAsked = await server.ConnectAsync();
        // Many, so that a rare state (a wake-up with nothing to read) is met: idle is idle, closed without a 408.
        var asked = new RawHttpConnection[1000];
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, asked.Length), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
            {
                asked[i] = await server.ConnectAsync();
                Assert.Equal(200, (await asked[i].RequestAsync("/plaintext")).StatusCode);
                Assert.Equal(200, (await asked[i].RequestAsync("/plaintext")).StatusCode); // wakes a waiting connection
            });
            Assert.True(await neverAsked.ClosesWithoutResponseAsync()); // closed eventually (the read is bounded)
            for (var i = 0; i < asked.Length; i++)
            {
                Assert.True(await asked[i].ClosesWithoutResponseAsync(), $"connection {i} got bytes when it was closed for being idle");
            }
        }
        finally
        {
            Array.ForEach(asked, c => c?.Dispose());
        }
        await server.WaitForOpenConnectionsAsync(0);
    }

    [Theory]
    [InlineData("managed")]
    public async Task A_head_that_does_not_arrive_in_time_gets_408(string mode)
    {
        await using var server = await TestServer.StartAsync(mode, new() { ["HttpServer:IdleTimeout"] = "00:00:00.300" });
        using var client = await server.ConnectAsync();
        await client.SendAsync("GET /plaintext HTTP/1.1\r\nHo");
        var response = await client.ReadResponseAsync();
        Assert.Equal("HTTP/1.1 408 Request Timeout", response!.StatusLine);
        Assert.True(await client.ClosesWithoutResponseAsync());
    }

    [Theory]
    [InlineData("managed")]
    public async Task A_body_that_does_not_arrive_in_time_gets_408(string mode)
    {
        await using var server = await TestServer.StartAsync(mode, new() { ["HttpServer:IdleTimeout"] = "00:00:00.300" });
        using var client = await server.ConnectAsync();
        await client.SendAsync("POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly this");
        Assert.Equal(408, (await client.ReadResponseAsync())!.StatusCode);
        Assert.True(await client.ClosesWithoutResponseAsync());
    }

    [Theory]
    [InlineData("managed")]
    public async Task Connections_over_the_cap_are_closed_and_the_others_still_work(string mode)
    {
        await using var server = await TestServer.StartAsync(mode, new() { ["HttpServer:MaxConnections"] = "10" });
        var first = new List<RawHttpConnection>();
        var extra = new List<RawHttpConnection>();
        try
        {
            for (var i = 0; i < 10; i++)
            {
                first.Add(await server.ConnectAsync());
                Assert.Equal(200, (await first[i].RequestAsync("/plaintext")).StatusCode); // answered: accepted and counted
            }
            for (var i = 0; i < 10; i++)
            {
                extra.Add(await server.ConnectAsync());
            }
            foreach (var connection in extra)
            {
                Assert.True(await connection.ClosesWithoutResponseAsync());
            }
            await Eventually.HoldsAsync(() => server.Rejected() == 10, () => $"rejected: {server.Rejected()}");
            foreach (var connection in first)
            {
                Assert.Equal(200, (await connection.RequestAsync("/json")).StatusCode);
            }
            Assert.Equal(10, server.OpenConnections());
        }
        finally
        {
            first.Concat(extra).ToList().ForEach(c => c.Dispose());
        }
        // Once some close, new connections are accepted again.
        await server.WaitForOpenConnectionsAsync(0);
        using var later = await server.ConnectAsync();
        Assert.Equal(200, (await later.RequestAsync("/plaintext")).StatusCode);
    }
}
