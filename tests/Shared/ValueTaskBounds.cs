namespace Aco.Tests.Shared;

/// <summary>Bounded waits on the <see cref="ValueTask"/>s that managed coroutines return.</summary>
internal static class ValueTaskBounds
{
    public static Task WaitAsync(this ValueTask task, TimeSpan bound) => task.AsTask().WaitAsync(bound);

    public static Task<T> WaitAsync<T>(this ValueTask<T> task, TimeSpan bound) => task.AsTask().WaitAsync(bound);
}
