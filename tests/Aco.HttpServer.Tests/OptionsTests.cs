using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Aco.HttpServer.Tests;

/// <summary>The server's options: validated at start, and what they change.</summary>
public sealed class OptionsTests
{
    [Theory]
    [InlineData("managed", "MaxConnections", "0")]
    [InlineData("native", "MaxConnections", "0")]
    [InlineData("managed", "IdleTimeout", "00:00:00")]
    [InlineData("native", "IdleTimeout", "00:00:00")]
    [InlineData("managed", "MaxRequestHeadBytes", "10")]
    [InlineData("native", "MaxRequestHeadBytes", "10")]
    [InlineData("managed", "Port", "70000")]
    [InlineData("native", "Port", "70000")]
    [InlineData("managed", "Address", "localhost")]
    [InlineData("native", "Address", "localhost")]
    public async Task A_bad_option_stops_the_host_at_start_naming_the_key(string mode, string key, string value)
    {
        using var host = TestServer.Build(mode, new() { [$"HttpServer:{key}"] = value });
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync().WaitAsync(Bounds.Wait));
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task One_listener_per_scheduler_serves_every_connection(string mode)
    {
        await using var server = await TestServer.StartAsync(mode, new() { ["HttpServer:ListenerPerScheduler"] = "true" });
        var clients = new List<RawHttpConnection>();
        try
        {
            for (var i = 0; i < 100; i++)
            {
                clients.Add(await server.ConnectAsync());
                Assert.Equal(200, (await clients[i].RequestAsync("/plaintext")).StatusCode);
            }
            Assert.Equal(100, server.OpenConnections());
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
        await server.WaitForOpenConnectionsAsync(0);
    }
}
