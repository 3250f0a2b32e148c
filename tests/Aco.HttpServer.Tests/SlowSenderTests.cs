using System.Text;

namespace Aco.HttpServer.Tests;

/// <summary>Requests that arrive in pieces are answered as if they had arrived at once.</summary>
public sealed class SlowSenderTests
{
    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task A_request_sent_byte_by_byte_is_answered(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        var request = Encoding.ASCII.GetBytes(RawHttpConnection.Get("/json", "X-Long: " + new string('v', 300)));
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < request.Length; i++)
            {
                await client.SendAsync(request.AsMemory(i, 1)); // one segment each (no delay on the client socket)
                await Task.Yield();
            }
            Assert.Equal("""{"message":"Hello, World!"}""", (await client.ReadResponseAsync())!.Body);
        }
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Pipelined_requests_split_at_every_byte_are_answered_in_order(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        var requests = Encoding.ASCII.GetBytes(RawHttpConnection.Get("/plaintext") + "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody" + RawHttpConnection.Get("/json"));
        for (var split = 1; split < requests.Length; split++)
        {
            await client.SendAsync(requests.AsMemory(0, split));
            await Task.Yield();
            await client.SendAsync(requests.AsMemory(split));
            Assert.Equal(200, (await client.ReadResponseAsync())!.StatusCode);
            Assert.Equal(404, (await client.ReadResponseAsync())!.StatusCode);
            Assert.Equal("""{"message":"Hello, World!"}""", (await client.ReadResponseAsync())!.Body);
        }
    }
}
