using Aco.Core;

namespace Aco.Benchmarks;

/// <summary>The C bodies of native/bench/bench_bodies.c.</summary>
internal static class Bodies
{
    public static readonly nint Library = AcoNativeLibrary.LoadBodies(Path.Combine(AppContext.BaseDirectory, "libaco_bench_bodies.so"));

    public static AcoEntryPoint Get(string name) => AcoEntryPoint.FromExport(Library, name);
}
