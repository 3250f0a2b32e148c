namespace Aco.Scheduling;

/// <summary>A managed handler for <c>aco_bridge_call</c> that may complete later; the coroutine waits.</summary>
/// <param name="input">A copy of the bytes the coroutine passed.</param>
/// <param name="output">Where to write the answer; copied into the coroutine's buffer on completion.</param>
/// <param name="cancellationToken">Cancelled when the coroutine is cancelled or the scheduler stops.</param>
/// <returns>How many bytes of <paramref name="output"/> were written.</returns>
public delegate ValueTask<int> AcoAsyncHandler(ReadOnlyMemory<byte> input, Memory<byte> output, CancellationToken cancellationToken);
