using System.Text;
using System.Text.RegularExpressions;

namespace Aco.HttpServer.Tests;

/// <summary>The two modes answer the same bytes (the <c>Date</c> line aside).</summary>
public sealed partial class ModeParityTests
{
    /// <summary>What a client sends on one connection before ending its side; each ends with a close or a refusal.</summary>
    private static readonly string[] s_exchanges =
    [
        RawHttpConnection.Get("/plaintext") + RawHttpConnection.Get("/json") + RawHttpConnection.Get("/missing")
            + "GET /json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + RawHttpConnection.Get("/plaintext", "Connection: close"),
        "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nHELLO" + "GET /plaintext HTTP/1.0\r\n\r\n",
        RawHttpConnection.Get("/json") + "BAD REQUEST LINE\r\n\r\n",
        RawHttpConnection.Get("/plaintext", "X-Pad: " + new string('p', 9000)),
        "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 1048577\r\n\r\n",
        "POST /plaintext HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        RawHttpConnection.Get("/plaintext"), // answered, then the client's end closes the connection
    ];

    [Fact]
    public async Task Native_and_managed_answer_the_same_bytes_but_the_date()
    {
        await using var managed = await TestServer.StartAsync("managed");
        await using var native = await TestServer.StartAsync("native");
        foreach (var exchange in s_exchanges)
        {
            var fromManaged = await ExchangeAsync(managed, exchange);
            var fromNative = await ExchangeAsync(native, exchange);
            Assert.Equal(fromManaged, fromNative);
            Assert.StartsWith("HTTP/1.1 ", fromNative, StringComparison.Ordinal);
        }
    }

    private static async Task<string> ExchangeAsync(TestServer server, string request)
    {
        using var client = await server.ConnectAsync();
        await client.SendAsync(request);
        client.ShutdownSend();
        var answer = Encoding.Latin1.GetString(await client.ReadToCloseAsync());
        return DateLine().Replace(answer, "Date: (date)\r\n");
    }

    [GeneratedRegex("Date: [^\r]*\r\n")]
    private static partial Regex DateLine();
}
