using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace Aco.Native.Tests;

/// <summary>The CTest tests of one native build tree, as listed by <c>ctest --show-only=json-v1</c>.</summary>
internal sealed class CTestSuite
{
    /// <summary>The build for this machine (plain, ASan+UBSan and valgrind tests).</summary>
    public static CTestSuite Host { get; } = new(Metadata("AcoNativeBuildDir"));

    /// <summary>The AArch64 cross build, whose tests run under qemu-aarch64.</summary>
    public static CTestSuite Aarch64 { get; } = new(Metadata("AcoNativeAarch64BuildDir"));

    /// <summary>The i386 cross build, whose tests run under qemu-i386 (plain and ASan+UBSan).</summary>
    public static CTestSuite I386 { get; } = new(Metadata("AcoNativeI386BuildDir"));

    /// <summary>The Windows x64 cross build (mingw-w64), whose tests run under wine64.</summary>
    public static CTestSuite WinX64 { get; } = new(Metadata("AcoNativeWinX64BuildDir"));

    private readonly Lazy<IReadOnlyList<string>> _names;

    private CTestSuite(string buildDir)
    {
        BuildDir = buildDir;
        _names = new(ListTests);
    }

    public string BuildDir { get; }

    /// <summary>Whether the tree was configured (the cross builds are only where their tools are installed).</summary>
    public bool Exists => File.Exists(Path.Combine(BuildDir, "CTestTestfile.cmake"));

    private static string Metadata(string key) =>
        typeof(CTestSuite).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"{key} metadata is missing.");

    /// <summary>Names of the tests run in <paramref name="mode"/> (plain, asan, valgrind).</summary>
    public TheoryData<string> InMode(string mode)
    {
        var data = new TheoryData<string>();
        foreach (var name in _names.Value.Where(n => n.StartsWith(mode + ".", StringComparison.Ordinal)))
        {
            data.Add(name);
        }
        return data;
    }

    /// <summary>Runs one CTest test and fails with its output unless it passed.</summary>
    public void Run(string name)
    {
        var (exitCode, output) = RunCTest("--output-on-failure", "-R", $"^{name.Replace(".", "\\.", StringComparison.Ordinal)}$");
        Assert.True(exitCode == 0, $"ctest {name} failed (exit code {exitCode}):\n{output}");
        Assert.Contains("100% tests passed, 0 tests failed out of 1", output, StringComparison.Ordinal);
    }

    private IReadOnlyList<string> ListTests()
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

    private (int ExitCode, string Output) RunCTest(params string[] args)
    {
        if (!Exists)
        {
            throw new InvalidOperationException(
                $"No native build in {BuildDir}: build the solution first (dotnet build Aco.sln), which runs CMake.");
        }
        var psi = Aco.Tests.Shared.BoundedProcess.Start("ctest", args);
        psi.WorkingDirectory = BuildDir;
        // Each CTest test has its own timeout (CMake's TIMEOUT); this bounds ctest itself.
        var result = Aco.Tests.Shared.BoundedProcess.Run(psi, TimeSpan.FromMinutes(15));
        return (result.ExitCode, result.Output);
    }
}
