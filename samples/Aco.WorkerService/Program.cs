using Aco.WorkerService;

// dotnet run --project samples/Aco.WorkerService [-- --count N] [--keep-running] [--hold]
// Configuration: appsettings.json, environment variables (Aco__SchedulerCount=2), the command line.
// --hold: the coroutines wait until the host stops (Ctrl+C, SIGTERM), which cancels them all.
string[] flags = ["--keep-running", "--hold"];
var keepRunning = args.Contains("--keep-running");
var hold = args.Contains("--hold");
var builder = Host.CreateApplicationBuilder(args.Where(a => !flags.Contains(a)).ToArray());
builder.Services.AddAcoScheduler();
builder.Services.AddSingleton(new WorkerSettings(builder.Configuration.GetValue("count", builder.Configuration.GetValue("Worker:Count", 1_000_000)), keepRunning, hold));
builder.Services.AddSingleton<CoroutineWorker>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<CoroutineWorker>());
using var host = builder.Build();
var worker = host.Services.GetRequiredService<CoroutineWorker>();
await host.RunAsync(); // returns once the host has stopped, schedulers included
if (hold)
{
    Console.WriteLine(worker.HoldReport());
}
