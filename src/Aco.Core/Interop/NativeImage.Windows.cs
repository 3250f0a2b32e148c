using System.Runtime.InteropServices;

namespace Aco.Core.Interop;

/// <summary>
/// <see cref="NativeImage"/> on Windows: the loader's modules (GetModuleHandleEx, the PE headers
/// of the module in memory) and VirtualQuery, where Linux has dladdr and /proc/self/maps.
/// </summary>
internal static unsafe partial class NativeImageWindows
{
    private const string Kernel32 = "kernel32.dll";
    private const uint FromAddress = 0x4;           // GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS
    private const uint UnchangedRefcount = 0x2;     // GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT
    private const uint MemCommit = 0x1000;
    private const uint PageGuard = 0x100;
    private const uint PageExecuteAny = 0xF0;       // PAGE_EXECUTE, _READ, _READWRITE, _WRITECOPY
    private const int ExportDirectory = 0;
    private const int ImportDirectory = 1;
    private const int ClrDirectory = 14;            // IMAGE_DIRECTORY_ENTRY_COM_DESCRIPTOR: a managed assembly

    [StructLayout(LayoutKind.Sequential)]
    private struct MemoryBasicInformation
    {
        public nint BaseAddress;
        public nint AllocationBase;
        public uint AllocationProtect;
        public ushort PartitionId;
        public nuint RegionSize;
        public uint State;
        public uint Protect;
        public uint Type;
    }

    [LibraryImport(Kernel32, EntryPoint = "GetModuleHandleExW")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool GetModuleHandleEx(uint flags, nint address, out nint module);

    [LibraryImport(Kernel32, EntryPoint = "GetModuleHandleW", StringMarshalling = StringMarshalling.Utf16)]
    private static partial nint GetModuleHandle(string name);

    [LibraryImport(Kernel32, EntryPoint = "GetModuleFileNameW")]
    private static partial uint GetModuleFileName(nint module, char* buffer, uint size);

    [LibraryImport(Kernel32)]
    private static partial nuint VirtualQuery(nint address, MemoryBasicInformation* info, nuint length);

    [LibraryImport(Kernel32, EntryPoint = "K32EnumProcessModules")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool EnumProcessModules(nint process, nint* modules, uint bytes, out uint needed);

    [LibraryImport(Kernel32)]
    private static partial nint GetCurrentProcess();

    /// <summary>The loaded module that contains <paramref name="address"/>, or 0.</summary>
    public static nint ModuleOf(nint address) =>
        GetModuleHandleEx(FromAddress | UnchangedRefcount, address, out var module) ? module : 0;

    public static string? ImageOf(nint address)
    {
        var module = ModuleOf(address);
        return module == 0 ? null : FileName(module);
    }

    /// <summary>Whether the module that holds <paramref name="address"/> is a managed assembly
    /// (ReadyToRun code is mapped as a module on Windows, unlike on Linux).</summary>
    public static bool IsManagedImage(nint address)
    {
        var module = ModuleOf(address);
        return module != 0 && Directory(module, ClrDirectory).Rva != 0;
    }

    public static string? SymbolAt(nint address)
    {
        var module = ModuleOf(address);
        var (rva, _) = module == 0 ? (0u, 0u) : Directory(module, ExportDirectory);
        if (rva == 0)
        {
            return null;
        }
        var exports = (byte*)module + rva;
        var names = (uint*)((byte*)module + *(uint*)(exports + 32));          // AddressOfNames
        var ordinals = (ushort*)((byte*)module + *(uint*)(exports + 36));     // AddressOfNameOrdinals
        var functions = (uint*)((byte*)module + *(uint*)(exports + 28));      // AddressOfFunctions
        var count = *(uint*)(exports + 24);                                   // NumberOfNames
        for (var i = 0; i < count; i++)
        {
            if ((nint)((byte*)module + functions[ordinals[i]]) == address)
            {
                return Marshal.PtrToStringAnsi((nint)((byte*)module + names[i]));
            }
        }
        return null;
    }

    public static bool IsExecutable(nint address)
    {
        MemoryBasicInformation info;
        return VirtualQuery(address, &info, (nuint)sizeof(MemoryBasicInformation)) != 0 &&
               info.State == MemCommit && (info.Protect & PageExecuteAny) != 0 && (info.Protect & PageGuard) == 0;
    }

    /// <summary>The distinct loaded modules whose file is named <paramref name="fileName"/>.</summary>
    public static IReadOnlyList<string> MappedCopies(string fileName)
    {
        var modules = new nint[1024];
        uint needed;
        fixed (nint* p = modules)
        {
            if (!EnumProcessModules(GetCurrentProcess(), p, (uint)(modules.Length * sizeof(nint)), out needed))
            {
                return [];
            }
        }
        var paths = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var module in modules.AsSpan(0, (int)Math.Min(needed / (uint)sizeof(nint), (uint)modules.Length)))
        {
            var path = FileName(module);
            if (path is not null && string.Equals(Path.GetFileName(path), fileName, StringComparison.OrdinalIgnoreCase))
            {
                paths.Add(path);
            }
        }
        return [.. paths];
    }

    /// <summary>
    /// The modules, already loaded, that <paramref name="module"/> imports from and that export
    /// <paramref name="symbol"/>: which copy of a library its imports were bound to.
    /// </summary>
    public static IReadOnlyList<string> ImportedModulesExporting(nint module, string symbol)
    {
        var (rva, _) = Directory(module, ImportDirectory);
        var found = new List<string>();
        if (rva == 0)
        {
            return found;
        }
        // IMAGE_IMPORT_DESCRIPTOR: 20 bytes, the DLL's name at +12; a zeroed one ends the table.
        for (var d = (byte*)module + rva; *(uint*)(d + 12) != 0; d += 20)
        {
            var name = Marshal.PtrToStringAnsi((nint)((byte*)module + *(uint*)(d + 12)));
            var imported = name is null ? 0 : GetModuleHandle(name);
            if (imported != 0 && NativeLibrary.TryGetExport(imported, symbol, out _) && FileName(imported) is { } path)
            {
                found.Add(path);
            }
        }
        return found;
    }

    /// <summary>
    /// An import of <paramref name="module"/>, by name, that its (loaded) DLL does not export, or
    /// null. Windows refuses to load such a module (ERROR_PROC_NOT_FOUND); Wine loads it with a stub
    /// that fails only when called, so LoadBodies checks after the load too.
    /// </summary>
    public static (string Dll, string Symbol)? MissingImport(nint module)
    {
        var (rva, _) = Directory(module, ImportDirectory);
        if (rva == 0)
        {
            return null;
        }
        for (var d = (byte*)module + rva; *(uint*)(d + 12) != 0; d += 20)
        {
            var dll = Marshal.PtrToStringAnsi((nint)((byte*)module + *(uint*)(d + 12)))!;
            var imported = GetModuleHandle(dll);
            var lookup = *(uint*)d != 0 ? *(uint*)d : *(uint*)(d + 16); // OriginalFirstThunk, else FirstThunk
            if (imported == 0 || lookup == 0)
            {
                continue;
            }
            for (var entry = (ulong*)((byte*)module + lookup); *entry != 0; entry++)
            {
                if ((*entry & (1UL << 63)) != 0)
                {
                    continue; // by ordinal
                }
                var name = Marshal.PtrToStringAnsi((nint)((byte*)module + (uint)*entry + 2))!; // after the hint
                if (!NativeLibrary.TryGetExport(imported, name, out _))
                {
                    return (dll, name);
                }
            }
        }
        return null;
    }

    private static string? FileName(nint module)
    {
        var buffer = stackalloc char[4096];
        var length = GetModuleFileName(module, buffer, 4096);
        return length == 0 ? null : new string(buffer, 0, (int)length);
    }

    /// <summary>Data directory <paramref name="index"/> of the PE32+ image mapped at <paramref name="module"/>.</summary>
    private static (uint Rva, uint Size) Directory(nint module, int index)
    {
        var image = (byte*)module;
        var nt = image + *(int*)(image + 0x3C);                     // e_lfanew
        var optional = nt + 4 + 20;                                 // after "PE\0\0" and the file header
        if (*(ushort*)optional != 0x20B || index >= *(uint*)(optional + 108))  // PE32+, NumberOfRvaAndSizes
        {
            return (0, 0);
        }
        var entry = (uint*)(optional + 112 + index * 8);
        return (entry[0], entry[1]);
    }
}
