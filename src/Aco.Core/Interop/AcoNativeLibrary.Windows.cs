using System.ComponentModel;
using System.Runtime.InteropServices;

using Aco.Core.Interop;

namespace Aco.Core;

/// <summary><see cref="LoadBodies"/> on Windows: LoadLibraryEx instead of dlopen.</summary>
public static partial class AcoNativeLibrary
{
    private const uint LoadWithAlteredSearchPath = 0x8; // a full path's DLLs are searched beside it

    [LibraryImport("kernel32.dll", EntryPoint = "LoadLibraryExW", StringMarshalling = StringMarshalling.Utf16, SetLastError = true)]
    private static partial nint LoadLibraryEx(string path, nint file, uint flags);

    [LibraryImport("kernel32.dll")]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool FreeLibrary(nint module);

    private static nint LoadBodiesOnWindows(string path)
    {
        _ = AcoNative.VersionNumber(); // loads aco.dll through the resolver
        if (Path.GetFileName(path) == path && File.Exists(Path.Combine(AppContext.BaseDirectory, path)))
        {
            path = Path.Combine(AppContext.BaseDirectory, path);
        }
        // The Windows loader binds every import at load (what RTLD_NOW does on Linux): an import
        // that its DLL does not export fails the load, with ERROR_PROC_NOT_FOUND.
        var checking = LoadLibraryEx(path, 0, Path.IsPathFullyQualified(path) ? LoadWithAlteredSearchPath : 0);
        if (checking == 0)
        {
            var error = Marshal.GetLastPInvokeError();
            var reason = $"Windows error {error}: {new Win32Exception(error).Message}";
            throw error switch
            {
                127 => new AcoBodiesLoadException(
                    $"{path} imports a function that its DLL does not export ({reason}). Link the library against aco.dll's import library " +
                    "from the Aco.Core package (-laco) and with -Wl,--no-undefined, so the linker reports this at build time.", path),
                2 or 3 or 126 or 193 => new DllNotFoundException($"Could not load the coroutine bodies {path} ({reason})."),
                _ => new AcoBodiesLoadException($"Could not load the coroutine bodies {path} ({reason}).", path),
            };
        }
        try
        {
            // A DLL that imports "aco.dll" binds to the aco.dll already loaded, whatever its folder;
            // one bound to a library of another name that also exports aco_resume has a copy of its own.
            if (NativeImageWindows.MissingImport(checking) is var (dll, symbol))
            {
                throw new AcoBodiesLoadException(
                    $"{path} needs the symbol '{symbol}' from {dll}, which does not export it. Link the library against aco.dll's " +
                    "import library from the Aco.Core package (-laco) and with -Wl,--no-undefined, so the linker reports this at build time.",
                    path, undefinedSymbol: symbol);
            }
            var ours = OwnImage();
            foreach (var theirs in NativeImageWindows.ImportedModulesExporting(checking, "aco_resume"))
            {
                if (ours is not null && !string.Equals(Path.GetFullPath(theirs), Path.GetFullPath(ours), StringComparison.OrdinalIgnoreCase))
                {
                    throw new AcoBodiesLoadException(
                        $"{path} is bound to another copy of aco: {theirs}, not the one Aco.Core loaded ({ours}). " +
                        $"Its coroutine bodies would read thread-locals that only Aco.Core's copy sets. Link it against aco.dll from the Aco.Core package.",
                        path, otherLibacoPath: theirs);
                }
            }
            // The runtime's own handle (the same module, one more reference), for NativeLibrary.GetExport.
            return NativeLibrary.Load(path);
        }
        finally
        {
            _ = FreeLibrary(checking);
        }
    }
}
