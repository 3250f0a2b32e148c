using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

// The turn: admission, the native run, the managed queue; and the one place the thread waits.
public sealed unsafe partial class AcoScheduler
{
    /// <summary>1 while the scheduler thread is in (or about to enter) its wait; other threads then wake it. Any thread reads.</summary>
    private int _idle;

    /// <summary>
    /// Runs the loop inside one long-lived task of the scheduler's own <see cref="TaskScheduler"/>, so that
    /// everything on this thread (coroutine bodies, their continuations) sees it as
    /// <see cref="TaskScheduler.Current"/>, with no task per coroutine.
    /// </summary>
    private void RunLoopAsPump(CancellationToken runToken)
    {
        ManagedThreadId = Environment.CurrentManagedThreadId; // lets the task scheduler run the pump inline
        var pump = new Task(static s => { var (self, token) = ((AcoScheduler, CancellationToken))s!; self.RunLoop(token); }, (this, runToken), TaskCreationOptions.DenyChildAttach);
        pump.RunSynchronously(TaskScheduler);
    }

    private void RunLoop(CancellationToken runToken)
    {
        using var runRegistration = runToken.Register(static s => ((AcoScheduler)s!).StopAsync(), this);
        ManagedThreadId = Environment.CurrentManagedThreadId;
        t_current = this;
        var previousContext = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(SynchronizationContext);
        try
        {
            StartNative();
            while (true)
            {
                var work = Admit();
                work += RunNative();
                work += RunManaged();
                if (State == SchedulerState.Stopping && TryFinishStop())
                {
                    break;
                }
                if (work == 0)
                {
                    WaitForWork();
                }
            }
        }
        catch (Exception e)
        {
            // A bug in the scheduler itself: stop cleanly and report it through Completion and Fault.
            Fault = e;
        }
        finally
        {
            // Each clean-up step that fails becomes the fault (if there was none), and Completion always completes:
            // a scheduler that ends must never leave its awaiters waiting.
            try
            {
                StopNative();
            }
            catch (Exception e)
            {
                Fault ??= e;
            }
            SynchronizationContext.SetSynchronizationContext(previousContext);
            t_current = null;
            Volatile.Write(ref _state, (int)SchedulerState.Stopped);
            try
            {
                _inbox.Writer.TryComplete();
                AbandonQueues();
                _stopRegistration.Dispose();
            }
            catch (Exception e)
            {
                Fault ??= e;
            }
            if (Fault is { } fault)
            {
                _stopped.TrySetException(fault);
            }
            else
            {
                _stopped.TrySetResult();
            }
        }
    }

    // ---- admission: the policy, stated once ---------------------------------------------------------------
    //
    // Coroutines already running get their turns before new work comes in. Before each turn, each source moves
    // at most max(floor, limit - ready) items into the ready queues, in this order, where ready counts the native
    // ready queue and the managed queue, limit is RunLoopBudget and floor is max(1, limit / 8):
    //   1. timers that are due, earliest first (aco_loop_admit, native);
    //   2. sockets that became ready (aco_loop_admit, native);
    //   3. the inbox: answers from .NET, cancels, managed continuations from other threads, the stop;
    //   4. new coroutines (spawns, native and managed), with a floor of 1: a new coroutine brings all the turns of
    //      its life, so while the queue is full, new work waits in its queue.
    // Every source moves something every turn, so none starves another. The ready queue a turn starts with stays
    // within limit + 3 * floor + 1, plus the coroutines that only yield. A turn resumes up to limit coroutines in
    // FIFO order, so without such yielders a coroutine made ready runs within two turns, however many wake-ups,
    // cancels or spawns wait behind it; with Y of them, within (Y + limit + 3 * floor + 1) / limit + 1 turns. The
    // wait of a source is its own: a sleeper whose deadline passed waits behind the earlier deadlines only.

    private int Floor => Math.Max(1, _options.RunLoopBudget / 8);

    private int Room => Math.Max(0, _options.RunLoopBudget - (int)_loopStats->Ready - _managed.Count);

    private int Admit()
    {
        AssertSchedulerThread();
        SetExternalTime();
        var moved = (int)LoopNative.Admit(_loop, (nuint)_options.RunLoopBudget, (nuint)Floor);
        ArmTimerForEarliest();
        moved += DrainInbox(Math.Max(Floor, Room));
        moved += AdmitSpawns(Math.Max(1, Room));
        return moved;
    }

    private int DrainInbox(int quota)
    {
        var n = 0;
        // The stop deadline cuts a long drain short (1M cancellations may be queued at a host's stop).
        while (n < quota && !StopDeadlinePassed() && _inbox.Reader.TryRead(out var item))
        {
            n++;
            switch (item.Kind)
            {
                case InboxKind.Wake:
                    Wake(item);
                    break;
                case InboxKind.Cancel:
                    CancelNative((AcoCoroutineHandle)item.Object!);
                    break;
                case InboxKind.CancelGroup:
                    CancelGroup((TokenGroup)item.Object!);
                    break;
                case InboxKind.Work:
                    _managed.Enqueue(item.Work);
                    break;
                case InboxKind.Stop:
                    BeginStop();
                    break;
            }
        }
        return n;
    }

    private int AdmitSpawns(int quota)
    {
        var n = 0;
        while (n < quota && TakeSpawn(out var spawn))
        {
            n++;
            if (_stopBegun)
            {
                CancelSpawn(spawn); // posted just before the stop: it never starts
                continue;
            }
            switch (spawn.Target)
            {
                case ManagedCoroutine coroutine:
                    _managed.Enqueue(new WorkItem(coroutine));
                    break;
                case AcoCoroutineHandle handle when handle.IsCancellationRequested || spawn.Token.IsCancellationRequested:
                    handle.SetCanceled(); // canceled while it waited for admission: it never starts
                    break;
                case AcoCoroutineHandle handle:
                    SpawnNative(spawn.Entry, spawn.Argument, handle);
                    if (spawn.Token.CanBeCanceled)
                    {
                        JoinGroup(handle, spawn.Token);
                    }
                    break;
                default:
                    SpawnNative(spawn.Entry, spawn.Argument, null);
                    break;
            }
        }
        return n;
    }

    /// <summary>The next spawn waiting: those made on this thread first, then those from other threads.</summary>
    private bool TakeSpawn(out SpawnRequest spawn)
    {
        if (_localSpawns.TryDequeue(out spawn))
        {
            Volatile.Write(ref _localSpawnCount, _localSpawns.Count);
            return true;
        }
        return _spawns.TryDequeue(out spawn);
    }

    /// <summary>Gives back the memory of a queue that a burst grew, once it has emptied.</summary>
    private static void TrimWhenEmpty<T>(Queue<T> queue)
    {
        if (queue.Count == 0 && queue.Capacity > KeptQueueCapacity)
        {
            queue.TrimExcess(KeptQueueCapacity);
        }
    }

    // ---- idle and wake-up: the one protocol --------------------------------------------------------------
    //
    // The scheduler thread blocks only in WaitForWork, in aco_loop_wait (epoll_wait on Linux), and only after it
    // has seen that no source of work has anything for it. Every source either is looked at by that check, or
    // ends the native wait after making its work visible:
    //
    //   source                                   made visible by           ends the wait with
    //   spawns from any thread                   _spawns                   QueueSpawn: WakeIfIdle
    //   wake-ups (handler and operation           the inbox (a Channel)    TryPost: WakeIfIdle
    //     completions, channel readiness,
    //     values taken), cancels, managed work
    //     from other threads, the stop
    //   managed work from the scheduler thread    _managed                 (the thread is awake)
    //   native coroutines made ready              the loop's ready count   (the thread is awake)
    //   sleepers (the system clock)               the loop's timer heap    aco_loop_wait's own timeout
    //   sleepers (another TimeProvider)           _timerFired              OnTimerFired: Wake
    //   sockets                                   the loop's epoll set     epoll_wait itself
    //   work admission left for later             the loop's pending list  aco_loop_wait returns at once
    //   the stop deadline                         _stopDeadline            its registration: Wake
    //   the last managed coroutine ending while   _liveManaged             ManagedEnded: Wake
    //     stopping (counted on any thread)
    //
    // WaitForWork announces _idle with a full fence, then checks every source, then waits. A writer that made
    // its work visible before the announcement is seen by the check; one that does after it sees _idle and
    // writes the loop's eventfd, which ends the wait also when the write comes before the wait begins (an
    // eventfd stays readable until the wait consumes it). So no wake-up is lost, and the thread never spins:
    // a wake-up that finds the thread awake only costs one spare turn.

    private void WaitForWork()
    {
        AssertSchedulerThread();
        Interlocked.Exchange(ref _idle, 1);
        if (_inbox.Reader.TryPeek(out _) || !_spawns.IsEmpty || _localSpawns.Count != 0 || _managed.Count != 0 || _loopStats->Ready != 0
            || Volatile.Read(ref _timerFired) != 0 || ProviderSleeperDue() || (State == SchedulerState.Stopping && TryFinishStop()))
        {
            Volatile.Write(ref _idle, 0);
            return;
        }
        LoopNative.Wait(_loop, -1); // bounded by the earliest deadline on the system clock
        Volatile.Write(ref _idle, 0);
    }

    /// <summary>Ends the scheduler thread's wait if it is waiting (or about to). Call after making work visible.</summary>
    private void WakeIfIdle()
    {
        Interlocked.MemoryBarrier(); // the work is visible before _idle is read
        if (Volatile.Read(ref _idle) == 1)
        {
            Wake();
        }
    }

    /// <summary>Ends the scheduler thread's wait (a spare wake-up costs one turn). Any thread.</summary>
    internal void Wake() => Volatile.Read(ref _loopHandle)?.Wake();

    internal void Post(in InboxItem item)
    {
        if (!TryPost(item))
        {
            throw new InvalidOperationException("The scheduler has stopped.");
        }
    }

    internal bool TryPost(in InboxItem item)
    {
        if (!_inbox.Writer.TryWrite(item))
        {
            return false;
        }
        WakeIfIdle();
        return true;
    }

    /// <summary>Wakes a parked task; after a stop there is nothing left to wake, so it is a no-op then.</summary>
    internal void PostWake(nint task, long seq, long value, BridgeStatus status) =>
        TryPost(new InboxItem(InboxKind.Wake) { Pointer = task, Seq = seq, Value = value, Status = status });

    /// <summary>Asks the scheduler thread to cancel the handle's coroutine; after a stop there is nothing to cancel.</summary>
    internal void RequestCancel(AcoCoroutineHandle handle) => TryPost(new InboxItem(InboxKind.Cancel) { Object = handle });

    /// <summary>
    /// After the loop has ended (the inbox is closed, so nothing more arrives): every message and spawn still
    /// queued gets an end, so no handle is left pending and no continuation is lost.
    /// </summary>
    private void AbandonQueues()
    {
        while (_inbox.Reader.TryRead(out var item))
        {
            switch (item.Kind)
            {
                case InboxKind.Wake when item.Object is PooledCall call:
                    call.Return();
                    break;
                case InboxKind.Work when item.Work.Coroutine is { } coroutine:
                    coroutine.Abandon(); // never started
                    break;
                case InboxKind.Work:
                    RunLate(item.Work);
                    break;
            }
        }
        CancelQueuedSpawns(onSchedulerThread: true); // t_current is already cleared here
    }

    /// <summary>Spawns that were never admitted end canceled (a stop, or the end of the loop). Any thread (the local ones: the scheduler thread).</summary>
    private void CancelQueuedSpawns(bool onSchedulerThread = false)
    {
        if (onSchedulerThread || t_current == this)
        {
            while (_localSpawns.TryDequeue(out var local))
            {
                CancelSpawn(local);
            }
            Volatile.Write(ref _localSpawnCount, 0);
        }
        while (_spawns.TryDequeue(out var spawn))
        {
            CancelSpawn(spawn);
        }
    }

    private static void CancelSpawn(in SpawnRequest spawn)
    {
        switch (spawn.Target)
        {
            case AcoCoroutineHandle handle:
                handle.SetCanceled();
                break;
            case ManagedCoroutine coroutine:
                coroutine.Abandon();
                break;
        }
    }
}
