namespace Aco.HttpServer;

/// <summary>What the server needs from a valid request head (nothing of it is kept as a string).</summary>
/// <param name="Route">What the request line asks for.</param>
/// <param name="IsHttp10">HTTP/1.0 (else HTTP/1.1).</param>
/// <param name="KeepAlive">The connection stays open after the response.</param>
/// <param name="ContentLength">Bytes of body that follow the head (0 without <c>Content-Length</c>).</param>
internal readonly record struct HttpRequestHead(HttpRoute Route, bool IsHttp10, bool KeepAlive, long ContentLength);
