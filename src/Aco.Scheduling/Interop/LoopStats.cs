using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Aco.Scheduling.Interop;

/// <summary>aco_loop_stats_t: counts the loop keeps, read through a pointer (no call per look).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LoopStats
{
    public long Ready;
    public long Live;
    public long Resumes;
    public long Sleeping;
    public long WaitingIo;
    public long EarliestDue;
    public long Finished;
    public long Canceled;
    public long Spawned;
    public RequestCounts Requests;

    /// <summary>Requests made, by <see cref="TaskOp"/>.</summary>
    [InlineArray(16)]
    public struct RequestCounts
    {
        private long _first;
    }
}
