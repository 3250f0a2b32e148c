using AcoWorker1;

// dotnet run --project src/AcoWorker1 [-- --Worker:Count=1000000]
// appsettings.json is read from the application's folder, wherever it is started from.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddAcoScheduler();                       // schedulers start before the worker, stop after it
builder.Services.Configure<WorkerOptions>(builder.Configuration.GetSection("Worker"));
builder.Services.AddHostedService<Worker>();
await builder.Build().RunAsync();
