using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using Aco.Core;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // the native counters are process-wide

namespace Aco.Core.Tests;

/// <summary>The C entry points of tests/native/aco_test_bodies.c.</summary>
internal static class Bodies
{
    public static readonly nint Library = NativeLibrary.Load(Path.Combine(AppContext.BaseDirectory, "libaco_test_bodies.so"));

    public static AcoEntryPoint CountToFive => Get("test_count_to_five");
    public static AcoEntryPoint CountForever => Get("test_count_forever");
    public static AcoEntryPoint ExitAtOnce => Get("test_exit_at_once");
    public static AcoEntryPoint ReturnAtOnce => Get("test_return_at_once");
    public static AcoEntryPoint YieldDeep => Get("test_yield_deep");
    public static AcoEntryPoint LastWordRecordsAndExits => Get("test_last_word_records_and_exits");

    public static AcoEntryPoint Get(string name) => AcoEntryPoint.FromExport(Library, name);
}

/// <summary>Native memory for a coroutine's int64 argument.</summary>
internal sealed unsafe class NativeCell : IDisposable
{
    public NativeCell() => Pointer = (long*)NativeMemory.AllocZeroed(sizeof(long));

    public long* Pointer { get; private set; }

    public nint Address => (nint)Pointer;

    public long Value => *Pointer;

    public void Dispose()
    {
        NativeMemory.Free(Pointer);
        Pointer = null;
    }
}

internal static class OnThread
{
    /// <summary>Runs <paramref name="body"/> on a new thread (fresh thread-local state) and rethrows what it threw.</summary>
    public static void Run(Action body)
    {
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromMinutes(1)), "the thread did not end within a minute");
        failure?.Throw();
    }

    /// <summary>Runs <paramref name="body"/> on another thread and returns what it threw, if anything.</summary>
    public static Exception? Catch(Action body)
    {
        Exception? caught = null;
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                caught = e;
            }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromMinutes(1)), "the thread did not end within a minute");
        return caught;
    }
}

internal static class Still
{
    /// <summary>Shows that the thread's runtime still works: a fresh coroutine runs to its end.</summary>
    public static void Works(AcoThread thread, AcoShareStack? stack = null)
    {
        using var cell = new NativeCell();
        var ownStack = stack is null;
        stack ??= thread.CreateShareStack(64 * 1024);
        using (var co = thread.CreateCoroutine(stack, Bodies.CountToFive, cell.Address))
        {
            while (!co.IsEnded)
            {
                co.Resume();
            }
            Assert.Equal(5, cell.Value);
        }
        if (ownStack)
        {
            stack.Dispose();
        }
    }
}

internal static class ChildProcess
{
    /// <summary>
    /// Runs a program to its end (at most <see cref="Bound"/>, killed past it); fails the test with its
    /// output unless it exits with 0.
    /// </summary>
    /// <returns>What it wrote to standard output.</returns>
    public static string Run(string file, string? directory, params string[] args)
    {
        var psi = Aco.Tests.Shared.BoundedProcess.Start(file, args);
        if (directory is not null)
        {
            psi.WorkingDirectory = directory;
        }
        var result = Aco.Tests.Shared.BoundedProcess.Run(psi, Bound);
        Assert.True(result.ExitCode == 0, $"{file} {string.Join(' ', args)} failed (exit code {result.ExitCode}):\n{result.Output}");
        return result.StandardOutput;
    }

    /// <summary>Long enough for a restore and build of a small app on a slow machine.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromMinutes(5);
}
