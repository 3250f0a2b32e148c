using Aco.WorkerService;

// dotnet run --project samples/Aco.WorkerService [-- --count N] [--keep-running]
// Configuration: appsettings.json, environment variables (Aco__SchedulerCount=2), the command line.
var keepRunning = args.Contains("--keep-running");
var builder = Host.CreateApplicationBuilder(args.Where(a => a != "--keep-running").ToArray());
builder.Services.AddAcoScheduler();
builder.Services.AddSingleton(new WorkerSettings(builder.Configuration.GetValue("count", builder.Configuration.GetValue("Worker:Count", 1_000_000)), keepRunning));
builder.Services.AddHostedService<CoroutineWorker>();
await builder.Build().RunAsync();
