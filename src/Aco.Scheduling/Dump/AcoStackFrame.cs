using System.Globalization;

namespace Aco.Scheduling;

/// <summary>
/// One frame of a suspended coroutine. Native: a return address, with the function it is in (from the ELF symbol
/// tables of its file, static functions included) and the source line (from DWARF line tables, when the file
/// has them). Managed: an async method it is suspended in.
/// </summary>
/// <param name="Address">The return address (native), or 0 (managed).</param>
/// <param name="Module">The file (native: the library's file name) or assembly (managed) it is in, if known.</param>
/// <param name="Function">The function or method, if known.</param>
/// <param name="Offset">Bytes from the function's start to the return address (native); without a function, from the module's start; -1 when unknown.</param>
/// <param name="File">The source file, when debug information is present.</param>
/// <param name="Line">The source line (1-based), or 0.</param>
public sealed record AcoStackFrame(nint Address, string? Module, string? Function, long Offset, string? File, int Line)
{
    /// <summary>"function+0x1c (module) file.c:42", as much of it as is known.</summary>
    public override string ToString()
    {
        var text = Function is null
            ? Address == 0 ? "?" : string.Create(CultureInfo.InvariantCulture, $"0x{(ulong)Address:x}")
            : Address == 0 ? Function : string.Create(CultureInfo.InvariantCulture, $"{Function}+0x{Offset:x}");
        if (Module is not null)
        {
            text += Function is null && Address != 0 && Offset >= 0
                ? string.Create(CultureInfo.InvariantCulture, $" ({Module}+0x{Offset:x})")
                : $" ({Module})";
        }
        if (File is not null)
        {
            text += string.Create(CultureInfo.InvariantCulture, $" {File}:{Line}");
        }
        return text;
    }
}
