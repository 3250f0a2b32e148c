using System.Globalization;

namespace Aco.HttpServer.Tests;

/// <summary>What the server answers to valid requests: bodies, status codes and header lines.</summary>
public sealed class ResponseTests
{
    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Plaintext_answers_hello_world_as_text_plain(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        var response = await client.RequestAsync("/plaintext");
        Assert.Equal("HTTP/1.1 200 OK", response.StatusLine);
        Assert.Equal("text/plain", response.Header("Content-Type"));
        Assert.Equal("Hello, World!", response.Body);
        Assert.Equal("13", response.Header("Content-Length"));
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Json_answers_the_message_serialized_as_application_json(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        var response = await client.RequestAsync("/json");
        Assert.Equal(200, response.StatusCode);
        Assert.Equal("application/json", response.Header("Content-Type"));
        Assert.Equal("""{"message":"Hello, World!"}""", response.Body);
        Assert.Equal("27", response.Header("Content-Length"));
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Every_response_has_Server_Date_and_Content_Length(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        foreach (var path in new[] { "/plaintext", "/json", "/missing" })
        {
            var response = await client.RequestAsync(path);
            Assert.Equal("aco", response.Header("Server"));
            Assert.True(DateTimeOffset.TryParseExact(response.Header("Date"), "r", CultureInfo.InvariantCulture, DateTimeStyles.None, out _),
                $"Date is not in RFC 1123 format: '{response.Header("Date")}'");
            Assert.Equal(response.Body.Length.ToString(CultureInfo.InvariantCulture), response.Header("Content-Length"));
            Assert.Null(response.Header("Connection")); // HTTP/1.1 keeps the connection without saying so
        }
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Other_paths_and_methods_get_404_and_keep_the_connection(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        Assert.Equal("HTTP/1.1 404 Not Found", (await client.RequestAsync("/")).StatusLine);
        Assert.Equal(404, (await client.RequestAsync("/plaintext?x=1")).StatusCode);
        Assert.Equal(404, (await client.RequestAsync("/PLAINTEXT")).StatusCode);
        await client.SendAsync("POST /plaintext HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nabc");
        Assert.Equal(404, (await client.ReadResponseAsync())!.StatusCode);
        Assert.Equal(200, (await client.RequestAsync("/plaintext")).StatusCode);
    }

    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task The_requests_metric_counts_responses_by_status_code(string mode)
    {
        await using var server = await TestServer.StartAsync(mode);
        using var client = await server.ConnectAsync();
        await client.RequestAsync("/plaintext");
        await client.RequestAsync("/json");
        await client.RequestAsync("/nothing");
        using var bad = await server.ConnectAsync();
        await bad.SendAsync("nonsense\r\n\r\n");
        Assert.Equal(400, (await bad.ReadResponseAsync())!.StatusCode);
        Assert.Equal(2, server.Requests(200));
        Assert.Equal(1, server.Requests(404));
        Assert.Equal(1, server.Requests(400));
    }
}
