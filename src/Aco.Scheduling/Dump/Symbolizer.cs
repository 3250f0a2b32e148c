using System.Collections.Concurrent;
using Aco.Core.Interop;
using Aco.Scheduling.Interop;

namespace Aco.Scheduling;

/// <summary>
/// Names native code addresses: the loaded file that holds one (dladdr), then the function that contains it and its
/// source line, from that file's own ELF symbol tables and DWARF line table (so static functions are named too, and
/// nothing needs to be installed). Files are read once per process; a file that cannot be read still gives its
/// name and the offset into it. On Windows: the module and, for an export's own address, its name.
/// </summary>
internal static class Symbolizer
{
    private static readonly ConcurrentDictionary<string, ElfImage?> s_images = new(StringComparer.Ordinal);

    /// <summary>
    /// The frame of <paramref name="address"/>. A return address (<paramref name="returnAddress"/>) is looked up one
    /// byte back, in the call instruction, so that a call that ends a function is not taken for its neighbour's.
    /// </summary>
    public static AcoStackFrame Resolve(nint address, bool returnAddress)
    {
        if (OperatingSystem.IsWindows())
        {
            var module = NativeImage.ImageOf(address);
            var symbol = NativeImage.SymbolAt(address);
            return new AcoStackFrame(address, module is null ? null : Path.GetFileName(module), symbol, symbol is null ? -1 : 0, null, 0);
        }
        if (!NativeImage.TryLocate(address, out var path, out var fileBase, out var exported, out var exportedAt))
        {
            return new AcoStackFrame(address, null, null, -1, null, 0);
        }
        var name = Path.GetFileName(path);
        var image = path.Length == 0 ? null : s_images.GetOrAdd(path, static p => ElfImage.TryLoad(p));
        var lookup = (ulong)(address - (returnAddress ? 1 : 0));
        if (image is null)
        {
            return exported is not null
                ? new AcoStackFrame(address, name, exported, (long)(address - exportedAt), null, 0)
                : new AcoStackFrame(address, name, null, (long)(address - fileBase), null, 0);
        }
        var vaddr = lookup - (ulong)fileBase + image.FirstLoadAddress;
        string? file = null;
        var line = 0;
        if (image.TryFindLine(vaddr, out var f2, out var l2))
        {
            file = f2;
            line = l2;
        }
        if (image.TryFindFunction(vaddr, out var function, out var start))
        {
            var offset = (long)(vaddr - start) + (returnAddress ? 1 : 0);
            return new AcoStackFrame(address, name, function, offset, file, line);
        }
        return new AcoStackFrame(address, name, null, (long)(address - fileBase), file, line);
    }

    /// <summary>The address at which the function containing <paramref name="address"/> starts, or 0 (Linux).</summary>
    public static nint FunctionStart(nint address, bool returnAddress)
    {
        if (OperatingSystem.IsWindows() || !NativeImage.TryLocate(address, out var path, out var fileBase, out _, out _) || path.Length == 0)
        {
            return 0;
        }
        var image = s_images.GetOrAdd(path, static p => ElfImage.TryLoad(p));
        var vaddr = (ulong)(address - (returnAddress ? 1 : 0)) - (ulong)fileBase + (image?.FirstLoadAddress ?? 0);
        return image is not null && image.TryFindFunction(vaddr, out _, out var start)
            ? (nint)(start - image.FirstLoadAddress + (ulong)fileBase)
            : 0;
    }
}
