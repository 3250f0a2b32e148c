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
        new() { "copy-stacks-with-gc", "managed-exceptions-between-resumes", "threads", "run-loop", "entry-points", "aco-core-coroutines", "scheduler-bridge", "hosting", "load-bodies-refusals" };

    [WinX64Theory]
    [MemberData(nameof(Checks))]
    public void Passes_under_wine(string check)
    {
        var result = WinX64Apps.Run("Aco.WinX64.Smoke", "Aco.WinX64.Smoke.exe",
            ["smoke_bodies.dll", "smoke_bodies_undefined.dll", "smoke_bodies_second_copy.dll", "aco_second.dll"], check);
        Assert.True(result.ExitCode == 0 && result.StandardOutput.Contains($"ok {check}", StringComparison.Ordinal),
            $"Aco.WinX64.Smoke {check} failed (exit code {result.ExitCode}):\n{result.Output}");
    }
}

/// <summary>
/// xunit test classes of tests/Aco.Core.Tests, Aco.Scheduling.Tests and Aco.Hosting.Tests, compiled
/// unchanged into the win-x64 programs of tests/win-x64 (Aco.WinX64.CoreTests, .Tests,
/// .HostingTests) and run under Wine by their small runner, one test class per case.
/// </summary>
public sealed class WinX64ManagedTests
{
    private sealed record Suite(string Project, string Exe, string[] Skips);

    private static readonly Dictionary<string, Suite> Suites = new()
    {
        ["Core"] = new("Aco.WinX64.CoreTests", "Aco.Core.Tests.exe", []),
        ["Scheduling"] = new("Aco.WinX64.Tests", "Aco.Scheduling.Tests.exe", []),
        ["Hosting"] = new("Aco.WinX64.HostingTests", "Aco.Hosting.Tests.exe",
        [
            "The_worker_sample_holding_coroutines_exits_cleanly_on_SIGTERM=starts the worker sample with dotnet and SIGTERM: Linux only",
            "The_worker_service_sample_runs_a_small_count_and_exits_cleanly=starts the worker sample with dotnet: Linux only",
        ]),
    };

    public static TheoryData<string> Classes => new()
    {
        "Core/AcoCoroutineTests", "Core/MisuseTests", "Core/LayoutTests",
        "Scheduling/NativeCoroutineTests", "Scheduling/SnapshotTests", "Scheduling/ContinuationTests",
        "Scheduling/ManagedCoroutineTests", "Scheduling/LateContinuationTests", "Scheduling/LivenessTests",
        "Hosting/HostingTests",
    };

    [WinX64Theory]
    [MemberData(nameof(Classes))]
    public void Pass_under_wine(string suiteAndClass)
    {
        var (suite, testClass) = (Suites[suiteAndClass.Split('/')[0]], suiteAndClass.Split('/')[1]);
        var result = WinX64Apps.Run(suite.Project, suite.Exe, ["libaco_test_bodies.so"],
            [testClass, .. suite.Skips.SelectMany(s => new[] { "--skip", s })]);
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
             Metadata("AcoWinePrefix"), app, Path.Combine(app, exe), .. args]);
        psi.Environment["WINEDLLOVERRIDES"] = "mshtml="; // mscoree stays: it loads IL-only images
        // Wine 8 with .NET 10's W^X (code mapped twice): the runtime dies in DynamicMethod finalizers
        // ("Internal CLR error" in DynamicResolver.DestroyScout) also in a program without aco that
        // builds and stops hosts with DI in a loop. A Wine limit, not a Windows behaviour.
        psi.Environment["DOTNET_EnableWriteXorExecute"] = "0";
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
