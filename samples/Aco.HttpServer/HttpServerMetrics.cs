using System.Diagnostics.Metrics;

namespace Aco.HttpServer;

/// <summary>
/// The meter named <c>Aco.HttpServer</c> (<c>dotnet-counters monitor --counters Aco.HttpServer</c>): open
/// connections, requests answered by status code, and connections refused over the cap.
/// </summary>
internal sealed class HttpServerMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "Aco.HttpServer";

    private const string StatusCodeTag = "http.response.status_code";

    // Boxed once: a tag's value is an object, and boxing per request would allocate on the fast path.
    private static readonly object s_200 = 200, s_400 = 400, s_404 = 404, s_408 = 408, s_413 = 413, s_431 = 431, s_501 = 501;

    private readonly Counter<long> _requests;
    private readonly Counter<long> _rejectedConnections;

    public HttpServerMetrics(IMeterFactory meterFactory, OpenConnections connections)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableUpDownCounter("aco.http_server.open_connections", () => connections.Count, "{connection}",
            "Connections open now (accepted and not yet closed)");
        _requests = meter.CreateCounter<long>("aco.http_server.requests", "{request}", "Responses sent, by status code");
        _rejectedConnections = meter.CreateCounter<long>("aco.http_server.rejected_connections", "{connection}",
            "Connections closed at once because MaxConnections were open");
    }

    /// <summary>A response with <paramref name="statusCode"/> was written.</summary>
    public void Responded(int statusCode)
    {
        if (_requests.Enabled)
        {
            _requests.Add(1, new KeyValuePair<string, object?>(StatusCodeTag, Box(statusCode)));
        }
    }

    /// <summary>A connection was closed at accept because the cap was reached.</summary>
    public void Rejected() => _rejectedConnections.Add(1);

    private static object Box(int statusCode) => statusCode switch
    {
        200 => s_200,
        400 => s_400,
        404 => s_404,
        408 => s_408,
        413 => s_413,
        431 => s_431,
        501 => s_501,
        _ => statusCode,
    };
}
