using System.Reflection;
using System.Runtime.InteropServices;

using Aco.Core.Interop;

namespace Aco.Core;

/// <summary>
/// Loads native code: libaco.so for Aco.Core (the path in <c>ACO_NATIVE_LIBRARY</c>, then next to
/// this assembly or the application, then under <c>runtimes/&lt;rid&gt;/native/</c> of either, then
/// the system's own search), and libraries of coroutine bodies (<see cref="LoadBodies"/>).
/// </summary>
public static partial class AcoNativeLibrary
{
    /// <summary>Environment variable that names libaco.so's full path.</summary>
    public const string PathVariable = "ACO_NATIVE_LIBRARY";

    private static readonly string FileName = OperatingSystem.IsWindows() ? "aco.dll" : "libaco.so";
    private static int _installed;
    private static nint _loaded;

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
    /// Loads a native library of coroutine bodies safely: libaco.so first (if Aco.Core has not loaded
    /// it yet), then the library at <paramref name="path"/> with every symbol bound at once
    /// (<c>RTLD_NOW</c>), and checks that it uses the same libaco.so as Aco.Core.
    /// </summary>
    /// <param name="path">
    /// The library's path. A bare file name (no directory) that exists in the application's
    /// directory (<see cref="AppContext.BaseDirectory"/>) is loaded from there, whatever the current
    /// directory; otherwise it is searched for as <c>dlopen</c> does.
    /// </param>
    /// <returns>The library's handle, for <see cref="AcoEntryPoint.FromExport"/>.</returns>
    /// <exception cref="DllNotFoundException">The file does not exist or is not a loadable library.</exception>
    /// <exception cref="AcoBodiesLoadException">
    /// A symbol the library needs is defined nowhere (<see cref="AcoBodiesLoadException.UndefinedSymbol"/>;
    /// link it with <c>-Wl,--no-undefined</c> to see this at build time), or the library is bound to
    /// another copy of libaco (<see cref="AcoBodiesLoadException.OtherLibacoPath"/>).
    /// </exception>
    /// <remarks>
    /// Prefer this to <see cref="NativeLibrary.Load(string)"/>: .NET loads lazily, so a function that
    /// no library defines ends the whole process ("symbol lookup error", exit code 127) at its first
    /// call, with no exception; and a library loaded before libaco.so may find another copy of it.
    /// A library that is already loaded (by <see cref="NativeLibrary.Load(string)"/>, or as another
    /// library's dependency) keeps the binding it got then: the dynamic linker does not bind it again,
    /// so load bodies with this method first.
    /// </remarks>
    public static nint LoadBodies(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (OperatingSystem.IsWindows())
        {
            return LoadBodiesOnWindows(path);
        }
        _ = AcoNative.VersionNumber(); // loads libaco.so through the resolver
        if (!path.Contains('/', StringComparison.Ordinal) && File.Exists(Path.Combine(AppContext.BaseDirectory, path)))
        {
            path = Path.Combine(AppContext.BaseDirectory, path);
        }

        var checking = DynamicLinker.Open(path, DynamicLinker.RtldNow | DynamicLinker.RtldLocal, out var error);
        if (checking == 0)
        {
            throw LoadFailure(path, error!);
        }
        try
        {
            // dlsym on the handle searches the library, then its dependencies: this finds the
            // libaco its code binds to, when it depends on one at all. (A function: dlsym of the
            // thread-local aco_gtls_co would give an address in this thread's TLS, in no image.)
            var ours = OwnImage();
            var theirs = DynamicLinker.Symbol(checking, "aco_resume");
            var theirImage = theirs == 0 ? null : NativeImage.ImageOf(theirs);
            if (theirImage is not null && ours is not null && !SameFile(theirImage, ours))
            {
                throw new AcoBodiesLoadException(
                    $"{path} is bound to another copy of {FileName}: {theirImage}, not the one Aco.Core loaded ({ours}). " +
                    $"Its coroutine bodies would read thread-locals that only Aco.Core's copy sets. Link it against {FileName} " +
                    "(soname libaco.so) from the Aco.Core package, without a copy of its own.",
                    path, otherLibacoPath: theirImage);
            }
            // The runtime's own handle (the same library, one more reference), for NativeLibrary.GetExport.
            return NativeLibrary.Load(path);
        }
        finally
        {
            _ = DynamicLinker.Close(checking);
        }
    }

    private static Exception LoadFailure(string path, string error)
    {
        const string Marker = "undefined symbol: ";
        var at = error.IndexOf(Marker, StringComparison.Ordinal);
        if (at >= 0)
        {
            var symbol = error[(at + Marker.Length)..].Split([' ', ',', '\t'], 2)[0];
            return new AcoBodiesLoadException(
                $"{path} needs the symbol '{symbol}', which no loaded library defines ({error}). " +
                $"Link the library against everything it calls (libaco.so: -laco) and with -Wl,--no-undefined, so the linker reports this at build time.",
                path, undefinedSymbol: symbol);
        }
        if (error.Contains("cannot open shared object file", StringComparison.Ordinal) ||
            error.Contains("invalid ELF header", StringComparison.Ordinal) ||
            error.Contains("wrong ELF class", StringComparison.Ordinal))
        {
            return new DllNotFoundException($"Could not load the coroutine bodies {path}: {error}");
        }
        return new AcoBodiesLoadException($"Could not load the coroutine bodies {path}: {error}", path);
    }

    /// <summary>The file of the libaco.so that Aco.Core loaded.</summary>
    private static string? OwnImage() =>
        _loaded != 0 && NativeLibrary.TryGetExport(_loaded, "aco_version_number", out var address) ? NativeImage.ImageOf(address) : null;

    private static bool SameFile(string a, string b)
    {
        static string Real(string p) => File.ResolveLinkTarget(p, returnFinalTarget: true)?.FullName ?? Path.GetFullPath(p);
        return string.Equals(Real(a), Real(b), StringComparison.Ordinal);
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
        var rid = OperatingSystem.IsWindows() ? "win-x64" : RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        var dirs = new[] { Path.GetDirectoryName(typeof(AcoNativeLibrary).Assembly.Location), AppContext.BaseDirectory }
            .Where(d => !string.IsNullOrEmpty(d))
            .Select(d => Path.TrimEndingDirectorySeparator(Path.GetFullPath(d!)))
            .Distinct(StringComparer.Ordinal);
        foreach (var dir in dirs)
        {
            list.Add(Path.Combine(dir, FileName));
            list.Add(Path.Combine(dir, "runtimes", rid, "native", FileName));
        }
        return [.. list.Distinct(StringComparer.Ordinal)];
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
                _loaded = handle;
                return handle;
            }
        }
        if (NativeLibrary.TryLoad(FileName, assembly, searchPath, out var fallback))
        {
            _loaded = fallback;
            return fallback;
        }
        throw new DllNotFoundException(
            $"Aco.Core could not load {FileName}. Looked in: {string.Join(", ", candidates)}, and the system library path. " +
            $"Build the native core (dotnet build runs CMake), or set {PathVariable} to the library's full path.");
    }
}
