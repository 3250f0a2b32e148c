using System.Runtime.InteropServices;
using Aco.Core.Interop;

namespace Aco.Core;

/// <summary>
/// The entry function of a native coroutine: a C-ABI <c>void (*)(void)</c> inside a
/// loaded native library. Use it to create an <see cref="AcoCoroutine"/>.
/// </summary>
/// <remarks>
/// Coroutine bodies are native because a managed frame suspended on a coroutine
/// stack is invisible to the .NET garbage collector. Both factories check, with the
/// dynamic linker, that the address is code in a loaded native image that is not
/// part of the .NET runtime; JIT-compiled code, <c>[UnmanagedCallersOnly]</c> stubs,
/// data and garbage are refused.
/// </remarks>
public readonly record struct AcoEntryPoint
{
    private const string Rule =
        "A coroutine entry point must be a function in a loaded native library (not managed code, not an [UnmanagedCallersOnly] stub, not the .NET runtime), because the .NET garbage collector cannot see managed frames on a coroutine stack.";

    private static readonly string[] RuntimeImages =
    [
        "libcoreclr.so", "libclrjit.so", "libclrgc.so", "libhostpolicy.so", "libhostfxr.so",
        "libmscordaccore.so", "libmscordbi.so", "libcoreclrtraceptprovider.so",
        "coreclr.dll", "clrjit.dll", "clrgc.dll", "hostpolicy.dll", "hostfxr.dll", "mscordaccore.dll", "mscordbi.dll",
    ];

    private AcoEntryPoint(nint address, string modulePath, string? symbol)
    {
        Address = address;
        ModulePath = modulePath;
        Symbol = symbol;
    }

    /// <summary>The function's address.</summary>
    public nint Address { get; }

    /// <summary>Path of the native library that contains the function.</summary>
    public string ModulePath { get; }

    /// <summary>The exported name at <see cref="Address"/>, when there is one.</summary>
    public string? Symbol { get; }

    /// <summary>Whether this is a validated entry point (false for <c>default</c>).</summary>
    public bool IsValid => Address != 0;

    /// <summary>
    /// The export <paramref name="name"/> of a library of coroutine bodies loaded with
    /// <see cref="AcoNativeLibrary.LoadBodies"/> (which binds its symbols at load and checks that it uses
    /// Aco.Core's libaco.so; <see cref="NativeLibrary.Load(string)"/> does neither).
    /// </summary>
    /// <exception cref="ArgumentException">The handle is zero, there is no such export, or it is not native code.</exception>
    public static AcoEntryPoint FromExport(nint libraryHandle, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (libraryHandle == 0)
        {
            throw new ArgumentException("The library handle is zero; load the library with AcoNativeLibrary.LoadBodies first.", nameof(libraryHandle));
        }
        if (!NativeLibrary.TryGetExport(libraryHandle, name, out var address))
        {
            throw new ArgumentException($"The library has no export named '{name}'.", nameof(name));
        }
        return FromPointer(address);
    }

    /// <summary>A function pointer obtained elsewhere (for example from native code).</summary>
    /// <exception cref="ArgumentNullException">The pointer is zero.</exception>
    /// <exception cref="ArgumentException">The pointer is not code in a loaded native library, or is in the .NET runtime.</exception>
    public static AcoEntryPoint FromPointer(nint address)
    {
        if (address == 0)
        {
            throw new ArgumentNullException(nameof(address), "The entry point is a null pointer. " + Rule);
        }
        var image = NativeImage.ImageOf(address);
        if (image is null)
        {
            throw new ArgumentException($"0x{address:x} is not inside any loaded native library (it may be JIT-compiled or [UnmanagedCallersOnly] code, or garbage). {Rule}", nameof(address));
        }
        var fileName = Path.GetFileName(image);
        if (RuntimeImages.Any(r => fileName.StartsWith(r, StringComparison.Ordinal)))
        {
            throw new ArgumentException($"0x{address:x} is inside the .NET runtime ({fileName}). {Rule}", nameof(address));
        }
        if (NativeImage.IsManagedImage(address))
        {
            throw new ArgumentException($"0x{address:x} is managed code compiled ahead of time, in {fileName}. {Rule}", nameof(address));
        }
        if (!NativeImage.IsExecutable(address))
        {
            throw new ArgumentException($"0x{address:x} is in {fileName} but not in executable code (is it data?). {Rule}", nameof(address));
        }
        AcoNativeLibrary.VerifySingleCopy();
        return new AcoEntryPoint(address, image, NativeImage.SymbolAt(address));
    }

    /// <inheritdoc/>
    public override string ToString() =>
        IsValid ? $"{Symbol ?? $"0x{Address:x}"} in {Path.GetFileName(ModulePath)}" : "(none)";
}
