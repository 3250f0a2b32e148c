using MainJobAsync;

// dotnet bench/mainjob/dotnet/bin/Release/net10.0/MainJobAsync.dll [--count N]
// The same host shape as samples/Aco.WorkerService, so both pay the same startup.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddSingleton(new JobSettings(builder.Configuration.GetValue("count", 1_000_000L)));
builder.Services.AddHostedService<AsyncJobWorker>();
using var host = builder.Build();
await host.RunAsync();
