namespace Aco.HttpServer;

/// <summary>What every managed connection shares: limits in the units it uses, and the server's services.</summary>
internal sealed class ManagedConnectionContext
{
    /// <summary>After a closing response, how long to wait for the client's end at most.</summary>
    private static readonly TimeSpan s_lingerTimeout = TimeSpan.FromSeconds(1);

    public ManagedConnectionContext(HttpServerOptions options, OpenConnections connections, HttpServerMetrics metrics, DateHeader date,
        TimeProvider time, ILogger logger)
    {
        Connections = connections;
        Metrics = metrics;
        Date = date;
        Time = time;
        Logger = logger;
        MaxHeadBytes = options.MaxRequestHeadBytes;
        MaxBodyBytes = options.MaxRequestBodyBytes;
        ReceiveBufferSize = Math.Max(options.MaxRequestHeadBytes, 4096);
        IdleTimeout = options.IdleTimeout;
        IdleTimeoutTicks = ToTicks(options.IdleTimeout, time);
        LingerTicks = ToTicks(options.IdleTimeout < s_lingerTimeout ? options.IdleTimeout : s_lingerTimeout, time);
    }

    public OpenConnections Connections { get; }

    public HttpServerMetrics Metrics { get; }

    public DateHeader Date { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    public int MaxHeadBytes { get; }

    public long MaxBodyBytes { get; }

    /// <summary>The receive buffer: a whole head of the largest size allowed fits.</summary>
    public int ReceiveBufferSize { get; }

    public TimeSpan IdleTimeout { get; }

    /// <summary><see cref="HttpServerOptions.IdleTimeout"/> in <see cref="TimeProvider.GetTimestamp"/> units.</summary>
    public long IdleTimeoutTicks { get; }

    /// <summary>The linger timeout (1 s, or the idle timeout if shorter) in timestamp units.</summary>
    public long LingerTicks { get; }

    /// <summary>How often each scheduler looks for connections past their deadline.</summary>
    public TimeSpan SweepPeriod => TimeSpan.FromTicks(Math.Clamp(IdleTimeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));

    public long Now => Time.GetTimestamp();

    private static long ToTicks(TimeSpan span, TimeProvider time) => (long)(span.TotalSeconds * time.TimestampFrequency);
}
