using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Aco.HttpServer.Tests;

/// <summary>A connection cannot keep its scheduler to itself, however fast its client sends.</summary>
public sealed class FairnessTests
{
    [Theory]
    [InlineData("managed")]
    [InlineData("native")]
    public async Task A_client_that_never_stops_pipelining_does_not_keep_others_from_being_answered(string mode)
    {
        await using var server = await TestServer.StartAsync(mode, new() { ["Aco:SchedulerCount"] = "1" });
        using var hog = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        hog.Connect(new IPEndPoint(IPAddress.Loopback, server.Port));
        var batch = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(RawHttpConnection.Get("/plaintext"), 200)));
        var sent = 0L;
        // Requests always waiting on the server's side of the connection, and their answers always taken. The busy
        // client runs on threads of its own with blocking calls: on the thread pool it would also slow down the
        // socket completions of this process, the server's included.
        var sending = new Thread(() =>
        {
            try
            {
                while (true)
                {
                    hog.Send(batch);
                    Interlocked.Increment(ref sent);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // the test is over
            }
        }) { IsBackground = true };
        var reading = new Thread(() =>
        {
            var sink = new byte[64 * 1024];
            try
            {
                while (hog.Receive(sink) > 0)
                {
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // the test is over
            }
        }) { IsBackground = true };
        sending.Start();
        reading.Start();
        try
        {
            await Eventually.HoldsAsync(() => Interlocked.Read(ref sent) > 10, () => "the busy client has not started");
            using var other = await server.ConnectAsync();
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(200, (await other.RequestAsync("/json")).StatusCode); // bounded: a starved scheduler fails here
            }
            Assert.True(sending.IsAlive, "the busy client stopped before the other was answered: the test proved nothing");
        }
        finally
        {
            hog.Shutdown(SocketShutdown.Both); // ends the blocking calls
            hog.Dispose();
            Assert.True(sending.Join(Bounds.Wait) && reading.Join(Bounds.Wait));
        }
    }
}
