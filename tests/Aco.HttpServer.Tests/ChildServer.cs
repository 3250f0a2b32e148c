using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Aco.Tests.Shared;

namespace Aco.HttpServer.Tests;

/// <summary>
/// The server program as a child process (<c>dotnet Aco.HttpServer.dll --port 0</c>), for tests that need its
/// descriptors apart from the test's own, or its real exit. Its life is bounded by <see cref="Bounds.ChildProcess"/>.
/// </summary>
internal sealed class ChildServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<BoundedProcess.Result> _run;

    private ChildServer(Process process, int port, Task<BoundedProcess.Result> run)
    {
        _process = process;
        Port = port;
        _run = run;
    }

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    /// <summary>Starts the program in <paramref name="mode"/> with extra arguments, and waits for its "listening on" line.</summary>
    public static async Task<ChildServer> StartAsync(string mode, params string[] args)
    {
        var dll = typeof(ChildServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "AcoHttpServerDll").Value!;
        string[] modeArgs = mode == "managed" ? ["--managed"] : [];
        var psi = BoundedProcess.Start("dotnet", [dll, "--port", "0", .. modeArgs, "--Aco:SchedulerCount=2", .. args]);
        var listening = new TaskCompletionSource<(Process Process, int Port)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = BoundedProcess.RunAsync(psi, Bounds.ChildProcess, (process, line) =>
        {
            const string prefix = "listening on http://127.0.0.1:";
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                listening.TrySetResult((process, int.Parse(line[prefix.Length..].TrimEnd('/'), CultureInfo.InvariantCulture)));
            }
        });
        var first = await Task.WhenAny(listening.Task, run).WaitAsync(Bounds.Wait);
        if (first == run)
        {
            var result = await run;
            throw new Xunit.Sdk.XunitException($"the server exited ({result.ExitCode}) before it listened:\n{result.Output}");
        }
        var (started, port) = await listening.Task;
        return new ChildServer(started, port, run);
    }

    /// <summary>Sends SIGTERM, as a service manager stops it.</summary>
    public void Terminate() => BoundedProcess.Terminate(_process);

    /// <summary>Waits for the program to exit (bounded) and returns what it printed.</summary>
    public Task<BoundedProcess.Result> ExitedAsync() => _run;

    public async ValueTask DisposeAsync()
    {
        if (!_run.IsCompleted)
        {
            try
            {
                _process.Kill(entireProcessTree: true); // the test failed before it stopped the server
            }
            catch (InvalidOperationException)
            {
                // it exited just now
            }
        }
        try
        {
            await _run;
        }
        catch (TimeoutException)
        {
            // reported by the test that waited for it
        }
    }
}
