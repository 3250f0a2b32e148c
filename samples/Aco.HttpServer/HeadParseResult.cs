namespace Aco.HttpServer;

/// <summary>The outcome of reading a request head from the bytes received so far.</summary>
internal enum HeadParseResult : byte
{
    /// <summary>No complete head yet, and nothing wrong so far: receive more.</summary>
    Incomplete,

    /// <summary>A complete, valid head.</summary>
    Complete,

    /// <summary>Malformed: 400 and close.</summary>
    BadRequest,

    /// <summary>The head is longer than the limit: 431 and close.</summary>
    HeadTooLarge,

    /// <summary>The <c>Content-Length</c> is over the limit: 413 and close.</summary>
    BodyTooLarge,

    /// <summary>A <c>Transfer-Encoding</c> (chunked bodies are not supported): 501 and close.</summary>
    TransferEncodingNotImplemented,
}
