using System.Net.Sockets;
using Aco.Scheduling;

namespace Aco.HttpServer;

/// <summary>
/// Accepts connections on one listening socket until stopped, and hands each to a scheduler through the
/// <see cref="ConnectionMode"/>, unless the connection cap is reached: then the connection is closed at once.
/// </summary>
internal sealed class Acceptor(Socket listener, Func<AcoScheduler> chooseScheduler, ConnectionMode mode, OpenConnections connections,
    HttpServerMetrics metrics, ILogger logger, CancellationToken stopping)
{
    private static readonly TimeSpan s_firstRetryDelay = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan s_lastRetryDelay = TimeSpan.FromSeconds(1);

    /// <summary>Accepts until <c>stopping</c> is cancelled.</summary>
    public async ValueTask RunAsync()
    {
        var retryDelay = s_firstRetryDelay;
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(stopping);
                retryDelay = s_firstRetryDelay;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException e)
            {
                // Out of descriptors or memory, say: the pending connection waits in the backlog meanwhile.
                Log.AcceptFailed(logger, (int)retryDelay.TotalMilliseconds, e);
                try
                {
                    await Task.Delay(retryDelay, stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                retryDelay = retryDelay * 2 < s_lastRetryDelay ? retryDelay * 2 : s_lastRetryDelay;
                continue;
            }
            Hand(socket);
        }
    }

    private void Hand(Socket socket)
    {
        if (!connections.TryOpen())
        {
            socket.Dispose();
            metrics.Rejected();
            Log.ConnectionRejected(logger, connections.Max);
            return;
        }
        try
        {
            socket.NoDelay = true; // an answer is one send; Nagle would only hold it back
            mode.Serve(socket, chooseScheduler());
        }
        catch (Exception e) when (e is InvalidOperationException or SocketException)
        {
            socket.Dispose(); // the scheduler is stopping, or the client is gone already
            connections.Closed();
        }
    }
}
