using Aco.Core;

namespace Aco.Core.Tests;

/// <summary>
/// Misuse never reaches the native core's abort: each case throws a specific exception,
/// and afterwards the thread's other coroutines (and the process) still work.
/// </summary>
public sealed class MisuseTests
{
    [Fact]
    public void Resuming_an_ended_coroutine_throws() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        using var co = thread.CreateCoroutine(stack, Bodies.ExitAtOnce);
        co.Resume();
        Assert.True(co.IsEnded);
        var e = Assert.Throws<InvalidOperationException>(co.Resume);
        Assert.Contains("ended", e.Message, StringComparison.Ordinal);
        Still.Works(thread, stack);
    });

    [Fact]
    public void Resuming_from_another_thread_throws() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        using var cell = new NativeCell();
        using var co = thread.CreateCoroutine(stack, Bodies.CountToFive, cell.Address);
        var e = OnThread.Catch(co.Resume);
        Assert.IsType<InvalidOperationException>(e);
        Assert.Equal(0, cell.Value);
        co.Resume(); // still fine on its own thread
        Assert.Equal(1, cell.Value);
        Still.Works(thread, stack);
    });

    [Fact]
    public void Disposing_a_coroutine_from_another_thread_throws() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        using var co = thread.CreateCoroutine(stack, Bodies.ExitAtOnce);
        Assert.IsType<InvalidOperationException>(OnThread.Catch(co.Dispose));
        Assert.False(co.IsClosed);
        co.Resume();
        Assert.True(co.IsEnded);
    });

    [Fact]
    public void Using_a_disposed_coroutine_throws() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        var co = thread.CreateCoroutine(stack, Bodies.ExitAtOnce);
        co.Dispose();
        Assert.Throws<ObjectDisposedException>(co.Resume);
        Assert.Throws<ObjectDisposedException>(() => co.IsEnded);
        Assert.Throws<ObjectDisposedException>(() => co.SaveStack);
        co.Dispose(); // a second dispose is harmless
        Still.Works(thread, stack);
    });

    [Fact]
    public void Using_a_disposed_share_stack_throws() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        var stack = thread.CreateShareStack();
        stack.Dispose();
        Assert.Throws<ObjectDisposedException>(() => stack.Size);
        Assert.Throws<ObjectDisposedException>(() => thread.CreateCoroutine(stack, Bodies.ExitAtOnce));
        Still.Works(thread);
    });

    [Fact]
    public void Using_a_disposed_thread_throws() => OnThread.Run(() =>
    {
        var thread = AcoThread.Initialize();
        var stack = thread.CreateShareStack();
        thread.Dispose();
        Assert.True(thread.IsDisposed);
        Assert.True(stack.IsClosed); // its stacks went with it
        Assert.Null(AcoThread.Current);
        Assert.Throws<ObjectDisposedException>(() => thread.CreateShareStack());
        using var again = AcoThread.Initialize(); // a new runtime for the same OS thread
        Assert.NotSame(thread, again);
        Still.Works(again);
    });

    [Fact]
    public void Creating_with_a_stack_of_another_thread_throws() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        AcoShareStack? foreign = null;
        AcoThread? other = null;
        using var ready = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();
        var t = new Thread(() =>
        {
            other = AcoThread.Initialize();
            foreign = other.CreateShareStack();
            ready.Set();
            done.Wait(TimeSpan.FromSeconds(30));
            other.Dispose();
        });
        t.Start();
        Assert.True(ready.Wait(TimeSpan.FromSeconds(30)), "the other thread did not initialize");
        var e = Assert.Throws<InvalidOperationException>(() => thread.CreateCoroutine(foreign!, Bodies.ExitAtOnce));
        Assert.Contains("another AcoThread", e.Message, StringComparison.Ordinal);
        done.Set();
        Assert.True(t.Join(TimeSpan.FromSeconds(30)));
        Still.Works(thread);
    });

    [Fact]
    public void Creating_on_another_threads_runtime_throws() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        Assert.IsType<InvalidOperationException>(OnThread.Catch(() => thread.CreateCoroutine(stack, Bodies.ExitAtOnce)));
        Assert.IsType<InvalidOperationException>(OnThread.Catch(() => thread.CreateShareStack()));
        Assert.Equal(0, stack.CoroutineCount);
        Still.Works(thread, stack);
    });

    [Fact]
    public void Disposing_a_stack_in_use_throws_and_names_the_count() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        var stack = thread.CreateShareStack();
        var a = thread.CreateCoroutine(stack, Bodies.ExitAtOnce);
        var b = thread.CreateCoroutine(stack, Bodies.ExitAtOnce);
        var e = Assert.Throws<InvalidOperationException>(stack.Dispose);
        Assert.Contains("2 coroutine(s)", e.Message, StringComparison.Ordinal);
        Assert.False(stack.IsClosed);
        a.Resume();
        Assert.True(a.IsEnded);
        a.Dispose();
        b.Dispose();
        stack.Dispose();
        Assert.True(stack.IsClosed);
    });

    [Fact]
    public void Disposing_a_share_stack_from_another_thread_throws() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        Assert.IsType<InvalidOperationException>(OnThread.Catch(stack.Dispose));
        Still.Works(thread, stack);
    });

    [Fact]
    public void An_empty_entry_point_throws() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        Assert.Throws<ArgumentException>(() => thread.CreateCoroutine(stack, default));
        Assert.Equal(0, thread.LiveCoroutineCount);
        Still.Works(thread, stack);
    });

    [Theory]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(-1)]
    [InlineData((1L << 30) + 1)]
    public void A_share_stack_size_out_of_range_throws_and_says_the_range(long size) => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => thread.CreateShareStack(size));
        Assert.Contains(AcoShareStack.SizeRule, e.Message, StringComparison.Ordinal);
        Assert.Equal(0, thread.LiveShareStackCount);
        Still.Works(thread);
    });

    [Theory]
    [InlineData(1)]
    [InlineData(-5)]
    [InlineData((64L << 20) + 1)]
    public void A_save_stack_size_out_of_range_throws_and_says_the_range(long size) => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => thread.CreateCoroutine(stack, Bodies.ExitAtOnce, 0, size));
        Assert.Contains(AcoCoroutine.SaveStackSizeRule, e.Message, StringComparison.Ordinal);
        Still.Works(thread, stack);
    });

    [Fact]
    public void Resuming_or_disposing_the_main_coroutine_throws() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        Assert.True(thread.MainCoroutine.IsMain);
        Assert.Throws<InvalidOperationException>(thread.MainCoroutine.Resume);
        Assert.Throws<InvalidOperationException>(thread.MainCoroutine.Dispose);
        Still.Works(thread);
    });

    [Fact]
    public void Initializing_twice_with_conflicting_options_throws() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        Assert.Same(thread, AcoThread.Initialize());
        Assert.Same(thread, AcoThread.Current);
        var e = Assert.Throws<InvalidOperationException>(() => AcoThread.Initialize(new AcoThreadOptions { ShareFpuEnvironment = true }));
        Assert.Contains("other options", e.Message, StringComparison.Ordinal);
        Still.Works(thread);
    });

    [Fact]
    public void Contradictory_options_throw() => OnThread.Run(() =>
    {
        Assert.Throws<ArgumentException>(() => AcoThread.Initialize(new AcoThreadOptions { LastWord = Bodies.LastWordRecordsAndExits }));
        Assert.Null(AcoThread.Current);
        using var thread = AcoThread.Initialize();
        Still.Works(thread);
    });

    [Fact]
    public void Disposing_a_thread_with_live_coroutines_is_refused() => OnThread.Run(() =>
    {
        var thread = AcoThread.Initialize();
        var stack = thread.CreateShareStack();
        using var cell = new NativeCell();
        var co = thread.CreateCoroutine(stack, Bodies.CountToFive, cell.Address);
        co.Resume();
        var e = Assert.Throws<InvalidOperationException>(thread.Dispose);
        Assert.Contains("1 coroutine(s)", e.Message, StringComparison.Ordinal);
        Assert.False(thread.IsDisposed);
        co.Resume(); // everything still works
        Assert.Equal(2, cell.Value);
        co.Dispose();
        thread.Dispose();
        Assert.True(thread.IsDisposed);
    });

    [Fact]
    public void Disposing_a_thread_from_another_thread_throws() => OnThread.Run(() =>
    {
        using var thread = AcoThread.Initialize();
        Assert.IsType<InvalidOperationException>(OnThread.Catch(thread.Dispose));
        Assert.False(thread.IsDisposed);
        Still.Works(thread);
    });
}
