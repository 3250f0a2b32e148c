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
        var app = SmokeApp.Value;
        var wine = File.Exists("/usr/lib/wine/wine64") ? "/usr/lib/wine/wine64" : "wine64";
        var psi = Aco.Tests.Shared.BoundedProcess.Start("sh",
            Path.Combine(RepoRoot, "native", "cmake", "wine64-run.sh"), wine,
            Path.Combine(CTestSuite.WinX64.BuildDir, "wineprefix"), app,
            Path.Combine(app, "Aco.WinX64.Smoke.exe"), check);
        psi.Environment["WINEDLLOVERRIDES"] = "mshtml="; // mscoree stays: it loads IL-only images
        var result = Aco.Tests.Shared.BoundedProcess.Run(psi, TimeSpan.FromMinutes(3));
        Assert.True(result.ExitCode == 0 && result.StandardOutput.Contains($"ok {check}", StringComparison.Ordinal),
            $"Aco.WinX64.Smoke {check} failed (exit code {result.ExitCode}):\n{result.Output}");
    }

    private static string RepoRoot => Metadata("AcoRepoRoot");

    private static readonly Lazy<string> SmokeApp = new(Publish);

    /// <summary>Publishes the smoke program and puts aco.dll and its bodies beside it.</summary>
    private static string Publish()
    {
        var configuration = Metadata("AcoConfiguration");
        var output = Path.Combine(RepoRoot, "artifacts", "win-x64-smoke", configuration);
        var psi = Aco.Tests.Shared.BoundedProcess.Start("dotnet", "publish",
            Path.Combine(RepoRoot, "tests", "win-x64", "Aco.WinX64.Smoke"), "-c", configuration, "-o", output, "-nologo");
        var result = Aco.Tests.Shared.BoundedProcess.Run(psi, TimeSpan.FromMinutes(5));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish of Aco.WinX64.Smoke failed (exit code {result.ExitCode}):\n{result.Output}");
        }
        foreach (var dll in new[] { "aco.dll", "smoke_bodies.dll" })
        {
            File.Copy(Path.Combine(CTestSuite.WinX64.BuildDir, dll), Path.Combine(output, dll), overwrite: true);
        }
        return output;
    }

    private static string Metadata(string key) =>
        typeof(WinX64DotnetTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"{key} metadata is missing.");
}
