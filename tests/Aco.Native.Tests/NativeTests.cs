namespace Aco.Native.Tests;

// One class per mode so that xunit runs the modes in parallel.

/// <summary>The C tests against libaco.so, as .NET loads it.</summary>
public sealed class PlainNativeTests
{
    public static TheoryData<string> Tests => CTestSuite.Host.InMode("plain");

    [Theory]
    [MemberData(nameof(Tests))]
    public void Passes(string test) => CTestSuite.Host.Run(test);
}

/// <summary>The C tests built with AddressSanitizer and UndefinedBehaviorSanitizer.</summary>
public sealed class SanitizerNativeTests
{
    public static TheoryData<string> Tests => CTestSuite.Host.InMode("asan");

    [Theory]
    [MemberData(nameof(Tests))]
    public void Passes(string test) => CTestSuite.Host.Run(test);
}

/// <summary>The C tests under valgrind memcheck (any error fails).</summary>
public sealed class ValgrindNativeTests
{
    public static TheoryData<string> Tests => CTestSuite.Host.InMode("valgrind");

    [Theory]
    [MemberData(nameof(Tests))]
    public void Passes(string test) => CTestSuite.Host.Run(test);
}

/// <summary>The C tests and the C bench of the AArch64 cross build, run under qemu-aarch64.</summary>
public sealed class Aarch64NativeTests
{
    public static TheoryData<string> Tests => CTestSuite.Aarch64.Exists ? CTestSuite.Aarch64.InMode("plain") : [];

    [Aarch64Theory]
    [MemberData(nameof(Tests))]
    public void Passes(string test) => CTestSuite.Aarch64.Run(test);
}

/// <summary>Skipped, with the reason, where the AArch64 cross tools are not installed.</summary>
public sealed class Aarch64TheoryAttribute : TheoryAttribute
{
    internal const string MissingTools =
        "The AArch64 cross build is missing: install gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user (.ci/run does) and build again.";

    public Aarch64TheoryAttribute()
    {
        if (!CTestSuite.Aarch64.Exists)
        {
            Skip = MissingTools;
        }
    }
}

/// <summary>The C tests and the C bench of the Windows x64 cross build (mingw-w64), run under wine64.</summary>
public sealed class WinX64NativeTests
{
    public static TheoryData<string> Tests => CTestSuite.WinX64.Exists ? CTestSuite.WinX64.InMode("plain") : [];

    [WinX64Theory]
    [MemberData(nameof(Tests))]
    public void Passes(string test) => CTestSuite.WinX64.Run(test);
}

/// <summary>Skipped, with the reason, where mingw-w64 or Wine is not installed.</summary>
public sealed class WinX64TheoryAttribute : TheoryAttribute
{
    public WinX64TheoryAttribute()
    {
        if (!CTestSuite.WinX64.Exists)
        {
            Skip = "The Windows x64 cross build is missing: install gcc-mingw-w64-x86-64 and wine64 (.ci/run does) and build again.";
        }
    }
}
