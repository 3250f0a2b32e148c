using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Aco.Scheduling;

/// <summary>How one scheduler was read for a dump.</summary>
/// <param name="Name">The scheduler's name.</param>
/// <param name="Coroutines">Coroutines read on it.</param>
/// <param name="Slices">How many turns the dump worked in.</param>
/// <param name="LongestPause">The longest it held the scheduler's thread at a time.</param>
/// <param name="EndedMeanwhile">Coroutines that ended between the dump's start and their turn to be read (not listed).</param>
/// <param name="Interrupted">The scheduler stopped before the dump had read everything.</param>
public sealed record AcoDumpScheduler(string Name, long Coroutines, int Slices, TimeSpan LongestPause, long EndedMeanwhile, bool Interrupted);

/// <summary>
/// Every coroutine of a scheduler or a pool at one moment: grouped by where they are and what they wait for
/// (<see cref="Groups"/>, largest first), each with its frames, read without resuming it. Write it as text for a
/// person (<see cref="WriteText"/>) or as JSON for tools (<see cref="WriteJson"/>).
/// </summary>
public sealed class AcoDump
{
    internal AcoDump(DateTimeOffset takenAt, TimeSpan duration, IReadOnlyList<AcoDumpScheduler> schedulers, IReadOnlyList<AcoCoroutineGroup> groups)
    {
        TakenAt = takenAt;
        Duration = duration;
        Schedulers = schedulers;
        Groups = groups;
        Count = groups.Sum(g => (long)g.Count);
        StuckCount = groups.Where(g => g.Stuck != AcoStuckReason.None).Sum(g => (long)g.Count);
    }

    /// <summary>When the dump began.</summary>
    public DateTimeOffset TakenAt { get; }

    /// <summary>How long it took, symbols and groups included.</summary>
    public TimeSpan Duration { get; }

    /// <summary>How each scheduler was read.</summary>
    public IReadOnlyList<AcoDumpScheduler> Schedulers { get; }

    /// <summary>The groups, largest first.</summary>
    public IReadOnlyList<AcoCoroutineGroup> Groups { get; }

    /// <summary>Coroutines in the dump.</summary>
    public long Count { get; }

    /// <summary>Of those, the ones whose wait can never be answered.</summary>
    public long StuckCount { get; }

    /// <summary>The longest the dump held any scheduler's thread at a time.</summary>
    public TimeSpan LongestPause => Schedulers.Count == 0 ? TimeSpan.Zero : Schedulers.Max(s => s.LongestPause);

    /// <summary>The dump as text, with up to 10 coroutines listed per group.</summary>
    public override string ToString() => ToText();

    /// <summary>The dump as text, with up to <paramref name="maxCoroutinesPerGroup"/> coroutines listed per group.</summary>
    public string ToText(int maxCoroutinesPerGroup = 10)
    {
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        WriteText(writer, maxCoroutinesPerGroup);
        return writer.ToString();
    }

    /// <summary>Writes the dump as text: a summary, then each group with its frames and up to <paramref name="maxCoroutinesPerGroup"/> of its coroutines.</summary>
    public void WriteText(TextWriter writer, int maxCoroutinesPerGroup = 10)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentOutOfRangeException.ThrowIfNegative(maxCoroutinesPerGroup);
        var c = CultureInfo.InvariantCulture;
        var managed = Groups.Where(g => g.Kind == AcoCoroutineKind.Managed).Sum(g => (long)g.Count);
        writer.WriteLine(string.Create(c,
            $"Aco dump at {TakenAt:yyyy-MM-dd HH:mm:ss.fff}Z: {Count:N0} coroutines ({Count - managed:N0} native, {managed:N0} managed), {StuckCount:N0} stuck, {Groups.Count:N0} groups; took {Duration.TotalMilliseconds:F0} ms, longest pause {LongestPause.TotalMilliseconds:F1} ms"));
        foreach (var s in Schedulers)
        {
            writer.WriteLine(string.Create(c,
                $"  {s.Name}: {s.Coroutines:N0} coroutines, read in {s.Slices} slices, longest pause {s.LongestPause.TotalMilliseconds:F1} ms{(s.EndedMeanwhile > 0 ? $", {s.EndedMeanwhile:N0} ended meanwhile" : "")}{(s.Interrupted ? ", stopped before the dump ended" : "")}"));
        }
        foreach (var g in Groups)
        {
            writer.WriteLine();
            writer.WriteLine(string.Create(c, $"{g.Count:N0} x {(g.Kind == AcoCoroutineKind.Native ? "native" : "managed")}, {g.Description}{(g.Stuck != AcoStuckReason.None ? $"  STUCK: {StuckText(g.Stuck)}" : "")}"));
            if (g.Body is { } body)
            {
                writer.WriteLine($"    body: {body}");
            }
            for (var i = 0; i < g.Frames.Count; i++)
            {
                writer.WriteLine(string.Create(c, $"    #{i} {g.Frames[i]}"));
            }
            if (FramesNote(g.FramesStatus) is { } note)
            {
                writer.WriteLine($"    ({note})");
            }
            if (g.LongestWait is not null || g.Oldest is not null)
            {
                writer.WriteLine(string.Create(c,
                    $"    {(g.LongestWait is { } w ? $"longest wait {Seconds(w)}" : "")}{(g.LongestWait is not null && g.Oldest is not null ? ", " : "")}{(g.Oldest is { } o ? $"oldest {Seconds(o)}" : "")}"));
            }
            var shown = Math.Min(g.Count, maxCoroutinesPerGroup);
            for (var i = 0; i < shown; i++)
            {
                writer.WriteLine("    " + Line(g.Coroutines[i]));
            }
            if (g.Count > shown)
            {
                writer.WriteLine(string.Create(c, $"    ... and {g.Count - shown:N0} more"));
            }
        }
    }

    private static string Line(in AcoDumpedCoroutine d)
    {
        var b = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        b.Append(c, $"{(d.Kind == AcoCoroutineKind.Managed ? "task " : "#")}{d.Id} on {d.Scheduler}");
        if (d.ShareStack >= 0)
        {
            b.Append(c, $" stack {d.ShareStack}");
        }
        if (d.Wait is AcoRequestKind.Await)
        {
            b.Append(c, $": operation {d.Argument}");
        }
        else if (d.Wait is AcoRequestKind.SocketRead or AcoRequestKind.SocketWrite or AcoRequestKind.SocketPoll)
        {
            b.Append(c, $": descriptor {d.Argument}");
        }
        if (d.Waiting is { } waiting)
        {
            b.Append(c, $", waiting {Seconds(waiting)}");
        }
        if (d.DueIn is { } due)
        {
            b.Append(due >= TimeSpan.Zero ? $", due in {Seconds(due)}" : $", overdue by {Seconds(-due)}");
        }
        if (d.Age is { } age)
        {
            b.Append(c, $", age {Seconds(age)}");
        }
        if (d.Kind == AcoCoroutineKind.Native)
        {
            b.Append(c, $", save stack {d.SaveStackBytes:N0} B");
        }
        if (d.CancelRequested)
        {
            b.Append(", cancel requested");
        }
        if (d.AwaitsCoroutine != 0)
        {
            b.Append(c, $", awaits #{d.AwaitsCoroutine}");
        }
        return b.ToString();
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds >= 1
        ? t.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s"
        : t.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture) + " ms";

    internal static string StuckText(AcoStuckReason reason) => reason switch
    {
        AcoStuckReason.OperationDropped => "the operation's task was collected: nothing can complete it",
        AcoStuckReason.ChannelReplaced => "the channel was replaced under its id: the bridge no longer reaches the one it waits on",
        AcoStuckReason.AwaitCycle => "coroutines awaiting each other's completion in a cycle",
        AcoStuckReason.AwaitsStuck => "awaits the completion of a stuck coroutine",
        _ => "",
    };

    private static string? FramesNote(AcoFramesStatus status) => status switch
    {
        AcoFramesStatus.Truncated => "more frames: cut at AcoDumpOptions.MaxFrames",
        AcoFramesStatus.Broken => "frames end here: code on this stack was built without frame pointers (-fno-omit-frame-pointer)",
        AcoFramesStatus.Incomplete => "frames missing: a function built without frame pointers hid its callers (-fno-omit-frame-pointer)",
        AcoFramesStatus.NotStarted => "not started yet",
        AcoFramesStatus.Unsupported => "only where it resumes: frames cannot be walked on this platform",
        _ => null,
    };

    /// <summary>The dump as JSON, with up to <paramref name="maxCoroutinesPerGroup"/> coroutines listed per group.</summary>
    public string ToJson(int maxCoroutinesPerGroup = int.MaxValue)
    {
        using var stream = new MemoryStream();
        WriteJson(stream, maxCoroutinesPerGroup);
        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary>Writes the dump as JSON (UTF-8), with up to <paramref name="maxCoroutinesPerGroup"/> coroutines listed per group.</summary>
    public void WriteJson(Stream stream, int maxCoroutinesPerGroup = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(maxCoroutinesPerGroup);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("takenAt", TakenAt);
        w.WriteNumber("durationMs", Math.Round(Duration.TotalMilliseconds, 3));
        w.WriteNumber("coroutines", Count);
        w.WriteNumber("stuck", StuckCount);
        w.WriteNumber("longestPauseMs", Math.Round(LongestPause.TotalMilliseconds, 3));
        w.WriteStartArray("schedulers");
        foreach (var s in Schedulers)
        {
            w.WriteStartObject();
            w.WriteString("name", s.Name);
            w.WriteNumber("coroutines", s.Coroutines);
            w.WriteNumber("slices", s.Slices);
            w.WriteNumber("longestPauseMs", Math.Round(s.LongestPause.TotalMilliseconds, 3));
            w.WriteNumber("endedMeanwhile", s.EndedMeanwhile);
            w.WriteBoolean("interrupted", s.Interrupted);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("groups");
        foreach (var g in Groups)
        {
            w.WriteStartObject();
            w.WriteNumber("count", g.Count);
            w.WriteString("kind", Lower(g.Kind));
            w.WriteString("state", Lower(g.State));
            w.WriteString("description", g.Description);
            if (g.Wait is { } wait)
            {
                w.WriteString("wait", Lower(wait));
            }
            if (g.Argument is { } argument)
            {
                w.WriteNumber(g.Wait == AcoRequestKind.Call ? "handler" : "channel", argument);
            }
            if (g.Stuck != AcoStuckReason.None)
            {
                w.WriteString("stuck", Lower(g.Stuck));
                w.WriteString("stuckReason", StuckText(g.Stuck));
            }
            if (g.Body is { } body)
            {
                w.WritePropertyName("body");
                WriteFrame(w, body);
            }
            w.WriteString("framesStatus", Lower(g.FramesStatus));
            w.WriteStartArray("frames");
            foreach (var f in g.Frames)
            {
                WriteFrame(w, f);
            }
            w.WriteEndArray();
            w.WriteStartArray("coroutines");
            var shown = Math.Min(g.Count, maxCoroutinesPerGroup);
            for (var i = 0; i < shown; i++)
            {
                var d = g.Coroutines[i];
                w.WriteStartObject();
                w.WriteNumber("id", d.Id);
                w.WriteString("scheduler", d.Scheduler);
                if (d.ShareStack >= 0)
                {
                    w.WriteNumber("shareStack", d.ShareStack);
                }
                if (d.Wait is AcoRequestKind.Await or AcoRequestKind.SocketRead or AcoRequestKind.SocketWrite or AcoRequestKind.SocketPoll)
                {
                    w.WriteNumber(d.Wait is AcoRequestKind.Await ? "operation" : "descriptor", d.Argument);
                }
                if (d.Waiting is { } waiting)
                {
                    w.WriteNumber("waitingMs", (long)waiting.TotalMilliseconds);
                }
                if (d.DueIn is { } due)
                {
                    w.WriteNumber("dueInMs", (long)due.TotalMilliseconds);
                }
                if (d.Age is { } age)
                {
                    w.WriteNumber("ageMs", (long)age.TotalMilliseconds);
                }
                if (d.Kind == AcoCoroutineKind.Native)
                {
                    w.WriteNumber("saveStackBytes", d.SaveStackBytes);
                }
                if (d.CancelRequested)
                {
                    w.WriteBoolean("cancelRequested", true);
                }
                if (d.AwaitsCoroutine != 0)
                {
                    w.WriteNumber("awaitsCoroutine", d.AwaitsCoroutine);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (g.Count > shown)
            {
                w.WriteNumber("notListed", g.Count - shown);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteFrame(Utf8JsonWriter w, AcoStackFrame f)
    {
        w.WriteStartObject();
        if (f.Address != 0)
        {
            w.WriteString("address", string.Create(CultureInfo.InvariantCulture, $"0x{(ulong)f.Address:x}"));
        }
        if (f.Function is not null)
        {
            w.WriteString("function", f.Function);
        }
        if (f.Address != 0 && f.Offset >= 0)
        {
            w.WriteNumber("offset", f.Offset);
        }
        if (f.Module is not null)
        {
            w.WriteString("module", f.Module);
        }
        if (f.File is not null)
        {
            w.WriteString("file", f.File);
            w.WriteNumber("line", f.Line);
        }
        w.WriteEndObject();
    }

    private static string Lower<T>(T value) where T : struct, Enum
    {
        var s = value.ToString();
        return char.ToLowerInvariant(s[0]) + s[1..];
    }
}
