using System.Globalization;

namespace Aco.HttpServer.Tests;

/// <summary>This process's limit on open descriptors (<c>ulimit -n</c>); child processes inherit it.</summary>
internal static class DescriptorLimit
{
    /// <summary>The soft limit, or null where /proc does not tell (not Linux).</summary>
    public static long? Current()
    {
        const string path = "/proc/self/limits";
        if (!File.Exists(path))
        {
            return null;
        }
        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var fields = line?["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields is { Length: > 0 } && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) ? soft
            : fields is { Length: > 0 } && fields[0] == "unlimited" ? long.MaxValue : null;
    }
}
