using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aco.Hosting;

/// <summary>
/// The ways to ask a hosted app for a dump from outside: SIGQUIT (Ctrl+Break on Windows) writes it to the log,
/// as the JVM and Go do (on by default, <see cref="AcoSchedulerPoolOptions.DumpOnSigQuit"/>), before the console
/// lifetime, which also handles SIGQUIT, stops the host; and the diagnostics channel
/// (<see cref="AcoDumpEventSource"/>), which <c>dotnet aco dump</c> uses.
/// </summary>
internal sealed class AcoDumpTriggers(AcoSchedulerPool pool, IOptions<AcoSchedulerPoolOptions> options, ILogger<AcoDumpTriggers> logger) : IHostedService, IDisposable
{
    /// <summary>How long the SIGQUIT handler holds back the handlers after it (the host's stop) for the dump.</summary>
    private static readonly TimeSpan SigQuitDumpBound = TimeSpan.FromSeconds(30);

    private PosixSignalRegistration? _sigquit;
    private int _dumping;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        AcoDumpEventSource.Instance.Register(pool, logger);
        if (options.Value.DumpOnSigQuit)
        {
            try
            {
                _sigquit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSigQuit);
            }
            catch (PlatformNotSupportedException)
            {
                // no SIGQUIT here: the diagnostics channel still works
            }
        }
        return Task.CompletedTask;
    }

    private void OnSigQuit(PosixSignalContext context)
    {
        context.Cancel = true; // a dump, not the default (quit with a core dump)
        if (Interlocked.Exchange(ref _dumping, 1) == 0)
        {
            // The runtime calls a signal's handlers one after another on a thread of its own, the last registered
            // first: this one before the console lifetime's, which takes SIGQUIT as a request to stop the host.
            // Waiting here for the dump lets it read every coroutine before the stop cancels them.
            _ = DumpToLogAsync().Wait(SigQuitDumpBound);
        }
    }

    private async Task DumpToLogAsync()
    {
        try
        {
            var dump = await pool.GetDumpAsync().ConfigureAwait(false);
            Log.Dump(logger, "SIGQUIT", dump.ToText());
        }
        catch (Exception e)
        {
            Log.DumpFailed(logger, "SIGQUIT", e);
        }
        finally
        {
            Volatile.Write(ref _dumping, 0);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _sigquit?.Dispose();
        _sigquit = null;
        AcoDumpEventSource.Instance.Unregister(pool);
    }
}
