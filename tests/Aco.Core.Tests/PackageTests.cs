using System.IO.Compression;
using System.Reflection;

namespace Aco.Core.Tests;

/// <summary>The NuGet package works for a user: packed, restored from a folder feed into a new console app, run.</summary>
public sealed class PackageTests
{
    private static string Metadata(string key) => typeof(PackageTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    [Fact]
    public void The_package_restores_into_a_fresh_console_app_that_runs_a_coroutine()
    {
        var work = Directory.CreateTempSubdirectory("aco-pack-");
        try
        {
            var feed = Path.Combine(work.FullName, "feed");
            var config = Metadata("AcoConfiguration");
            ChildProcess.Run("dotnet", work.FullName, "pack", Path.Combine(Metadata("AcoRepoRoot"), "src", "Aco.Core"), "-c", config, "--no-build", "-o", feed);
            var package = Directory.GetFiles(feed, "Aco.Core.*.nupkg").Single();
            using (var zip = ZipFile.OpenRead(package))
            {
                Assert.Contains(zip.Entries, e => e.FullName == "runtimes/linux-x64/native/libaco.so");
                Assert.Contains(zip.Entries, e => e.FullName == "lib/net10.0/Aco.Core.dll");
            }
            var version = Path.GetFileNameWithoutExtension(package)["Aco.Core.".Length..];

            var app = Path.Combine(work.FullName, "app");
            Directory.CreateDirectory(app);
            File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
                    <RestorePackagesPath>{Path.Combine(work.FullName, "packages")}</RestorePackagesPath>
                    <RestoreAdditionalProjectSources>{feed}</RestoreAdditionalProjectSources>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Aco.Core" Version="{version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using System;
                using System.Runtime.InteropServices;
                using Aco.Core;

                var bodies = AcoNativeLibrary.LoadBodies(args[0]);
                using var thread = AcoThread.Initialize();
                using var stack = thread.CreateShareStack();
                unsafe
                {
                    var counter = (long*)NativeMemory.AllocZeroed(8);
                    using (var co = thread.CreateCoroutine(stack, AcoEntryPoint.FromExport(bodies, "test_count_to_five"), (nint)counter))
                    {
                        while (!co.IsEnded) co.Resume();
                    }
                    Console.WriteLine($"counted to {*counter}");
                    NativeMemory.Free(counter);
                }
                """);
            var output = ChildProcess.Run("dotnet", app, "run", "--", Path.Combine(AppContext.BaseDirectory, "libaco_test_bodies.so"));
            Assert.Contains("counted to 5", output, StringComparison.Ordinal);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
