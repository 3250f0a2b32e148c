using System.Buffers;
using System.Text;

namespace Aco.HttpServer;

/// <summary>
/// Reads HTTP/1.1 request heads (RFC 9112) from received bytes, in place: spans over the buffer, no strings.
/// </summary>
/// <remarks>
/// Strict framing: every line ends with CRLF; a bare LF or a bare CR anywhere in a head is a 400. Empty lines
/// (CRLF) before a request line are skipped, as RFC 9112 section 2.2 allows.
/// </remarks>
internal static class HttpRequestParser
{
    // tchar (RFC 9110 section 5.6.2): the bytes of a method or a header name.
    private static readonly SearchValues<byte> s_tokenBytes =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // Bytes a field value may not contain: controls other than HTAB, and DEL (obs-text, 0x80-0xFF, is allowed).
    private static readonly SearchValues<byte> s_invalidValueBytes = SearchValues.Create(
        [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
         0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, 0x7F]);

    /// <summary>
    /// Reads the request head at the start of <paramref name="buffered"/>.
    /// </summary>
    /// <param name="buffered">The bytes received and not yet consumed.</param>
    /// <param name="maxHeadBytes">The longest head allowed (request line to the empty line, both CRLFs included).</param>
    /// <param name="maxBodyBytes">The largest <c>Content-Length</c> allowed.</param>
    /// <param name="head">The head, when <see cref="HeadParseResult.Complete"/>.</param>
    /// <param name="consumed">
    /// Bytes to drop from the front: the head (with any empty lines before it) when complete; the empty lines
    /// before a head when incomplete; 0 otherwise.
    /// </param>
    public static HeadParseResult TryParse(ReadOnlySpan<byte> buffered, int maxHeadBytes, long maxBodyBytes, out HttpRequestHead head, out int consumed)
    {
        head = default;
        var skipped = 0;
        while (buffered.Length - skipped >= 2 && buffered[skipped] == '\r' && buffered[skipped + 1] == '\n')
        {
            skipped += 2;
        }
        consumed = skipped;
        var headEnd = FindHeadEnd(buffered, skipped);
        if (headEnd == BareLineFeed)
        {
            consumed = 0;
            return HeadParseResult.BadRequest;
        }
        if (headEnd == NotFound)
        {
            return buffered.Length - skipped >= maxHeadBytes ? Refuse(HeadParseResult.HeadTooLarge, out consumed) : HeadParseResult.Incomplete;
        }
        if (headEnd - skipped > maxHeadBytes)
        {
            return Refuse(HeadParseResult.HeadTooLarge, out consumed);
        }
        var result = ParseHead(buffered[skipped..headEnd], maxBodyBytes, out head);
        consumed = result == HeadParseResult.Complete ? headEnd : 0;
        return result;
    }

    /// <summary>The status code that refuses a request for <paramref name="result"/>.</summary>
    public static int StatusCodeOf(HeadParseResult result) => result switch
    {
        HeadParseResult.BadRequest => 400,
        HeadParseResult.HeadTooLarge => 431,
        HeadParseResult.BodyTooLarge => 413,
        HeadParseResult.TransferEncodingNotImplemented => 501,
        _ => throw new ArgumentOutOfRangeException(nameof(result), result, "Not a refusal."),
    };

    private const int NotFound = -1;
    private const int BareLineFeed = -2;

    private static HeadParseResult Refuse(HeadParseResult result, out int consumed)
    {
        consumed = 0;
        return result;
    }

    /// <summary>
    /// The index just past the head's closing CRLF CRLF, <see cref="NotFound"/>, or <see cref="BareLineFeed"/>
    /// when a line ends with LF alone (found as soon as it arrives, not once the head is complete).
    /// </summary>
    private static int FindHeadEnd(ReadOnlySpan<byte> buffered, int start)
    {
        var from = start;
        while (true)
        {
            var lf = buffered[from..].IndexOf((byte)'\n');
            if (lf < 0)
            {
                return NotFound;
            }
            lf += from;
            if (lf == start || buffered[lf - 1] != '\r')
            {
                return BareLineFeed;
            }
            // "\r\n\r\n" ends the head; the request line itself is never empty (skipped above).
            if (lf - start >= 3 && buffered[lf - 2] == '\n')
            {
                return lf + 1;
            }
            from = lf + 1;
        }
    }

    /// <summary>Parses a complete head: request line, header lines, the empty line (every line ends with CRLF).</summary>
    private static HeadParseResult ParseHead(ReadOnlySpan<byte> head, long maxBodyBytes, out HttpRequestHead result)
    {
        result = default;
        var lineEnd = head.IndexOf("\r\n"u8);
        if (!TryParseRequestLine(head[..lineEnd], out var route, out var isHttp10))
        {
            return HeadParseResult.BadRequest;
        }
        var fields = new FieldsSeen();
        var rest = head[(lineEnd + 2)..];
        while (true)
        {
            lineEnd = rest.IndexOf("\r\n"u8);
            if (lineEnd == 0)
            {
                break; // the empty line that ends the head
            }
            if (!TryParseFieldLine(rest[..lineEnd], ref fields))
            {
                return HeadParseResult.BadRequest;
            }
            rest = rest[(lineEnd + 2)..];
        }
        if (fields.Hosts > 1 || (!isHttp10 && fields.Hosts == 0))
        {
            return HeadParseResult.BadRequest; // RFC 9112 section 3.2: exactly one Host in HTTP/1.1, never two
        }
        if (fields.TransferEncoding)
        {
            return HeadParseResult.TransferEncodingNotImplemented;
        }
        if (fields.ContentLength > maxBodyBytes)
        {
            return HeadParseResult.BodyTooLarge;
        }
        var keepAlive = isHttp10 ? fields.KeepAlive && !fields.Close : !fields.Close;
        result = new HttpRequestHead(route, isHttp10, keepAlive, Math.Max(fields.ContentLength, 0));
        return HeadParseResult.Complete;
    }

    /// <summary>method SP request-target SP HTTP-version, single spaces, HTTP/1.0 or HTTP/1.1.</summary>
    private static bool TryParseRequestLine(ReadOnlySpan<byte> line, out HttpRoute route, out bool isHttp10)
    {
        route = HttpRoute.NotFound;
        isHttp10 = false;
        var space = line.IndexOf((byte)' ');
        if (space <= 0 || !IsToken(line[..space]))
        {
            return false;
        }
        var method = line[..space];
        line = line[(space + 1)..];
        space = line.IndexOf((byte)' ');
        if (space <= 0)
        {
            return false;
        }
        var target = line[..space];
        if (target.IndexOfAnyExceptInRange((byte)0x21, (byte)0x7E) >= 0)
        {
            return false; // a target is visible ASCII only
        }
        var version = line[(space + 1)..];
        if (version.SequenceEqual("HTTP/1.1"u8))
        {
            isHttp10 = false;
        }
        else if (version.SequenceEqual("HTTP/1.0"u8))
        {
            isHttp10 = true;
        }
        else
        {
            return false;
        }
        if (method.SequenceEqual("GET"u8))
        {
            route = target.SequenceEqual("/plaintext"u8) ? HttpRoute.Plaintext
                : target.SequenceEqual("/json"u8) ? HttpRoute.Json
                : HttpRoute.NotFound;
        }
        return true;
    }

    /// <summary>field-name ":" OWS field-value OWS; notes the fields that frame the message or the connection.</summary>
    private static bool TryParseFieldLine(ReadOnlySpan<byte> line, ref FieldsSeen fields)
    {
        var colon = line.IndexOf((byte)':');
        if (colon <= 0 || !IsToken(line[..colon]))
        {
            return false; // also a line folded onto the previous one (it starts with a space): obsolete, refused
        }
        var name = line[..colon];
        var value = TrimWhitespace(line[(colon + 1)..]);
        if (value.ContainsAny(s_invalidValueBytes))
        {
            return false;
        }
        if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
        {
            return TryParseContentLength(value, ref fields);
        }
        if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
        {
            fields.TransferEncoding = true;
        }
        else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
        {
            ReadConnectionOptions(value, ref fields);
        }
        else if (Ascii.EqualsIgnoreCase(name, "Host"u8))
        {
            fields.Hosts++;
        }
        return true;
    }

    /// <summary>Digits only (no sign, no list), and only once.</summary>
    private static bool TryParseContentLength(ReadOnlySpan<byte> value, ref FieldsSeen fields)
    {
        if (fields.ContentLength >= 0 || value.IsEmpty || value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
        {
            return false;
        }
        long length = 0;
        foreach (var digit in value)
        {
            length = length * 10 + (digit - '0');
            if (length > 1L << 40)
            {
                break; // over any limit; stop before it could overflow
            }
        }
        fields.ContentLength = length;
        return true;
    }

    /// <summary>Comma-separated connection options; <c>close</c> and <c>keep-alive</c> matter, in any case.</summary>
    private static void ReadConnectionOptions(ReadOnlySpan<byte> value, ref FieldsSeen fields)
    {
        foreach (var range in value.Split((byte)','))
        {
            var option = TrimWhitespace(value[range]);
            if (Ascii.EqualsIgnoreCase(option, "close"u8))
            {
                fields.Close = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "keep-alive"u8))
            {
                fields.KeepAlive = true;
            }
        }
    }

    private static bool IsToken(ReadOnlySpan<byte> s) => !s.IsEmpty && s.IndexOfAnyExcept(s_tokenBytes) < 0;

    private static ReadOnlySpan<byte> TrimWhitespace(ReadOnlySpan<byte> s) => s.Trim(" \t"u8);

    /// <summary>The header fields seen so far that matter to framing and to the connection.</summary>
    private ref struct FieldsSeen()
    {
        public long ContentLength = -1; // -1: none
        public int Hosts;
        public bool TransferEncoding;
        public bool Close;
        public bool KeepAlive;
    }
}
