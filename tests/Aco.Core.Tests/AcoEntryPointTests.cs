using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Aco.Core;

namespace Aco.Core.Tests;

public sealed unsafe class AcoEntryPointTests
{
    [Fact]
    public void An_export_of_a_native_library_is_accepted()
    {
        var entry = AcoEntryPoint.FromExport(Bodies.Library, "test_count_to_five");
        Assert.True(entry.IsValid);
        Assert.Equal("test_count_to_five", entry.Symbol);
        Assert.EndsWith("libaco_test_bodies.so", entry.ModulePath, StringComparison.Ordinal);
        Assert.Equal(entry, AcoEntryPoint.FromPointer(entry.Address));
    }

    [Fact]
    public void A_null_pointer_is_refused() =>
        Assert.Throws<ArgumentNullException>(() => AcoEntryPoint.FromPointer(0));

    [Fact]
    public void Garbage_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => AcoEntryPoint.FromPointer(0x1234));
        Assert.Contains("not inside any loaded native library", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_jit_compiled_delegate_stub_is_refused()
    {
        Action managed = () => { };
        var pointer = Marshal.GetFunctionPointerForDelegate(managed);
        var e = Assert.Throws<ArgumentException>(() => AcoEntryPoint.FromPointer(pointer));
        Assert.Contains("garbage collector cannot see managed frames", e.Message, StringComparison.Ordinal);
        GC.KeepAlive(managed);
    }

    [Fact]
    public void An_unmanaged_callers_only_method_is_refused()
    {
        delegate* unmanaged<void> pointer = &ManagedEntry;
        Assert.Throws<ArgumentException>(() => AcoEntryPoint.FromPointer((nint)pointer));
    }

    [Fact]
    public void Data_in_a_native_library_is_refused()
    {
        var data = NativeLibrary.GetExport(Bodies.Library, "test_not_code");
        var e = Assert.Throws<ArgumentException>(() => AcoEntryPoint.FromPointer(data));
        Assert.Contains("not in executable code", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Code_of_the_runtime_itself_is_refused()
    {
        var coreclr = NativeLibrary.Load(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "libcoreclr.so"));
        var e = Assert.Throws<ArgumentException>(() => AcoEntryPoint.FromExport(coreclr, "coreclr_initialize"));
        Assert.Contains("inside the .NET runtime", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_export_or_a_zero_handle_is_refused()
    {
        Assert.Throws<ArgumentException>(() => AcoEntryPoint.FromExport(Bodies.Library, "no_such_function"));
        Assert.Throws<ArgumentException>(() => AcoEntryPoint.FromExport(0, "test_count_to_five"));
    }

    [UnmanagedCallersOnly]
    private static void ManagedEntry()
    {
    }
}

public sealed class NativeLibraryTests
{
    [Fact]
    public void The_library_is_looked_for_in_the_variable_then_beside_the_assembly_then_under_runtimes()
    {
        var previous = Environment.GetEnvironmentVariable(AcoNativeLibrary.PathVariable);
        try
        {
            Environment.SetEnvironmentVariable(AcoNativeLibrary.PathVariable, "/opt/custom/libaco.so");
            var candidates = AcoNativeLibrary.Candidates();
            Assert.Equal("/opt/custom/libaco.so", candidates[0]);
            var dir = Path.GetDirectoryName(typeof(AcoNativeLibrary).Assembly.Location)!;
            Assert.Contains(Path.Combine(dir, "libaco.so"), candidates);
            Assert.Contains(Path.Combine(dir, "runtimes", "linux-x64", "native", "libaco.so"), candidates);
            Assert.True(candidates.ToList().IndexOf(Path.Combine(dir, "libaco.so")) < candidates.ToList().IndexOf(Path.Combine(dir, "runtimes", "linux-x64", "native", "libaco.so")));
        }
        finally
        {
            Environment.SetEnvironmentVariable(AcoNativeLibrary.PathVariable, previous);
        }
    }

    [Fact]
    public void The_loaded_library_is_the_one_built_with_this_version() =>
        Assert.Equal(10204, Aco.Core.Interop.AcoNative.VersionNumber());
}
