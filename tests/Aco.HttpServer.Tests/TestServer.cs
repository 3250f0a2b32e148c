using System.Diagnostics.Metrics;
using Aco.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Aco.HttpServer.Tests;

/// <summary>
/// The server in this process, built as Program builds it (AddAcoScheduler, AddHttpServer) on port 0 with two
/// schedulers, in the mode a test names ("managed", "native").
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly MetricCollector<long> _openConnections;
    private readonly MetricCollector<long> _requests;
    private readonly MetricCollector<long> _rejected;

    private TestServer(IHost host, FakeLogCollector logs)
    {
        _host = host;
        Logs = logs;
        var meterFactory = host.Services.GetRequiredService<IMeterFactory>();
        _openConnections = new MetricCollector<long>(meterFactory, HttpServerMetrics.MeterName, "aco.http_server.open_connections");
        _requests = new MetricCollector<long>(meterFactory, HttpServerMetrics.MeterName, "aco.http_server.requests");
        _rejected = new MetricCollector<long>(meterFactory, HttpServerMetrics.MeterName, "aco.http_server.rejected_connections");
    }

    /// <summary>Builds and starts a server; <paramref name="settings"/> adds to or overrides the configuration.</summary>
    public static async Task<TestServer> StartAsync(string mode, Dictionary<string, string?>? settings = null)
    {
        var logs = new FakeLogCollector();
        var host = Build(mode, settings, logs);
        var server = new TestServer(host, logs);
        try
        {
            await host.StartAsync().WaitAsync(Bounds.Wait);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>Builds a host without starting it (for tests of start-time validation).</summary>
    public static IHost Build(string mode, Dictionary<string, string?>? settings, FakeLogCollector? logs = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var configuration = new Dictionary<string, string?>
        {
            ["Aco:SchedulerCount"] = "2",
            ["HttpServer:Mode"] = mode,
            ["HttpServer:Port"] = "0",
        };
        foreach (var (key, value) in settings ?? [])
        {
            configuration[key] = value;
        }
        builder.Configuration.AddInMemoryCollection(configuration);
        if (logs is not null)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Logging.AddProvider(new FakeLoggerProvider(logs));
        }
        builder.Services.AddAcoScheduler();
        builder.Services.AddHttpServer();
        return builder.Build();
    }

    /// <summary>The port the server listens on.</summary>
    public int Port => Service.EndPoint!.Port;

    /// <summary>The scheduler pool.</summary>
    public IAcoSchedulerPool Pool => _host.Services.GetRequiredService<IAcoSchedulerPool>();

    /// <summary>What the server logged (Information and above).</summary>
    public FakeLogCollector Logs { get; }

    private HttpServerService Service => _host.Services.GetRequiredService<HttpServerService>();

    /// <summary>A new client connection to the server.</summary>
    public Task<RawHttpConnection> ConnectAsync() => RawHttpConnection.ConnectAsync(Port);

    /// <summary>The <c>aco.http_server.open_connections</c> metric now.</summary>
    public long OpenConnections()
    {
        _openConnections.RecordObservableInstruments();
        return _openConnections.LastMeasurement!.Value;
    }

    /// <summary>The <c>aco.http_server.requests</c> metric's total for <paramref name="statusCode"/> so far.</summary>
    public long Requests(int statusCode) => _requests.GetMeasurementSnapshot()
        .Where(m => m.Tags.TryGetValue("http.response.status_code", out var s) && (int)s! == statusCode)
        .Sum(m => m.Value);

    /// <summary>The <c>aco.http_server.rejected_connections</c> metric's total so far.</summary>
    public long Rejected() => _rejected.GetMeasurementSnapshot().Sum(m => m.Value);

    /// <summary>Waits (bounded) until the open-connections metric reads <paramref name="expected"/>.</summary>
    public Task WaitForOpenConnectionsAsync(long expected) =>
        Eventually.HoldsAsync(() => OpenConnections() == expected, () => $"open connections: {OpenConnections()}, expected {expected}");

    /// <summary>What the HTTP server's host (not the schedulers) logged with <paramref name="eventId"/>.</summary>
    public IEnumerable<FakeLogRecord> Logged(int eventId) =>
        Logs.GetSnapshot().Where(r => r.Category == typeof(HttpServerService).FullName && r.Id.Id == eventId);

    /// <summary>Errors logged (unexpected failures inside the server).</summary>
    public IEnumerable<FakeLogRecord> Errors() => Logs.GetSnapshot().Where(r => r.Level >= LogLevel.Error);

    /// <summary>Stops the host the way Ctrl+C does (bounded).</summary>
    public Task StopAsync() => _host.StopAsync().WaitAsync(Bounds.Wait);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            _openConnections.Dispose();
            _requests.Dispose();
            _rejected.Dispose();
            _host.Dispose();
        }
    }
}
