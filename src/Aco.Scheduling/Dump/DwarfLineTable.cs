using System.Buffers.Binary;

namespace Aco.Scheduling;

/// <summary>
/// The rows of a DWARF line table (.debug_line, versions 2 to 5; DWARF 5 section 6.2): address to file and line,
/// for every unit of a file, sorted by address. Only what a symbolizer needs: addresses, files and lines.
/// </summary>
internal sealed class DwarfLineTable
{
    private readonly ulong[] _addresses;
    private readonly int[] _lines;   // 0: the end of a sequence (no line from here on)
    private readonly int[] _files;   // index into _fileNames
    private readonly string[] _fileNames;

    private DwarfLineTable(List<(ulong Address, int File, int Line)> rows, List<string> fileNames)
    {
        // At one address, a sequence's end before the next one's start (TryFind takes the last).
        rows.Sort(static (a, b) => a.Address != b.Address ? a.Address.CompareTo(b.Address) : (a.Line == 0 ? 0 : 1).CompareTo(b.Line == 0 ? 0 : 1));
        _addresses = rows.Select(r => r.Address).ToArray();
        _files = rows.Select(r => r.File).ToArray();
        _lines = rows.Select(r => r.Line).ToArray();
        _fileNames = [.. fileNames];
    }

    /// <summary>The row that covers <paramref name="address"/>: the last one at or before it, unless a sequence ended there.</summary>
    public bool TryFind(ulong address, out string file, out int line)
    {
        var i = Array.BinarySearch(_addresses, address);
        if (i < 0)
        {
            i = ~i - 1;
        }
        else
        {
            // Rows at the same address: a sequence's end and the next one's start; take the last.
            while (i + 1 < _addresses.Length && _addresses[i + 1] == address)
            {
                i++;
            }
        }
        if (i < 0 || _lines[i] == 0)
        {
            file = "";
            line = 0;
            return false;
        }
        file = _fileNames[_files[i]];
        line = _lines[i];
        return true;
    }

    public static DwarfLineTable Parse(byte[] section, byte[]? lineStrings, byte[]? strings)
    {
        var rows = new List<(ulong, int, int)>();
        var fileNames = new List<string>();
        var at = 0;
        while (at + 4 <= section.Length)
        {
            at = ParseUnit(section, at, lineStrings, strings, rows, fileNames);
        }
        return new DwarfLineTable(rows, fileNames);
    }

    /// <summary>Reads one unit's header and runs its line program; returns where the next unit starts.</summary>
    private static int ParseUnit(byte[] d, int at, byte[]? lineStrings, byte[]? strings, List<(ulong, int, int)> rows, List<string> fileNames)
    {
        var r = new Reader(d, at);
        ulong length = r.U32();
        var offsetSize = 4;
        if (length == 0xffffffff)
        {
            length = r.U64();
            offsetSize = 8;
        }
        var end = checked(r.Position + (int)length);
        var version = r.U16();
        if (version is < 2 or > 5)
        {
            return end; // a version it does not know: skip the unit
        }
        var addressSize = 8;
        if (version >= 5)
        {
            addressSize = r.U8();
            r.U8(); // segment selector size
        }
        var headerLength = offsetSize == 8 ? (long)r.U64() : r.U32();
        var programStart = checked(r.Position + (int)headerLength);
        var minInstruction = r.U8();
        if (version >= 4)
        {
            r.U8(); // maximum operations per instruction (VLIW only)
        }
        r.U8(); // default_is_stmt
        var lineBase = (sbyte)r.U8();
        var lineRange = r.U8();
        var opcodeBase = r.U8();
        var standardLengths = new byte[opcodeBase];
        for (var i = 1; i < opcodeBase; i++)
        {
            standardLengths[i] = r.U8();
        }

        var directories = new List<string>();
        var fileIndexes = new List<int>(); // indexes into fileNames, by the unit's file number
        if (version >= 5)
        {
            foreach (var entry in ReadEntries(ref r, offsetSize, lineStrings, strings))
            {
                directories.Add(entry.Path);
            }
            foreach (var entry in ReadEntries(ref r, offsetSize, lineStrings, strings))
            {
                fileIndexes.Add(AddFile(fileNames, Join(directories, entry.Directory, entry.Path)));
            }
        }
        else
        {
            directories.Add(""); // index 0: the unit's own directory
            while (true)
            {
                var dir = r.CString();
                if (dir.Length == 0)
                {
                    break;
                }
                directories.Add(dir);
            }
            fileIndexes.Add(-1); // file numbers start at 1
            while (true)
            {
                var name = r.CString();
                if (name.Length == 0)
                {
                    break;
                }
                var dir = (int)r.Uleb();
                r.Uleb(); // modification time
                r.Uleb(); // length
                fileIndexes.Add(AddFile(fileNames, Join(directories, dir, name)));
            }
        }

        // The line program (section 6.2.5): a state machine that emits rows.
        r.Position = programStart;
        ulong address = 0;
        var file = 1;
        var line = 1;
        void Emit(int lineValue)
        {
            var index = file >= 0 && file < fileIndexes.Count ? fileIndexes[file] : -1;
            if (index >= 0 || lineValue == 0)
            {
                rows.Add((address, Math.Max(index, 0), lineValue));
            }
        }
        while (r.Position < end)
        {
            var opcode = r.U8();
            if (opcode >= opcodeBase)
            {
                var adjusted = opcode - opcodeBase;
                address += (ulong)(adjusted / lineRange * minInstruction);
                line += lineBase + adjusted % lineRange;
                Emit(line);
                continue;
            }
            switch (opcode)
            {
                case 0: // extended
                    var length2 = (int)r.Uleb();
                    var next = checked(r.Position + length2);
                    var sub = length2 > 0 ? r.U8() : 0;
                    if (sub == 1) // end_sequence
                    {
                        Emit(0);
                        address = 0;
                        file = 1;
                        line = 1;
                    }
                    else if (sub == 2) // set_address
                    {
                        address = addressSize == 8 ? r.U64() : r.U32();
                    }
                    r.Position = next;
                    break;
                case 1: // copy
                    Emit(line);
                    break;
                case 2: // advance_pc
                    address += r.Uleb() * minInstruction;
                    break;
                case 3: // advance_line
                    line += (int)r.Sleb();
                    break;
                case 4: // set_file
                    file = (int)r.Uleb();
                    break;
                case 8: // const_add_pc
                    address += (ulong)((255 - opcodeBase) / lineRange * minInstruction);
                    break;
                case 9: // fixed_advance_pc
                    address += r.U16();
                    break;
                default: // other standard opcodes: skip their operands
                    for (var i = 0; i < standardLengths[opcode]; i++)
                    {
                        r.Uleb();
                    }
                    break;
            }
        }
        return end;
    }

    private static int AddFile(List<string> fileNames, string name)
    {
        fileNames.Add(name);
        return fileNames.Count - 1;
    }

    private static string Join(List<string> directories, int directory, string name)
    {
        if (name.StartsWith('/') || directory < 0 || directory >= directories.Count || directories[directory].Length == 0)
        {
            return name;
        }
        return directories[directory].TrimEnd('/') + "/" + name;
    }

    /// <summary>DWARF 5 directory or file entries: a format (content type, form pairs), then the entries.</summary>
    private static List<(string Path, int Directory)> ReadEntries(ref Reader r, int offsetSize, byte[]? lineStrings, byte[]? strings)
    {
        var formatCount = r.U8();
        var format = new (ulong Content, ulong Form)[formatCount];
        for (var i = 0; i < formatCount; i++)
        {
            format[i] = (r.Uleb(), r.Uleb());
        }
        var count = (int)r.Uleb();
        var entries = new List<(string, int)>(count);
        for (var i = 0; i < count; i++)
        {
            var path = "";
            var directory = 0;
            foreach (var (content, form) in format)
            {
                var value = ReadForm(ref r, form, offsetSize, lineStrings, strings);
                if (content == 1) // DW_LNCT_path
                {
                    path = value.Text ?? "";
                }
                else if (content == 2) // DW_LNCT_directory_index
                {
                    directory = (int)value.Number;
                }
            }
            entries.Add((path, directory));
        }
        return entries;
    }

    private static (string? Text, ulong Number) ReadForm(ref Reader r, ulong form, int offsetSize, byte[]? lineStrings, byte[]? strings)
    {
        switch (form)
        {
            case 0x08: // DW_FORM_string
                return (r.CString(), 0);
            case 0x1f: // DW_FORM_line_strp
                var lineOffset = offsetSize == 8 ? r.U64() : r.U32();
                return (lineStrings is null ? null : ElfImage.CString(lineStrings, checked((int)lineOffset)), 0);
            case 0x0e: // DW_FORM_strp
                var strOffset = offsetSize == 8 ? r.U64() : r.U32();
                return (strings is null ? null : ElfImage.CString(strings, checked((int)strOffset)), 0);
            case 0x0f: // DW_FORM_udata
                return (null, r.Uleb());
            case 0x0b: // DW_FORM_data1
                return (null, r.U8());
            case 0x05: // DW_FORM_data2
                return (null, r.U16());
            case 0x06: // DW_FORM_data4
                return (null, r.U32());
            case 0x07: // DW_FORM_data8
                return (null, r.U64());
            case 0x1e: // DW_FORM_data16 (an MD5)
                r.Position += 16;
                return (null, 0);
            case 0x09: // DW_FORM_block
                r.Position += (int)r.Uleb();
                return (null, 0);
            default:
                throw new InvalidDataException($"DWARF form 0x{form:x} in a line table header is not supported.");
        }
    }

    private struct Reader(byte[] data, int position)
    {
        public int Position = position;

        public byte U8() => data[Position++];

        public ushort U16()
        {
            var v = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(Position));
            Position += 2;
            return v;
        }

        public uint U32()
        {
            var v = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(Position));
            Position += 4;
            return v;
        }

        public ulong U64()
        {
            var v = BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(Position));
            Position += 8;
            return v;
        }

        public ulong Uleb()
        {
            ulong result = 0;
            var shift = 0;
            while (true)
            {
                var b = data[Position++];
                if (shift < 64)
                {
                    result |= (ulong)(b & 0x7f) << shift;
                }
                shift += 7;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }
        }

        public long Sleb()
        {
            long result = 0;
            var shift = 0;
            byte b;
            do
            {
                b = data[Position++];
                if (shift < 64)
                {
                    result |= (long)(b & 0x7f) << shift;
                }
                shift += 7;
            }
            while ((b & 0x80) != 0);
            if (shift < 64 && (b & 0x40) != 0)
            {
                result |= -1L << shift;
            }
            return result;
        }

        public string CString()
        {
            var s = ElfImage.CString(data, Position);
            Position += System.Text.Encoding.UTF8.GetByteCount(s) + 1;
            return s;
        }
    }
}
