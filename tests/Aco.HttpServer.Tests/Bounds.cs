namespace Aco.HttpServer.Tests;

/// <summary>The bounds of every wait in these tests: generous, so that a slow, busy machine still passes.</summary>
internal static class Bounds
{
    /// <summary>One wait: a response, a close, a host's start or stop.</summary>
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    /// <summary>A child process's whole life.</summary>
    public static readonly TimeSpan ChildProcess = TimeSpan.FromMinutes(2);
}
