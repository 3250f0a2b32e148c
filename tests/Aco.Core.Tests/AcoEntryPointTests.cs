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
