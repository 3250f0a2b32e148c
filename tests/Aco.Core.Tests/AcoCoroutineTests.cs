using Aco.Core;

namespace Aco.Core.Tests;

public sealed class AcoCoroutineTests
{
    [Fact]
    public void A_coroutine_runs_a_step_per_resume_until_it_ends() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        using var cell = new NativeCell();
        using var co = thread.CreateCoroutine(stack, Bodies.CountToFive, cell.Address);
        Assert.False(co.IsMain);
        Assert.Equal(cell.Address, co.Argument);
        for (var i = 1; i <= 5; i++)
        {
            co.Resume();
            Assert.Equal(i, cell.Value);
            Assert.False(co.IsEnded);
            Assert.True(co.OwnsShareStack);
        }
        co.Resume();
        Assert.True(co.IsEnded);
        Assert.False(co.OwnsShareStack); // exit gives the stack up
        Assert.Null(stack.Owner);
    });

    [Fact]
    public void Coroutines_sharing_a_stack_are_copied_in_and_out_and_keep_their_state() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack(64 * 1024);
        using var a = new NativeCell();
        using var b = new NativeCell();
        using var coA = thread.CreateCoroutine(stack, Bodies.CountForever, a.Address);
        using var coB = thread.CreateCoroutine(stack, Bodies.CountForever, b.Address);
        Assert.Equal(2, stack.CoroutineCount);
        for (var round = 0; round < 10; round++)
        {
            coA.Resume();
            Assert.Same(coA, stack.Owner);
            coB.Resume();
            Assert.Same(coB, stack.Owner);
        }
        Assert.Equal(10, a.Value);
        Assert.Equal(10, b.Value);
        var statsA = coA.SaveStack;
        Assert.Equal(10, statsA.SaveCount);    // saved each time B took the stack
        Assert.Equal(9, statsA.RestoreCount);  // restored each time but the first
        Assert.True(statsA.ValidSize > 0 && statsA.ValidSize <= statsA.Size);
        Assert.Equal(statsA.ValidSize, statsA.MaxCopySize);
    });

    [Fact]
    public void A_coroutine_alone_on_its_stack_never_copies() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        using var cell = new NativeCell();
        using var co = thread.CreateCoroutine(stack, Bodies.CountForever, cell.Address);
        for (var i = 0; i < 100; i++)
        {
            co.Resume();
        }
        Assert.Equal(new AcoSaveStackStats(64, 0, 0, 0, 0), co.SaveStack);
    });

    [Fact]
    public void The_high_water_mark_keeps_the_deepest_suspension_point() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        using var co = thread.CreateCoroutine(stack, Bodies.YieldDeep, 30000);
        Assert.Equal(0, co.StackHighWaterMark);
        co.Resume();
        var deep = co.StackHighWaterMark;
        Assert.InRange(deep, 30000, 31000);
        co.Resume();
        co.Resume();
        Assert.True(co.IsEnded);
        Assert.Equal(deep, co.StackHighWaterMark);
    });

    [Fact]
    public void Disposing_suspended_coroutines_frees_everything() => OnThread.Run(() =>
    {
        var before = AcoNativeCounters.Read();
        using (var thread = AcoThread.Initialize())
        {
            var stack = thread.CreateShareStack(64 * 1024);
            var cells = Enumerable.Range(0, 20).Select(_ => new NativeCell()).ToList();
            var cos = cells.Select(c => thread.CreateCoroutine(stack, Bodies.YieldDeep, 2000)).ToList();
            foreach (var co in cos.Take(15))
            {
                co.Resume(); // suspended deep; their save stacks grow
            }
            var during = AcoNativeCounters.Read();
            Assert.Equal(before.LiveCoroutines + 21, during.LiveCoroutines);
            Assert.True(during.SaveStackBytes - before.SaveStackBytes >= 14 * 2048);
            Assert.Equal(20, thread.LiveCoroutineCount);
            cos.ForEach(c => c.Dispose());
            cells.ForEach(c => c.Dispose());
            Assert.Equal(0, thread.LiveCoroutineCount);
        }
        Assert.Equal(before with { CopiedBytes = 0 }, AcoNativeCounters.Read() with { CopiedBytes = 0 });
    });

    [Fact]
    public void By_default_an_entry_that_returns_just_ends() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        Assert.True(thread.Options.ReturnMeansExit);
        using var stack = thread.CreateShareStack();
        using var cell = new NativeCell();
        using var co = thread.CreateCoroutine(stack, Bodies.ReturnAtOnce, cell.Address);
        co.Resume();
        Assert.True(co.IsEnded);
        Assert.Equal(42, cell.Value);
        Still.Works(thread, stack);
    });

    [Fact]
    public void A_native_last_word_handler_runs_when_an_entry_returns() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize(new AcoThreadOptions { ReturnMeansExit = false, LastWord = Bodies.LastWordRecordsAndExits });
        using var stack = thread.CreateShareStack();
        using var cell = new NativeCell();
        using var co = thread.CreateCoroutine(stack, Bodies.ReturnAtOnce, cell.Address);
        co.Resume();
        Assert.True(co.IsEnded);
        Assert.Equal(1042, cell.Value); // the body's 42, then the handler's 1000
    });

    [Fact]
    public void Each_thread_runs_its_own_coroutines() => OnThread.Run(() =>
    {
        var before = AcoNativeCounters.Read();
        var totals = new long[4];
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            using var thread = AcoThread.Initialize();
            using var stack = thread.CreateShareStack(64 * 1024);
            var cells = Enumerable.Range(0, 100).Select(_ => new NativeCell()).ToList();
            var cos = cells.Select(c => thread.CreateCoroutine(stack, Bodies.CountToFive, c.Address)).ToList();
            while (cos.Any(c => !c.IsEnded))
            {
                cos.Where(c => !c.IsEnded).ToList().ForEach(c => c.Resume());
            }
            totals[t] = cells.Sum(c => c.Value);
            cos.ForEach(c => c.Dispose());
            cells.ForEach(c => c.Dispose());
        })).ToList();
        threads.ForEach(t => t.Start());
        Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromMinutes(1)), "a thread did not end within a minute"));
        Assert.All(totals, total => Assert.Equal(500, total));
        Assert.Equal(before with { CopiedBytes = 0 }, AcoNativeCounters.Read() with { CopiedBytes = 0 });
    });

    [Fact]
    public void The_debugger_display_shows_state_and_statistics() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        using var cell = new NativeCell();
        using var co = thread.CreateCoroutine(stack, Bodies.CountToFive, cell.Address);
        co.Resume();
        var text = co.ToString();
        Assert.Contains("test_count_to_five", text, StringComparison.Ordinal);
        Assert.Contains("on its stack", text, StringComparison.Ordinal);
        Assert.Contains("main of thread", thread.MainCoroutine.ToString(), StringComparison.Ordinal);
    });

    [Fact]
    public void Share_stacks_report_their_size_and_guard_page() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        using var defaults = thread.CreateShareStack();
        Assert.Equal(AcoShareStack.DefaultSize, defaults.Size);
        Assert.True(defaults.GuardPageEnabled);
        using var small = thread.CreateShareStack(10_000, guardPage: false);
        Assert.Equal(10_000, small.Size);
        Assert.False(small.GuardPageEnabled);
        using var rounded = thread.CreateShareStack(5000);
        Assert.Equal(Environment.SystemPageSize * (long)Math.Ceiling(5000.0 / Environment.SystemPageSize), rounded.Size);
    });
}
