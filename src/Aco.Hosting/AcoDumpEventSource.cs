using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Text;
using Aco.Scheduling;
using Microsoft.Extensions.Logging;

namespace Aco.Hosting;

/// <summary>
/// The diagnostics channel's way in: <c>dotnet aco dump</c> starts an EventPipe session that enables this event
/// source ("Aco.Dump") with arguments (Path: where to write, Format: text or json, MaxPerGroup), through the .NET
/// diagnostic port, as dotnet-counters enables its providers; nothing is added to the app. The source takes the dump
/// off the runtime's thread, writes "Path.accepted" at once (the tool then knows the process answers) and the
/// dump to "Path.tmp", renamed to Path when complete. A file rather than events: a dump of a million coroutines
/// as JSON is tens of megabytes, where an event holds 64 KiB and a busy session may drop some; the diagnostic port
/// already needs the tool and the app to share a temporary folder.
/// </summary>
[EventSource(Name = SourceName)]
internal sealed class AcoDumpEventSource : EventSource
{
    public const string SourceName = "Aco.Dump";

    /// <summary>The process's one instance (the runtime dispatches sessions to it while it lives).</summary>
    public static readonly AcoDumpEventSource Instance = new();

    private readonly ConcurrentDictionary<AcoSchedulerPool, ILogger> _pools = new();
    private readonly ConcurrentDictionary<string, byte> _requests = new(StringComparer.Ordinal);

    private AcoDumpEventSource()
    {
    }

    // [NonEvent]: an event source takes its public void methods for events, and these parameters would fail its
    // manifest, which disables the source for every session.
    [NonEvent]
    public void Register(AcoSchedulerPool pool, ILogger logger) => _pools[pool] = logger;

    [NonEvent]
    public void Unregister(AcoSchedulerPool pool) => _pools.TryRemove(pool, out _);

    protected override void OnEventCommand(EventCommandEventArgs command)
    {
        // A session that enables the source with arguments comes as Enable (as Update through an EventListener).
        if (command.Command == EventCommand.Disable || command.Arguments is not { } arguments
            || !arguments.TryGetValue("Path", out var path) || string.IsNullOrEmpty(path) || !Path.IsPathFullyQualified(path)
            || !_requests.TryAdd(path, 0))
        {
            return;
        }
        var json = arguments.TryGetValue("Format", out var format) && string.Equals(format, "json", StringComparison.OrdinalIgnoreCase);
        var max = arguments.TryGetValue("MaxPerGroup", out var text) && int.TryParse(text, out var n) && n >= 0 ? n : json ? int.MaxValue : 10;
        // Off the runtime's thread: the dump reads in slices between the schedulers' turns.
        _ = Task.Run(() => WriteAsync(path, json, max));
    }

    private async Task WriteAsync(string path, bool json, int maxPerGroup)
    {
        var pools = _pools.ToArray();
        try
        {
            File.WriteAllBytes(path + ".accepted", []);
            var started = DateTime.UtcNow;
            var temporary = path + ".tmp";
            await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                if (pools.Length == 0)
                {
                    await file.WriteAsync(Encoding.UTF8.GetBytes(json ? "{\"error\":\"no Aco scheduler pool is running\"}\n" : "No Aco scheduler pool is running in this process.\n")).ConfigureAwait(false);
                }
                for (var i = 0; i < pools.Length; i++)
                {
                    var dump = await pools[i].Key.GetDumpAsync().ConfigureAwait(false);
                    if (json)
                    {
                        dump.WriteJson(file, maxPerGroup); // one JSON document per pool, one per line when several
                        file.WriteByte((byte)'\n');
                    }
                    else
                    {
                        await using var writer = new StreamWriter(file, new UTF8Encoding(false), leaveOpen: true);
                        dump.WriteText(writer, maxPerGroup);
                    }
                    Log.DumpWritten(pools[i].Value, path, dump.Count, (DateTime.UtcNow - started).TotalMilliseconds);
                }
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e)
        {
            foreach (var (_, logger) in pools)
            {
                Log.DumpFailed(logger, "diagnostics channel", e);
            }
            try
            {
                File.WriteAllText(path + ".failed", e.Message);
            }
            catch (IOException)
            {
                // nowhere to say it: the tool reports the time-out
            }
        }
        finally
        {
            _requests.TryRemove(path, out _);
        }
    }
}
