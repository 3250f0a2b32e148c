using Aco.Core.Interop;

namespace Aco.Core;

/// <summary>
/// The coroutine runtime of one OS thread: it initializes the native core on the thread
/// (<c>aco_thread_init</c>), owns the thread's main coroutine, and creates share stacks and
/// coroutines, all of which belong to this thread and may be used only on it.
/// </summary>
/// <remarks>
/// <see cref="Dispose"/> refuses while coroutines created on the thread are alive: dispose
/// them first (a coroutine's stack is dropped without unwinding, so ending them is the
/// caller's decision). Share stacks that are still open are disposed with the thread.
/// </remarks>
public sealed unsafe class AcoThread : IDisposable
{
    [ThreadStatic]
    private static AcoThread? t_current;

    private readonly HashSet<AcoShareStack> _stacks = [];
    private readonly Dictionary<nint, AcoCoroutine> _coroutines = [];
    private bool _disposed;

    private AcoThread(AcoThreadOptions options)
    {
        Options = options;
        ManagedThreadId = Environment.CurrentManagedThreadId;
        AcoNative.ThreadInit(options.LastWord?.Address ?? 0);
        AcoNative.SetReturnMeansExit(options.ReturnMeansExit ? 1 : 0);
        AcoNative.SetShareFpuEnv(options.ShareFpuEnvironment ? 1 : 0);
        MainCoroutine = new AcoCoroutine(this, AcoNative.Create(null, null, 0, 0, 0));
    }

    /// <summary>The calling thread's <see cref="AcoThread"/>, or null when it has none.</summary>
    public static AcoThread? Current => t_current;

    /// <summary>
    /// The calling thread's <see cref="AcoThread"/>, created with <paramref name="options"/> on
    /// first use. A second call with equal options returns the same instance.
    /// </summary>
    /// <exception cref="InvalidOperationException">The thread was initialized with other options.</exception>
    /// <exception cref="ArgumentException">The options contradict each other.</exception>
    /// <exception cref="PlatformNotSupportedException">The loaded libaco's struct layout does not match this assembly's (mixed builds).</exception>
    public static AcoThread Initialize(AcoThreadOptions? options = null)
    {
        Interop.AcoLayout.EnsureChecked();
        options ??= AcoThreadOptions.Default;
        options.Validate();
        if (t_current is { } existing)
        {
            if (existing.Options != options)
            {
                throw new InvalidOperationException(
                    $"This thread's AcoThread was initialized with other options ({existing.Options}); dispose it before initializing with {options}.");
            }
            return existing;
        }
        return t_current = new AcoThread(options);
    }

    /// <summary>The options the thread was initialized with.</summary>
    public AcoThreadOptions Options { get; }

    /// <summary>The managed id of the thread this belongs to.</summary>
    public int ManagedThreadId { get; }

    /// <summary>The thread's main coroutine: the thread's own stack, which resumes the others.</summary>
    public AcoCoroutine MainCoroutine { get; }

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>Coroutines created on this thread and not yet disposed (the main coroutine not counted).</summary>
    public int LiveCoroutineCount => _coroutines.Count;

    /// <summary>Share stacks created on this thread and not yet disposed.</summary>
    public int LiveShareStackCount => _stacks.Count;

    /// <summary>Creates a share stack. See <see cref="AcoShareStack"/> for the sizes.</summary>
    public AcoShareStack CreateShareStack(long size = 0, bool guardPage = true) => new(this, size, guardPage);

    /// <summary>
    /// Creates a coroutine on <paramref name="stack"/> that will run <paramref name="entry"/>
    /// with <paramref name="argument"/> (what <c>aco_get_arg()</c> returns). It starts on the
    /// first <see cref="AcoCoroutine.Resume"/>.
    /// </summary>
    public AcoCoroutine CreateCoroutine(AcoShareStack stack, AcoEntryPoint entry, nint argument = 0, long saveStackSize = 0) =>
        new(this, stack, entry, argument, saveStackSize);

    /// <summary>Disposes the thread's share stacks and main coroutine and forgets the thread's runtime.</summary>
    /// <exception cref="InvalidOperationException">Called from another thread, or coroutines are still alive.</exception>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        VerifyThread();
        if (_coroutines.Count > 0)
        {
            throw new InvalidOperationException(
                $"{_coroutines.Count} coroutine(s) created on this AcoThread are still alive; dispose them before the thread.");
        }
        foreach (var stack in _stacks.ToList())
        {
            stack.Dispose();
        }
        MainCoroutine.DisposeAsMain();
        _disposed = true;
        if (t_current == this)
        {
            t_current = null;
        }
    }

    /// <summary>Throws unless the caller is on this thread and it is not disposed.</summary>
    internal void VerifyAccess()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        VerifyThread();
    }

    private void VerifyThread()
    {
        if (Environment.CurrentManagedThreadId != ManagedThreadId)
        {
            throw new InvalidOperationException(
                $"This AcoThread belongs to managed thread {ManagedThreadId}; it and its coroutines and stacks can only be used there (called from thread {Environment.CurrentManagedThreadId}).");
        }
    }

    internal void Register(AcoShareStack stack) => _stacks.Add(stack);

    internal void Unregister(AcoShareStack stack) => _stacks.Remove(stack);

    internal void Register(AcoCoroutine coroutine) => _coroutines.Add(coroutine.NativeAddress, coroutine);

    internal void Unregister(AcoCoroutine coroutine) => _coroutines.Remove(coroutine.NativeAddress);

    internal AcoCoroutine? FindCoroutine(nint native) => _coroutines.GetValueOrDefault(native);

    /// <inheritdoc/>
    public override string ToString() =>
        $"AcoThread(thread {ManagedThreadId}, {_coroutines.Count} coroutines, {_stacks.Count} stacks{(_disposed ? ", disposed" : "")})";
}
