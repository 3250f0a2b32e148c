namespace Aco.Scheduling;

/// <summary>What a dump (<see cref="AcoScheduler.GetDumpAsync"/>) reads, and how long it may pause a scheduler.</summary>
public sealed class AcoDumpOptions
{
    /// <summary>The defaults: frames read and symbolized, managed coroutines included, pauses of at most 50 ms.</summary>
    public static AcoDumpOptions Default { get; } = new();

    /// <summary>Read and symbolize the frames of native coroutines. Default true.</summary>
    public bool Frames { get; init; } = true;

    /// <summary>The most frames read per coroutine (1 to 1024); deeper stacks are cut there. Default 64.</summary>
    public int MaxFrames
    {
        get;
        init => field = value is >= 1 and <= 1024 ? value : throw new ArgumentOutOfRangeException(nameof(MaxFrames), value, "1 to 1024 frames.");
    } = 64;

    /// <summary>Include managed (async) coroutines and the async methods they are suspended in. Default true.</summary>
    public bool Managed { get; init; } = true;

    /// <summary>
    /// The longest a dump works on a scheduler's thread at a time (1 ms to 1 s): it reads coroutines in slices, one
    /// per turn of the scheduler, and the scheduler runs its coroutines in between. Default 50 ms. The first slice
    /// also takes the list of coroutines, which costs a few tens of nanoseconds per coroutine however long it is.
    /// </summary>
    public TimeSpan MaxPause
    {
        get;
        init => field = value >= TimeSpan.FromMilliseconds(1) && value <= TimeSpan.FromSeconds(1) ? value : throw new ArgumentOutOfRangeException(nameof(MaxPause), value, "1 ms to 1 s.");
    } = TimeSpan.FromMilliseconds(50);

    /// <summary>Only the coroutines waiting on .NET (a stuck check): no hold, no sleepers, no frames.</summary>
    internal bool ParkedOnly { get; init; }
}
