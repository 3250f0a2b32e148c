using System.Runtime.InteropServices;
using Aco.Core;

// Each example runs native coroutines (bodies in samples/native/aco_sample_bodies.c)
// from C# through Aco.Core, and prints what happened.
//   dotnet run --project samples/Aco.Samples            all examples
//   dotnet run --project samples/Aco.Samples -- basic   one of them

var examples = new (string Name, string Title, Action Run)[]
{
    ("basic", "Basic coroutine", Examples.Basic),
    ("arguments", "Passing arguments", Examples.Arguments),
    ("multiple", "Multiple coroutines", Examples.Multiple),
    ("copy-stack", "Shared (copy) stack and save-stack statistics", Examples.CopyStack),
    ("state", "Checking coroutine state", Examples.State),
    ("threads", "One coroutine set per thread", Examples.Threads),
    ("last-word", "Last-word (error) handler", Examples.LastWord),
};

var selected = args.Length == 0 ? examples : examples.Where(e => args.Contains(e.Name)).ToArray();
if (selected.Length == 0)
{
    Console.Error.WriteLine($"Unknown example. Choose from: {string.Join(", ", examples.Select(e => e.Name))}");
    return 2;
}
foreach (var (name, title, run) in selected)
{
    Console.WriteLine($"== {name}: {title}");
    run();
    Console.WriteLine();
}
var counters = AcoNativeCounters.Read();
Console.WriteLine($"native counters at the end: {counters.LiveCoroutines} coroutines, {counters.LiveShareStacks} share stacks, {counters.SaveStackBytes} save-stack bytes");
return 0;

internal static unsafe class Examples
{
    private static readonly nint Bodies =
        AcoNativeLibrary.LoadBodies(Path.Combine(AppContext.BaseDirectory, "libaco_sample_bodies.so"));

    private static AcoEntryPoint Entry(string name) => AcoEntryPoint.FromExport(Bodies, name);

    public static void Basic()
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        var steps = (long*)NativeMemory.AllocZeroed(sizeof(long));
        using (var co = thread.CreateCoroutine(stack, Entry("sample_three_steps"), (nint)steps))
        {
            while (!co.IsEnded)
            {
                co.Resume();
                Console.WriteLine($"resumed: the coroutine has done {*steps} step(s), ended: {co.IsEnded}");
            }
        }
        NativeMemory.Free(steps);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Pair
    {
        public long A, B, Result;
    }

    public static void Arguments()
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        var pair = (Pair*)NativeMemory.AllocZeroed((nuint)sizeof(Pair));
        pair->A = 6;
        pair->B = 7;
        using (var co = thread.CreateCoroutine(stack, Entry("sample_sum_then_product"), (nint)pair))
        {
            Console.WriteLine($"argument: a={pair->A}, b={pair->B} (aco_get_arg() returns 0x{co.Argument:x})");
            co.Resume();
            Console.WriteLine($"first resume: result={pair->Result} (the sum)");
            co.Resume();
            Console.WriteLine($"second resume: result={pair->Result} (the product), ended: {co.IsEnded}");
        }
        NativeMemory.Free(pair);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Worker
    {
        public long Id;
        public long* Log;
    }

    public static void Multiple()
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        var log = (long*)NativeMemory.AllocZeroed(1025 * sizeof(long)); // count, then entries
        var workers = (Worker*)NativeMemory.AllocZeroed((nuint)(3 * sizeof(Worker)));
        var cos = new List<AcoCoroutine>();
        for (var i = 0; i < 3; i++)
        {
            workers[i] = new Worker { Id = i + 1, Log = log };
            cos.Add(thread.CreateCoroutine(stack, Entry("sample_log_three_times"), (nint)(workers + i)));
        }
        while (cos.Any(c => !c.IsEnded))
        {
            foreach (var co in cos.Where(c => !c.IsEnded))
            {
                co.Resume();
            }
        }
        var order = string.Join(" ", Enumerable.Range(0, (int)log[0]).Select(i => log[1 + i]));
        Console.WriteLine($"3 coroutines on one share stack, resumed round-robin; log of who ran: {order}");
        cos.ForEach(c => c.Dispose());
        NativeMemory.Free(workers);
        NativeMemory.Free(log);
    }

    public static void CopyStack()
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack(256 * 1024);
        using var a = thread.CreateCoroutine(stack, Entry("sample_keep_stack"), 1000);
        using var b = thread.CreateCoroutine(stack, Entry("sample_keep_stack"), 3000);
        for (var round = 0; round < 3; round++)
        {
            a.Resume();
            b.Resume();
        }
        foreach (var (name, co) in new[] { ("a", a), ("b", b) })
        {
            var s = co.SaveStack;
            Console.WriteLine(
                $"coroutine {name}: save stack {s.Size} B (holds {s.ValidSize} B), largest copy {s.MaxCopySize} B, " +
                $"{s.SaveCount} saves, {s.RestoreCount} restores, stack high-water mark {co.StackHighWaterMark} B, ended: {co.IsEnded}");
        }
    }

    public static void State()
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        using var first = thread.CreateCoroutine(stack, Entry("sample_keep_stack"), 64);
        using var second = thread.CreateCoroutine(stack, Entry("sample_keep_stack"), 64);
        void Show(string when) => Console.WriteLine(
            $"{when}: first ended={first.IsEnded} owns stack={first.OwnsShareStack}; second ended={second.IsEnded} owns stack={second.OwnsShareStack}");
        Show("created");
        first.Resume();
        Show("first resumed");
        second.Resume();
        Show("second resumed");
        while (!first.IsEnded)
        {
            first.Resume();
        }
        Show("first ran to its end");
    }

    public static void Threads()
    {
        const int ThreadCount = 3, PerThread = 100;
        var totals = new long[ThreadCount];
        var threads = Enumerable.Range(0, ThreadCount).Select(t => new Thread(() =>
        {
            using var thread = AcoThread.Initialize();
            using var stack = thread.CreateShareStack(64 * 1024);
            var steps = (long*)NativeMemory.AllocZeroed(PerThread * sizeof(long));
            var cos = Enumerable.Range(0, PerThread)
                .Select(i => thread.CreateCoroutine(stack, Entry("sample_three_steps"), (nint)(steps + i))).ToList();
            while (cos.Any(c => !c.IsEnded))
            {
                cos.Where(c => !c.IsEnded).ToList().ForEach(c => c.Resume());
            }
            for (var i = 0; i < PerThread; i++)
            {
                totals[t] += steps[i];
            }
            cos.ForEach(c => c.Dispose());
            NativeMemory.Free(steps);
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        for (var t = 0; t < ThreadCount; t++)
        {
            Console.WriteLine($"thread {t}: {PerThread} coroutines, {totals[t]} steps in all");
        }
    }

    public static void LastWord()
    {
        var counter = (long*)NativeMemory.AllocZeroed(sizeof(long));
        var done = new Thread(() =>
        {
            using var thread = AcoThread.Initialize(new AcoThreadOptions { ReturnMeansExit = false, LastWord = Entry("sample_last_word") });
            using var stack = thread.CreateShareStack();
            using var co = thread.CreateCoroutine(stack, Entry("sample_forgets_exit"), (nint)counter);
            co.Resume();
            Console.WriteLine($"the entry returned without aco_exit(); the last-word handler ran (counter {*counter}) and ended it: ended={co.IsEnded}");
        });
        done.Start();
        done.Join();
        NativeMemory.Free(counter);
    }
}
