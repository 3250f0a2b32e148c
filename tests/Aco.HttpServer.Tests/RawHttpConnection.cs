using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Aco.HttpServer.Tests;

/// <summary>
/// A client connection that sends exactly the bytes a test gives it and reads responses strictly (status line,
/// header lines, a body of <c>Content-Length</c> bytes). Every read is bounded by <see cref="Bounds.Wait"/>.
/// </summary>
internal sealed class RawHttpConnection : IDisposable
{
    private readonly Socket _socket;
    private byte[] _buffer = new byte[1024]; // grows as needed: tests hold 10,000 of these
    private int _start; // received and not yet read: _buffer[_start.._end]
    private int _end;
    private bool _closed;
    private bool _reset;

    private RawHttpConnection(Socket socket) => _socket = socket;

    public static async Task<RawHttpConnection> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var deadline = new CancellationTokenSource(Bounds.Wait);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), deadline.Token);
            return new RawHttpConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A plain GET of <paramref name="path"/> in HTTP/1.1, with extra header lines if given.</summary>
    public static string Get(string path, params string[] headers) =>
        $"GET {path} HTTP/1.1\r\nHost: test\r\n{string.Concat(headers.Select(h => h + "\r\n"))}\r\n";

    /// <summary>Sends <paramref name="text"/> byte for char (Latin-1: any byte value can be written as a char).</summary>
    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        using var deadline = new CancellationTokenSource(Bounds.Wait);
        while (!bytes.IsEmpty)
        {
            var sent = await _socket.SendAsync(bytes, SocketFlags.None, deadline.Token);
            bytes = bytes[sent..];
        }
    }

    /// <summary>Ends the sending side: the server reads the end after what was sent.</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>Sends a GET of <paramref name="path"/> and reads its response.</summary>
    public async Task<HttpTestResponse> RequestAsync(string path, params string[] headers)
    {
        await SendAsync(Get(path, headers));
        return await ReadResponseAsync() ?? throw new Xunit.Sdk.XunitException($"the server closed the connection instead of answering GET {path}");
    }

    /// <summary>
    /// Reads the next response; null if the server closed the connection (or reset it) before one began. A
    /// response cut short, or bytes that are not a response, fail the test.
    /// </summary>
    public async Task<HttpTestResponse?> ReadResponseAsync()
    {
        int headEnd;
        while ((headEnd = Received.IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (!await ReceiveMoreAsync())
            {
                if (_end == _start)
                {
                    return null;
                }
                throw new Xunit.Sdk.XunitException($"the connection closed in the middle of a response head: {Encoding.Latin1.GetString(Received)}");
            }
        }
        var lines = Encoding.Latin1.GetString(Received[..headEnd]).Split("\r\n");
        var statusLine = lines[0];
        if (!statusLine.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || statusLine.Length < 12
            || !int.TryParse(statusLine.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var statusCode))
        {
            throw new Xunit.Sdk.XunitException($"not a status line: '{statusLine}'");
        }
        var headers = lines.Skip(1).Select(line =>
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            Assert.True(colon > 0, $"not a header line: '{line}'");
            return new KeyValuePair<string, string>(line[..colon], line[(colon + 1)..].Trim());
        }).ToList();
        _start += headEnd + 4;
        var lengths = headers.Where(h => h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(lengths.Count == 1, $"a response needs exactly one Content-Length: {statusLine}");
        var length = int.Parse(lengths[0].Value, NumberStyles.None, CultureInfo.InvariantCulture);
        while (_end - _start < length)
        {
            if (!await ReceiveMoreAsync())
            {
                throw new Xunit.Sdk.XunitException($"the connection closed in the middle of a body ({statusLine})");
            }
        }
        var body = Encoding.Latin1.GetString(_buffer, _start, length);
        _start += length;
        return new HttpTestResponse(statusLine, statusCode, headers, body);
    }

    /// <summary>Reads until the server closes the connection (or resets it); returns what arrived before the close.</summary>
    public async Task<byte[]> ReadToCloseAsync()
    {
        while (await ReceiveMoreAsync())
        {
        }
        var rest = Received.ToArray();
        _start = _end;
        return rest;
    }

    /// <summary>True if the server closes the connection (or resets it) without sending another byte.</summary>
    public async Task<bool> ClosesWithoutResponseAsync() => (await ReadToCloseAsync()).Length == 0;

    /// <summary>
    /// True if the server ends the connection without another byte and without a reset: it read what the client
    /// had sent (a reset can destroy a response the client has not read yet).
    /// </summary>
    public async Task<bool> EndsCleanlyAsync() => (await ReadToCloseAsync()).Length == 0 && !_reset;

    public void Dispose() => _socket.Dispose();

    private ReadOnlySpan<byte> Received => _buffer.AsSpan(_start, _end - _start);

    /// <summary>Receives more bytes; false at the connection's end (a reset counts as an end).</summary>
    private async Task<bool> ReceiveMoreAsync()
    {
        if (_closed)
        {
            return false;
        }
        if (_start > 0)
        {
            Received.CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
        using var deadline = new CancellationTokenSource(Bounds.Wait);
        int received;
        try
        {
            received = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, deadline.Token);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            received = 0;
            _reset = true;
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"nothing from the server for {Bounds.Wait.TotalSeconds:F0} s (neither bytes nor a close)");
        }
        _end += received;
        _closed = received == 0;
        return !_closed;
    }
}
