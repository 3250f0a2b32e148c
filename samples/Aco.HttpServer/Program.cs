using Aco.Core;
using Aco.Hosting;
using Aco.HttpServer;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

// dotnet run --project samples/Aco.HttpServer [-- --managed] [--port 8080] [--address 127.0.0.1]
// Configuration: appsettings.json, environment variables (HttpServer__IdleTimeout=00:00:10), the command line.
// Standard output carries two lines: "listening on <url>" once the server accepts, and a stop report at exit;
// logs go to standard error.
const string ManagedFlag = "--managed";
var settings = args.Where(a => a != ManagedFlag).ToArray();
// appsettings.json is read from beside the program, wherever it is started from.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = settings, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddCommandLine(settings, new Dictionary<string, string>
{
    ["--port"] = $"{HttpServerOptions.SectionName}:{nameof(HttpServerOptions.Port)}",
    ["--address"] = $"{HttpServerOptions.SectionName}:{nameof(HttpServerOptions.Address)}",
});
if (args.Contains(ManagedFlag))
{
    builder.Configuration.AddInMemoryCollection([new($"{HttpServerOptions.SectionName}:{nameof(HttpServerOptions.Mode)}", nameof(HttpServerMode.Managed))]);
}
builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Services.AddAcoScheduler();
builder.Services.AddHttpServer();
using var host = builder.Build();
try
{
    host.Services.GetRequiredService<ConnectionMode>();
}
catch (Exception e) when (e is PlatformNotSupportedException or AcoBodiesLoadException or OptionsValidationException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var server = host.Services.GetRequiredService<HttpServerService>();
var connections = host.Services.GetRequiredService<OpenConnections>();
var pool = host.Services.GetRequiredService<IAcoSchedulerPool>();
host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() => Console.WriteLine($"listening on {server.Url}"));
await host.RunAsync(); // returns once the host has stopped, schedulers included

var alive = pool.Schedulers.Sum(s => s.Counters.LiveManaged + s.Counters.LiveNative);
Console.WriteLine($"stopped: {connections.Count} connections open, {alive} coroutines alive");
return 0;
