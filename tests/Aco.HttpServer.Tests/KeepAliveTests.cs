using System.Text;

namespace Aco.HttpServer.Tests;

/// <summary>Connections: keep-alive by default, Connection: close, HTTP/1.0, pipelining.</summary>
public sealed class KeepAliveTests
{
    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Many_requests_on_one_connection_are_all_answered(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        for (var i = 0; i < 1000; i++)
        {
            var json = i % 2 == 1;
            var response = await client.RequestAsync(json ? "/json" : "/plaintext");
            Assert.Equal(200, response.StatusCode);
            Assert.Equal(json ? """{"message":"Hello, World!"}""" : "Hello, World!", response.Body);
        }
        Assert.Equal(1, server.OpenConnections());
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Pipelined_requests_in_one_write_are_answered_in_order(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        string[] paths = ["/plaintext", "/json", "/missing"];
        var batch = new StringBuilder();
        for (var i = 0; i < 100; i++)
        {
            batch.Append(RawHttpConnection.Get(paths[i % 3], $"X-Index: {i}"));
        }
        await client.SendAsync(batch.ToString());
        for (var i = 0; i < 100; i++)
        {
            var response = await client.ReadResponseAsync();
            Assert.NotNull(response);
            Assert.Equal(paths[i % 3] == "/missing" ? 404 : 200, response.StatusCode);
            Assert.Equal(paths[i % 3] switch { "/plaintext" => "Hello, World!", "/json" => """{"message":"Hello, World!"}""", _ => "" }, response.Body);
        }
        Assert.Equal(200, (await client.RequestAsync("/plaintext")).StatusCode);
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Connection_close_is_answered_then_the_connection_closes(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        var response = await client.RequestAsync("/plaintext", "Connection: close");
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("close", response.Header("Connection"));
        Assert.True(await client.ClosesWithoutResponseAsync());
        await server.WaitForOpenConnectionsAsync(0);
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Requests_pipelined_after_Connection_close_are_not_answered(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        await client.SendAsync(RawHttpConnection.Get("/json") + RawHttpConnection.Get("/plaintext", "Connection: Keep-Alive, CLOSE") + RawHttpConnection.Get("/json"));
        Assert.Equal("""{"message":"Hello, World!"}""", (await client.ReadResponseAsync())!.Body);
        Assert.Equal("close", (await client.ReadResponseAsync())!.Header("Connection"));
        Assert.True(await client.EndsCleanlyAsync());
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Http10_closes_after_the_response_unless_asked_to_keep_alive(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using (var client = await server.ConnectAsync())
        {
            await client.SendAsync("GET /plaintext HTTP/1.0\r\n\r\n");
            var response = await client.ReadResponseAsync();
            Assert.Equal("HTTP/1.1 200 OK", response!.StatusLine);
            Assert.Equal("close", response.Header("Connection"));
            Assert.True(await client.ClosesWithoutResponseAsync());
        }
        using (var client = await server.ConnectAsync())
        {
            for (var i = 0; i < 3; i++)
            {
                await client.SendAsync("GET /json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
                var response = await client.ReadResponseAsync();
                Assert.Equal(200, response!.StatusCode);
                Assert.Equal("keep-alive", response.Header("Connection"));
            }
        }
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task A_body_is_read_and_discarded_and_the_next_request_answered(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        // A small body pipelined with the next request, then a 1 MiB body (the largest allowed) in pieces.
        await client.SendAsync("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nHELLO" + RawHttpConnection.Get("/plaintext"));
        Assert.Equal(404, (await client.ReadResponseAsync())!.StatusCode);
        Assert.Equal("Hello, World!", (await client.ReadResponseAsync())!.Body);
        await client.SendAsync($"PUT /y HTTP/1.1\r\nHost: t\r\nContent-Length: {1 << 20}\r\n\r\n");
        var body = new byte[1 << 20];
        Array.Fill(body, (byte)'G'); // looks like the start of a request, which a body must never be taken for
        for (var offset = 0; offset < body.Length; offset += 100_000)
        {
            await client.SendAsync(body.AsMemory(offset, Math.Min(100_000, body.Length - offset)));
        }
        Assert.Equal(404, (await client.ReadResponseAsync())!.StatusCode);
        Assert.Equal(200, (await client.RequestAsync("/json")).StatusCode);
    }
}
