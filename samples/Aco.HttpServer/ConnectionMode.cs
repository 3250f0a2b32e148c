using System.Net.Sockets;
using Aco.Scheduling;

namespace Aco.HttpServer;

/// <summary>
/// What runs each connection: one coroutine per accepted connection, on the scheduler the host chose. The host
/// (<see cref="HttpServerService"/>) listens, accepts, applies the connection cap and drives the stop sequence through
/// the steps below; a mode serves the connections (managed: <see cref="ManagedConnectionMode"/>).
/// </summary>
internal abstract class ConnectionMode
{
    /// <summary>Once, with the schedulers running, before the first connection.</summary>
    public abstract void Start();

    /// <summary>
    /// Serves <paramref name="socket"/> (accepted and counted in <see cref="OpenConnections"/>) as a coroutine on
    /// <paramref name="scheduler"/> until the connection closes; the mode then disposes the socket and calls
    /// <see cref="OpenConnections.Closed"/>. Callable from any thread.
    /// </summary>
    /// <exception cref="InvalidOperationException">The scheduler is stopping (the caller closes the socket).</exception>
    public abstract void Serve(Socket socket, AcoScheduler scheduler);

    /// <summary>
    /// Stop, step 1 (accepting has stopped): idle connections close now; the others close after answering the
    /// requests they have fully received, or at their deadline.
    /// </summary>
    public abstract void BeginDrain();

    /// <summary>Stop, step 2 (the drain ran out of time): every connection still open closes now.</summary>
    public abstract void AbortAll();

    /// <summary>Stop, step 3 (no connection is open): ends the mode's own coroutines.</summary>
    public abstract Task StopAsync(CancellationToken cancellationToken);
}
