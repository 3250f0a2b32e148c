using System.Buffers;

namespace Aco.Scheduling;

/// <summary>Pooled buffers of an asynchronous handler call (the coroutine's own buffers may move while it waits).</summary>
internal sealed class PooledCall(int inputLength, int outputLength)
{
    public byte[] Input { get; } = ArrayPool<byte>.Shared.Rent(Math.Max(inputLength, 1));

    public byte[] Output { get; } = ArrayPool<byte>.Shared.Rent(Math.Max(outputLength, 1));

    public void Return()
    {
        ArrayPool<byte>.Shared.Return(Input);
        ArrayPool<byte>.Shared.Return(Output);
    }
}
