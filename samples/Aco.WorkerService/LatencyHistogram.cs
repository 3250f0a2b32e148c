namespace Aco.WorkerService;

/// <summary>
/// Counts latencies in microseconds in log-linear buckets (16 per power of two: within 6% of the true value), from
/// any thread without a lock; percentiles over everything recorded, or over what came since a previous snapshot.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBuckets = 16;
    private readonly long[] _counts = new long[64 * SubBuckets];

    /// <summary>Records one latency. Any thread.</summary>
    public void Record(long microseconds) => Interlocked.Increment(ref _counts[Bucket(Math.Max(microseconds, 0))]);

    /// <summary>A copy of the counts, to subtract from a later one.</summary>
    public long[] Snapshot()
    {
        var copy = new long[_counts.Length];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = Volatile.Read(ref _counts[i]);
        }
        return copy;
    }

    /// <summary>The <paramref name="percentile"/> (0-100) of what was recorded after <paramref name="since"/> (null: ever), in microseconds; 0 when nothing was.</summary>
    public long Percentile(double percentile, long[]? since = null)
    {
        var counts = Snapshot();
        long total = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] -= since?[i] ?? 0;
            total += counts[i];
        }
        var rank = (long)Math.Ceiling(total * percentile / 100.0);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank && counts[i] > 0)
            {
                return UpperBound(i);
            }
        }
        return 0;
    }

    private static int Bucket(long value)
    {
        if (value < SubBuckets)
        {
            return (int)value;
        }
        var power = 63 - (int)long.LeadingZeroCount(value); // value is in [2^power, 2^(power+1))
        var sub = (int)((value >> (power - 4)) & (SubBuckets - 1));
        return (power - 3) * SubBuckets + sub;
    }

    private static long UpperBound(int bucket)
    {
        if (bucket < SubBuckets)
        {
            return bucket;
        }
        var power = bucket / SubBuckets + 3;
        var sub = bucket % SubBuckets;
        return ((long)(SubBuckets + sub + 1) << (power - 4)) - 1;
    }
}
