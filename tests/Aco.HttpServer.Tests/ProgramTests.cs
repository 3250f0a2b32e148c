namespace Aco.HttpServer.Tests;

/// <summary>The program as a user runs it: what it prints, how it stops.</summary>
public sealed class ProgramTests
{
    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task It_prints_one_listening_line_serves_and_stops_on_SIGTERM_with_a_report(string mode)
    {
        await using var server = await ChildServer.StartAsync(mode);
        using (var client = await RawHttpConnection.ConnectAsync(server.Port))
        {
            Assert.Equal(200, (await client.RequestAsync("/plaintext")).StatusCode);
            server.Terminate();
            Assert.True(await client.ClosesWithoutResponseAsync()); // idle: closed by the stop
        }
        var result = await server.ExitedAsync();
        Assert.True(result.ExitCode == 0, result.Output);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal([$"listening on http://127.0.0.1:{server.Port}/", "stopped: 0 connections open, 0 coroutines alive"], lines);
    }

    [Fact]
    public async Task A_bad_option_exits_with_a_message_naming_it()
    {
        var dll = typeof(ChildServer).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "AcoHttpServerDll").Value!;
        var result = await Aco.Tests.Shared.BoundedProcess.RunAsync(
            Aco.Tests.Shared.BoundedProcess.Start("dotnet", dll, "--managed", "--port", "0", "--HttpServer:MaxConnections=0"), Bounds.ChildProcess);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("MaxConnections", result.StandardError, StringComparison.Ordinal);
    }
}
