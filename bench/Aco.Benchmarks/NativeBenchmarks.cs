using Aco.Core;
using Aco.Core.Interop;
using Aco.Scheduling.Interop;
using BenchmarkDotNet.Attributes;

namespace Aco.Benchmarks;

/// <summary>One native resume + yield driven from C#: a P/Invoke per resume.</summary>
[MemoryDiagnoser]
public unsafe class ResumeFromCSharp
{
    private const int Ops = 1000;
    private AcoThread _thread = null!;
    private AcoShareStack _stack = null!;
    private AcoCoroutine _co = null!;
    private NativeCoroutine* _native;

    [GlobalSetup]
    public void Setup()
    {
        _thread = AcoThread.Initialize();
        _stack = _thread.CreateShareStack();
        _co = _thread.CreateCoroutine(_stack, Bodies.Get("bench_yield_forever"));
        _native = (NativeCoroutine*)_co.DangerousGetHandle();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _co.Dispose();
        _stack.Dispose();
        _thread.Dispose();
    }

    /// <summary>Through the safe API (thread and state checks, then the P/Invoke).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void SafeResume()
    {
        for (var i = 0; i < Ops; i++)
        {
            _co.Resume();
        }
    }

    /// <summary>The bare P/Invoke.</summary>
    [Benchmark(OperationsPerInvoke = Ops, Baseline = true)]
    public void RawResume()
    {
        for (var i = 0; i < Ops; i++)
        {
            AcoNative.Resume(_native);
        }
    }
}

/// <summary>The native run loop resuming ready coroutines round-robin, driven from C# a batch at a time.</summary>
[MemoryDiagnoser]
public unsafe class RunLoop
{
    private const int Ops = 1 << 16;
    private AcoThread _thread = null!;
    private readonly List<AcoShareStack> _stacks = [];
    private nint _loop;
    private NativeTask** _batch;

    /// <summary>Ready coroutines doing plain yields.</summary>
    [Params(1, 1000, 100_000)]
    public int Coroutines { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _thread = AcoThread.Initialize();
        _loop = LoopNative.New(_thread.MainCoroutine.DangerousGetHandle());
        var stacks = Coroutines <= 1000 ? Coroutines : 64; // as the C bench: own stacks up to 1000
        for (var i = 0; i < stacks; i++)
        {
            var s = _thread.CreateShareStack(64 * 1024);
            _stacks.Add(s);
            LoopNative.AddStack(_loop, s.DangerousGetHandle());
        }
        var entry = Bodies.Get("bench_bridge_yield_forever").Address;
        for (var i = 0; i < Coroutines; i++)
        {
            LoopNative.Spawn(_loop, entry, 0, 0, 0);
        }
        _batch = (NativeTask**)System.Runtime.InteropServices.NativeMemory.Alloc(16, (nuint)sizeof(nint));
        LoopNative.Run(_loop, (nuint)Coroutines, _batch, 16);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        LoopNative.Destroy(_loop);
        _stacks.ForEach(s => s.Dispose());
        _thread.Dispose();
        System.Runtime.InteropServices.NativeMemory.Free(_batch);
    }

    /// <summary>Per switch, with the run budget a scheduler uses (4096 resumes per P/Invoke).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public void PlainYields()
    {
        for (var done = 0; done < Ops; done += 4096)
        {
            LoopNative.Run(_loop, 4096, _batch, 16);
        }
    }
}

/// <summary>
/// Copy-stack cost against the live stack size: 100 coroutines on one share stack, resumed round-robin from C#,
/// so every resume saves one live stack and restores another (the C bench's copy-stack rows, from .NET).
/// </summary>
[MemoryDiagnoser]
public unsafe class CopyStack
{
    private const int Coroutines = 100;
    private AcoThread _thread = null!;
    private AcoShareStack _stack = null!;
    private readonly List<AcoCoroutine> _cos = [];
    private nint[] _natives = [];

    /// <summary>Bytes of stack each coroutine keeps live across its yields (about: frames add a little).</summary>
    [Params(0, 64, 120, 256, 512, 1000, 2000, 4000, 8000)]
    public int LiveBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _thread = AcoThread.Initialize();
        _stack = _thread.CreateShareStack();
        var entry = Bodies.Get(LiveBytes == 0 ? "bench_yield_forever" : "bench_yield_forever_with_stack");
        for (var i = 0; i < Coroutines; i++)
        {
            var co = _thread.CreateCoroutine(_stack, entry, LiveBytes);
            co.Resume(); // warm: every stack saved once, save stacks grown
            _cos.Add(co);
        }
        _natives = _cos.Select(c => c.DangerousGetHandle()).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cos.ForEach(c => c.Dispose());
        _stack.Dispose();
        _thread.Dispose();
    }

    /// <summary>One resume (save + restore + two switches) per operation.</summary>
    [Benchmark(OperationsPerInvoke = Coroutines * 10)]
    public void RoundRobin()
    {
        for (var round = 0; round < 10; round++)
        {
            foreach (var co in _natives)
            {
                AcoNative.Resume((NativeCoroutine*)co);
            }
        }
    }
}
