using System.Collections.Concurrent;
using System.Reflection;

namespace Aco.Native.Tests;

/// <summary>
/// .NET on Windows with aco.dll, under Wine: tests/win-x64/Aco.WinX64.Smoke, published
/// self-contained for win-x64 (once per run) and started once per check. Its coroutine bodies
/// come from the Windows CMake build (smoke_bodies.dll beside aco.dll).
/// </summary>
public sealed class WinX64DotnetTests
{
    public static TheoryData<string> Checks =>
        new() { "copy-stacks-with-gc", "managed-exceptions-between-resumes", "threads", "run-loop", "entry-points", "aco-core-coroutines", "scheduler-bridge", "hosting" };

    [WinX64Theory]
    [MemberData(nameof(Checks))]
    public void Passes_under_wine(string check)
    {
        var result = WinX64Apps.Run("Aco.WinX64.Smoke", "Aco.WinX64.Smoke.exe", ["smoke_bodies.dll"], check);
        Assert.True(result.ExitCode == 0 && result.StandardOutput.Contains($"ok {check}", StringComparison.Ordinal),
            $"Aco.WinX64.Smoke {check} failed (exit code {result.ExitCode}):\n{result.Output}");
    }
}

/// <summary>
/// The scheduler's xunit test classes (tests/Aco.Scheduling.Tests), compiled unchanged into
/// tests/win-x64/Aco.WinX64.Tests and run under Wine, one test class per case.
/// </summary>
public sealed class WinX64ManagedTests
{
    public static TheoryData<string> Classes =>
        new() { "NativeCoroutineTests", "SnapshotTests", "ContinuationTests", "ManagedCoroutineTests", "LateContinuationTests", "LivenessTests" };

    [WinX64Theory]
    [MemberData(nameof(Classes))]
    public void Pass_under_wine(string testClass)
    {
        var result = WinX64Apps.Run("Aco.WinX64.Tests", "Aco.Scheduling.Tests.exe", ["libaco_test_bodies.so"], testClass,
            "--skip", "A_million_detached_coroutines_run_to_completion=reads LiveNative right after CompletedNative reaches the count, " +
            "but the scheduler counts a completion before it drops the live count (a race of the test, seen under Wine); and 1M coroutines are slow there");
        Assert.True(result.ExitCode == 0 && result.StandardOutput.Contains("PASS ", StringComparison.Ordinal),
            $"{testClass} under Wine (exit code {result.ExitCode}: failures):\n{result.Output}");
    }
}

/// <summary>Publishes the programs of tests/win-x64 (once per run) and runs them under wine64.</summary>
internal static class WinX64Apps
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> Published = new();

    private static string RepoRoot => Metadata("AcoRepoRoot");

    /// <summary>Runs <paramref name="exe"/> of <paramref name="project"/> with <paramref name="args"/>,
    /// the DLLs <paramref name="nativeFiles"/> of the Windows build beside it.</summary>
    public static Aco.Tests.Shared.BoundedProcess.Result Run(string project, string exe, string[] nativeFiles, params string[] args)
    {
        var app = Published.GetOrAdd(project, p => new Lazy<string>(() => Publish(p, nativeFiles))).Value;
        var wine = File.Exists("/usr/lib/wine/wine64") ? "/usr/lib/wine/wine64" : "wine64";
        var psi = Aco.Tests.Shared.BoundedProcess.Start("sh",
            [Path.Combine(RepoRoot, "native", "cmake", "wine64-run.sh"), wine,
             Path.Combine(CTestSuite.WinX64.BuildDir, "wineprefix"), app, Path.Combine(app, exe), .. args]);
        psi.Environment["WINEDLLOVERRIDES"] = "mshtml="; // mscoree stays: it loads IL-only images
        return Aco.Tests.Shared.BoundedProcess.Run(psi, TimeSpan.FromMinutes(5));
    }

    /// <summary>Publishes the program and puts aco.dll and its bodies beside it.</summary>
    private static string Publish(string project, string[] nativeFiles)
    {
        var configuration = Metadata("AcoConfiguration");
        var output = Path.Combine(RepoRoot, "artifacts", "win-x64", project, configuration);
        var psi = Aco.Tests.Shared.BoundedProcess.Start("dotnet", "publish",
            Path.Combine(RepoRoot, "tests", "win-x64", project), "-c", configuration, "-o", output, "-nologo");
        var result = Aco.Tests.Shared.BoundedProcess.Run(psi, TimeSpan.FromMinutes(5));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish of {project} failed (exit code {result.ExitCode}):\n{result.Output}");
        }
        foreach (var file in nativeFiles.Append("aco.dll"))
        {
            File.Copy(Path.Combine(CTestSuite.WinX64.BuildDir, file), Path.Combine(output, file), overwrite: true);
        }
        return output;
    }

    private static string Metadata(string key) =>
        typeof(WinX64Apps).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"{key} metadata is missing.");
}
