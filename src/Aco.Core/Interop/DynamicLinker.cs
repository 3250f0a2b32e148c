using System.Runtime.InteropServices;

namespace Aco.Core.Interop;

/// <summary>
/// dlopen/dlsym/dlclose/dlerror, from libdl.so.2: glibc 2.34 moved them into libc.so.6, but
/// libdl.so.2 still exports them there, and before 2.34 (RHEL 8: 2.28) it is their only home.
/// </summary>
internal static unsafe partial class DynamicLinker
{
    internal const string Library = "libdl.so.2";

    /// <summary>Resolve every symbol at load time: an unresolved one fails the load, not a later call.</summary>
    internal const int RtldNow = 0x2;

    /// <summary>Keep the library's symbols out of the process-wide scope (what .NET does too).</summary>
    internal const int RtldLocal = 0x0;

    [LibraryImport(Library, EntryPoint = "dlopen")]
    internal static partial nint Open(byte* path, int flags);

    [LibraryImport(Library, EntryPoint = "dlsym")]
    internal static partial nint Symbol(nint handle, byte* name);

    [LibraryImport(Library, EntryPoint = "dlclose")]
    internal static partial int Close(nint handle);

    [LibraryImport(Library, EntryPoint = "dlerror")]
    internal static partial byte* Error();

    /// <summary>Takes (and so clears) the calling thread's last dynamic-linker error.</summary>
    internal static string? TakeError()
    {
        var message = Error();
        return message == null ? null : Marshal.PtrToStringUTF8((nint)message);
    }

    /// <summary>dlopen; on failure, the dynamic linker's message.</summary>
    internal static nint Open(string path, int flags, out string? error)
    {
        // Bind dlerror before dlopen: binding a P/Invoke calls dlsym, which would clear the error.
        _ = TakeError();
        var utf8 = Utf8(path);
        nint handle;
        fixed (byte* p = utf8)
        {
            handle = Open(p, flags);
        }
        error = handle == 0 ? TakeError() ?? "dlopen failed" : null;
        return handle;
    }

    /// <summary>dlsym in <paramref name="handle"/>'s scope (the library, then its dependencies); 0 when absent.</summary>
    internal static nint Symbol(nint handle, string name)
    {
        var utf8 = Utf8(name);
        nint address;
        fixed (byte* p = utf8)
        {
            address = Symbol(handle, p);
        }
        _ = TakeError();
        return address;
    }

    private static byte[] Utf8(string s)
    {
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(s) + 1];
        System.Text.Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }
}
