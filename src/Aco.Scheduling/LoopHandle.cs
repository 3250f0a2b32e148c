using Aco.Scheduling.Interop;
using Microsoft.Win32.SafeHandles;

namespace Aco.Scheduling;

/// <summary>
/// Owns a run loop's memory and its wake-up descriptor. The scheduler thread destroys the loop's coroutines itself
/// (they belong to that thread); the loop is freed when this handle is released, which waits for any other thread
/// that is waking it right then, so a late wake-up never writes to a closed descriptor.
/// </summary>
internal sealed class LoopHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public LoopHandle(nint loop) : base(ownsHandle: true) => SetHandle(loop);

    /// <summary>Wakes the loop's thread from its wait; does nothing once the loop has been released. Any thread.</summary>
    public void Wake()
    {
        var added = false;
        try
        {
            DangerousAddRef(ref added);
            LoopNative.Wake(handle);
        }
        catch (ObjectDisposedException)
        {
            // Released: nobody waits any more.
        }
        finally
        {
            if (added)
            {
                DangerousRelease();
            }
        }
    }

    protected override bool ReleaseHandle()
    {
        LoopNative.Destroy(handle); // no coroutine is left in it (see AcoScheduler.StopNative)
        return true;
    }
}
