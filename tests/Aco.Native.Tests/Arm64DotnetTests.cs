using System.Reflection;

namespace Aco.Native.Tests;

/// <summary>
/// The .NET layers on linux-arm64, under qemu-aarch64: Aco.Scheduling.Tests (which drives Aco.Core and
/// Aco.Scheduling) and the worker sample (Aco.Hosting), each published self-contained for linux-arm64
/// with the AArch64 build's libaco.so and bodies beside it (the dumps' frame walk and symbols included). The test assembly runs its own tests
/// (<c>selftest</c>), one test class per case here; the 200k-sleeper scale test is left to x86-64,
/// where it takes a second instead of minutes of emulation.
/// </summary>
public sealed class Arm64DotnetTests
{
    public static TheoryData<string> Suites => new() { "NativeCoroutineTests", "ManagedCoroutineTests", "LivenessTests", "LateContinuationTests", "DumpTests" };

    [Aarch64Theory]
    [MemberData(nameof(Suites))]
    public void Scheduler_tests_pass_under_qemu(string suite)
    {
        var result = Run(SchedulingTests.Value, "Aco.Scheduling.Tests", [], "selftest", suite + ".", "!Cancelling_half_of_200k");
        Assert.True(result.ExitCode == 0 && result.StandardOutput.Contains("PASS ", StringComparison.Ordinal) && result.StandardOutput.Contains(", 0 failed", StringComparison.Ordinal),
            $"{suite} under qemu-aarch64 (exit code {result.ExitCode}):\n{result.Output}");
    }

    [Aarch64Fact]
    public void The_gc_torture_passes_under_qemu()
    {
        var result = Run(SchedulingTests.Value, "Aco.Scheduling.Tests",
            [("DOTNET_GCgen0size", "0x40000"), ("DOTNET_gcConcurrent", "0")], "torture", "20000");
        Assert.True(result.ExitCode == 0 && result.StandardOutput.Contains("torture: ok", StringComparison.Ordinal),
            $"GC torture under qemu-aarch64 (exit code {result.ExitCode}):\n{result.Output}");
    }

    [Aarch64Fact]
    public void The_worker_sample_runs_under_qemu()
    {
        var result = Run(WorkerSample.Value, "Aco.WorkerService", [("Aco__SchedulerCount", "2")], "--count", "5000");
        Assert.True(result.ExitCode == 0 && result.StandardOutput.Contains("summary: 5,000 coroutines finished", StringComparison.Ordinal)
            && result.StandardOutput.Contains("(correct)", StringComparison.Ordinal),
            $"worker sample under qemu-aarch64 (exit code {result.ExitCode}):\n{result.Output}");
    }

    private static readonly Lazy<string> SchedulingTests = new(() =>
        Publish(Path.Combine("tests", "Aco.Scheduling.Tests"), "scheduling-tests", "libaco_test_bodies.so", "libaco_dump_bodies.so", "libaco_dump_bodies_nofp.so"));

    private static readonly Lazy<string> WorkerSample = new(() =>
        Publish(Path.Combine("samples", "Aco.WorkerService"), "worker-sample", "libaco_sample_bodies.so"));

    private static Aco.Tests.Shared.BoundedProcess.Result Run(string app, string program, (string Name, string Value)[] environment, params string[] args)
    {
        var psi = Aco.Tests.Shared.BoundedProcess.Start("qemu-aarch64", [Path.Combine(app, program), .. args]);
        psi.WorkingDirectory = app;
        psi.Environment["QEMU_LD_PREFIX"] = "/usr/aarch64-linux-gnu";
        psi.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1"; // no arm64 ICU on an x86-64 machine
        // .NET writes code through a second, writable mapping of it (W^X). qemu-user does not notice writes made
        // through that alias and can go on running its translation of what was there before; the managed heap then
        // ends up corrupted (access violations in plain managed code, a managed-only loop included). Code written in
        // place, through the one mapping, is what qemu follows.
        psi.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        foreach (var (name, value) in environment)
        {
            psi.Environment[name] = value;
        }
        return Aco.Tests.Shared.BoundedProcess.Run(psi, TimeSpan.FromMinutes(10));
    }

    /// <summary>Publishes a project self-contained for linux-arm64 and puts the AArch64 libaco.so and bodies beside it.</summary>
    private static string Publish(string project, string name, params string[] bodies)
    {
        var configuration = Metadata("AcoConfiguration");
        var output = Path.Combine(Metadata("AcoRepoRoot"), "artifacts", "linux-arm64-dotnet", configuration, name);
        var psi = Aco.Tests.Shared.BoundedProcess.Start("dotnet", "publish", Path.Combine(Metadata("AcoRepoRoot"), project),
            "-c", configuration, "-r", "linux-arm64", "--self-contained", "-p:UseAppHost=true", "-o", output, "-nologo");
        var result = Aco.Tests.Shared.BoundedProcess.Run(psi, TimeSpan.FromMinutes(10));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish {project} for linux-arm64 failed (exit code {result.ExitCode}):\n{result.Output}");
        }
        foreach (var library in (string[])["libaco.so", .. bodies])
        {
            File.Copy(Path.Combine(CTestSuite.Aarch64.BuildDir, library), Path.Combine(output, library), overwrite: true);
        }
        return output;
    }

    private static string Metadata(string key) =>
        typeof(Arm64DotnetTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}

/// <summary>Skipped, with the reason, where the AArch64 cross tools are not installed.</summary>
public sealed class Aarch64FactAttribute : FactAttribute
{
    public Aarch64FactAttribute()
    {
        if (!CTestSuite.Aarch64.Exists)
        {
            Skip = Aarch64TheoryAttribute.MissingTools;
        }
    }
}
