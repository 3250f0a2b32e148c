using System.Globalization;
using System.Runtime.InteropServices;

namespace Aco.Core.Interop;

/// <summary>What the dynamic linker knows of an address: which loaded native image holds it.</summary>
internal static unsafe partial class NativeImage
{
    [StructLayout(LayoutKind.Sequential)]
    private struct DlInfo
    {
        public byte* FileName;
        public nint FileBase;
        public byte* SymbolName;
        public nint SymbolAddress;
    }

    [LibraryImport(DynamicLinker.Library, EntryPoint = "dladdr")] // libdl.so.2: present on glibc 2.28 too
    private static partial int DlAddr(nint address, DlInfo* info);

    /// <summary>The path of the loaded native image that contains <paramref name="address"/>, or null.</summary>
    public static string? ImageOf(nint address)
    {
        if (OperatingSystem.IsWindows())
        {
            return NativeImageWindows.ImageOf(address);
        }
        DlInfo info;
        if (DlAddr(address, &info) == 0 || info.FileName == null)
        {
            return null;
        }
        return Marshal.PtrToStringUTF8((nint)info.FileName);
    }

    /// <summary>
    /// The loaded image that holds <paramref name="address"/> (Linux; false elsewhere): its path, where it is loaded,
    /// and the exported symbol at or before the address.
    /// </summary>
    public static bool TryLocate(nint address, out string path, out nint fileBase, out string? symbol, out nint symbolAddress)
    {
        DlInfo info;
        if (OperatingSystem.IsWindows() || DlAddr(address, &info) == 0 || info.FileName == null)
        {
            path = "";
            fileBase = 0;
            symbol = null;
            symbolAddress = 0;
            return false;
        }
        path = Marshal.PtrToStringUTF8((nint)info.FileName) ?? "";
        fileBase = info.FileBase;
        symbol = info.SymbolName == null ? null : Marshal.PtrToStringUTF8((nint)info.SymbolName);
        symbolAddress = info.SymbolAddress;
        return true;
    }

    /// <summary>The exported symbol <paramref name="address"/> is, when it is exactly one.</summary>
    public static string? SymbolAt(nint address)
    {
        if (OperatingSystem.IsWindows())
        {
            return NativeImageWindows.SymbolAt(address);
        }
        DlInfo info;
        if (DlAddr(address, &info) == 0 || info.SymbolName == null || info.SymbolAddress != address)
        {
            return null;
        }
        return Marshal.PtrToStringUTF8((nint)info.SymbolName);
    }

    /// <summary>The distinct files named <paramref name="fileName"/> (or fileName.N) mapped in this process.</summary>
    public static IReadOnlyList<string> MappedCopies(string fileName)
    {
        if (OperatingSystem.IsWindows())
        {
            return NativeImageWindows.MappedCopies(fileName);
        }
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            var slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0)
            {
                continue;
            }
            var path = line[slash..];
            var name = Path.GetFileName(path);
            if (name == fileName || name.StartsWith(fileName + ".", StringComparison.Ordinal))
            {
                paths.Add(path);
            }
        }
        return [.. paths];
    }

    /// <summary>
    /// Whether <paramref name="address"/> is in a managed assembly's image: on Windows, ReadyToRun
    /// code (an [UnmanagedCallersOnly] method's, say) lies in a loaded module. Linux maps assemblies
    /// without the dynamic linker, so <see cref="ImageOf"/> already finds none there.
    /// </summary>
    public static bool IsManagedImage(nint address) => OperatingSystem.IsWindows() && NativeImageWindows.IsManagedImage(address);

    /// <summary>Whether <paramref name="address"/> lies in an executable mapping of this process.</summary>
    public static bool IsExecutable(nint address)
    {
        if (OperatingSystem.IsWindows())
        {
            return NativeImageWindows.IsExecutable(address);
        }
        var target = (ulong)address;
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            // "start-end perms offset dev inode path"
            var dash = line.IndexOf('-', StringComparison.Ordinal);
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (dash <= 0 || space <= dash)
            {
                continue;
            }
            var start = ulong.Parse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var end = ulong.Parse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (target >= start && target < end)
            {
                return line.Length > space + 3 && line[space + 3] == 'x';
            }
        }
        return false;
    }
}
