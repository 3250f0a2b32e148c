using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace Aco.Native.Tests;

/// <summary>The CTest tests of native/, as listed by <c>ctest --show-only=json-v1</c>.</summary>
internal static class CTestSuite
{
    public static string BuildDir { get; } =
        typeof(CTestSuite).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "AcoNativeBuildDir").Value
        ?? throw new InvalidOperationException("AcoNativeBuildDir metadata is missing.");

    private static readonly Lazy<IReadOnlyList<string>> AllNames = new(ListTests);

    /// <summary>Names of the tests run in <paramref name="mode"/> (plain, asan, valgrind).</summary>
    public static TheoryData<string> InMode(string mode)
    {
        var data = new TheoryData<string>();
        foreach (var name in AllNames.Value.Where(n => n.StartsWith(mode + ".", StringComparison.Ordinal)))
        {
            data.Add(name);
        }
        return data;
    }

    /// <summary>Runs one CTest test and fails with its output unless it passed.</summary>
    public static void Run(string name)
    {
        var (exitCode, output) = RunCTest("--output-on-failure", "-R", $"^{name.Replace(".", "\\.", StringComparison.Ordinal)}$");
        Assert.True(exitCode == 0, $"ctest {name} failed (exit code {exitCode}):\n{output}");
        Assert.Contains("100% tests passed, 0 tests failed out of 1", output, StringComparison.Ordinal);
    }

    private static IReadOnlyList<string> ListTests()
    {
        var (exitCode, output) = RunCTest("--show-only=json-v1");
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"ctest could not list the tests in {BuildDir} (exit code {exitCode}):\n{output}");
        }
        using var doc = JsonDocument.Parse(output);
        return doc.RootElement.GetProperty("tests").EnumerateArray()
            .Select(t => t.GetProperty("name").GetString()!)
            .ToList();
    }

    private static (int ExitCode, string Output) RunCTest(params string[] args)
    {
        if (!File.Exists(Path.Combine(BuildDir, "CTestTestfile.cmake")))
        {
            throw new InvalidOperationException(
                $"No native build in {BuildDir}: build the solution first (dotnet build Aco.sln), which runs CMake.");
        }
        var psi = new ProcessStartInfo("ctest")
        {
            WorkingDirectory = BuildDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start ctest");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }
}
