using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;

namespace Aco.Tools;

/// <summary>
/// <c>dotnet aco dump</c>: asks a running process that uses <c>AddAcoScheduler()</c> for a dump of its coroutines.
/// It connects to the process's diagnostic port (as dotnet-counters does) and starts an EventPipe session that
/// enables the process's "Aco.Dump" event source with arguments: where to write the dump and in which form. The
/// process answers by writing "PATH.accepted" at once and the dump to PATH when it is complete (see
/// AcoDumpEventSource in Aco.Hosting); the tool waits for both within bounds, prints the dump and ends the session.
/// </summary>
internal static class DumpCommand
{
    /// <summary>The event source a process registers with AddAcoScheduler().</summary>
    internal const string SourceName = "Aco.Dump";

    internal const string Usage = """
        Usage: dotnet aco dump --process-id <PID> [--json] [--output <FILE>] [--max-per-group <N>] [--timeout <SECONDS>]

        Prints every coroutine of a running .NET process that uses AddAcoScheduler() (Aco.Hosting): grouped by where
        they are (symbolized native frames, or the async methods of managed ones) and what they wait for, largest
        group first; stuck coroutines (waits that can never be answered) are named.

          -p, --process-id <PID>     the process (dotnet-counters ps lists .NET processes)
          --json                     JSON instead of text
          -o, --output <FILE>        write to FILE instead of standard output
          --max-per-group <N>        coroutines listed per group (text: 10, JSON: all)
          --timeout <SECONDS>        how long to wait for the dump (default 60)
        """;

    public static async Task<int> MainAsync(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return args.Length == 0 ? 2 : 0;
        }
        if (args[0] != "dump")
        {
            await error.WriteLineAsync($"Unknown command '{args[0]}'.\n\n{Usage}").ConfigureAwait(false);
            return 2;
        }
        if (!TryParse(args.AsSpan(1), out var options, out var problem))
        {
            await error.WriteLineAsync($"{problem}\n\n{Usage}").ConfigureAwait(false);
            return 2;
        }
        if (options.Help)
        {
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return 0;
        }
        var (code, text) = await DumpAsync(options).ConfigureAwait(false);
        if (code != 0)
        {
            await error.WriteLineAsync(text).ConfigureAwait(false);
            return code;
        }
        if (options.Output is { } file)
        {
            await File.WriteAllTextAsync(file, text).ConfigureAwait(false);
            await error.WriteLineAsync($"Dump of process {options.ProcessId} written to {file}.").ConfigureAwait(false);
        }
        else
        {
            await output.WriteAsync(text).ConfigureAwait(false);
        }
        return 0;
    }

    internal sealed record Options(int ProcessId, bool Json, string? Output, int? MaxPerGroup, TimeSpan Timeout, bool Help);

    internal static bool TryParse(ReadOnlySpan<string> args, out Options options, out string problem)
    {
        int? pid = null;
        var json = false;
        string? file = null;
        int? max = null;
        var timeout = TimeSpan.FromSeconds(60);
        var help = false;
        options = null!;
        problem = "";
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            string Value(ref int i, ReadOnlySpan<string> args) => i + 1 < args.Length ? args[++i] : throw new FormatException($"{a} needs a value.");
            try
            {
                switch (a)
                {
                    case "-p" or "--process-id":
                        pid = int.TryParse(Value(ref i, args), NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > 0 ? p : throw new FormatException($"{a} takes a process id (a positive number).");
                        break;
                    case "--json":
                        json = true;
                        break;
                    case "-o" or "--output":
                        file = Value(ref i, args);
                        break;
                    case "--max-per-group":
                        max = int.TryParse(Value(ref i, args), NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : throw new FormatException($"{a} takes a count (0 or more).");
                        break;
                    case "--timeout":
                        timeout = double.TryParse(Value(ref i, args), NumberStyles.Float, CultureInfo.InvariantCulture, out var t) && t > 0 ? TimeSpan.FromSeconds(t) : throw new FormatException($"{a} takes seconds (more than 0).");
                        break;
                    case "-h" or "--help":
                        help = true;
                        break;
                    default:
                        throw new FormatException($"Unknown option '{a}'.");
                }
            }
            catch (FormatException e)
            {
                problem = e.Message;
                return false;
            }
        }
        if (pid is null && !help)
        {
            problem = "--process-id (-p) is required.";
            return false;
        }
        options = new Options(pid ?? 0, json, file, max, timeout, help);
        return true;
    }

    /// <summary>Asks the process; 0 and the dump, or 1 and what went wrong, said so a person knows what to do.</summary>
    internal static async Task<(int Code, string Text)> DumpAsync(Options options)
    {
        var pid = options.ProcessId;
        try
        {
            using var process = Process.GetProcessById(pid);
        }
        catch (ArgumentException)
        {
            return (1, $"No process with id {pid} is running.");
        }
        var path = Path.Combine(Path.GetTempPath(), $"dotnet-aco-{pid}-{Guid.NewGuid():N}.{(options.Json ? "json" : "txt")}");
        var arguments = new Dictionary<string, string>
        {
            ["Path"] = path,
            ["Format"] = options.Json ? "json" : "text",
        };
        if (options.MaxPerGroup is { } max)
        {
            arguments["MaxPerGroup"] = max.ToString(CultureInfo.InvariantCulture);
        }
        EventPipeSession session;
        try
        {
            var client = new DiagnosticsClient(pid);
            session = await client.StartEventPipeSessionAsync(
                [new EventPipeProvider(SourceName, EventLevel.Informational, 0, arguments)],
                requestRundown: false, circularBufferMB: 1, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ServerNotAvailableException or UnsupportedCommandException or DiagnosticsClientException or IOException or UnauthorizedAccessException or TimeoutException)
        {
            return (1, $"Cannot reach process {pid} through the .NET diagnostics channel: {e.Message}\n" +
                "It must be a .NET process of the same user, with diagnostics enabled (DOTNET_EnableDiagnostics is not 0), " +
                "and share this temporary folder (" + Path.GetTempPath() + ").");
        }
        try
        {
            // Events are not used: the stream is read only so that the runtime never waits on a full pipe.
            var drain = session.EventStream.CopyToAsync(Stream.Null);
            var watch = Stopwatch.StartNew();
            var acceptBound = TimeSpan.FromSeconds(Math.Min(10, options.Timeout.TotalSeconds));
            while (!File.Exists(path + ".accepted"))
            {
                if (watch.Elapsed > acceptBound)
                {
                    return (1, $"Process {pid} did not answer within {acceptBound.TotalSeconds:F0} s: it does not use AddAcoScheduler() " +
                        "(Aco.Hosting), or cannot write to " + Path.GetTempPath() + ". (A process with its own schedulers can call AcoScheduler.GetDumpAsync.)");
                }
                await Task.Delay(20).ConfigureAwait(false);
            }
            while (!File.Exists(path))
            {
                if (File.Exists(path + ".failed"))
                {
                    return (1, $"Process {pid} could not take the dump: {await File.ReadAllTextAsync(path + ".failed").ConfigureAwait(false)}");
                }
                if (watch.Elapsed > options.Timeout)
                {
                    return (1, $"Process {pid} accepted the request but did not finish the dump within {options.Timeout.TotalSeconds:F0} s " +
                        "(a scheduler thread that never gets back to its loop cannot be read); try again with a longer --timeout.");
                }
                await Task.Delay(20).ConfigureAwait(false);
            }
            _ = drain;
            return (0, await File.ReadAllTextAsync(path).ConfigureAwait(false));
        }
        finally
        {
            try
            {
                await session.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ServerNotAvailableException or IOException or ObjectDisposedException or TimeoutException or DiagnosticsClientException)
            {
                // the process is gone or the session ended: nothing to stop
            }
            session.Dispose();
            foreach (var f in new[] { path, path + ".accepted", path + ".tmp", path + ".failed" })
            {
                try
                {
                    File.Delete(f);
                }
                catch (IOException)
                {
                    // left in the temporary folder
                }
            }
        }
    }
}
