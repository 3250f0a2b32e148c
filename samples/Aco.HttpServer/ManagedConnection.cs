using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Aco.Scheduling;

namespace Aco.HttpServer;

/// <summary>
/// One HTTP/1.1 connection served by a managed coroutine on one scheduler: it reads requests, answers them in
/// order (answers to requests that arrived together leave in one send), and closes on <c>Connection: close</c>,
/// a refused request, a deadline, or the server's stop.
/// </summary>
/// <remarks>
/// <para>
/// Memory: between requests a connection holds no buffer. It waits for bytes with a zero-byte receive, rents a
/// receive buffer from <see cref="ArrayPool{T}.Shared"/> once they are there and returns it when everything
/// received is answered; the send buffer is rented for each batch of answers.
/// </para>
/// <para>
/// Deadlines: every wait for the client has one (<see cref="ConnectionPhase"/>). The scheduler's sweep finds
/// connections past theirs and shuts the receiving side of the socket down, which ends the pending receive with
/// 0 bytes; the coroutine then decides, on its own thread, what follows (close, or 408 and close). A send past
/// its deadline is aborted.
/// </para>
/// </remarks>
internal sealed class ManagedConnection(Socket socket, ConnectionSet set, ManagedConnectionContext context)
{
    /// <summary>The send buffer: many answers fit, and a batch that needs more sends as it goes.</summary>
    private const int SendBufferSize = 4096;

    /// <summary>After a closing response, the most bytes read and dropped while waiting for the client's end.</summary>
    private const int MaxLingerBytes = 64 * 1024;

    /// <summary>
    /// Receives in a row that complete at once (bytes were waiting) before the coroutine yields its scheduler: a
    /// client that always has more bytes waiting would otherwise keep the scheduler to itself. A client that waits
    /// for each answer never reaches 2 (its zero-byte receive suspends), so only pipelining clients yield.
    /// </summary>
    private const int ReceivesPerTurn = 2;

    private ConnectionPhase _phase;
    private long _deadline = long.MaxValue; // a TimeProvider timestamp; the sweep acts after it
    private bool _timedOut;
    private byte[]? _receiveBuffer;
    private int _start; // the bytes received and not yet consumed are _receiveBuffer[_start.._end]
    private int _end;
    private byte[]? _sendBuffer;
    private int _sendLength;
    private int _receivesInARow; // receives that completed without suspending, since the last suspension

    /// <summary>Where the connection is in its <see cref="ConnectionSet"/>.</summary>
    public int IndexInSet { get; set; }

    /// <summary>The coroutine's body: serves the connection until it closes, then releases everything it holds.</summary>
    public async ValueTask RunAsync()
    {
        set.Add(this);
        try
        {
            socket.Blocking = false; // synchronous calls return at once (async ones are unaffected)
            while (true)
            {
                ReturnReceiveBuffer();
                if (TurnIsUp())
                {
                    await AcoScheduler.Yield();
                }
                if (set.Draining)
                {
                    break; // the server is stopping: an idle connection closes (checked with no await before Idle)
                }
                Enter(ConnectionPhase.Idle, context.Now + context.IdleTimeoutTicks);
                await Receive(Memory<byte>.Empty); // bytes are there, or the end is
                if (!await ServeRequestsAsync())
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The client reset the connection, or the server aborted it (a send past its deadline, the stop's deadline).
        }
        catch (Exception e)
        {
            Log.ConnectionFailed(context.Logger, e);
        }
        finally
        {
            ReturnReceiveBuffer();
            ReturnSendBuffer();
            set.Remove(this);
            socket.Dispose();
            context.Connections.Closed();
        }
    }

    /// <summary>The sweep: if the current wait is past its deadline, ends it (see the class remarks).</summary>
    public void CloseIfExpired(long now)
    {
        if (now < _deadline)
        {
            return;
        }
        _deadline = long.MaxValue;
        _timedOut = true;
        if (_phase == ConnectionPhase.Sending)
        {
            socket.Dispose(); // a send cannot be ended gently: abort the connection
        }
        else
        {
            ShutdownReceive();
        }
    }

    /// <summary>Stop, step 1: an idle connection (nothing received, nothing waiting in the socket) closes now.</summary>
    public void CloseIfIdle()
    {
        try
        {
            if (_phase == ConnectionPhase.Idle && socket.Available == 0)
            {
                ShutdownReceive();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closing already.
        }
    }

    /// <summary>Stop, step 2: closes the connection now, whatever it is doing.</summary>
    public void Abort() => socket.Dispose();

    /// <summary>Reads and answers requests until nothing received is left unanswered (true) or the connection closes (false).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ServeRequestsAsync()
    {
        _receiveBuffer ??= ArrayPool<byte>.Shared.Rent(context.ReceiveBufferSize);
        // The zero-byte receive also ends, now and then, on a stale readiness event with nothing to read: this
        // receive does not wait (the socket is non-blocking), and finding nothing, the connection is still idle.
        var received = socket.Receive(_receiveBuffer.AsSpan(_end), SocketFlags.None, out var error);
        if (error == SocketError.WouldBlock)
        {
            return true;
        }
        if (error != SocketError.Success)
        {
            throw new SocketException((int)error);
        }
        _receivesInARow++;
        var headDeadline = context.Now + context.IdleTimeoutTicks;
        while (true)
        {
            if (received == 0)
            {
                // The client's end, or the receiving side shut down by the sweep or the stop.
                if (_timedOut && _start != _end)
                {
                    await RefuseAsync(408);
                }
                return false;
            }
            _end += received;
            var answered = await AnswerBufferedAsync();
            if (answered < 0)
            {
                return false;
            }
            if (_start == _end)
            {
                return true;
            }
            if (answered > 0)
            {
                headDeadline = context.Now + context.IdleTimeoutTicks; // what is left begins a new request
            }
            MakeRoomToReceive();
            if (TurnIsUp())
            {
                await AcoScheduler.Yield();
            }
            Enter(ConnectionPhase.ReadingHead, headDeadline);
            received = await Receive(_receiveBuffer.AsMemory(_end));
        }
    }

    /// <summary>
    /// Answers every complete request buffered, in order, batching the answers into one send. Returns how many
    /// were answered, or -1 when the connection closes.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> AnswerBufferedAsync()
    {
        var answered = 0;
        while (true)
        {
            var result = HttpRequestParser.TryParse(Buffered, context.MaxHeadBytes, context.MaxBodyBytes, out var request, out var consumed);
            _start += consumed;
            if (result == HeadParseResult.Incomplete)
            {
                await FlushAsync();
                return answered;
            }
            if (result != HeadParseResult.Complete)
            {
                await RefuseAsync(HttpRequestParser.StatusCodeOf(result));
                return -1;
            }
            if (request.ContentLength > 0 && !await DiscardBodyAsync(request.ContentLength))
            {
                return -1;
            }
            // While the server stops, the last request received in full gets the last answer.
            var close = !request.KeepAlive || (set.Draining && !HasCompleteHeadBuffered());
            if (SendSpaceLeft < HttpResponseWriter.MaxResponseBytes)
            {
                await FlushAsync();
            }
            var status = HttpResponseWriter.WriteAnswer(SendSpace(), request, close, context.Date.Line, out var written);
            _sendLength += written;
            context.Metrics.Responded(status);
            answered++;
            if (close)
            {
                await FlushAsync();
                await LingerAsync();
                return -1;
            }
        }
    }

    /// <summary>Reads and drops a request's body; false if the connection closes instead (the client left, or 408).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> DiscardBodyAsync(long length)
    {
        var buffered = (int)Math.Min(length, _end - _start);
        _start += buffered;
        var remaining = length - buffered;
        if (remaining == 0)
        {
            return true;
        }
        await FlushAsync(); // answers to earlier requests leave before this body is waited for
        var deadline = context.Now + context.IdleTimeoutTicks;
        while (remaining > 0)
        {
            if (TurnIsUp())
            {
                await AcoScheduler.Yield();
            }
            Enter(ConnectionPhase.ReadingBody, deadline);
            _start = _end = 0; // everything buffered is consumed
            var received = await Receive(_receiveBuffer.AsMemory());
            if (received == 0)
            {
                if (_timedOut)
                {
                    await RefuseAsync(408);
                }
                return false;
            }
            var body = (int)Math.Min(received, remaining);
            remaining -= body;
            _start = body;
            _end = received;
        }
        return true;
    }

    /// <summary>Answers with <paramref name="statusCode"/> and <c>Connection: close</c>, then closes.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RefuseAsync(int statusCode)
    {
        if (SendSpaceLeft < HttpResponseWriter.MaxResponseBytes)
        {
            await FlushAsync();
        }
        _sendLength += HttpResponseWriter.WriteRefusal(SendSpace(), statusCode, context.Date.Line);
        context.Metrics.Responded(statusCode);
        Log.RequestRefused(context.Logger, statusCode);
        await FlushAsync();
        await LingerAsync();
    }

    /// <summary>Sends the answers written so far.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FlushAsync()
    {
        if (_sendLength == 0)
        {
            return;
        }
        Enter(ConnectionPhase.Sending, context.Now + context.IdleTimeoutTicks);
        var sent = 0;
        while (sent < _sendLength)
        {
            sent += await socket.SendAsync(_sendBuffer.AsMemory(sent, _sendLength - sent), SocketFlags.None);
        }
        ReturnSendBuffer();
    }

    /// <summary>
    /// After a closing response: ends the sending side (the client reads the response, then the end) and reads and
    /// drops what the client still sends until it closes too, for a short while. Closing with unread bytes would
    /// send a reset, which can destroy the response before the client has read it.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask LingerAsync()
    {
        socket.Shutdown(SocketShutdown.Send);
        Enter(ConnectionPhase.Lingering, context.Now + context.LingerTicks);
        _receiveBuffer ??= ArrayPool<byte>.Shared.Rent(context.ReceiveBufferSize);
        var discarded = 0;
        while (discarded < MaxLingerBytes)
        {
            if (TurnIsUp())
            {
                await AcoScheduler.Yield();
            }
            var received = await Receive(_receiveBuffer.AsMemory());
            if (received == 0)
            {
                return;
            }
            discarded += received;
        }
    }

    private ReadOnlySpan<byte> Buffered => _receiveBuffer.AsSpan(_start, _end - _start);

    private bool HasCompleteHeadBuffered() =>
        HttpRequestParser.TryParse(Buffered, context.MaxHeadBytes, context.MaxBodyBytes, out _, out _) != HeadParseResult.Incomplete;

    /// <summary>True when the coroutine has had its turn (see <see cref="ReceivesPerTurn"/>) and should yield first.</summary>
    private bool TurnIsUp()
    {
        if (_receivesInARow < ReceivesPerTurn)
        {
            return false;
        }
        _receivesInARow = 0;
        return true;
    }

    private ValueTask<int> Receive(Memory<byte> buffer)
    {
        var receive = socket.ReceiveAsync(buffer, SocketFlags.None);
        _receivesInARow = receive.IsCompleted ? _receivesInARow + 1 : 0;
        return receive;
    }

    private void Enter(ConnectionPhase phase, long deadline)
    {
        _phase = phase;
        _deadline = deadline;
    }

    private void ShutdownReceive()
    {
        try
        {
            socket.Shutdown(SocketShutdown.Receive); // the pending receive ends with 0 bytes
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Closing already.
        }
    }

    /// <summary>Moves unconsumed bytes to the front when the buffer's end is reached.</summary>
    private void MakeRoomToReceive()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _receiveBuffer!.Length)
        {
            // The parser refuses a head as long as the buffer, so a full buffer always has consumed bytes in front.
            Debug.Assert(_start > 0, "a full buffer holds a whole head's worth of bytes, which the parser refuses");
            Buffered.CopyTo(_receiveBuffer);
            _end -= _start;
            _start = 0;
        }
    }

    private int SendSpaceLeft => _sendBuffer is null ? SendBufferSize : _sendBuffer.Length - _sendLength;

    private Span<byte> SendSpace() => (_sendBuffer ??= ArrayPool<byte>.Shared.Rent(SendBufferSize)).AsSpan(_sendLength);

    private void ReturnReceiveBuffer()
    {
        if (_receiveBuffer is { } buffer)
        {
            _receiveBuffer = null;
            _start = _end = 0;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void ReturnSendBuffer()
    {
        if (_sendBuffer is { } buffer)
        {
            _sendBuffer = null;
            _sendLength = 0;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
