namespace Aco.HttpServer;

/// <summary>What runs each connection.</summary>
public enum HttpServerMode
{
    /// <summary>A native coroutine running the HTTP server written in C (socket I/O through <c>aco_bridge.h</c>). Linux only: elsewhere the host refuses to start.</summary>
    Native,

    /// <summary>A managed coroutine (a C# async body) doing I/O with <see cref="System.Net.Sockets.Socket"/>.</summary>
    Managed,
}
