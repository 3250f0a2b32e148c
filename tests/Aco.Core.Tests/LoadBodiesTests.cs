using System.Runtime.InteropServices;
using Aco.Core;
using Aco.Core.Interop;

namespace Aco.Core.Tests;

/// <summary>AcoNativeLibrary.LoadBodies refuses, with an exception, libraries that would otherwise kill or corrupt the process.</summary>
public sealed class LoadBodiesTests
{
    private static string InOutput(string file) => Path.Combine(AppContext.BaseDirectory, file);

    [Fact]
    public void A_library_linked_against_libaco_loads_and_its_bodies_run()
    {
        var bodies = AcoNativeLibrary.LoadBodies(InOutput("libaco_test_bodies.so"));
        using var thread = AcoThread.Initialize();
        using var stack = thread.CreateShareStack(64 * 1024);
        using var cell = new NativeCell();
        using var co = thread.CreateCoroutine(stack, AcoEntryPoint.FromExport(bodies, "test_count_to_five"), cell.Address);
        while (!co.IsEnded)
        {
            co.Resume();
        }
        Assert.Equal(5, cell.Value);
    }

    [Fact]
    public void A_bare_file_name_is_found_in_the_application_directory_whatever_the_current_directory()
    {
        var previous = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = Path.GetTempPath();
            var handle = AcoNativeLibrary.LoadBodies("libaco_test_bodies.so");
            Assert.EndsWith("/libaco_test_bodies.so", AcoEntryPoint.FromExport(handle, "test_count_to_five").ModulePath, StringComparison.Ordinal);
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }
    }

    [Fact]
    public void A_library_that_needs_an_undefined_symbol_throws_naming_it_and_is_not_left_loaded()
    {
        var path = InOutput("libaco_test_bodies_undefined.so");
        var e = Assert.Throws<AcoBodiesLoadException>(() => AcoNativeLibrary.LoadBodies(path));
        Assert.Equal("aco_test_defined_nowhere", e.UndefinedSymbol);
        Assert.Equal(path, e.LibraryPath);
        Assert.Contains("'aco_test_defined_nowhere'", e.Message, StringComparison.Ordinal);
        Assert.Empty(NativeImage.MappedCopies("libaco_test_bodies_undefined.so"));
    }

    [Fact]
    public void A_library_bound_to_a_second_libaco_throws_naming_that_copy_and_is_not_left_loaded()
    {
        var path = InOutput("libaco_test_bodies_second_copy.so");
        var e = Assert.Throws<AcoBodiesLoadException>(() => AcoNativeLibrary.LoadBodies(path));
        Assert.NotNull(e.OtherLibacoPath);
        Assert.EndsWith("aco-second-copy/libaco.so.99", e.OtherLibacoPath, StringComparison.Ordinal);
        Assert.Contains(e.OtherLibacoPath!, e.Message, StringComparison.Ordinal);
        // Unloaded again: the rest of the process still sees one libaco.
        Assert.Single(NativeImage.MappedCopies("libaco.so"));
    }

    [Fact]
    public void A_missing_file_throws_dll_not_found_naming_the_path()
    {
        var path = InOutput("libaco_no_such_bodies.so");
        var e = Assert.Throws<DllNotFoundException>(() => AcoNativeLibrary.LoadBodies(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_search_list_has_no_duplicates()
    {
        var candidates = AcoNativeLibrary.Candidates();
        Assert.Equal(candidates.Count, candidates.Distinct(StringComparer.Ordinal).Count());
    }
}
