namespace Aco.Core;

/// <summary>How an <see cref="AcoThread"/> sets up the coroutine runtime of its OS thread.</summary>
public sealed record AcoThreadOptions
{
    /// <summary>
    /// When true (the default), a coroutine whose entry function returns simply ends, as if
    /// it had called <c>aco_exit()</c>. When false, the return reaches the last word:
    /// <see cref="LastWord"/>, or libaco's default, which aborts the process.
    /// </summary>
    public bool ReturnMeansExit { get; init; } = true;

    /// <summary>
    /// A native last-word handler (libaco's <c>last_word_co_fp</c>): it runs on the coroutine
    /// whose entry function returned and must end it with <c>aco_exit()</c>. Requires
    /// <see cref="ReturnMeansExit"/> to be false.
    /// </summary>
    public AcoEntryPoint? LastWord { get; init; }

    /// <summary>
    /// When true, coroutines share the thread's FPU control state (rounding mode,
    /// exception masks) instead of each keeping its own. Faster switches (no MXCSR read);
    /// right for code that never changes the FPU control state inside a coroutine.
    /// Default false.
    /// </summary>
    public bool ShareFpuEnvironment { get; init; }

    /// <summary>The defaults.</summary>
    public static AcoThreadOptions Default { get; } = new();

    internal void Validate()
    {
        if (LastWord is { } lastWord)
        {
            if (!lastWord.IsValid)
            {
                throw new ArgumentException("LastWord is an empty entry point; create it with AcoEntryPoint.FromExport.", nameof(LastWord));
            }
            if (ReturnMeansExit)
            {
                throw new ArgumentException("LastWord only runs when ReturnMeansExit is false; set ReturnMeansExit = false to use it.", nameof(LastWord));
            }
        }
    }
}
