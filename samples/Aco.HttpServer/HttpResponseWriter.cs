namespace Aco.HttpServer;

/// <summary>
/// Writes whole responses into a send buffer: status line, <c>Server</c>, <c>Date</c>, <c>Content-Type</c> (with
/// a body), <c>Content-Length</c>, <c>Connection</c> when it says something the client would not assume.
/// </summary>
internal static class HttpResponseWriter
{
    /// <summary>The most bytes one response takes (the largest is a 431 with a Connection line; bodies are short).</summary>
    public const int MaxResponseBytes = 512;

    /// <summary>Writes the response to a valid request; returns its status code.</summary>
    public static int WriteAnswer(Span<byte> destination, in HttpRequestHead request, bool close, ReadOnlySpan<byte> dateLine, out int written)
    {
        var connection = close ? CloseLine : request.IsHttp10 ? KeepAliveLine : [];
        switch (request.Route)
        {
            case HttpRoute.Plaintext:
                written = Write(destination, 200, "Content-Type: text/plain\r\n"u8, "Hello, World!"u8, dateLine, connection);
                return 200;
            case HttpRoute.Json:
                written = Write(destination, 200, "Content-Type: application/json\r\n"u8, HelloJson.Serialize(), dateLine, connection);
                return 200;
            default:
                written = Write(destination, 404, [], [], dateLine, connection);
                return 404;
        }
    }

    /// <summary>Writes an empty response with <paramref name="statusCode"/> and <c>Connection: close</c>.</summary>
    public static int WriteRefusal(Span<byte> destination, int statusCode, ReadOnlySpan<byte> dateLine) =>
        Write(destination, statusCode, [], [], dateLine, CloseLine);

    private static ReadOnlySpan<byte> CloseLine => "Connection: close\r\n"u8;

    // HTTP/1.0 closes by default: a kept connection says so.
    private static ReadOnlySpan<byte> KeepAliveLine => "Connection: keep-alive\r\n"u8;

    private static int Write(Span<byte> destination, int statusCode, ReadOnlySpan<byte> contentTypeLine, ReadOnlySpan<byte> body,
        ReadOnlySpan<byte> dateLine, ReadOnlySpan<byte> connectionLine)
    {
        var n = Append(destination, StatusAndServerLines(statusCode));
        n += Append(destination[n..], dateLine);
        n += Append(destination[n..], contentTypeLine);
        n += Append(destination[n..], "Content-Length: "u8);
        body.Length.TryFormat(destination[n..], out var digits);
        n += digits;
        n += Append(destination[n..], "\r\n"u8);
        n += Append(destination[n..], connectionLine);
        n += Append(destination[n..], "\r\n"u8);
        n += Append(destination[n..], body);
        return n;
    }

    private static ReadOnlySpan<byte> StatusAndServerLines(int statusCode) => statusCode switch
    {
        200 => "HTTP/1.1 200 OK\r\nServer: aco\r\n"u8,
        400 => "HTTP/1.1 400 Bad Request\r\nServer: aco\r\n"u8,
        404 => "HTTP/1.1 404 Not Found\r\nServer: aco\r\n"u8,
        408 => "HTTP/1.1 408 Request Timeout\r\nServer: aco\r\n"u8,
        413 => "HTTP/1.1 413 Content Too Large\r\nServer: aco\r\n"u8,
        431 => "HTTP/1.1 431 Request Header Fields Too Large\r\nServer: aco\r\n"u8,
        501 => "HTTP/1.1 501 Not Implemented\r\nServer: aco\r\n"u8,
        _ => throw new ArgumentOutOfRangeException(nameof(statusCode), statusCode, "No response is defined for this status."),
    };

    private static int Append(Span<byte> destination, ReadOnlySpan<byte> source)
    {
        source.CopyTo(destination);
        return source.Length;
    }
}
