using Microsoft.Extensions.Logging;

namespace Aco.Hosting;

/// <summary>The pool's log messages; event ids are stable.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Aco scheduler {Scheduler} started with {ShareStacks} share stacks")]
    public static partial void SchedulerStarted(ILogger logger, string scheduler, int shareStacks);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Aco scheduler {Scheduler} stopped: {Completed} coroutines completed, {Faulted} faulted, {Canceled} canceled")]
    public static partial void SchedulerStopped(ILogger logger, string scheduler, long completed, long faulted, long canceled);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Aco coroutine {CoroutineId} on {Scheduler} faulted with code {Code}: {Reason}")]
    public static partial void CoroutineFaulted(ILogger logger, string scheduler, long coroutineId, int code, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Aco scheduler {Scheduler} ran native coroutines for {DurationMs} ms without a pause: a coroutine did not yield")]
    public static partial void LongTurn(ILogger logger, string scheduler, double durationMs);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "Aco scheduler {Scheduler} did not stop within its grace period; {Live} coroutines were destroyed")]
    public static partial void StopTimedOut(ILogger logger, string scheduler, long live);

    [LoggerMessage(EventId = 6, Level = LogLevel.Critical, Message = "Aco scheduler {Scheduler} failed")]
    public static partial void SchedulerFailed(ILogger logger, string scheduler, Exception error);
}
