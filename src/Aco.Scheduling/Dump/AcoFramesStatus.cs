namespace Aco.Scheduling;

/// <summary>How the frames of a native coroutine were read.</summary>
public enum AcoFramesStatus
{
    /// <summary>Every frame, up to its entry function.</summary>
    Complete,

    /// <summary>More frames than <see cref="AcoDumpOptions.MaxFrames"/>: the outer ones are left out.</summary>
    Truncated,

    /// <summary>
    /// The frame-pointer chain ended at a frame that is not on the coroutine's stack: some code on it was built
    /// without frame pointers (build bodies with <c>-fno-omit-frame-pointer</c>). The frames shown are those
    /// that could be read.
    /// </summary>
    Broken,

    /// <summary>
    /// The chain reached the top of the stack, but not in the entry function: a function built without frame
    /// pointers hid its callers. The frames shown are those that could be read.
    /// </summary>
    Incomplete,

    /// <summary>It has not run yet: no frames (its body is where it will start).</summary>
    NotStarted,

    /// <summary>Frames were not asked for (<see cref="AcoDumpOptions.Frames"/>), or there are none (a managed coroutine whose body .NET does not expose).</summary>
    NotRead,

    /// <summary>
    /// Only where it resumes: this platform's frames do not chain (Windows x64, where GCC's frame pointer
    /// points into the middle of a frame).
    /// </summary>
    Unsupported,
}
