using Microsoft.Extensions.Options;

namespace Aco.HttpServer;

/// <summary>Validates <see cref="HttpServerOptions"/> (generated from its attributes).</summary>
[OptionsValidator]
public sealed partial class HttpServerOptionsValidator : IValidateOptions<HttpServerOptions>
{
}
