namespace Aco.HttpServer.Tests;

/// <summary>A response as the test client read it off the wire.</summary>
internal sealed record HttpTestResponse(string StatusLine, int StatusCode, IReadOnlyList<KeyValuePair<string, string>> Headers, string Body)
{
    /// <summary>The values of the header lines named <paramref name="name"/> (any case).</summary>
    public IEnumerable<string> Values(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);

    /// <summary>The one value of <paramref name="name"/>, or null if there is none.</summary>
    public string? Header(string name) => Values(name).SingleOrDefault();

    public override string ToString() => $"{StatusLine} [{string.Join("; ", Headers.Select(h => $"{h.Key}: {h.Value}"))}] {Body}";
}
