using System.IO.Compression;

namespace Aco.Packaging.Tests;

/// <summary>The native SDK in Aco.Core, used from fresh projects: the AcoNativeBody targets and the CMake config.</summary>
[Collection(PackedFeedCollection.Name)]
public sealed class NativeSdkTests(PackedFeed feed)
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(3);

    [Fact]
    public void A_body_that_calls_an_undefined_function_fails_the_build_with_its_file_and_the_symbol()
    {
        var project = Directory.CreateDirectory(Path.Combine(feed.Work, "undefined")).FullName;
        Directory.CreateDirectory(Path.Combine(project, "native"));
        File.WriteAllText(Path.Combine(project, "native", "body.c"), """
            #include "aco.h"
            void not_defined_anywhere(void);
            void body(void) { not_defined_anywhere(); aco_exit(); }
            """);
        File.WriteAllText(Path.Combine(project, "undefined.csproj"), Csproj("""<AcoNativeBody Include="native/*.c" />"""));

        var result = feed.Tools.Run("dotnet", project, Bound, "build");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("error ACOLD", result.Output, StringComparison.Ordinal);
        Assert.Contains("not_defined_anywhere", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_compile_error_is_reported_with_its_file_and_line()
    {
        var project = Directory.CreateDirectory(Path.Combine(feed.Work, "syntax")).FullName;
        Directory.CreateDirectory(Path.Combine(project, "native"));
        var source = Path.Combine(project, "native", "body.c");
        File.WriteAllText(source, "void body(void) {\n    int x = ;\n}\n");
        File.WriteAllText(Path.Combine(project, "syntax.csproj"), Csproj("""<AcoNativeBody Include="native/*.c" />"""));

        var result = feed.Tools.Run("dotnet", project, Bound, "build");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"{source}(2,", result.Output, StringComparison.Ordinal);
        Assert.Contains("error ACOCC", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_compiler_the_build_says_which_package_to_install()
    {
        var project = Directory.CreateDirectory(Path.Combine(feed.Work, "nocompiler")).FullName;
        Directory.CreateDirectory(Path.Combine(project, "native"));
        File.WriteAllText(Path.Combine(project, "native", "body.c"), "void body(void) {}\n");
        File.WriteAllText(Path.Combine(project, "nocompiler.csproj"), Csproj("""<AcoNativeBody Include="native/*.c" />"""));

        var result = feed.Tools.Run("dotnet", project, Bound, "build", "-p:AcoCC=no-such-cc");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("error ACO0002", result.Output, StringComparison.Ordinal);
        Assert.Contains("apt-get install gcc", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unchanged_body_is_not_compiled_again_and_a_removed_source_leaves_the_library()
    {
        var project = Directory.CreateDirectory(Path.Combine(feed.Work, "incremental")).FullName;
        Directory.CreateDirectory(Path.Combine(project, "native"));
        File.WriteAllText(Path.Combine(project, "native", "a.c"), "void body_a(void) {}\n");
        File.WriteAllText(Path.Combine(project, "native", "b.c"), "void body_b(void) {}\n");
        File.WriteAllText(Path.Combine(project, "incremental.csproj"), Csproj("""<AcoNativeBody Include="native/*.c" />"""));
        var library = Path.Combine(project, "bin", "Debug", "net10.0", "libincremental.bodies.so");
        int Compiles() => feed.Tools.Ok("dotnet", project, Bound, "build", "-c", "Debug", "-v:n")
            .Split('\n').Count(l => l.Contains("aco-cc.sh", StringComparison.Ordinal) && l.Contains(" -c ", StringComparison.Ordinal));

        Assert.Equal(2, Compiles());
        Assert.Equal(0, Compiles());
        Assert.Contains(" T body_b", Exports(), StringComparison.Ordinal);

        File.Delete(Path.Combine(project, "native", "b.c"));
        Compiles();
        Assert.DoesNotContain(" T body_b", Exports(), StringComparison.Ordinal);
        Assert.Contains(" T body_a", Exports(), StringComparison.Ordinal);

        string Exports() => feed.Tools.Ok("nm", project, TimeSpan.FromSeconds(30), "-D", "--defined-only", library);
    }

    [Fact]
    public void Find_package_Aco_builds_and_links_a_c_program_against_the_package_libaco()
    {
        var root = Directory.CreateDirectory(Path.Combine(feed.Work, "cmake")).FullName;
        var package = Path.Combine(root, "package");
        ZipFile.ExtractToDirectory(feed.Package("Aco.Core"), package);
        File.WriteAllText(Path.Combine(root, "CMakeLists.txt"), """
            cmake_minimum_required(VERSION 3.20)
            project(uses_aco C)
            find_package(Aco 0.1 CONFIG REQUIRED)
            add_executable(uses_aco main.c)
            target_link_libraries(uses_aco PRIVATE Aco::aco)
            """);
        File.WriteAllText(Path.Combine(root, "main.c"), """
            #include <stdio.h>
            #include "aco.h"
            static int steps;
            static void body(void) { for (int i = 0; i < 3; i++) { steps++; aco_yield(); } aco_exit(); }
            int main(void) {
                aco_thread_init(NULL);
                aco_t* main_co = aco_create(NULL, NULL, 0, NULL, NULL);
                aco_share_stack_t* stack = aco_share_stack_new(0);
                aco_t* co = aco_create(main_co, stack, 0, body, NULL);
                while (!co->is_end) aco_resume(co);
                printf("steps %d\n", steps);
                return 0;
            }
            """);
        var build = Path.Combine(root, "build");
        feed.Tools.Ok("cmake", root, Bound, "-S", root, "-B", build, $"-DAco_DIR={Path.Combine(package, "native", "cmake")}");
        feed.Tools.Ok("cmake", root, Bound, "--build", build);
        Assert.Contains("steps 3", feed.Tools.Ok(Path.Combine(build, "uses_aco"), root, TimeSpan.FromSeconds(30)), StringComparison.Ordinal);
    }

    [MingwFact]
    public void With_the_win_x64_runtime_identifier_bodies_are_cross_compiled_into_a_dll_that_imports_aco_dll()
    {
        Assert.True(PackageHas("native/lib/win-x64/libaco.dll.a") && PackageHas("runtimes/win-x64/native/aco.dll"),
            "The Aco.Core package has no Windows library although mingw-w64 is installed: dotnet build makes it (artifacts/native-win-x64).");
        var project = Directory.CreateDirectory(Path.Combine(feed.Work, "winbodies")).FullName;
        Directory.CreateDirectory(Path.Combine(project, "native"));
        File.WriteAllText(Path.Combine(project, "native", "body.c"), """
            #include "aco_bridge.h"
            __declspec(dllexport) void win_body(void) { aco_bridge_yield(); aco_bridge_finish((int64_t)(intptr_t)aco_get_arg()); }
            """);
        // Framework-dependent, without an apphost: the build needs no Windows runtime or host pack.
        File.WriteAllText(Path.Combine(project, "winbodies.csproj"), Csproj("""<AcoNativeBody Include="native/*.c" />""")
            .Replace("</TargetFramework>", "</TargetFramework><RuntimeIdentifier>win-x64</RuntimeIdentifier><SelfContained>false</SelfContained><UseAppHost>false</UseAppHost>", StringComparison.Ordinal));

        feed.Tools.Ok("dotnet", project, Bound, "build", "-c", "Debug");

        var dll = Path.Combine(project, "bin", "Debug", "net10.0", "win-x64", "winbodies.bodies.dll");
        Assert.True(File.Exists(dll), $"{dll} was not built");
        var headers = feed.Tools.Ok("x86_64-w64-mingw32-objdump", project, TimeSpan.FromSeconds(30), "-p", dll);
        Assert.Contains("pei-x86-64", headers, StringComparison.Ordinal);
        Assert.Contains("DLL Name: aco.dll", headers, StringComparison.Ordinal);
        Assert.Contains("win_body", headers, StringComparison.Ordinal);
    }

    private bool PackageHas(string entry)
    {
        using var zip = ZipFile.OpenRead(feed.Package("Aco.Core"));
        return zip.Entries.Any(e => e.FullName == entry);
    }

    private static string Csproj(string items) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Library</OutputType>
            <TargetFramework>net10.0</TargetFramework>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="Aco.Core" Version="0.1.0" />
            {items}
          </ItemGroup>
        </Project>
        """;
}

/// <summary>Skipped, with the reason, where mingw-w64 is not installed.</summary>
public sealed class MingwFactAttribute : FactAttribute
{
    public MingwFactAttribute()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, "x86_64-w64-mingw32-gcc")));
        if (!onPath)
        {
            Skip = "mingw-w64 is missing: install gcc-mingw-w64-x86-64 (.ci/run does) to cross-compile bodies for win-x64.";
        }
    }
}
