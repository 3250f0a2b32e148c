using System.Reflection;
using System.Runtime.InteropServices;

using Aco.Core.Interop;

namespace Aco.Core;

/// <summary>
/// Finds libaco.so: the path in <c>ACO_NATIVE_LIBRARY</c>, then next to this
/// assembly or the application, then under <c>runtimes/linux-x64/native/</c>
/// of either, then the system's own search.
/// </summary>
public static class AcoNativeLibrary
{
    /// <summary>Environment variable that names libaco.so's full path.</summary>
    public const string PathVariable = "ACO_NATIVE_LIBRARY";

    private const string FileName = "libaco.so";
    private static int _installed;

    internal static void EnsureResolver()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 0)
        {
            NativeLibrary.SetDllImportResolver(typeof(AcoNativeLibrary).Assembly, Resolve);
        }
    }

    /// <summary>
    /// Makes <c>[LibraryImport("aco")]</c> in <paramref name="assembly"/> bind to the same
    /// libaco.so as Aco.Core (for the layers above it). Call once, before its first import.
    /// </summary>
    internal static void ResolveFor(Assembly assembly) =>
        NativeLibrary.SetDllImportResolver(assembly, (name, _, searchPath) =>
            name == AcoNative.Library ? Resolve(name, typeof(AcoNativeLibrary).Assembly, searchPath) : 0);

    /// <summary>
    /// Loads libaco.so (if it is not loaded yet), then the native library of coroutine bodies at
    /// <paramref name="path"/>. Use it for libraries that link against libaco.so: loaded in this
    /// order, their dependency resolves to the copy Aco.Core uses.
    /// </summary>
    /// <returns>The handle, for <see cref="AcoEntryPoint.FromExport"/>.</returns>
    public static nint LoadBodies(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _ = AcoNative.VersionNumber(); // loads libaco.so through the resolver
        return NativeLibrary.Load(path);
    }

    /// <summary>
    /// Throws when more than one libaco.so is mapped: coroutine bodies bound to one copy would
    /// read thread-locals that only the other copy sets.
    /// </summary>
    internal static void VerifySingleCopy()
    {
        _ = AcoNative.VersionNumber();
        var copies = NativeImage.MappedCopies(FileName);
        if (copies.Count > 1)
        {
            throw new InvalidOperationException(
                $"Two copies of {FileName} are loaded ({string.Join(", ", copies)}). A library of coroutine bodies was loaded before Aco.Core loaded {FileName} and found another copy; " +
                $"load such libraries with AcoNativeLibrary.LoadBodies, or give them a RUNPATH that finds the same file.");
        }
    }

    /// <summary>The places searched for libaco.so, in order.</summary>
    public static IReadOnlyList<string> Candidates()
    {
        var list = new List<string>();
        var fromEnv = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrEmpty(fromEnv))
        {
            list.Add(fromEnv);
        }
        var rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        foreach (var dir in new[] { Path.GetDirectoryName(typeof(AcoNativeLibrary).Assembly.Location), AppContext.BaseDirectory }.Distinct())
        {
            if (string.IsNullOrEmpty(dir))
            {
                continue;
            }
            list.Add(Path.Combine(dir, FileName));
            list.Add(Path.Combine(dir, "runtimes", rid, "native", FileName));
        }
        return list;
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != AcoNative.Library)
        {
            return 0;
        }
        var candidates = Candidates();
        foreach (var path in candidates)
        {
            if (File.Exists(path) && NativeLibrary.TryLoad(path, out var handle))
            {
                return handle;
            }
        }
        if (NativeLibrary.TryLoad(FileName, assembly, searchPath, out var fallback))
        {
            return fallback;
        }
        throw new DllNotFoundException(
            $"Aco.Core could not load {FileName}. Looked in: {string.Join(", ", candidates)}, and the system library path. " +
            $"Build the native core (dotnet build runs CMake), or set {PathVariable} to the library's full path.");
    }
}
