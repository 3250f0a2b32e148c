using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Aco.HttpServer.Tests;

/// <summary>
/// Whatever a client sends, the server answers with well-formed responses or closes, never crashes, hangs or
/// leaks a connection. Cases come from a seeded <see cref="Random"/>: a failure prints the seed and the case
/// (set ACO_HTTP_FUZZ_SEED to run that seed again).
/// </summary>
public sealed class FuzzTests
{
    private const int Cases = 10_000;
    private const int Clients = 32;

    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task Random_requests_get_well_formed_responses_or_a_close_and_leave_nothing_open(string mode)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("ACO_HTTP_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next();
        await using var server = await TestServer.StartAsync(mode, new() { ["HttpServer:IdleTimeout"] = "00:00:05" });
        var failures = new ConcurrentQueue<string>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < Cases && failures.IsEmpty)
            {
                var payload = Payload(new Random(HashCode.Combine(seed, i)));
                var error = await SendAndCheckAsync(server, payload);
                if (error is not null)
                {
                    failures.Enqueue($"seed {seed}, case {i}: {error}\npayload: {Escape(payload)}");
                }
            }
        })));
        Assert.True(failures.IsEmpty, string.Join("\n\n", failures.Take(3)));
        foreach (var status in new[] { 200, 400, 404, 413, 431, 501 })
        {
            Assert.True(server.Requests(status) > 0, $"seed {seed}: no case was answered with {status}; the cases do not cover what they should");
        }

        using var client = await server.ConnectAsync();
        Assert.Equal(200, (await client.RequestAsync("/plaintext")).StatusCode);
        client.Dispose();
        await server.WaitForOpenConnectionsAsync(0);
        Assert.Empty(server.Errors());
    }

    /// <summary>Sends the payload on a new connection, ends the sending side and checks everything the server sends back.</summary>
    private static async Task<string?> SendAndCheckAsync(TestServer server, byte[] payload)
    {
        using var client = await server.ConnectAsync();
        try
        {
            await client.SendAsync(payload);
            client.ShutdownSend();
        }
        catch (SocketException)
        {
            // The server refused and closed before taking all of it: what it sent is still checked.
        }
        var received = await client.ReadToCloseAsync();
        return CheckResponses(received);
    }

    /// <summary>Null if <paramref name="received"/> is a sequence of complete responses (possibly none), else what is wrong.</summary>
    private static string? CheckResponses(byte[] received)
    {
        var rest = received.AsSpan();
        while (!rest.IsEmpty)
        {
            var headEnd = rest.IndexOf("\r\n\r\n"u8);
            if (headEnd < 0)
            {
                return $"a response cut short: {Escape(rest.ToArray())}";
            }
            var head = Encoding.Latin1.GetString(rest[..headEnd]);
            if (head.Length < 12 || !head.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || !head[9..12].All(char.IsAsciiDigit) || head[12] != ' ')
            {
                return $"not a status line: {head.Split("\r\n")[0]}";
            }
            var lengths = head.Split("\r\n").Where(l => l.StartsWith("Content-Length: ", StringComparison.Ordinal)).ToList();
            if (lengths.Count != 1 || !int.TryParse(lengths[0].AsSpan(16), NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            {
                return $"no single valid Content-Length in: {head}";
            }
            if (rest.Length - headEnd - 4 < length)
            {
                return $"a body cut short: {head}";
            }
            rest = rest[(headEnd + 4 + length)..];
        }
        return null;
    }

    /// <summary>One to three fragments, each a request of some kind: valid, damaged, random.</summary>
    private static byte[] Payload(Random random)
    {
        var payload = new List<byte>();
        var fragments = random.Next(1, 4);
        for (var f = 0; f < fragments; f++)
        {
            payload.AddRange(Fragment(random));
        }
        return [.. payload];
    }

    private static byte[] Fragment(Random random)
    {
        var valid = Encoding.Latin1.GetBytes(ValidRequest(random));
        switch (random.Next(10))
        {
            case 0:
                return valid;
            case 1: // random bytes
                return RandomBytes(random, random.Next(1, 300), 0, 256);
            case 2: // printable soup with line ends and separators
                return Encoding.Latin1.GetBytes(Soup(random, random.Next(1, 400)));
            case 3: // truncated
                return valid[..random.Next(1, valid.Length)];
            case 4: // damaged: a few bytes replaced
                for (var k = random.Next(1, 4); k > 0; k--)
                {
                    valid[random.Next(valid.Length)] = (byte)random.Next(256);
                }
                return valid;
            case 5: // a huge request line or header line
                var huge = new string((char)random.Next('a', 'z' + 1), random.Next(4_000, 20_000));
                return Encoding.Latin1.GetBytes(random.Next(2) == 0
                    ? $"GET /{huge} HTTP/1.1\r\nHost: t\r\n\r\n"
                    : $"GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Huge: {huge}\r\n\r\n");
            case 6: // random header soup after a valid request line
                var soup = new StringBuilder("GET /json HTTP/1.1\r\nHost: t\r\n");
                for (var k = random.Next(0, 20); k > 0; k--)
                {
                    soup.Append(Soup(random, random.Next(0, 40))).Append(random.Next(3) == 0 ? ":" : ": ").Append(Soup(random, random.Next(0, 60))).Append("\r\n");
                }
                return Encoding.Latin1.GetBytes(soup.Append("\r\n").ToString());
            case 7: // Content-Length, right or wrong, with a body of some length
                string[] lengths = ["0", "5", "-1", "+5", "99999999999999999999999", "1048576", "1048577", "5, 5", " 7 ", "0x10", "", "3\r\nContent-Length: 3"];
                return Encoding.Latin1.GetBytes($"POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: {lengths[random.Next(lengths.Length)]}\r\n\r\n{Soup(random, random.Next(0, 20))}");
            case 8: // Transfer-Encoding
                return Encoding.Latin1.GetBytes("POST /plaintext HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
            default: // many small header lines
                var many = new StringBuilder("GET /plaintext HTTP/1.1\r\nHost: t\r\n");
                for (var k = random.Next(50, 1_000); k > 0; k--)
                {
                    many.Append(CultureInfo.InvariantCulture, $"X-{k}: {k}\r\n");
                }
                return Encoding.Latin1.GetBytes(many.Append("\r\n").ToString());
        }
    }

    private static string ValidRequest(Random random)
    {
        string[] paths = ["/plaintext", "/json", "/", "/nothing/here"];
        var path = paths[random.Next(paths.Length)];
        return random.Next(4) switch
        {
            0 => $"GET {path} HTTP/1.0\r\n\r\n",
            1 => $"GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
            _ => $"GET {path} HTTP/1.1\r\nHost: t\r\nAccept: */*\r\n\r\n",
        };
    }

    private static string Soup(Random random, int length)
    {
        const string alphabet = "abcXYZ019 :\t\r\n,;=/\\\"()<>@?{}[]\u0000\u0001\u007f\u0080\u00ff-_.~";
        return new string(Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
    }

    private static byte[] RandomBytes(Random random, int length, int min, int max) =>
        Enumerable.Range(0, length).Select(_ => (byte)random.Next(min, max)).ToArray();

    private static string Escape(byte[] bytes)
    {
        var text = Encoding.Latin1.GetString(bytes, 0, Math.Min(bytes.Length, 300));
        return string.Concat(text.Select(c => c is >= ' ' and < '\u007f' ? c.ToString() : $"\\x{(int)c:x2}")) + (bytes.Length > 300 ? $"... ({bytes.Length} bytes)" : "");
    }
}
