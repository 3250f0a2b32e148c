namespace Aco.HttpServer;

/// <summary>The server's log messages; event ids are stable.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "HTTP server listening on {Url} ({Mode} mode, {Listeners} listening socket(s))")]
    public static partial void Listening(ILogger logger, string url, HttpServerMode mode, int listeners);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "A connection was refused: {Max} connections are open, the cap")]
    public static partial void ConnectionRejected(ILogger logger, int max);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Accepting a connection failed; trying again in {DelayMs} ms")]
    public static partial void AcceptFailed(ILogger logger, int delayMs, Exception error);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "A connection failed unexpectedly")]
    public static partial void ConnectionFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "HTTP server stopping: {Open} connections open; requests in flight get their responses, idle connections close")]
    public static partial void Stopping(ILogger logger, long open);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "HTTP server: {Open} connections were still open at the stop deadline ({GraceMs} ms) and were closed")]
    public static partial void AbortedAtDeadline(ILogger logger, long open, double graceMs);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error, Message = "HTTP server: {Open} connections did not close before the host's shutdown timeout")]
    public static partial void StopIncomplete(ILogger logger, long open);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "HTTP server stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "A request was refused with {StatusCode}; the connection closes")]
    public static partial void RequestRefused(ILogger logger, int statusCode);
}
