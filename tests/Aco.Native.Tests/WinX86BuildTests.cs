using System.Reflection;
using System.Text.Json;

namespace Aco.Native.Tests;

/// <summary>
/// The Windows x86 cross build (i686-w64-mingw32), which is built but not run: no Wine here executes
/// 32-bit programs (Debian 12's Wine 8 has no WoW64 mode, and its wine32 is a 32-bit Linux program,
/// which this kernel does not execute). What can be checked without running it is checked here.
/// </summary>
public sealed class WinX86BuildTests
{
    private static readonly string BuildDir = typeof(WinX86BuildTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "AcoNativeWinX86BuildDir").Value!;

    internal static bool Exists => File.Exists(Path.Combine(BuildDir, "CTestTestfile.cmake"));

    [WinX86Fact]
    public void Aco_dll_is_32_bit_and_exports_the_libaco_api_under_its_C_names()
    {
        var psi = Aco.Tests.Shared.BoundedProcess.Start("i686-w64-mingw32-objdump", "-p", Path.Combine(BuildDir, "aco.dll"));
        var result = Aco.Tests.Shared.BoundedProcess.Run(psi, TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("file format pei-i386", result.StandardOutput, StringComparison.Ordinal);
        // Undecorated export names: what a program's import library binds to (no cdecl '_' in the DLL).
        foreach (var name in new[] { "acosw", "aco_save_fpucw_mxcsr", "aco_funcp_protector_asm", "aco_gtls_co_addr",
                     "aco_thread_init", "aco_create", "aco_resume", "aco_destroy", "aco_share_stack_new", "aco_loop_run" })
        {
            Assert.Matches($@"\] {name}\r?\n", result.StandardOutput);
        }
    }

    [WinX86Fact]
    public void Every_C_test_program_and_the_bench_were_built()
    {
        var psi = Aco.Tests.Shared.BoundedProcess.Start("ctest", "--show-only=json-v1");
        psi.WorkingDirectory = BuildDir;
        var result = Aco.Tests.Shared.BoundedProcess.Run(psi, TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.Output);
        using var doc = JsonDocument.Parse(result.StandardOutput);
        var programs = doc.RootElement.GetProperty("tests").EnumerateArray()
            .Select(t => t.GetProperty("command").EnumerateArray().First().GetString()!)
            .ToList();
        Assert.Contains(programs, p => p.EndsWith("test_basic.exe", StringComparison.Ordinal));
        Assert.Contains(programs, p => p.EndsWith("aco_bench.exe", StringComparison.Ordinal));
        Assert.All(programs, p => Assert.True(File.Exists(p), $"{p} was not built"));
    }
}

/// <summary>Skipped, with the reason, where mingw-w64 for i686 is not installed.</summary>
public sealed class WinX86FactAttribute : FactAttribute
{
    public WinX86FactAttribute()
    {
        if (!WinX86BuildTests.Exists)
        {
            Skip = "The Windows x86 cross build is missing: install gcc-mingw-w64-i686 (.ci/run does) and build again.";
        }
    }
}
