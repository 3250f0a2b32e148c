namespace Aco.Core;

/// <summary>
/// Thrown by <see cref="AcoNativeLibrary.LoadBodies"/> when a library of coroutine bodies cannot be
/// used safely: a symbol it needs is defined nowhere, or it is bound to another copy of libaco.so
/// than the one Aco.Core loaded. The library is not left loaded.
/// </summary>
/// <remarks>
/// Both faults would otherwise surface later, outside any exception handler: an unresolved function
/// ends the process with "symbol lookup error" on its first call, and bodies bound to a second
/// libaco read thread-locals that only the first one sets.
/// </remarks>
public sealed class AcoBodiesLoadException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AcoBodiesLoadException(string message, string libraryPath, string? undefinedSymbol = null, string? otherLibacoPath = null)
        : base(message)
    {
        LibraryPath = libraryPath;
        UndefinedSymbol = undefinedSymbol;
        OtherLibacoPath = otherLibacoPath;
    }

    /// <summary>The library that was refused.</summary>
    public string LibraryPath { get; }

    /// <summary>The symbol that no loaded library defines, when that is the fault.</summary>
    public string? UndefinedSymbol { get; }

    /// <summary>The other copy of libaco the library is bound to, when that is the fault.</summary>
    public string? OtherLibacoPath { get; }
}
