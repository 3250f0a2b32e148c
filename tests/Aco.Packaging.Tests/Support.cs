using System.Diagnostics;
using System.Reflection;
using Aco.Tests.Shared;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // each test builds with dotnet: one at a time on a 2-core machine

namespace Aco.Packaging.Tests;

/// <summary>Values the build wrote into this assembly.</summary>
internal static class Build
{
    public static string RepoRoot => Metadata("AcoRepoRoot");
    public static string Configuration => Metadata("AcoConfiguration");
    public static string NativeBuildDir => Metadata("AcoNativeBuildDir");
    public static string NativeAarch64BuildDir => Metadata("AcoNativeAarch64BuildDir");

    private static string Metadata(string key) => typeof(Build).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}

/// <summary>
/// Child processes for the tests: each bounded (killed on overrun), with an environment of its own
/// (a temp CLI home, template hive and packages folder; no MSBuild node or compiler server left behind).
/// </summary>
public sealed class Tools(string home, string packages)
{
    internal BoundedProcess.Result Run(string file, string directory, TimeSpan bound, params string[] args)
    {
        var psi = BoundedProcess.Start(file, args);
        psi.WorkingDirectory = directory;
        // The test host's MSBuild settings must not leak into the builds of the fresh projects.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            psi.Environment.Remove(key);
        }
        psi.Environment["DOTNET_CLI_HOME"] = home;
        psi.Environment["NUGET_PACKAGES"] = packages;
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        psi.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_DO_NOT_USE_MSBUILD_SERVER"] = "1";
        psi.Environment["UseSharedCompilation"] = "false";
        return BoundedProcess.Run(psi, bound);
    }

    /// <summary>Runs a command that must succeed; returns its standard output.</summary>
    public string Ok(string file, string directory, TimeSpan bound, params string[] args)
    {
        var result = Run(file, directory, bound, args);
        Assert.True(result.ExitCode == 0, $"{file} {string.Join(' ', args)} (in {directory}) failed with exit code {result.ExitCode}:\n{result.Output}");
        return result.StandardOutput;
    }
}

/// <summary>
/// Aco.Core, Aco.Scheduling, Aco.Hosting, Aco.Tools (as built: --no-build) and Aco.Templates packed once into a
/// folder feed in a temp folder, with a nuget.config that restores from that feed and, for the
/// packages the repository's own build already restored (Microsoft.Extensions.*, xunit), from the
/// machine's package cache: no network, and no Aco.* package from any cache.
/// </summary>
public sealed class PackedFeed : IDisposable
{
    public PackedFeed()
    {
        Work = Directory.CreateTempSubdirectory("aco-packaging-").FullName;
        Feed = Path.Combine(Work, "feed");
        var machineCache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        Tools = new Tools(Path.Combine(Work, "home"), Path.Combine(Work, "packages"));
        var watch = Stopwatch.StartNew();
        foreach (var project in new[] { "src/Aco.Core", "src/Aco.Scheduling", "src/Aco.Hosting", "src/Aco.Tools" })
        {
            Tools.Ok("dotnet", Work, TimeSpan.FromMinutes(3), "pack", Path.Combine(Build.RepoRoot, project), "-c", Build.Configuration, "--no-build", "-o", Feed,
                $"-p:AcoNativeBuildDir={Build.NativeBuildDir}");
        }
        Tools.Ok("dotnet", Work, TimeSpan.FromMinutes(3), "pack", Path.Combine(Build.RepoRoot, "templates", "Aco.Templates"), "-c", Build.Configuration, "-o", Feed);
        PackSeconds = watch.Elapsed.TotalSeconds;
        File.WriteAllText(Path.Combine(Work, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(Work, "packages")}" /></config>
              <packageSources>
                <clear />
                <add key="aco" value="{Feed}" />
                <add key="machine-cache" value="{machineCache}" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="aco"><package pattern="Aco.*" /></packageSource>
                <packageSource key="machine-cache"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
    }

    /// <summary>A temp folder for this run; projects created under it use its nuget.config.</summary>
    public string Work { get; }

    public string Feed { get; }

    public Tools Tools { get; }

    public double PackSeconds { get; }

    public string Package(string id) => Directory.GetFiles(Feed, $"{id}.*.nupkg").Single(f => !f.EndsWith(".snupkg", StringComparison.Ordinal) && char.IsDigit(Path.GetFileName(f)[id.Length + 1]));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Work, recursive: true);
        }
        catch (IOException)
        {
            // a child still holds a file: the temp folder is cleaned by the system later
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PackedFeedCollection : ICollectionFixture<PackedFeed>
{
    public const string Name = "packed feed";
}
