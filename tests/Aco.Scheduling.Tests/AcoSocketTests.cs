using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Aco.Core;

namespace Aco.Scheduling.Tests;

/// <summary>Sockets made in C# handed to native coroutines (<see cref="AcoSocket"/>).</summary>
public sealed class AcoSocketTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly AcoEntryPoint Echo = Bodies.Get("sock_echo");
    private static readonly AcoEntryPoint AcceptEcho = Bodies.Get("sock_accept_echo");

    [Fact]
    public async Task A_detached_accepted_socket_is_served_by_a_coroutine_and_closed_by_it()
    {
        await using var run = new RunningScheduler();
        using var listener = Listen();
        using var client = await ConnectAsync(listener);
        var accepted = await listener.AcceptAsync().WaitAsync(Timeout);
        var descriptor = AcoSocket.Detach(accepted);
        var echo = run.Scheduler.Spawn(Echo, descriptor);

        var sent = 0;
        for (var i = 0; i < 100; i++)
        {
            var message = Encoding.ASCII.GetBytes($"message {i} " + new string('x', i * 37));
            await SendAllAsync(client, message);
            Assert.Equal(message, await ReceiveExactlyAsync(client, message.Length));
            sent += message.Length;
        }
        client.Shutdown(SocketShutdown.Send);
        Assert.Equal(sent, await echo.Completion.WaitAsync(Timeout));
        Assert.Equal(0, await ReceiveAsync(client, new byte[1])); // the coroutine closed its end
    }

    [Fact]
    public async Task Detach_disposes_the_socket_and_gives_a_non_blocking_close_on_exec_descriptor_for_the_same_connection()
    {
        using var listener = Listen();
        using var client = await ConnectAsync(listener);
        var accepted = await listener.AcceptAsync().WaitAsync(Timeout);
        var descriptor = AcoSocket.Detach(accepted);
        try
        {
            Assert.Throws<ObjectDisposedException>(() => accepted.Send([1]));
            var flags = Convert.ToInt32(File.ReadLines($"/proc/self/fdinfo/{descriptor}").Single(l => l.StartsWith("flags:", StringComparison.Ordinal))[6..].Trim(), 8);
            const int O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
            Assert.Equal(O_NONBLOCK, flags & O_NONBLOCK);
            Assert.Equal(O_CLOEXEC, flags & O_CLOEXEC);
            // The connection is still open: the client sees no end.
            client.Blocking = false;
            var error = Assert.Throws<SocketException>(() => client.Receive(new byte[1]));
            Assert.Equal(SocketError.WouldBlock, error.SocketErrorCode);
        }
        finally
        {
            AcoSocket.Close(descriptor);
        }
        client.Blocking = true;
        Assert.Equal(0, await ReceiveAsync(client, new byte[1])); // Close ended it
    }

    [Fact]
    public async Task A_listening_socket_is_served_by_a_coroutine_on_every_scheduler_of_a_pool()
    {
        const int Clients = 200;
        var before = AcoNativeCounters.Read();
        AcoScheduler[] pool = [new(new AcoSchedulerOptions { Name = "a", ShareStackCount = 2 }), new(new AcoSchedulerOptions { Name = "b", ShareStackCount = 2 })];
        Array.ForEach(pool, s => s.Start());
        int port;
        var acceptors = new List<AcoCoroutineHandle>();
        using (var listener = Listen())
        {
            port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            foreach (var scheduler in pool)
            {
                acceptors.Add(scheduler.Spawn(AcceptEcho, AcoSocket.Duplicate(listener)));
            }
        } // the coroutines' descriptors keep listening

        await Parallel.ForEachAsync(Enumerable.Range(0, Clients), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(Timeout);
            var message = Encoding.ASCII.GetBytes(i.ToString(CultureInfo.InvariantCulture));
            await SendAllAsync(client, message);
            Assert.Equal(message, await ReceiveExactlyAsync(client, message.Length));
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal(0, await ReceiveAsync(client, new byte[1]));
        });

        foreach (var acceptor in acceptors)
        {
            acceptor.Cancel();
        }
        var accepted = await Task.WhenAll(acceptors.Select(a => a.Completion)).WaitAsync(Timeout);
        Assert.Equal(Clients, accepted.Sum());
        using var late = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<SocketException>(() => late.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(Timeout)); // every descriptor is closed
        foreach (var scheduler in pool)
        {
            await scheduler.StopAsync().WaitAsync(Timeout);
            await scheduler.DisposeAsync();
        }
        Assert.Equal(before with { CopiedBytes = 0 }, AcoNativeCounters.Read() with { CopiedBytes = 0 });
    }

    [Fact]
    public void Misuse_throws_before_anything_is_done()
    {
        Assert.Throws<ArgumentNullException>(() => AcoSocket.Detach(null!));
        Assert.Throws<ArgumentNullException>(() => AcoSocket.Duplicate(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => AcoSocket.Close(-1));
        var disposed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => AcoSocket.Detach(disposed));
        Assert.Throws<ObjectDisposedException>(() => AcoSocket.Duplicate(disposed));
    }

    private static Socket Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        return listener;
    }

    private static async Task<Socket> ConnectAsync(Socket listener)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(listener.LocalEndPoint!).WaitAsync(Timeout);
        return client;
    }

    private static async Task SendAllAsync(Socket socket, byte[] bytes)
    {
        for (var sent = 0; sent < bytes.Length;)
        {
            sent += await socket.SendAsync(bytes.AsMemory(sent)).AsTask().WaitAsync(Timeout);
        }
    }

    private static Task<int> ReceiveAsync(Socket socket, byte[] buffer) => socket.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(Timeout);

    private static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int length)
    {
        var buffer = new byte[length];
        for (var received = 0; received < length;)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(received)).AsTask().WaitAsync(Timeout);
            Assert.True(n > 0, "the connection ended early");
            received += n;
        }
        return buffer;
    }
}
