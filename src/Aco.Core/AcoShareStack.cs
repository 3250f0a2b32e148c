using System.Diagnostics;
using Aco.Core.Interop;
using Microsoft.Win32.SafeHandles;

namespace Aco.Core;

/// <summary>
/// A share stack: the stack that one or more coroutines run on, taking turns. When a
/// coroutine is resumed and another one owns the stack, the owner's live part is copied
/// out to its save stack and the arriving coroutine's is copied back. A coroutine alone on
/// its stack never copies. Belongs to the <see cref="AcoThread"/> that created it.
/// </summary>
[DebuggerDisplay("{ToString(),nq}")]
public sealed unsafe class AcoShareStack : SafeHandleZeroOrMinusOneIsInvalid
{
    /// <summary>The default size, used when 0 is asked for: 2 MiB.</summary>
    public const long DefaultSize = 2 * 1024 * 1024;

    /// <summary>The smallest size that may be asked for (besides 0, the default).</summary>
    public const long MinSize = 4096;

    /// <summary>The largest size that may be asked for: 1 GiB.</summary>
    public const long MaxSize = 1L << 30;

    /// <summary>Whether <paramref name="size"/> may be asked for: 0 (meaning <see cref="DefaultSize"/>), or <see cref="MinSize"/> to <see cref="MaxSize"/>.</summary>
    public static bool IsValidSize(long size) => size == 0 || (size >= MinSize && size <= MaxSize);

    /// <summary>What <see cref="IsValidSize"/> accepts, in words.</summary>
    internal const string SizeRule = "0 (meaning 2 MiB) or between 4096 bytes and 1 GiB";

    /// <summary>Throws the one message for a size <see cref="IsValidSize"/> refuses.</summary>
    internal static void ThrowIfInvalidSize(long size, string paramName)
    {
        if (!IsValidSize(size))
        {
            throw new ArgumentOutOfRangeException(paramName, size, $"A share stack's size must be {SizeRule}.");
        }
    }

    private int _coroutineCount;

    internal AcoShareStack(AcoThread thread, long size, bool guardPage) : base(ownsHandle: true)
    {
        ArgumentNullException.ThrowIfNull(thread);
        ThrowIfInvalidSize(size, nameof(size));
        thread.VerifyAccess();
        Thread = thread;
        SetHandle((nint)AcoNative.ShareStackNew((nuint)size, guardPage ? (byte)1 : (byte)0));
        thread.Register(this);
    }

    /// <summary>The thread this stack belongs to.</summary>
    public AcoThread Thread { get; }

    /// <summary>Usable bytes (a guard page, when there is one, is not counted).</summary>
    public long Size => (long)Native->Size;

    /// <summary>Whether a read-only guard page below the stack turns an overflow into a fault.</summary>
    public bool GuardPageEnabled => Native->GuardPageEnabled != 0;

    /// <summary>The coroutine whose live stack is on this stack now, or null.</summary>
    public AcoCoroutine? Owner
    {
        get
        {
            var owner = Native->Owner;
            return owner == null ? null : Thread.FindCoroutine((nint)owner);
        }
    }

    /// <summary>How many coroutines use this stack (created on it and not yet disposed).</summary>
    public int CoroutineCount => Volatile.Read(ref _coroutineCount);

    internal NativeShareStack* Native
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return (NativeShareStack*)handle;
        }
    }

    internal void AddCoroutine() => Interlocked.Increment(ref _coroutineCount);

    internal void RemoveCoroutine() => Interlocked.Decrement(ref _coroutineCount);

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">Coroutines still use the stack, or called from another thread.</exception>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !IsClosed)
        {
            Thread.VerifyAccess();
            var count = CoroutineCount;
            if (count > 0)
            {
                throw new InvalidOperationException(
                    $"{count} coroutine(s) still use this share stack; dispose them before the stack.");
            }
            Thread.Unregister(this);
        }
        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        // Reached from Dispose (checked above) or, when everything that referenced the
        // stack is garbage, from the finalizer: a stack still used by a coroutine that has
        // not been finalized yet is leaked rather than freed under it.
        if (CoroutineCount > 0)
        {
            return false;
        }
        AcoNative.ShareStackDestroy((NativeShareStack*)handle);
        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => IsClosed
        ? "AcoShareStack(disposed)"
        : $"AcoShareStack({Size} bytes, {(GuardPageEnabled ? "guarded" : "no guard")}, {CoroutineCount} coroutines)";
}
