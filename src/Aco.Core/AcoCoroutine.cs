using System.Diagnostics;
using Aco.Core.Interop;
using Microsoft.Win32.SafeHandles;

namespace Aco.Core;

/// <summary>
/// A native coroutine (<c>aco_t</c>), or a thread's main coroutine. Create one with
/// <see cref="AcoThread.CreateCoroutine"/>; run it a step at a time with <see cref="Resume"/>
/// until <see cref="IsEnded"/>. Everything about it must happen on its thread.
/// </summary>
/// <remarks>
/// Every precondition of the native core is checked before the call, so misuse throws
/// instead of aborting the process. <c>Dispose()</c> destroys the
/// coroutine, also one that is suspended and has not ended (its stack is dropped, nothing
/// on it is unwound).
/// </remarks>
[DebuggerDisplay("{ToString(),nq}")]
public sealed unsafe class AcoCoroutine : SafeHandleZeroOrMinusOneIsInvalid
{
    /// <summary>The largest initial save-stack size that may be asked for: 64 MiB.</summary>
    public const long MaxSaveStackSize = 64L << 20;

    /// <summary>The smallest initial save-stack size that may be asked for (besides 0, meaning <see cref="DefaultSaveStackSize"/>).</summary>
    public const long MinSaveStackSize = 16;

    /// <summary>The initial save-stack size that 0 stands for: 64 bytes.</summary>
    public const long DefaultSaveStackSize = 64;

    /// <summary>Whether <paramref name="size"/> may be asked for as an initial save stack: 0, or <see cref="MinSaveStackSize"/> to <see cref="MaxSaveStackSize"/>.</summary>
    public static bool IsValidSaveStackSize(long size) => size == 0 || (size >= MinSaveStackSize && size <= MaxSaveStackSize);

    /// <summary>What <see cref="IsValidSaveStackSize"/> accepts, in words.</summary>
    internal const string SaveStackSizeRule = "0 (meaning 64 bytes) or between 16 bytes and 64 MiB";

    /// <summary>Throws the one message for a size <see cref="IsValidSaveStackSize"/> refuses.</summary>
    internal static void ThrowIfInvalidSaveStackSize(long size, string paramName)
    {
        if (!IsValidSaveStackSize(size))
        {
            throw new ArgumentOutOfRangeException(paramName, size, $"An initial save stack's size must be {SaveStackSizeRule}; it grows on demand.");
        }
    }

    private readonly AcoShareStack? _stack;

    /// <summary>A main coroutine.</summary>
    internal AcoCoroutine(AcoThread thread, NativeCoroutine* native) : base(ownsHandle: true)
    {
        Thread = thread;
        SetHandle((nint)native);
    }

    internal AcoCoroutine(AcoThread thread, AcoShareStack stack, AcoEntryPoint entry, nint argument, long saveStackSize)
        : base(ownsHandle: true)
    {
        ArgumentNullException.ThrowIfNull(thread);
        ArgumentNullException.ThrowIfNull(stack);
        if (!entry.IsValid)
        {
            throw new ArgumentException("The entry point is empty; create it with AcoEntryPoint.FromExport or FromPointer.", nameof(entry));
        }
        ThrowIfInvalidSaveStackSize(saveStackSize, nameof(saveStackSize));
        thread.VerifyAccess();
        ObjectDisposedException.ThrowIf(stack.IsClosed, stack);
        if (stack.Thread != thread)
        {
            throw new InvalidOperationException(
                $"The share stack belongs to another AcoThread (thread {stack.Thread.ManagedThreadId}); a coroutine must be created on a stack of its own thread.");
        }
        Thread = thread;
        _stack = stack;
        SetHandle((nint)AcoNative.Create(thread.MainCoroutine.NativeUnchecked, stack.Native, (nuint)saveStackSize, entry.Address, argument));
        Entry = entry;
        stack.AddCoroutine();
        thread.Register(this);
    }

    /// <summary>The thread this coroutine belongs to.</summary>
    public AcoThread Thread { get; }

    /// <summary>The entry point (default for a main coroutine).</summary>
    public AcoEntryPoint Entry { get; }

    /// <summary>The share stack it runs on (null for a main coroutine).</summary>
    public AcoShareStack? ShareStack => _stack;

    /// <summary>Whether this is its thread's main coroutine.</summary>
    public bool IsMain => _stack is null;

    /// <summary>Whether it has ended (called <c>aco_exit</c>, or returned with ReturnMeansExit).</summary>
    public bool IsEnded => AcoLayout.Fields(Native)->IsEnd != 0;

    /// <summary>The argument its entry function reads with <c>aco_get_arg()</c>.</summary>
    public nint Argument => AcoLayout.Fields(Native)->Argument;

    /// <summary>Whether its live stack is on its share stack now (no copy needed to resume it).</summary>
    public bool OwnsShareStack => _stack is not null && AcoLayout.Fields(Native)->ShareStack->Owner == Native;

    /// <summary>Save-stack size and copy statistics.</summary>
    public AcoSaveStackStats SaveStack
    {
        get
        {
            var s = &AcoLayout.Fields(Native)->SaveStack;
            return new AcoSaveStackStats((long)s->Size, (long)s->ValidSize, (long)s->MaxCopySize, (long)s->SaveCount, (long)s->RestoreCount);
        }
    }

    /// <summary>The deepest stack it used at any suspension point, in bytes from the stack top.</summary>
    public long StackHighWaterMark => (long)AcoNative.GetStackHighWaterMark(Native);

    internal nint NativeAddress => handle;

    internal NativeCoroutine* NativeUnchecked => (NativeCoroutine*)handle;

    private NativeCoroutine* Native
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsClosed, this);
            return (NativeCoroutine*)handle;
        }
    }

    /// <summary>Runs the coroutine until it yields or ends.</summary>
    /// <exception cref="ObjectDisposedException">It, or its thread, was disposed.</exception>
    /// <exception cref="InvalidOperationException">Called from another thread, on a main coroutine, or after it ended.</exception>
    public void Resume()
    {
        var native = Native;
        Thread.VerifyAccess();
        if (_stack is null)
        {
            throw new InvalidOperationException("A main coroutine cannot be resumed: it is the thread itself, which resumes the others.");
        }
        if (AcoLayout.Fields(native)->IsEnd != 0)
        {
            throw new InvalidOperationException("The coroutine has ended; it cannot be resumed again.");
        }
        AcoNative.Resume(native);
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">Called from another thread, or on a main coroutine (dispose its AcoThread instead).</exception>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !IsClosed)
        {
            if (_stack is null)
            {
                throw new InvalidOperationException("A main coroutine belongs to its AcoThread; dispose the AcoThread instead.");
            }
            if (Environment.CurrentManagedThreadId != Thread.ManagedThreadId)
            {
                throw new InvalidOperationException(
                    $"This coroutine belongs to managed thread {Thread.ManagedThreadId}; it can only be disposed there.");
            }
            Thread.Unregister(this);
        }
        base.Dispose(disposing);
    }

    internal void DisposeAsMain() => base.Dispose(disposing: true);

    /// <inheritdoc/>
    protected override bool ReleaseHandle()
    {
        AcoNative.Destroy((NativeCoroutine*)handle);
        _stack?.RemoveCoroutine();
        return true;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        if (IsClosed)
        {
            return "AcoCoroutine(disposed)";
        }
        if (IsMain)
        {
            return $"AcoCoroutine(main of thread {Thread.ManagedThreadId})";
        }
        var s = SaveStack;
        var state = IsEnded ? "ended" : OwnsShareStack ? "on its stack" : "saved";
        return $"AcoCoroutine({Entry}, {state}, arg=0x{Argument:x}, save {s.ValidSize}/{s.Size} B, {s.SaveCount} saves, {s.RestoreCount} restores, hwm {StackHighWaterMark} B)";
    }
}
