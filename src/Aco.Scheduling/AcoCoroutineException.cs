namespace Aco.Scheduling;

/// <summary>A native coroutine ended with <c>aco_bridge_fail(code, message)</c>.</summary>
public sealed class AcoCoroutineException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AcoCoroutineException(int code, string message) : base(message) => Code = code;

    /// <summary>Creates the exception with code 0.</summary>
    public AcoCoroutineException() : this(0, "The coroutine failed.")
    {
    }

    /// <summary>Creates the exception with code 0.</summary>
    public AcoCoroutineException(string message) : this(0, message)
    {
    }

    /// <summary>Creates the exception with code 0.</summary>
    public AcoCoroutineException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>The code the coroutine gave.</summary>
    public int Code { get; }
}

/// <summary>A managed handler for <c>aco_bridge_call</c> that completes at once.</summary>
/// <param name="input">The bytes the coroutine passed.</param>
/// <param name="output">Where to write the answer (the coroutine's buffer).</param>
/// <returns>How many bytes of <paramref name="output"/> were written.</returns>
public delegate int AcoSyncHandler(ReadOnlySpan<byte> input, Span<byte> output);

/// <summary>A managed handler for <c>aco_bridge_call</c> that may complete later; the coroutine waits.</summary>
/// <param name="input">A copy of the bytes the coroutine passed.</param>
/// <param name="output">Where to write the answer; copied into the coroutine's buffer on completion.</param>
/// <param name="cancellationToken">Cancelled when the coroutine is cancelled or the scheduler stops.</param>
/// <returns>How many bytes of <paramref name="output"/> were written.</returns>
public delegate ValueTask<int> AcoAsyncHandler(ReadOnlyMemory<byte> input, Memory<byte> output, CancellationToken cancellationToken);
