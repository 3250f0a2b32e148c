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

    /// <summary>Every status the server answers with.</summary>
    private static readonly int[] s_statusCodes = [200, 400, 404, 408, 413, 431, 501];

    // Boxed once: a tag's value is an object.
    private static readonly object[] s_boxedStatusCodes = [.. s_statusCodes.Select(static c => (object)c)];

    private readonly long[] _responses = new long[s_statusCodes.Length]; // by index in s_statusCodes; any thread, by Interlocked
    private readonly Counter<long> _rejectedConnections;
    private Func<int, long>? _countsElsewhere; // native mode: counted by the C side

    public HttpServerMetrics(IMeterFactory meterFactory, OpenConnections connections)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableUpDownCounter("aco.http_server.open_connections", () => connections.Count, "{connection}",
            "Connections open now (accepted and not yet closed)");
        meter.CreateObservableCounter("aco.http_server.requests", ObserveResponses, "{request}", "Responses sent, by status code");
        _rejectedConnections = meter.CreateCounter<long>("aco.http_server.rejected_connections", "{connection}",
            "Connections closed at once because MaxConnections were open");
    }

    /// <summary>A response with <paramref name="statusCode"/> was written (managed mode).</summary>
    public void Responded(int statusCode)
    {
        var i = Array.IndexOf(s_statusCodes, statusCode);
        if (i >= 0)
        {
            Interlocked.Increment(ref _responses[i]);
        }
    }

    /// <summary>Responses are counted elsewhere (native mode): <paramref name="responses"/> gives the count for a status code.</summary>
    public void CountResponsesWith(Func<int, long> responses) => _countsElsewhere = responses;

    /// <summary>A connection was closed at accept because the cap was reached.</summary>
    public void Rejected() => _rejectedConnections.Add(1);

    /// <summary>Responses sent with <paramref name="statusCode"/> so far.</summary>
    public long Responses(int statusCode)
    {
        var i = Array.IndexOf(s_statusCodes, statusCode);
        return i < 0 ? 0 : Interlocked.Read(ref _responses[i]) + (_countsElsewhere?.Invoke(statusCode) ?? 0);
    }

    private IEnumerable<Measurement<long>> ObserveResponses()
    {
        for (var i = 0; i < s_statusCodes.Length; i++)
        {
            yield return new Measurement<long>(Responses(s_statusCodes[i]), new KeyValuePair<string, object?>(StatusCodeTag, s_boxedStatusCodes[i]));
        }
    }
}
