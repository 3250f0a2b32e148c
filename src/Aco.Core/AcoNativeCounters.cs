using Aco.Core.Interop;

namespace Aco.Core;

/// <summary>Process-wide totals kept by the native core, for diagnostics and leak checks.</summary>
/// <param name="LiveCoroutines">Coroutines created and not yet destroyed, main coroutines included.</param>
/// <param name="LiveShareStacks">Share stacks created and not yet destroyed.</param>
/// <param name="SaveStackBytes">Bytes allocated for save stacks.</param>
/// <param name="CopiedBytes">Bytes copied between share stacks and save stacks so far (a running total).</param>
public readonly record struct AcoNativeCounters(long LiveCoroutines, long LiveShareStacks, long SaveStackBytes, long CopiedBytes = 0)
{
    /// <summary>Reads the counters now (summed over all threads).</summary>
    public static unsafe AcoNativeCounters Read()
    {
        NativeCounters c;
        AcoNative.GetCounters(&c);
        return new AcoNativeCounters(c.LiveCoroutines, c.LiveShareStacks, c.SaveStackBytes, c.CopiedBytes);
    }
}

/// <summary>A coroutine's save stack: where its live stack is copied while another coroutine owns the share stack.</summary>
/// <param name="Size">Bytes allocated (grows by doubling when needed).</param>
/// <param name="ValidSize">Bytes of live stack currently held.</param>
/// <param name="MaxCopySize">Largest copy in either direction, in bytes.</param>
/// <param name="SaveCount">Copies from the share stack into the save stack.</param>
/// <param name="RestoreCount">Copies from the save stack back to the share stack.</param>
public readonly record struct AcoSaveStackStats(long Size, long ValidSize, long MaxCopySize, long SaveCount, long RestoreCount);
