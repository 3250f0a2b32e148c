using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Aco.Scheduling;

/// <summary>
/// What a dump needs of an ELF file (64-bit, little-endian: x86-64 and AArch64): its function symbols, from the
/// full symbol table (.symtab, static functions included) and the dynamic one (.dynsym), and its DWARF line
/// table (.debug_line) when it has one. Read once per file (<see cref="Symbolizer"/> caches it); a file it cannot
/// read gives no symbols, never an error.
/// </summary>
internal sealed class ElfImage
{
    private const int MaxFileBytes = 512 * 1024 * 1024;

    private readonly byte[] _file;
    private readonly Section[] _sections;
    private readonly Symbol[] _symbols; // sorted by address
    private DwarfLineTable? _lines;
    private bool _linesRead;

    private ElfImage(byte[] file, Section[] sections, ulong firstLoadAddress)
    {
        _file = file;
        _sections = sections;
        FirstLoadAddress = firstLoadAddress;
        _symbols = ReadSymbols();
    }

    /// <summary>The virtual address of the first loadable segment, rounded down to a page: where dladdr's base points.</summary>
    public ulong FirstLoadAddress { get; }

    private readonly record struct Section(string Name, uint Type, ulong Flags, ulong Address, ulong Offset, ulong Size, uint Link, ulong EntrySize);

    private readonly record struct Symbol(ulong Address, ulong Size, string Name);

    /// <summary>Reads the file at <paramref name="path"/>; null when it is not a 64-bit little-endian ELF file or cannot be read.</summary>
    public static ElfImage? TryLoad(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxFileBytes || info.Length < 64)
            {
                return null;
            }
            var file = File.ReadAllBytes(path);
            var span = file.AsSpan();
            // e_ident: magic, ELFCLASS64 (2), ELFDATA2LSB (1).
            if (span[0] != 0x7f || span[1] != (byte)'E' || span[2] != (byte)'L' || span[3] != (byte)'F' || span[4] != 2 || span[5] != 1)
            {
                return null;
            }
            var phoff = U64(span, 0x20);
            var shoff = U64(span, 0x28);
            var phentsize = U16(span, 0x36);
            var phnum = U16(span, 0x38);
            var shentsize = U16(span, 0x3A);
            var shnum = U16(span, 0x3C);
            var shstrndx = U16(span, 0x3E);
            var firstLoad = ulong.MaxValue;
            for (var i = 0; i < phnum; i++)
            {
                var p = checked((int)(phoff + (ulong)(i * phentsize)));
                if (U32(span, p) == 1) // PT_LOAD
                {
                    firstLoad = Math.Min(firstLoad, U64(span, p + 0x10));
                }
            }
            firstLoad = firstLoad == ulong.MaxValue ? 0 : firstLoad & ~0xfffUL;
            var raw = new (uint Name, uint Type, ulong Flags, ulong Address, ulong Offset, ulong Size, uint Link, ulong EntrySize)[shnum];
            for (var i = 0; i < shnum; i++)
            {
                var s = checked((int)(shoff + (ulong)(i * shentsize)));
                raw[i] = (U32(span, s), U32(span, s + 4), U64(span, s + 8), U64(span, s + 0x10), U64(span, s + 0x18), U64(span, s + 0x20), U32(span, s + 0x28), U64(span, s + 0x38));
            }
            var sections = new Section[shnum];
            var names = shstrndx < shnum ? raw[shstrndx] : default;
            for (var i = 0; i < shnum; i++)
            {
                var name = names.Size == 0 ? "" : CString(span, checked((int)(names.Offset + raw[i].Name)));
                sections[i] = new Section(name, raw[i].Type, raw[i].Flags, raw[i].Address, raw[i].Offset, raw[i].Size, raw[i].Link, raw[i].EntrySize);
            }
            return new ElfImage(file, sections, firstLoad);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or OverflowException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The function that contains <paramref name="address"/> (a virtual address of the file), if a symbol covers it.</summary>
    public bool TryFindFunction(ulong address, out string name, out ulong start)
    {
        var lo = 0;
        var hi = _symbols.Length - 1;
        var found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_symbols[mid].Address <= address)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        // Symbols at the same address: the one with a size that covers the address.
        for (var i = found; i >= 0 && i > found - 8; i--)
        {
            var s = _symbols[i];
            if (address >= s.Address && (address < s.Address + s.Size || (s.Size == 0 && i == found)))
            {
                name = s.Name;
                start = s.Address;
                return true;
            }
        }
        name = "";
        start = 0;
        return false;
    }

    /// <summary>The source line of <paramref name="address"/>, when the file has a DWARF line table that covers it.</summary>
    public bool TryFindLine(ulong address, out string file, out int line)
    {
        if (!_linesRead)
        {
            _linesRead = true;
            try
            {
                if (SectionBytes(".debug_line") is { } lineBytes)
                {
                    _lines = DwarfLineTable.Parse(lineBytes, SectionBytes(".debug_line_str"), SectionBytes(".debug_str"));
                }
            }
            catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or OverflowException or InvalidDataException)
            {
                _lines = null; // a table it cannot read: no lines, still the symbols
            }
        }
        if (_lines is { } lines && lines.TryFind(address, out file, out line))
        {
            return true;
        }
        file = "";
        line = 0;
        return false;
    }

    private Symbol[] ReadSymbols()
    {
        var list = new List<Symbol>();
        foreach (var s in _sections)
        {
            if ((s.Type != 2 && s.Type != 11) || s.EntrySize != 24 || s.Link >= _sections.Length) // SHT_SYMTAB, SHT_DYNSYM
            {
                continue;
            }
            var strings = _sections[s.Link];
            var span = _file.AsSpan();
            for (var off = s.Offset; off + 24 <= s.Offset + s.Size; off += 24)
            {
                var e = checked((int)off);
                var info = span[e + 4];
                var type = info & 0xf;
                var shndx = U16(span, e + 6);
                var value = U64(span, e + 8);
                if ((type != 2 && type != 10) || shndx == 0 || value == 0) // STT_FUNC, STT_GNU_IFUNC; defined
                {
                    continue;
                }
                var name = CString(span, checked((int)(strings.Offset + U32(span, e))));
                if (name.Length > 0)
                {
                    list.Add(new Symbol(value, U64(span, e + 16), name));
                }
            }
        }
        list.Sort(static (a, b) => a.Address != b.Address ? a.Address.CompareTo(b.Address) : b.Size.CompareTo(a.Size));
        return [.. list];
    }

    /// <summary>A section's bytes (decompressed when it is SHF_COMPRESSED with zlib), or null.</summary>
    private byte[]? SectionBytes(string name)
    {
        foreach (var s in _sections)
        {
            if (s.Name != name || s.Type == 8) // SHT_NOBITS
            {
                continue;
            }
            var bytes = _file.AsSpan(checked((int)s.Offset), checked((int)s.Size));
            if ((s.Flags & 0x800) == 0) // SHF_COMPRESSED
            {
                return bytes.ToArray();
            }
            // Elf64_Chdr: ch_type (1: zlib), reserved, ch_size, ch_addralign; then the zlib stream.
            if (U32(bytes, 0) != 1)
            {
                return null;
            }
            var size = checked((int)U64(bytes, 8));
            var output = new byte[size];
            using var zlib = new ZLibStream(new MemoryStream(bytes[24..].ToArray()), CompressionMode.Decompress);
            zlib.ReadExactly(output);
            return output;
        }
        return null;
    }

    private static ushort U16(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt16LittleEndian(s[at..]);

    private static uint U32(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);

    private static ulong U64(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt64LittleEndian(s[at..]);

    internal static string CString(ReadOnlySpan<byte> s, int at)
    {
        var end = s[at..].IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? s[at..] : s.Slice(at, end));
    }
}
