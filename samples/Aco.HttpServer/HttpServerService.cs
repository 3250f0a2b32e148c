using System.Net;
using System.Net.Sockets;
using Aco.Hosting;
using Aco.Scheduling;
using Microsoft.Extensions.Options;

namespace Aco.HttpServer;

/// <summary>
/// The server's host: listens, accepts (through <see cref="Acceptor"/>s), hands connections to the
/// <see cref="ConnectionMode"/> and stops gracefully. It starts after the scheduler pool and stops before it.
/// </summary>
/// <remarks>
/// Stop sequence (host stopping: Ctrl+C, SIGTERM): (1) stop accepting and close the listening sockets;
/// (2) drain: idle connections close at once, the others after answering every request they have fully received;
/// (3) at the drain deadline (the pool's <c>StopGracePeriod</c> less a tenth of it, at most 1 s, kept for the
/// next step) every connection still open is closed; (4) the mode's own coroutines end; then the pool stops its
/// schedulers, with nothing left on them.
/// </remarks>
internal sealed class HttpServerService(
    IOptions<HttpServerOptions> options,
    IOptions<AcoSchedulerPoolOptions> poolOptions,
    IAcoSchedulerPool pool,
    ConnectionMode mode,
    OpenConnections connections,
    HttpServerMetrics metrics,
    ILogger<HttpServerService> logger) : IHostedService, IDisposable
{
    private const int SOL_SOCKET = 1;
    private const int SO_REUSEPORT = 15;

    private readonly HttpServerOptions _options = options.Value;
    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _acceptors = [];
    private readonly CancellationTokenSource _stopAccepting = new();
    private int _nextScheduler;

    /// <summary>Where the server listens (the real port when 0 was asked for); null before it starts.</summary>
    public IPEndPoint? EndPoint { get; private set; }

    /// <summary>The server's base URL, such as <c>http://127.0.0.1:8080/</c>.</summary>
    public string Url => EndPoint is { } e ? $"http://{(e.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{e.Address}]" : e.Address)}:{e.Port}/" : "";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var endPoint = new IPEndPoint(IPAddress.Parse(_options.Address), _options.Port);
        try
        {
            if (_options.ListenerPerScheduler)
            {
                foreach (var _ in pool.Schedulers)
                {
                    endPoint = Listen(endPoint, reusePort: true); // the first one's port (0 picks one) for the others
                }
            }
            else
            {
                endPoint = Listen(endPoint, reusePort: false);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        EndPoint = endPoint;
        mode.Start();
        if (_options.ListenerPerScheduler)
        {
            // Each listener's acceptor is a coroutine on its scheduler, and its connections stay there.
            for (var i = 0; i < _listeners.Count; i++)
            {
                var scheduler = pool[i];
                var acceptor = NewAcceptor(_listeners[i], () => scheduler);
                _acceptors.Add(scheduler.Spawn(static a => a.RunAsync(), acceptor).AsTask());
            }
        }
        else
        {
            var acceptor = NewAcceptor(_listeners[0], LeastLoadedScheduler);
            _acceptors.Add(Task.Run(() => acceptor.RunAsync().AsTask(), CancellationToken.None));
        }
        Log.Listening(logger, Url, _options.Mode, _listeners.Count);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // 1. Stop accepting.
        await _stopAccepting.CancelAsync().ConfigureAwait(false);
        await WaitAsync(Task.WhenAll(_acceptors), cancellationToken).ConfigureAwait(false);
        DisposeListeners();

        // 2. Drain until the deadline, 3. then close what is left.
        Log.Stopping(logger, connections.Count);
        var allClosed = connections.WhenAllClosed();
        mode.BeginDrain();
        var grace = poolOptions.Value.StopGracePeriod;
        var reserve = TimeSpan.FromTicks(Math.Min(grace.Ticks / 10, TimeSpan.TicksPerSecond));
        using (var drainDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            drainDeadline.CancelAfter(grace - reserve);
            if (!await WaitAsync(allClosed, drainDeadline.Token).ConfigureAwait(false))
            {
                Log.AbortedAtDeadline(logger, connections.Count, grace.TotalMilliseconds);
                mode.AbortAll();
                if (!await WaitAsync(allClosed, cancellationToken).ConfigureAwait(false))
                {
                    Log.StopIncomplete(logger, connections.Count);
                }
            }
        }

        // 4. The mode's own coroutines.
        try
        {
            await mode.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout: the pool abandons what is left.
        }
        Log.Stopped(logger);
    }

    public void Dispose()
    {
        DisposeListeners();
        _stopAccepting.Dispose();
    }

    private IPEndPoint Listen(IPEndPoint endPoint, bool reusePort)
    {
        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listeners.Add(listener);
        if (reusePort)
        {
            if (!OperatingSystem.IsLinux())
            {
                throw new PlatformNotSupportedException("HttpServer:ListenerPerScheduler needs SO_REUSEPORT with load balancing (Linux).");
            }
            listener.SetRawSocketOption(SOL_SOCKET, SO_REUSEPORT, BitConverter.GetBytes(1));
        }
        listener.Bind(endPoint);
        listener.Listen();
        return (IPEndPoint)listener.LocalEndPoint!;
    }

    private Acceptor NewAcceptor(Socket listener, Func<AcoScheduler> chooseScheduler) =>
        new(listener, chooseScheduler, mode, connections, metrics, logger, _stopAccepting.Token);

    /// <summary>The scheduler with the fewest live coroutines; ties go round-robin.</summary>
    private AcoScheduler LeastLoadedScheduler()
    {
        var schedulers = pool.Schedulers;
        var start = (int)((uint)Interlocked.Increment(ref _nextScheduler) % (uint)schedulers.Count);
        var best = schedulers[start];
        for (var i = 1; i < schedulers.Count; i++)
        {
            var candidate = schedulers[(start + i) % schedulers.Count];
            if (candidate.Load < best.Load)
            {
                best = candidate;
            }
        }
        return best;
    }

    private void DisposeListeners()
    {
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }
        _listeners.Clear();
    }

    /// <summary>Waits for <paramref name="task"/> until <paramref name="deadline"/>; false if the deadline came first.</summary>
    private static async Task<bool> WaitAsync(Task task, CancellationToken deadline)
    {
        try
        {
            await task.WaitAsync(deadline).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return false;
        }
    }
}
