namespace Aco.HttpServer.Tests;

/// <summary>Waits for a condition that becomes true in its own time, within <see cref="Bounds.Wait"/>.</summary>
internal static class Eventually
{
    public static async Task HoldsAsync(Func<bool> condition, Func<string> describe)
    {
        using var deadline = new CancellationTokenSource(Bounds.Wait);
        while (!condition())
        {
            if (deadline.IsCancellationRequested)
            {
                Assert.Fail($"not true within {Bounds.Wait.TotalSeconds:F0} s: {describe()}");
            }
            await Task.Delay(10);
        }
    }
}
