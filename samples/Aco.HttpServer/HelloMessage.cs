namespace Aco.HttpServer;

/// <summary>The body of <c>GET /json</c>: <c>{"message":"Hello, World!"}</c>.</summary>
internal readonly record struct HelloMessage(string Message);
