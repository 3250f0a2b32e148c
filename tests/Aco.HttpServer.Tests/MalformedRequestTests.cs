namespace Aco.HttpServer.Tests;

/// <summary>Malformed requests get 400 and the connection closes; nothing before them is lost.</summary>
public sealed class MalformedRequestTests
{
    /// <summary>Each kind of malformed head, named.</summary>
    private static readonly (string Kind, string Request)[] s_malformed =
    [
        ("no version", "GET /plaintext\r\nHost: t\r\n\r\n"),
        ("no target", "GET HTTP/1.1\r\nHost: t\r\n\r\n"),
        ("two spaces", "GET  /plaintext HTTP/1.1\r\nHost: t\r\n\r\n"),
        ("a space in the target", "GET /plain text HTTP/1.1\r\nHost: t\r\n\r\n"),
        ("trailing space", "GET /plaintext HTTP/1.1 \r\nHost: t\r\n\r\n"),
        ("HTTP/1.2", "GET /plaintext HTTP/1.2\r\nHost: t\r\n\r\n"),
        ("HTTP/2.0", "GET /plaintext HTTP/2.0\r\nHost: t\r\n\r\n"),
        ("lower-case version", "GET /plaintext http/1.1\r\nHost: t\r\n\r\n"),
        ("a method with a bad character", "G@T /plaintext HTTP/1.1\r\nHost: t\r\n\r\n"),
        ("a control character in the target", "GET /plain\u0001text HTTP/1.1\r\nHost: t\r\n\r\n"),
        ("a non-ASCII byte in the target", "GET /pl\u00e4intext HTTP/1.1\r\nHost: t\r\n\r\n"),
        ("bare LF line ends", "GET /plaintext HTTP/1.1\nHost: t\n\n"),
        ("a bare LF after the request line", "GET /plaintext HTTP/1.1\r\nHost: t\n\r\n"),
        ("a bare CR in a header value", "GET /plaintext HTTP/1.1\r\nHost: t\rX\r\n\r\n"),
        ("a bare CR in the request line", "GET /plaintext\rHTTP/1.1\r\nHost: t\r\n\r\n"),
        ("a header line without a colon", "GET /plaintext HTTP/1.1\r\nHost: t\r\nNoColonHere\r\n\r\n"),
        ("a space before the colon", "GET /plaintext HTTP/1.1\r\nHost : t\r\n\r\n"),
        ("an empty header name", "GET /plaintext HTTP/1.1\r\nHost: t\r\n: value\r\n\r\n"),
        ("a folded header line", "GET /plaintext HTTP/1.1\r\nHost: t\r\nX-A: one\r\n two\r\n\r\n"),
        ("a NUL in a header value", "GET /plaintext HTTP/1.1\r\nHost: t\r\nX-A: a\u0000b\r\n\r\n"),
        ("a non-digit Content-Length", "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 12a\r\n\r\n"),
        ("a negative Content-Length", "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n"),
        ("a signed Content-Length", "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: +1\r\n\r\nx"),
        ("an empty Content-Length", "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: \r\n\r\n"),
        ("a Content-Length list", "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 1, 1\r\n\r\nx"),
        ("a duplicate Content-Length", "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\nx"),
        ("no Host in HTTP/1.1", "GET /plaintext HTTP/1.1\r\n\r\n"),
        ("two Host lines", "GET /plaintext HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
        ("random words", "hello world\r\n\r\n"),
    ];

    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Each_kind_of_malformed_request_gets_400_and_the_connection_closes(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        var failures = new List<string>();
        foreach (var (kind, request) in s_malformed)
        {
            using var client = await server.ConnectAsync();
            await client.SendAsync(request);
            var response = await client.ReadResponseAsync();
            if (response?.StatusCode != 400 || response.Header("Connection") != "close")
            {
                failures.Add($"{kind}: {response?.ToString() ?? "closed without a response"}");
            }
            else if (!await client.ClosesWithoutResponseAsync())
            {
                failures.Add($"{kind}: the connection stayed open after the 400");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        await server.WaitForOpenConnectionsAsync(0);
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Requests_before_a_malformed_one_are_answered_first(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        await client.SendAsync(RawHttpConnection.Get("/plaintext") + RawHttpConnection.Get("/json") + "BAD REQUEST LINE\r\n\r\n" + RawHttpConnection.Get("/plaintext"));
        Assert.Equal("Hello, World!", (await client.ReadResponseAsync())!.Body);
        Assert.Equal(200, (await client.ReadResponseAsync())!.StatusCode);
        Assert.Equal(400, (await client.ReadResponseAsync())!.StatusCode);
        Assert.True(await client.EndsCleanlyAsync()); // the bytes after the refused request were read, not reset
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Empty_lines_before_a_request_are_skipped_and_valid_variants_accepted(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        string[] accepted =
        [
            "\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n",                       // empty lines first
            "GET /plaintext HTTP/1.1\r\nhOsT:t\r\nX-Empty:\r\nX-Tab:\t v \t\r\n\r\n",    // any case, optional whitespace
            "GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Obs: caf\u00e9\r\n\r\n",             // obs-text in a value
            "GET /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
            "GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",                  // HTTP/1.0 needs no Host
        ];
        foreach (var request in accepted)
        {
            await client.SendAsync(request);
            var response = await client.ReadResponseAsync();
            Assert.True(response?.StatusCode == 200, $"{request.ReplaceLineEndings("|")} -> {response}");
        }
    }
}
