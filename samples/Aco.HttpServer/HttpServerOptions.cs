using System.ComponentModel.DataAnnotations;

namespace Aco.HttpServer;

/// <summary>
/// The server's address and limits, bound from the configuration section <c>HttpServer</c>
/// (for example <c>HttpServer__IdleTimeout=00:00:10</c>) and validated at start.
/// </summary>
public sealed class HttpServerOptions
{
    /// <summary>The configuration section read.</summary>
    public const string SectionName = "HttpServer";

    /// <summary>What runs each connection. Default: <see cref="HttpServerMode.Native"/>.</summary>
    public HttpServerMode Mode { get; set; } = HttpServerMode.Native;

    /// <summary>The IP address to listen on. Default 127.0.0.1.</summary>
    [Required]
    [IPAddress]
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>The TCP port (0: any free port). Default 8080.</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 8080;

    /// <summary>Open connections at most; a connection accepted over the cap is closed at once. Default 100,000.</summary>
    [Range(1, 10_000_000)]
    public int MaxConnections { get; set; } = 100_000;

    /// <summary>
    /// How long a connection may wait for the client: idle between requests (then it closes), for a request's
    /// head or body once it has begun (then 408 and close), or for a response to be taken. Default 30 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Bytes of a request's head (request line and header lines) at most; over it: 431 and close. Default 8192.</summary>
    [Range(64, 1 << 20)]
    public int MaxRequestHeadBytes { get; set; } = 8192;

    /// <summary>Bytes of a request's body (<c>Content-Length</c>) at most; it is read and discarded; over it: 413 and close. Default 1 MiB.</summary>
    [Range(0, 1L << 30)]
    public long MaxRequestBodyBytes { get; set; } = 1 << 20;

    /// <summary>
    /// One listening socket per scheduler with <c>SO_REUSEPORT</c>, each accepting onto its own scheduler
    /// (true), or one listening socket whose acceptor hands each connection to the least-loaded scheduler
    /// (false). Default false (README: the measurement behind it).
    /// </summary>
    public bool ListenerPerScheduler { get; set; }
}
