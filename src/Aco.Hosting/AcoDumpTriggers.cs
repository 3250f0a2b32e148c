using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Aco.Hosting;

/// <summary>
/// The ways to ask a hosted app for a dump from outside: SIGQUIT (Ctrl+Break on Windows) writes it to the log,
/// as the JVM and Go do (on by default, <see cref="AcoSchedulerPoolOptions.DumpOnSigQuit"/>); and the diagnostics
/// channel (<see cref="AcoDumpEventSource"/>), which <c>dotnet aco dump</c> uses.
/// </summary>
internal sealed class AcoDumpTriggers(AcoSchedulerPool pool, IOptions<AcoSchedulerPoolOptions> options, ILogger<AcoDumpTriggers> logger) : IHostedService, IDisposable
{
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
            _ = Task.Run(DumpToLogAsync); // one at a time; a signal during a dump is folded into it
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
