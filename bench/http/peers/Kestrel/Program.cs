// The ASP.NET Core peer of bench/http: GET /plaintext and GET /json on Kestrel, everything else 404.
// It runs the `dotnet new web` template's host (WebApplication.CreateBuilder) with two changes that a
// production benchmark makes: logging only at Warning and above, and only to the console.
using System.Net;
using System.Text.Json.Serialization;

int port = ParsePort(args);

// No args for the builder: the port comes from --port alone, not from the configuration sources.
var builder = WebApplication.CreateBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddConsole();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
builder.Services.ConfigureHttpJsonOptions(json =>
    json.SerializerOptions.TypeInfoResolverChain.Insert(0, PeerJsonContext.Default));

var app = builder.Build();
app.MapGet("/plaintext", () => Results.Text("Hello, World!", "text/plain"));
// Serialized per request by the minimal API's JSON writer (System.Text.Json, source-generated metadata).
app.MapGet("/json", () => new Message("Hello, World!"));

await app.StartAsync();

// Kestrel puts the bound port (also for --port 0) into the server's addresses once it listens.
var bound = new Uri(app.Urls.Single());
Console.WriteLine($"listening on http://127.0.0.1:{bound.Port}/");

await app.WaitForShutdownAsync();
return 0;

static int ParsePort(string[] args)
{
    if (args.Length == 0)
        return 0;
    if (args.Length == 2 && args[0] == "--port" && int.TryParse(args[1], out int port) && port is >= 0 and <= 65535)
        return port;
    Console.Error.WriteLine("usage: KestrelPeer [--port N]   (N = 0: any free port)");
    Environment.Exit(2);
    return 0;
}

/// <summary>The /json body.</summary>
internal sealed record Message(string message);

/// <summary>Source-generated serializer metadata for <see cref="Message"/>.</summary>
[JsonSerializable(typeof(Message))]
internal sealed partial class PeerJsonContext : JsonSerializerContext;
