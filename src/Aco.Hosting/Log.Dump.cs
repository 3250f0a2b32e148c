using Microsoft.Extensions.Logging;

namespace Aco.Hosting;

// The dump's log messages (SIGQUIT, the diagnostics channel).
internal static partial class Log
{
    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Aco coroutine dump ({Trigger}):\n{Dump}")]
    public static partial void Dump(ILogger logger, string trigger, string dump);

    [LoggerMessage(EventId = 11, Level = LogLevel.Error, Message = "Aco coroutine dump ({Trigger}) failed")]
    public static partial void DumpFailed(ILogger logger, string trigger, Exception error);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "Aco coroutine dump written to {Path} for the diagnostics channel ({Coroutines} coroutines, {Milliseconds:F0} ms)")]
    public static partial void DumpWritten(ILogger logger, string path, long coroutines, double milliseconds);

}
