using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Aco.Core.Interop;
using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

// Dumps: every coroutine, where it is and what it waits for, read on the scheduler's own thread in slices.
//
// A dump must never pause the scheduler for long, so it reads in slices of at most AcoDumpOptions.MaxPause, one per
// turn, and coroutines run in between. Its first slice takes a hold (aco_loop_hold_begin): the loop keeps the memory
// of every task it holds at that moment, also of one that ends before its turn to be read (it then reads as ended),
// so the pointers the dump goes through stay valid across turns. The hold ends with the dump, or with the loop.
// Between dumps nothing of this costs anything: the loop checks for a hold only when a coroutine is destroyed.
public sealed unsafe partial class AcoScheduler
{
    private const int DumpBatch = 256;

    /// <summary>
    /// The tasks of managed coroutines' bodies that had not completed when they first suspended (scheduler thread
    /// only), so a dump can find them. Completed ones leave when the array is full: a slot per live coroutine, at
    /// most twice that, and no object per coroutine.
    /// </summary>
    private Task?[] _bodies = new Task?[16];
    private int _bodyCount;

    /// <summary>One dump at a time per scheduler (the loop has one hold).</summary>
    private readonly SemaphoreSlim _dumpGate = new(1, 1);

    /// <summary>Remembers a managed coroutine's body, which has suspended (scheduler thread).</summary>
    internal void RememberBody(Task body)
    {
        AssertSchedulerThread();
        if (_bodyCount == _bodies.Length)
        {
            var live = 0;
            for (var i = 0; i < _bodyCount; i++)
            {
                if (_bodies[i] is { IsCompleted: false } task)
                {
                    _bodies[live++] = task;
                }
            }
            Array.Clear(_bodies, live, _bodyCount - live);
            _bodyCount = live;
            if (live > _bodies.Length / 2)
            {
                Array.Resize(ref _bodies, _bodies.Length * 2);
            }
        }
        _bodies[_bodyCount++] = body;
    }

    /// <summary>At the end of a stop: no body is remembered any more.</summary>
    private void ForgetBodies()
    {
        _bodies = new Task?[16];
        _bodyCount = 0;
    }

    /// <summary>One dump's reading of this scheduler: its state between slices (scheduler thread only).</summary>
    private sealed class DumpRun
    {
        private readonly AcoScheduler _s;
        private readonly AcoDumpOptions _options;
        private readonly StackTable _nativeStacks;
        private readonly Dictionary<string, int> _managedChains = new(StringComparer.Ordinal);
        private readonly Dictionary<nint, short> _stackIndex = [];
        private Task?[]? _bodies;
        private int _bodiesRead;
        private nint[]? _parkedOnly; // a stuck check reads parked tasks only, without a hold
        private int _parkedRead;
        private nuint _cursor;
        private bool _begun;
        private bool _holding;
        private bool _nativeDone;

        public DumpRun(AcoScheduler scheduler, int index, AcoDumpOptions options)
        {
            _s = scheduler;
            _options = options;
            Part = new DumpPart(scheduler.Options.Name, index, 0);
            _nativeStacks = new StackTable(Part.NativeStacks);
            Step = StepNow;
        }

        public DumpPart Part { get; }

        /// <summary>
        /// Off the scheduler's thread, before the first slice: room for about as many entries as it has coroutines
        /// now, its pages touched, so that the slices do not stop on the page faults of a large new array.
        /// </summary>
        public void Prepare(long estimate)
        {
            if (_options.ParkedOnly || estimate <= 16)
            {
                return;
            }
            var entries = new DumpEntry[(int)Math.Min(estimate + estimate / 64 + 16, Array.MaxLength)];
            var perPage = Math.Max(1, Environment.SystemPageSize / Unsafe.SizeOf<DumpEntry>());
            for (var i = 0; i < entries.Length; i += perPage)
            {
                Volatile.Write(ref entries[i].Frames, 0); // a write the JIT keeps: the page is faulted in here
            }
            Part.Entries = entries;
        }

        public TaskCompletionSource<DumpPart> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The work item of a slice.</summary>
        public Action Step { get; }

        private void StepNow()
        {
            var s = _s;
            // A slice that runs anywhere but on a running scheduler's thread (the loop has ended and its queues are
            // being drained elsewhere) touches nothing native: the loop's end has ended the hold.
            if (t_current != s || s._loop == 0)
            {
                Finish(interrupted: true);
                return;
            }
            var started = Stopwatch.GetTimestamp();
            var deadline = started + (long)(_options.MaxPause.TotalSeconds * Stopwatch.Frequency);
            try
            {
                if (!_begun)
                {
                    _begun = true;
                    Begin();
                }
                if (!_nativeDone && ReadNative(deadline))
                {
                    if (_holding)
                    {
                        s.DumpHoldEnd();
                        _holding = false;
                    }
                    _nativeDone = true;
                }
                if (_nativeDone && ReadManaged(deadline))
                {
                    ReadCompletions();
                    Part.Paused(Stopwatch.GetElapsedTime(started));
                    Finish(interrupted: false);
                    return;
                }
            }
            catch (Exception e)
            {
                if (_holding)
                {
                    s.DumpHoldEnd();
                    _holding = false;
                }
                Done.TrySetException(e);
                return;
            }
            Part.Paused(Stopwatch.GetElapsedTime(started));
            // The next slice in the next turn: through the inbox, so that this turn's coroutines run first.
            if (!s.TryPost(new InboxItem(InboxKind.Work) { Work = new WorkItem(Step) }))
            {
                if (_holding)
                {
                    s.DumpHoldEnd();
                    _holding = false;
                }
                Finish(interrupted: true);
            }
        }

        private void Finish(bool interrupted)
        {
            Part.Interrupted |= interrupted;
            Done.TrySetResult(Part);
        }

        private void Begin()
        {
            var s = _s;
            for (var i = 0; i < s._stacks.Count; i++)
            {
                _stackIndex[s._stacks[i].DangerousGetHandle()] = (short)i;
            }
            var parked = new nint[s._parked.Count];
            s._parked.Keys.CopyTo(parked, 0);
            if (_options.ParkedOnly)
            {
                // A parked task leaves _parked before it is destroyed: one still there is alive. No hold needed.
                _parkedOnly = parked;
                Part.Entries = new DumpEntry[parked.Length + 16];
                return;
            }
            nuint held;
            fixed (nint* p = parked)
            {
                held = DumpNative.HoldBegin(s._loop, (NativeTask**)p, (nuint)parked.Length);
            }
            _holding = true;
            var needed = (int)held + (_options.Managed ? s._bodyCount : 0) + 16;
            if (Part.Entries.Length < needed)
            {
                Part.Entries = new DumpEntry[needed];
            }
            if (_options.Managed)
            {
                _bodies = s._bodies[..s._bodyCount];
            }
        }

        /// <summary>Reads held tasks until all are read (true) or the slice's time is up (false).</summary>
        private bool ReadNative(long deadline)
        {
            var s = _s;
            var batch = stackalloc NativeTask*[DumpBatch];
            var pcs = stackalloc nint[_options.MaxFrames];
            var clock = s.DumpClock();
            if (_parkedOnly is { } parked)
            {
                while (_parkedRead < parked.Length)
                {
                    var t = parked[_parkedRead++];
                    if (s._parked.ContainsKey(t))
                    {
                        ReadTask((NativeTask*)t, pcs, clock);
                    }
                    if ((_parkedRead & 255) == 0 && Stopwatch.GetTimestamp() >= deadline)
                    {
                        return _parkedRead == parked.Length;
                    }
                }
                return true;
            }
            while (true)
            {
                var cursor = _cursor;
                var n = (int)DumpNative.HoldNext(s._loop, &cursor, batch, DumpBatch);
                _cursor = cursor;
                if (n == 0)
                {
                    return true;
                }
                for (var i = 0; i < n; i++)
                {
                    if (i + PrefetchAhead < n)
                    {
                        Prefetch(batch[i + PrefetchAhead]);
                    }
                    if (i + PrefetchAhead / 2 < n)
                    {
                        PrefetchStack(batch[i + PrefetchAhead / 2]);
                    }
                    ReadTask(batch[i], pcs, clock);
                }
                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    return false;
                }
            }
        }

        // A dump of many coroutines waits on memory: each task, its coroutine and its saved stack are cold. Their
        // cache lines are asked for a few tasks ahead (the task and its coroutine are one block; the saved stack's
        // address is read from the coroutine, asked for earlier), so the reads overlap instead of queueing.
        private const int PrefetchAhead = 8;

        private static void Prefetch(NativeTask* t)
        {
            if (Sse.IsSupported)
            {
                var co = (byte*)NativeTask.CoroutineOf(t);
                Sse.Prefetch0(t);
                Sse.Prefetch0(co);
                Sse.Prefetch0(AcoLayout.Fields((NativeCoroutine*)co));
            }
        }

        private static void PrefetchStack(NativeTask* t)
        {
            if (Sse.IsSupported)
            {
                Sse.Prefetch0((void*)AcoLayout.Fields(NativeTask.CoroutineOf(t))->SaveStack.Ptr);
            }
        }

        private void ReadTask(NativeTask* t, nint* pcs, in DumpClockReading clock)
        {
            var s = _s;
            var co = NativeTask.CoroutineOf(t);
            var fields = AcoLayout.Fields(co);
            if (fields->IsEnd != 0)
            {
                Part.EndedMeanwhile++; // ended after the hold began: kept readable, not shown
                return;
            }
            var index = Part.Count;
            ref var e = ref Part.Add();
            e.Kind = AcoCoroutineKind.Native;
            e.Id = t->Id;
            e.Scheduler = Part.Index;
            e.Body = fields->Entry;
            e.SaveStackBytes = (int)Math.Min(fields->SaveStack.Size, int.MaxValue);
            e.Stack = _stackIndex.TryGetValue((nint)fields->ShareStack, out var stack) ? stack : (short)-1;
            e.CancelRequested = t->Cancel != 0;
            e.AgeMs = clock.NowMs - t->BornMs;
            e.DueInMs = long.MinValue;
            e.Frames = -1;
            if (t->State == TaskState.Waiting)
            {
                e.State = AcoCoroutineState.Waiting;
                e.Op = t->Op;
                e.WaitingMs = clock.NowMs - t->SinceMs;
                e.Argument = t->Op switch
                {
                    TaskOp.Await => t->Value,
                    TaskOp.Call or TaskOp.Send or TaskOp.Receive or TaskOp.WaitRead or TaskOp.WaitWrite or TaskOp.WaitAny => t->Code,
                    _ => 0,
                };
                var due = DumpNative.TaskDeadline(s._loop, t);
                if (due != LoopNever)
                {
                    e.DueInMs = (long)((double)(due - clock.Now) * 1000 / clock.Frequency);
                }
                e.Stuck = s.StuckReason(t, Part, index);
            }
            else
            {
                e.State = AcoCoroutineState.Ready;
                e.Op = TaskOp.None;
                e.WaitingMs = uint.MaxValue;
            }
            if (!_options.Frames)
            {
                e.FramesStatus = AcoFramesStatus.NotRead;
                return;
            }
            int end;
            var count = (int)DumpNative.TaskFrames(t, pcs, (nuint)_options.MaxFrames, &end);
            e.FramesStatus = end switch
            {
                DumpNative.FramesComplete => AcoFramesStatus.Complete,
                DumpNative.FramesTruncated => AcoFramesStatus.Truncated,
                DumpNative.FramesBroken => AcoFramesStatus.Broken,
                DumpNative.FramesNotStarted => AcoFramesStatus.NotStarted,
                DumpNative.FramesUnsupported => AcoFramesStatus.Unsupported,
                _ => AcoFramesStatus.NotRead,
            };
            e.Frames = count == 0 ? -1 : _nativeStacks.Intern(new ReadOnlySpan<nint>(pcs, count));
        }

        /// <summary>Reads the remembered managed bodies that are still suspended, until all are read (true) or time is up.</summary>
        private bool ReadManaged(long deadline)
        {
            var bodies = _bodies;
            if (bodies is null)
            {
                return true;
            }
            while (_bodiesRead < bodies.Length)
            {
                var body = bodies[_bodiesRead++];
                if (body is null || body.IsCompleted)
                {
                    continue;
                }
                var chain = AsyncChains.Describe(body);
                var key = string.Join('\n', chain.Select(f => f.Function));
                if (!_managedChains.TryGetValue(key, out var frames))
                {
                    frames = Part.ManagedStacks.Count;
                    Part.ManagedStacks.Add(chain);
                    _managedChains.Add(key, frames);
                }
                ref var e = ref Part.Add();
                e.Kind = AcoCoroutineKind.Managed;
                e.Id = body.Id;
                e.Scheduler = Part.Index;
                e.State = AcoCoroutineState.Waiting;
                e.Stack = -1;
                e.DueInMs = long.MinValue;
                e.WaitingMs = e.AgeMs = uint.MaxValue;
                e.Frames = frames;
                e.FramesStatus = chain.Length == 0 ? AcoFramesStatus.NotRead : AcoFramesStatus.Complete;
                if ((_bodiesRead & 63) == 0 && Stopwatch.GetTimestamp() >= deadline)
                {
                    return _bodiesRead == bodies.Length;
                }
            }
            return true;
        }

        /// <summary>When some coroutine awaits an operation: which handles' completions could be it (for await cycles).</summary>
        private void ReadCompletions()
        {
            if (Part.AwaitedOperations.Count == 0)
            {
                return;
            }
            foreach (var (id, handle) in _s._handles)
            {
                if (handle.CompletionIfAsked is { } completion)
                {
                    Part.Completions[completion] = id;
                }
            }
        }
    }

    private const long LoopNever = long.MaxValue;

    private void DumpHoldEnd()
    {
        if (_loop != 0)
        {
            DumpNative.HoldEnd(_loop);
        }
    }

    /// <summary>The loop's clock now, and in the loop's milliseconds (as born_ms and since_ms count them).</summary>
    private readonly record struct DumpClockReading(long Now, long Frequency, uint NowMs);

    private DumpClockReading DumpClock()
    {
        long now, frequency;
        if (_timer is null)
        {
            now = DumpNative.ClockNow();
            frequency = LoopNative.ClockFrequency();
        }
        else
        {
            now = _options.TimeProvider.GetTimestamp();
            frequency = _options.TimeProvider.TimestampFrequency;
        }
        // As aco_loop_now_ms computes it, modulo 2^32.
        var ms = (uint)(now / frequency * 1000 + now % frequency * 1000 / frequency);
        return new DumpClockReading(now, frequency, ms);
    }

    /// <summary>
    /// Why a waiting task can never be answered, if it cannot (scheduler thread): its operation's task was collected,
    /// or its channel was replaced since it began to wait. An await on a live operation is noted for the cycle check.
    /// </summary>
    private AcoStuckReason StuckReason(NativeTask* t, DumpPart part, int entry)
    {
        switch (t->Op)
        {
            case TaskOp.Await when _parked.ContainsKey((nint)t) && _operations.TryGetValue(t->Value, out var registered):
                var operation = registered as Task ?? (((WeakReference<Task<long>>)registered).TryGetTarget(out var alive) ? alive : null);
                if (operation is null)
                {
                    return AcoStuckReason.OperationDropped;
                }
                part.AwaitedOperations.Add((entry, operation));
                return AcoStuckReason.None;
            case TaskOp.Send or TaskOp.Receive when _parked.ContainsKey((nint)t):
                var channel = Lookup(Volatile.Read(ref _channels), t->Code);
                return channel is null || ChannelStamp(channel) != (nint)t->In ? AcoStuckReason.ChannelReplaced : AcoStuckReason.None;
            default:
                return AcoStuckReason.None;
        }
    }

    /// <summary>What a task parked on a channel keeps in its (otherwise unused) input slot: which channel it waits on.</summary>
    private static nint ChannelStamp(object channel) => (nint)(uint)RuntimeHelpers.GetHashCode(channel) + 1;

    internal static readonly AcoDumpOptions StuckOnly = new() { Frames = false, Managed = false, ParkedOnly = true };
}
