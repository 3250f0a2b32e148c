// Aco.WinX64.Smoke CHECK: runs one check of .NET with aco.dll on Windows (here: under Wine)
// and exits with 0 when it passed. Coroutine bodies are native (smoke_bodies.dll); managed
// code runs only on the thread's own stack, between resumes.
using System.Runtime.InteropServices;

using System.Text;

using Aco.Core;
using Aco.Hosting;
using Aco.Scheduling;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

return Smoke.Run(args.Length == 1 ? args[0] : "");

internal static unsafe partial class Smoke
{
    private static readonly nint Aco = Load("aco.dll");
    private static readonly nint Bodies = Load("smoke_bodies.dll");

    private static readonly delegate* unmanaged<nint, void> ThreadInit = (delegate* unmanaged<nint, void>)Export(Aco, "aco_thread_init");
    private static readonly delegate* unmanaged<nint, nint, nuint, nint, nint, nint> Create = (delegate* unmanaged<nint, nint, nuint, nint, nint, nint>)Export(Aco, "aco_create");
    private static readonly delegate* unmanaged<nint, void> Resume = (delegate* unmanaged<nint, void>)Export(Aco, "aco_resume");
    private static readonly delegate* unmanaged<nint, void> Destroy = (delegate* unmanaged<nint, void>)Export(Aco, "aco_destroy");
    private static readonly delegate* unmanaged<nuint, nint> ShareStackNew = (delegate* unmanaged<nuint, nint>)Export(Aco, "aco_share_stack_new");
    private static readonly delegate* unmanaged<nint, void> ShareStackDestroy = (delegate* unmanaged<nint, void>)Export(Aco, "aco_share_stack_destroy");
    private static readonly delegate* unmanaged<nint, nint> LoopNew = (delegate* unmanaged<nint, nint>)Export(Aco, "aco_loop_new");
    private static readonly delegate* unmanaged<nint, nint, void> LoopAddStack = (delegate* unmanaged<nint, nint, void>)Export(Aco, "aco_loop_add_stack");
    private static readonly delegate* unmanaged<nint, nint, nint, long, nuint, nint> LoopSpawn = (delegate* unmanaged<nint, nint, nint, long, nuint, nint>)Export(Aco, "aco_loop_spawn");
    private static readonly delegate* unmanaged<nint, nuint, nint*, nuint, nuint> LoopRun = (delegate* unmanaged<nint, nuint, nint*, nuint, nuint>)Export(Aco, "aco_loop_run");
    private static readonly delegate* unmanaged<nint, nint, void> LoopDestroyTask = (delegate* unmanaged<nint, nint, void>)Export(Aco, "aco_loop_destroy_task");
    private static readonly delegate* unmanaged<nint, long*> LoopStats = (delegate* unmanaged<nint, long*>)Export(Aco, "aco_loop_stats");
    private static readonly delegate* unmanaged<nint, void> LoopDestroy = (delegate* unmanaged<nint, void>)Export(Aco, "aco_loop_destroy");
    private static readonly nint FrameBody = Export(Bodies, "smoke_frame_body");
    private static readonly nint LoopBody = Export(Bodies, "smoke_loop_body");

    public static int Run(string check)
    {
        try
        {
            var ok = check switch
            {
                "copy-stacks-with-gc" => CopyStacks(coroutines: 100, rounds: 200, between: GcEvery20),
                "managed-exceptions-between-resumes" => CopyStacks(coroutines: 100, rounds: 200, between: ThrowAndCatch),
                "threads" => Threads(),
                "run-loop" => RunLoop(),
                "entry-points" => EntryPoints(),
                "aco-core-coroutines" => AcoCoreCoroutines(),
                "scheduler-bridge" => Checks.SchedulerBridge().GetAwaiter().GetResult(),
                "hosting" => Checks.Hosting().GetAwaiter().GetResult(),
                "load-bodies-refusals" => Checks.LoadBodiesRefusals(),
                _ => throw new ArgumentException($"unknown check '{check}'"),
            };
            Console.WriteLine(ok ? $"ok {check}" : $"FAIL {check}");
            return ok ? 0 : 1;
        }
        catch (Exception e)
        {
            Console.WriteLine($"FAIL {check}: {e}");
            return 2;
        }
    }

    private static nint Load(string name) => NativeLibrary.Load(Path.Combine(AppContext.BaseDirectory, name));

    private static nint Export(nint library, string name) => NativeLibrary.GetExport(library, name);

    private static void GcEvery20(int round)
    {
        var garbage = new List<byte[]>();
        for (var k = 0; k < 1000; k++) garbage.Add(new byte[100]);
        if (round % 20 == 0)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    // Managed exception dispatch unwinds this thread's stack within the TEB's stack bounds,
    // which the context switch has just restored.
    private static void ThrowAndCatch(int round)
    {
        try
        {
            Deep(round, 20);
        }
        catch (InvalidOperationException e) when (e.Message == $"round {round}")
        {
        }
    }

    private static int Deep(int round, int depth) =>
        depth == 0 ? throw new InvalidOperationException($"round {round}") : Deep(round, depth - 1) + 1;

    /// <summary>Coroutines with 3000-byte frames on one share stack, resumed round-robin (a copy
    /// out and in at every switch), with <paramref name="between"/> run after each round.</summary>
    private static bool CopyStacks(int coroutines, int rounds, Action<int> between)
    {
        ThreadInit(0);
        var main = Create(0, 0, 0, 0, 0);
        var stack = ShareStackNew(0);
        var counters = (long*)NativeMemory.AllocZeroed((nuint)(coroutines * sizeof(long)));
        var cos = new nint[coroutines];
        for (var i = 0; i < coroutines; i++)
        {
            cos[i] = Create(main, stack, 0, FrameBody, (nint)(counters + i));
        }
        for (var round = 0; round < rounds; round++)
        {
            foreach (var co in cos)
            {
                Resume(co);
            }
            between(round);
        }
        var ok = true;
        for (var i = 0; i < coroutines; i++)
        {
            if (counters[i] != rounds - 1)
            {
                Console.WriteLine($"coroutine {i}: {counters[i]} intact resumes, expected {rounds - 1}");
                ok = false;
            }
            Destroy(cos[i]);
        }
        ShareStackDestroy(stack);
        Destroy(main);
        NativeMemory.Free(counters);
        return ok;
    }

    /// <summary>Four threads at once, each with its own coroutines (the current coroutine is a
    /// native thread-local of aco.dll).</summary>
    private static bool Threads()
    {
        var results = new bool[4];
        var threads = Enumerable.Range(0, 4)
            .Select(t => new Thread(() => results[t] = CopyStacks(coroutines: 50, rounds: 100, between: GcEvery20)))
            .ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        return results.All(r => r);
    }

    [LibraryImport("kernel32.dll", EntryPoint = "GetModuleHandleW", StringMarshalling = StringMarshalling.Utf16)]
    private static partial nint GetModuleHandle(string name);

    [UnmanagedCallersOnly]
    private static void ManagedBody()
    {
    }

    /// <summary>Aco.Core on Windows: LoadBodies, and AcoEntryPoint's checks with the loader's modules
    /// and VirtualQuery (no dladdr): native code is accepted, everything else refused.</summary>
    private static bool EntryPoints()
    {
        var ok = true;
        void Expect(bool condition, string what)
        {
            Console.WriteLine($"{(condition ? "ok" : "FAIL")}: {what}");
            ok &= condition;
        }
        bool Refused(nint address, string reason)
        {
            try
            {
                _ = AcoEntryPoint.FromPointer(address);
                return false;
            }
            catch (ArgumentException e)
            {
                Console.WriteLine($"  refused: {e.Message}");
                return e.Message.Contains(reason, StringComparison.Ordinal);
            }
        }

        var bodies = AcoNativeLibrary.LoadBodies("smoke_bodies.dll");
        var entry = AcoEntryPoint.FromExport(bodies, "smoke_frame_body");
        Expect(entry.IsValid && entry.Symbol == "smoke_frame_body" && Path.GetFileName(entry.ModulePath) == "smoke_bodies.dll",
            $"a native export is accepted ({entry}, {entry.ModulePath})");
        Expect(Refused(NativeLibrary.GetExport(bodies, "smoke_data"), "not in executable code"), "data is refused");
        Expect(Refused((nint)(delegate* unmanaged<void>)&ManagedBody, "not inside any loaded native library"), "an [UnmanagedCallersOnly] stub is refused");
        Expect(Refused(GetModuleHandle("coreclr.dll") + 0x1000, "inside the .NET runtime"), "the runtime's own code is refused");
        Expect(Refused(GetModuleHandle("System.Private.CoreLib.dll") + 0x1000, "compiled ahead of time"), "ReadyToRun code of an assembly is refused");
        try
        {
            _ = AcoNativeLibrary.LoadBodies("no_such_bodies.dll");
            Expect(false, "a missing library throws DllNotFoundException");
        }
        catch (DllNotFoundException)
        {
            Expect(true, "a missing library throws DllNotFoundException");
        }
        return ok;
    }

    /// <summary>Aco.Core's coroutines (the layout read from aco.dll), and misuse that throws.</summary>
    private static bool AcoCoreCoroutines()
    {
        Checks.s_ok = true;
        using var thread = AcoThread.Initialize();
        var stack = thread.CreateShareStack();
        var entry = AcoEntryPoint.FromExport(AcoNativeLibrary.LoadBodies("smoke_bodies.dll"), "smoke_frame_body");
        var counters = (long*)NativeMemory.AllocZeroed(50 * sizeof(long));
        var cos = Enumerable.Range(0, 50).Select(i => thread.CreateCoroutine(stack, entry, (nint)(counters + i))).ToList();
        for (var round = 0; round < 100; round++)
        {
            cos.ForEach(c => c.Resume());
            GcEvery20(round);
        }
        Checks.Expect(Enumerable.Range(0, 50).All(i => counters[i] == 99), "50 coroutines on one share stack, 100 rounds with GCs");
        Checks.Expect(cos[0].ToString().Contains("smoke_frame_body", StringComparison.Ordinal), $"{cos[0]}");
        Checks.Expect(Checks.Throws<InvalidOperationException>(() => Task.Run(() => cos[0].Resume()).GetAwaiter().GetResult()), "resuming from another thread throws");
        Checks.Expect(Checks.Throws<InvalidOperationException>(stack.Dispose), "disposing a share stack in use throws");
        cos.ForEach(c => c.Dispose());
        stack.Dispose();
        NativeMemory.Free(counters);
        return Checks.s_ok;
    }

    /// <summary>The native run loop: 1000 tasks over 4 share stacks, each ten bridge yields and a finish.</summary>
    private static bool RunLoop()
    {
        ThreadInit(0);
        var main = Create(0, 0, 0, 0, 0);
        var loop = LoopNew(main);
        var stacks = new nint[4];
        for (var i = 0; i < stacks.Length; i++)
        {
            stacks[i] = ShareStackNew(256 * 1024);
            LoopAddStack(loop, stacks[i]);
        }
        const int Tasks = 1000;
        for (var i = 0; i < Tasks; i++)
        {
            LoopSpawn(loop, LoopBody, 0, i + 1, 0); // awaited (id != 0): its end comes back in a batch
        }
        var batch = stackalloc nint[64];
        var ended = 0;
        var live = &LoopStats(loop)[1]; // aco_loop_stats_t.live
        for (var turn = 0; *live > 0 && turn < 10_000; turn++)
        {
            var n = (int)LoopRun(loop, 1024, batch, 64);
            for (var k = 0; k < n; k++)
            {
                LoopDestroyTask(loop, batch[k]);
                ended++;
            }
            GC.Collect(0);
        }
        LoopDestroy(loop);
        foreach (var s in stacks)
        {
            ShareStackDestroy(s);
        }
        Destroy(main);
        if (ended != Tasks)
        {
            Console.WriteLine($"{ended} tasks ended, expected {Tasks}");
        }
        return ended == Tasks;
    }
}

/// <summary>Checks of the layers above Aco.Core (async code: no unsafe context).</summary>
internal static class Checks
{
    internal static bool s_ok;

    internal static void Expect(bool condition, string what)
    {
        Console.WriteLine($"{(condition ? "ok" : "FAIL")}: {what}");
        s_ok &= condition;
    }

    internal static bool Throws<TException>(Action action)
        where TException : Exception
    {
        try
        {
            action();
            return false;
        }
        catch (TException e)
        {
            Console.WriteLine($"  threw: {e.Message}");
            return true;
        }
    }

    private static int Upper(ReadOnlySpan<byte> input, Span<byte> output) =>
        Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(input).ToUpperInvariant(), output);

    /// <summary>AcoScheduler: native coroutines through the run loop, a timer sleep and a handler
    /// call over the bridge, a managed coroutine, a native failure.</summary>
    internal static async Task<bool> SchedulerBridge()
    {
        s_ok = true;
        await using var scheduler = new AcoScheduler();
        scheduler.RegisterHandler(1, Upper);
        scheduler.Start();
        var bodies = AcoNativeLibrary.LoadBodies("smoke_bodies.dll");
        var loop = AcoEntryPoint.FromExport(bodies, "smoke_loop_body");
        var results = await Task.WhenAll(Enumerable.Range(0, 1000).Select(async _ => await scheduler.Spawn(loop)));
        Expect(results.All(r => r == 42), "1000 native coroutines, ten bridge yields each, finish with 42");
        var bridge = AcoEntryPoint.FromExport(bodies, "smoke_bridge_body");
        var lengths = await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ => await scheduler.Spawn(bridge)));
        Expect(lengths.All(r => r == 5), "100 coroutines sleep 10 ms and call a C# handler");
        var yields = 0;
        await scheduler.Spawn(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                await AcoScheduler.Yield();
                yields++;
            }
        });
        Expect(yields == 100, "a managed coroutine yields 100 times");
        scheduler.RegisterHandler(1, (input, output) => 0, replace: true); // a wrong answer: the body fails
        var failed = false;
        try
        {
            await scheduler.Spawn(bridge);
        }
        catch (AcoCoroutineException e)
        {
            Console.WriteLine($"  threw: {e.Message}");
            failed = true;
        }
        Expect(failed, "a failing native coroutine throws AcoCoroutineException at its awaiter");
        return s_ok;
    }

    /// <summary>LoadBodies on Windows refuses, with an exception, bodies whose imports aco.dll
    /// cannot satisfy, and bodies bound to a second copy of the core.</summary>
    internal static bool LoadBodiesRefusals()
    {
        s_ok = true;
        try
        {
            _ = AcoNativeLibrary.LoadBodies("smoke_bodies_undefined.dll");
            Expect(false, "bodies importing a function aco.dll lacks are refused");
        }
        catch (AcoBodiesLoadException e)
        {
            Console.WriteLine($"  threw: {e.Message}");
            // Windows fails the load (error 127); Wine loads it with a stub, and LoadBodies finds the import.
            Expect(e.Message.Contains("Windows error 127", StringComparison.Ordinal) || e.UndefinedSymbol == "aco_no_such_function",
                "bodies importing a function aco.dll lacks are refused");
        }
        try
        {
            _ = AcoNativeLibrary.LoadBodies("smoke_bodies_second_copy.dll");
            Expect(false, "bodies bound to a second copy of the core are refused");
        }
        catch (AcoBodiesLoadException e)
        {
            Console.WriteLine($"  threw: {e.Message}");
            Expect(Path.GetFileName(e.OtherLibacoPath) == "aco_second.dll", "bodies bound to a second copy of the core are refused, naming it");
        }
        var bodies = AcoNativeLibrary.LoadBodies("smoke_bodies.dll");
        Expect(bodies != 0, "good bodies still load afterwards");
        return s_ok;
    }

    /// <summary>AddAcoScheduler in a host: the pool starts, runs coroutines, stops.</summary>
    internal static async Task<bool> Hosting()
    {
        s_ok = true;
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAcoScheduler();
        using var host = builder.Build();
        await host.StartAsync();
        var pool = host.Services.GetRequiredService<IAcoSchedulerPool>();
        pool.RegisterHandler(1, Upper);
        var bodies = AcoNativeLibrary.LoadBodies("smoke_bodies.dll");
        var bridge = AcoEntryPoint.FromExport(bodies, "smoke_bridge_body");
        var lengths = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ => await pool.Spawn(bridge)));
        Expect(pool.Schedulers.Count >= 1 && lengths.All(r => r == 5), $"{pool.Schedulers.Count} scheduler(s) ran 200 bridge coroutines");
        await host.StopAsync();
        Expect(pool.Schedulers.All(s => !s.IsRunning), "the host stops its schedulers");
        return s_ok;
    }
}
