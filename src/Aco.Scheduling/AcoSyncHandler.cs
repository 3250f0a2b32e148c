namespace Aco.Scheduling;

/// <summary>A managed handler for <c>aco_bridge_call</c> that completes at once.</summary>
/// <param name="input">The bytes the coroutine passed.</param>
/// <param name="output">Where to write the answer (the coroutine's buffer).</param>
/// <returns>How many bytes of <paramref name="output"/> were written.</returns>
public delegate int AcoSyncHandler(ReadOnlySpan<byte> input, Span<byte> output);
