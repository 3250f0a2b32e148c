namespace Aco.HttpServer;

/// <summary>What a managed connection waits for; each wait has a deadline (see <see cref="ManagedConnection"/>).</summary>
internal enum ConnectionPhase : byte
{
    /// <summary>Between requests, holding no buffer: the idle timeout runs.</summary>
    Idle,

    /// <summary>The rest of a request head that has begun: 408 at the deadline.</summary>
    ReadingHead,

    /// <summary>The rest of a request body: 408 at the deadline.</summary>
    ReadingBody,

    /// <summary>The client to take responses: aborted at the deadline.</summary>
    Sending,

    /// <summary>After a closing response, the client's end (so the response is not lost to a reset): closed at the deadline.</summary>
    Lingering,
}
