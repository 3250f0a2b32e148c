using System.Net.Sockets;
using System.Runtime.InteropServices;
using Aco.Core;
using Aco.Hosting;
using Aco.Scheduling;

namespace Aco.HttpServer;

/// <summary>
/// Native mode: each connection is a native coroutine running <c>aco_http_connection</c>
/// (<c>samples/native/aco_http_server.c</c>, in <c>libaco_http_bodies.so</c>), which parses, answers and enforces
/// the deadlines itself, doing socket I/O through <c>aco_bridge.h</c> on its scheduler's poller. Managed code runs
/// only for the <c>/json</c> body (a handler on each scheduler) and at the connection's end. Linux only.
/// </summary>
/// <remarks>
/// The native server keeps one configuration and one set of response counts per process: one native-mode server
/// runs in a process at a time (the counts this server reports are those since its start).
/// </remarks>
internal sealed unsafe class NativeConnectionMode : ConnectionMode
{
    /// <summary>The <c>aco_bridge_call</c> handler id that writes the <c>/json</c> body, on every scheduler.</summary>
    private const int JsonHandlerId = 1;

    private const string LibraryName = "libaco_http_bodies.so";

    /// <summary>The <c>/json</c> body into the coroutine's buffer, serialized per request on the scheduler's thread.</summary>
    private static readonly AcoSyncHandler s_writeJson = static (_, output) =>
    {
        var body = HelloJson.Serialize();
        body.CopyTo(output);
        return body.Length;
    };

    private readonly IAcoSchedulerPool _pool;
    private readonly HttpServerOptions _options;
    private readonly HttpServerMetrics _metrics;
    private readonly AcoEntryPoint _connection;
    private readonly delegate* unmanaged<NativeConfig*, void> _configure;
    private readonly delegate* unmanaged<void> _drain;
    private readonly delegate* unmanaged<void> _abort;
    private readonly delegate* unmanaged<int, long> _responses;
    private readonly int[] _statuses;
    private readonly long[] _baseline;
    private readonly Action _closed;

    /// <exception cref="PlatformNotSupportedException">Not Linux.</exception>
    /// <exception cref="AcoBodiesLoadException"><c>libaco_http_bodies.so</c> is missing beside the program or cannot be loaded.</exception>
    public NativeConnectionMode(IAcoSchedulerPool pool, HttpServerOptions options, OpenConnections connections, HttpServerMetrics metrics)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException(
                "HttpServer:Mode=Native runs on Linux only (native coroutines do socket I/O there); run with --managed (HttpServer:Mode=Managed).");
        }
        _pool = pool;
        _options = options;
        _metrics = metrics;
        _closed = connections.Closed;
        var library = AcoNativeLibrary.LoadBodies(Path.Combine(AppContext.BaseDirectory, LibraryName));
        _connection = AcoEntryPoint.FromExport(library, "aco_http_connection");
        _configure = (delegate* unmanaged<NativeConfig*, void>)NativeLibrary.GetExport(library, "aco_http_configure");
        _drain = (delegate* unmanaged<void>)NativeLibrary.GetExport(library, "aco_http_drain");
        _abort = (delegate* unmanaged<void>)NativeLibrary.GetExport(library, "aco_http_abort");
        _responses = (delegate* unmanaged<int, long>)NativeLibrary.GetExport(library, "aco_http_responses");
        var statusOf = (delegate* unmanaged<int, int>)NativeLibrary.GetExport(library, "aco_http_status_of");
        var statuses = new List<int>();
        for (var i = 0; statusOf(i) != 0; i++)
        {
            statuses.Add(statusOf(i));
        }
        _statuses = [.. statuses];
        _baseline = new long[_statuses.Length];
    }

    public override void Start()
    {
        var config = new NativeConfig
        {
            IdleTimeoutMs = (long)Math.Ceiling(_options.IdleTimeout.TotalMilliseconds),
            MaxBodyBytes = _options.MaxRequestBodyBytes,
            MaxHeadBytes = _options.MaxRequestHeadBytes,
            JsonHandlerId = JsonHandlerId,
        };
        _configure(&config); // before the first connection: the schedulers read it from then on
        for (var i = 0; i < _statuses.Length; i++)
        {
            _baseline[i] = _responses(i);
        }
        _metrics.CountResponsesWith(ResponsesSinceStart);
        foreach (var scheduler in _pool.Schedulers)
        {
            scheduler.RegisterHandler(JsonHandlerId, s_writeJson, replace: true);
        }
    }

    public override void Serve(Socket socket, AcoScheduler scheduler)
    {
        // The coroutine owns the connection from here: its own descriptor, which it closes; the socket is disposed.
        var descriptor = AcoSocket.Detach(socket);
        AcoCoroutineHandle handle;
        try
        {
            handle = scheduler.Spawn(_connection, descriptor);
        }
        catch
        {
            AcoSocket.Close(descriptor);
            throw;
        }
        // Its end, however it comes (closed, or destroyed by a stopping scheduler), counts the connection closed.
        handle.Completion.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_closed);
    }

    public override void BeginDrain() => OnEachScheduler(_drain);

    public override void AbortAll() => OnEachScheduler(_abort);

    public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask; // no coroutine of its own

    /// <summary>Responses sent with <paramref name="statusCode"/> since <see cref="Start"/>.</summary>
    private long ResponsesSinceStart(int statusCode)
    {
        var i = Array.IndexOf(_statuses, statusCode);
        return i < 0 ? 0 : _responses(i) - _baseline[i];
    }

    /// <summary>Calls <paramref name="step"/> on each scheduler's thread, where its connections' table lives.</summary>
    private void OnEachScheduler(delegate* unmanaged<void> step)
    {
        foreach (var scheduler in _pool.Schedulers)
        {
            scheduler.SynchronizationContext.Post(static s => ((delegate* unmanaged<void>)(nint)s!)(), (nint)step);
        }
    }

    /// <summary>The C side's <c>http_config</c>: the limits of <see cref="HttpServerOptions"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct NativeConfig
    {
        public long IdleTimeoutMs;
        public long MaxBodyBytes;
        public int MaxHeadBytes;
        public int JsonHandlerId;
    }
}
