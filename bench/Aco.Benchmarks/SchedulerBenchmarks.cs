using System.Threading.Channels;
using Aco.Scheduling;
using BenchmarkDotNet.Attributes;

namespace Aco.Benchmarks;

/// <summary>Bridge requests served by a running scheduler: calls into managed handlers, channel traffic.</summary>
[MemoryDiagnoser]
public class Bridge
{
    private const int Ops = 100_000;
    private AcoScheduler _scheduler = null!;
    private Channel<long> _fromNative = null!;
    private Channel<long> _toNative = null!;

    /// <summary>Whether coroutines share the thread's FPU control state (no MXCSR read per switch).</summary>
    [Params(false, true)]
    public bool ShareFpu { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 1, ShareFpuEnvironment = ShareFpu });
        _scheduler.RegisterHandler(1, static (input, output) =>
        {
            input.CopyTo(output);
            return input.Length;
        });
        _scheduler.RegisterHandler(2, static async (input, output, _) =>
        {
            await Task.Yield(); // really asynchronous: a thread-pool hop, back through the inbox
            input.CopyTo(output);
            return input.Length;
        });
        _fromNative = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        _toNative = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        _scheduler.RegisterChannel(1, _fromNative);
        _scheduler.RegisterChannel(2, _toNative);
        _scheduler.Start();
    }

    [GlobalCleanup]
    public void Cleanup() => _scheduler.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Coroutines calling at the same time (their requests come back to .NET in one batch).</summary>
    [Params(1, 100)]
    public int Callers { get; set; }

    /// <summary>aco_bridge_call to a handler that completes at once, and back.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SyncHandlerCall()
    {
        var entry = Bodies.Get("bench_call_n");
        var handles = _scheduler.Spawn(() => ValueTask.FromResult(
            Enumerable.Range(0, Callers).Select(_ => _scheduler.Spawn(entry, Ops / Callers)).ToList())).GetAwaiter().GetResult();
        Task.WaitAll(handles.Select(h => (Task)h.Completion).ToArray());
    }

    /// <summary>aco_bridge_call to a handler that completes on the thread pool.</summary>
    [Benchmark(OperationsPerInvoke = Ops / 10)]
    public long AsyncHandlerCall() => _scheduler.Spawn(Bodies.Get("bench_call_n"), Ops / 10).Completion.GetAwaiter().GetResult();

    /// <summary>aco_bridge_send from native code, read by managed code on another thread.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public async Task<long> NativeToManaged()
    {
        var handle = _scheduler.Spawn(Bodies.Get("bench_send_n"), Ops);
        long sum = 0;
        for (var i = 0; i < Ops; i++)
        {
            sum += await _fromNative.Reader.ReadAsync();
        }
        await handle;
        return sum;
    }

    /// <summary>Managed code writes, aco_bridge_receive reads.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public async Task<long> ManagedToNative()
    {
        var handle = _scheduler.Spawn(Bodies.Get("bench_receive_n"), Ops);
        for (var i = 1; i <= Ops; i++)
        {
            _toNative.Writer.TryWrite(i);
        }
        return await handle;
    }
}

/// <summary>Handing control back and forth among managed coroutines.</summary>
[MemoryDiagnoser]
public class ManagedYield
{
    private const int Ops = 100_000;
    private AcoScheduler _scheduler = null!;
    private SingleThreadContext _context = null!;

    [GlobalSetup]
    public void Setup()
    {
        _scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 1 });
        _scheduler.Start();
        _context = new SingleThreadContext();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _scheduler.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _context.Dispose();
    }

    /// <summary>await AcoScheduler.Yield() on the scheduler thread.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void AcoSchedulerYield() => _scheduler.Spawn(static async () =>
    {
        for (var i = 0; i < Ops; i++)
        {
            await AcoScheduler.Yield();
        }
    }).GetAwaiter().GetResult();

    /// <summary>
    /// The floor: the same kind of await (a struct awaiter queueing the continuation) on a bare
    /// <see cref="Queue{T}"/> drained by a plain loop on this thread. No scheduler can be faster than this.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void BareQueueFloor()
    {
        BareQueue.Run(static async () =>
        {
            for (var i = 0; i < Ops; i++)
            {
                await BareQueue.Yield();
            }
        });
    }

    /// <summary>await Task.Yield() on the thread pool.</summary>
    [Benchmark(OperationsPerInvoke = Ops, Baseline = true)]
    public void TaskYieldOnThreadPool() => Task.Run(static async () =>
    {
        for (var i = 0; i < Ops; i++)
        {
            await Task.Yield();
        }
    }).GetAwaiter().GetResult();

    /// <summary>await Task.Yield() under a single-thread SynchronizationContext loop.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void TaskYieldOnSingleThreadContext() => _context.Run(static async () =>
    {
        for (var i = 0; i < Ops; i++)
        {
            await Task.Yield();
        }
    });
}

/// <summary>Spawning and completing coroutines.</summary>
[MemoryDiagnoser]
public class SpawnComplete
{
    private const int Native = 1_000_000;
    private const int Managed = 100_000;
    private AcoScheduler _scheduler = null!;

    [GlobalSetup]
    public void Setup()
    {
        _scheduler = new AcoScheduler(new AcoSchedulerOptions { ShareStackCount = 4 });
        _scheduler.Start();
    }

    [GlobalCleanup]
    public void Cleanup() => _scheduler.DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>1M small native coroutines (yield once, finish), fire-and-forget, spawned on the scheduler thread.</summary>
    [Benchmark]
    public void OneMillionNative()
    {
        var target = _scheduler.Counters.CompletedNative + Native;
        var entry = Bodies.Get("bench_yield_once_then_finish");
        _scheduler.Spawn(() =>
        {
            for (var i = 0; i < Native; i++)
            {
                _scheduler.SpawnDetached(entry);
            }
            return ValueTask.CompletedTask;
        }).GetAwaiter().GetResult();
        var spin = new SpinWait();
        while (_scheduler.Counters.CompletedNative < target)
        {
            spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>Managed coroutines (one yield each) spawned from another thread and awaited.</summary>
    [Benchmark(OperationsPerInvoke = Managed)]
    public void ManagedSpawnAndAwait()
    {
        var spawned = new ValueTask[Managed];
        for (var i = 0; i < Managed; i++)
        {
            spawned[i] = _scheduler.Spawn(static async () => await AcoScheduler.Yield());
        }
        AwaitAll(spawned).GetAwaiter().GetResult();

        static async Task AwaitAll(ValueTask[] spawned)
        {
            foreach (var s in spawned)
            {
                await s.ConfigureAwait(false);
            }
        }
    }
}

/// <summary>The least a yield can cost: a queue of continuations and a loop, nothing else.</summary>
internal static class BareQueue
{
    private static readonly Queue<Action> s_queue = new();

    public static void Run(Func<ValueTask> body)
    {
        var done = body();
        while (s_queue.TryDequeue(out var next))
        {
            next();
        }
        done.GetAwaiter().GetResult();
    }

    public static Awaitable Yield() => default;

    public readonly struct Awaitable : System.Runtime.CompilerServices.ICriticalNotifyCompletion
    {
        public Awaitable GetAwaiter() => this;

        public bool IsCompleted => false;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation) => s_queue.Enqueue(continuation);

        public void UnsafeOnCompleted(Action continuation) => s_queue.Enqueue(continuation);
    }
}

/// <summary>A minimal single-thread SynchronizationContext loop, the usual alternative for "one thread".</summary>
internal sealed class SingleThreadContext : SynchronizationContext, IDisposable
{
    private readonly System.Collections.Concurrent.BlockingCollection<(SendOrPostCallback, object?)> _queue = [];
    private readonly Thread _thread;

    public SingleThreadContext()
    {
        _thread = new Thread(() =>
        {
            SetSynchronizationContext(this);
            foreach (var (callback, state) in _queue.GetConsumingEnumerable())
            {
                callback(state);
            }
        }) { IsBackground = true };
        _thread.Start();
    }

    public override void Post(SendOrPostCallback d, object? state) => _queue.Add((d, state));

    public void Run(Func<Task> body)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(async _ =>
        {
            await body();
            done.SetResult();
        }, null);
        done.Task.GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join();
        _queue.Dispose();
    }
}
