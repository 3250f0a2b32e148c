using System.Buffers.Binary;
using System.Text;

namespace Aco.Packaging.Tests;

/// <summary>
/// What a 64-bit little-endian ELF shared library needs from the dynamic linker: its DT_NEEDED
/// libraries and its symbol version needs (.gnu.version_r), the data that <c>objdump -p</c> shows.
/// </summary>
internal sealed class ElfFile
{
    private const uint ShtDynamic = 6;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const long DtNull = 0;
    private const long DtNeeded = 1;

    private ElfFile(IReadOnlyList<string> needed, IReadOnlyList<(string File, string Version)> versionNeeds)
    {
        Needed = needed;
        VersionNeeds = versionNeeds;
    }

    /// <summary>The DT_NEEDED entries (libc.so.6, ...).</summary>
    public IReadOnlyList<string> Needed { get; }

    /// <summary>Each version needed, with the library it is needed from (libc.so.6, GLIBC_2.14).</summary>
    public IReadOnlyList<(string File, string Version)> VersionNeeds { get; }

    public static ElfFile Read(string path)
    {
        var b = File.ReadAllBytes(path);
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F' || b[4] != 2 || b[5] != 1)
        {
            throw new InvalidDataException($"{path} is not a 64-bit little-endian ELF file.");
        }
        var shoff = (long)U64(b, 0x28);
        int shentsize = U16(b, 0x3a), shnum = U16(b, 0x3c);
        (uint Type, long Offset, long Size, uint Link, uint Info) Section(int i)
        {
            var o = shoff + (long)i * shentsize;
            return (U32(b, o + 4), (long)U64(b, o + 0x18), (long)U64(b, o + 0x20), U32(b, o + 0x28), U32(b, o + 0x2c));
        }
        string Str(int strtab, long offset)
        {
            var start = Section(strtab).Offset + offset;
            var end = Array.IndexOf(b, (byte)0, (int)start);
            return Encoding.ASCII.GetString(b, (int)start, end - (int)start);
        }

        var needed = new List<string>();
        var needs = new List<(string, string)>();
        for (var i = 0; i < shnum; i++)
        {
            var s = Section(i);
            if (s.Type == ShtDynamic)
            {
                for (var o = s.Offset; o + 16 <= s.Offset + s.Size; o += 16)
                {
                    var tag = (long)U64(b, o);
                    if (tag == DtNull)
                    {
                        break;
                    }
                    if (tag == DtNeeded)
                    {
                        needed.Add(Str((int)s.Link, (long)U64(b, o + 8)));
                    }
                }
            }
            else if (s.Type == ShtGnuVerneed)
            {
                // Verneed { u16 version, cnt; u32 file, aux, next }, each followed by Vernaux { u32 hash; u16 flags, other; u32 name, next }.
                var entry = s.Offset;
                for (var n = 0; n < s.Info; n++)
                {
                    int count = U16(b, entry + 2);
                    var file = Str((int)s.Link, U32(b, entry + 4));
                    var aux = entry + U32(b, entry + 8);
                    for (var k = 0; k < count; k++)
                    {
                        needs.Add((file, Str((int)s.Link, U32(b, aux + 8))));
                        aux += U32(b, aux + 12);
                    }
                    entry += U32(b, entry + 12);
                }
            }
        }
        return new ElfFile(needed, needs);
    }

    private static ushort U16(byte[] b, long o) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan((int)o));
    private static uint U32(byte[] b, long o) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)o));
    private static ulong U64(byte[] b, long o) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan((int)o));
}
