using System.Text.Json.Serialization;

namespace Aco.HttpServer;

/// <summary>Source-generated serialization of the JSON responses (no reflection at run time).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(HelloMessage))]
internal sealed partial class HttpServerJsonContext : JsonSerializerContext
{
}
