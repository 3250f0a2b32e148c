namespace Aco.HttpServer;

/// <summary>What a request asks for.</summary>
internal enum HttpRoute : byte
{
    /// <summary>Anything but the two below: 404.</summary>
    NotFound,

    /// <summary><c>GET /plaintext</c>: <c>Hello, World!</c> as text/plain.</summary>
    Plaintext,

    /// <summary><c>GET /json</c>: <c>{"message":"Hello, World!"}</c> as application/json.</summary>
    Json,
}
