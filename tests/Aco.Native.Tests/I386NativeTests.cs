namespace Aco.Native.Tests;

// The i386 (32-bit x86 Linux) cross build, under qemu-i386. valgrind has no run here: its x86 tool is
// itself a 32-bit program, which this kernel does not execute, and under qemu-i386 it stops at start-up
// (it needs symbols of ld-linux.so.2 that Debian's i386 cross libc strips). LeakSanitizer is off in the
// ASan runs (native/cmake/i686-linux-gnu.cmake says why); the tests' counter checks still find leaks.

/// <summary>The C tests and the C bench smoke of the i386 build, against its libaco.so, under qemu-i386.</summary>
public sealed class I386NativeTests
{
    public static TheoryData<string> Tests => I386Tests.Select("plain", name => !I386Tests.IsLibacoProgram(name));

    [I386Theory]
    [MemberData(nameof(Tests))]
    public void Passes(string test) => CTestSuite.I386.Run(test);
}

/// <summary>The C tests of the i386 build with AddressSanitizer and UndefinedBehaviorSanitizer, under qemu-i386.</summary>
public sealed class I386SanitizerNativeTests
{
    public static TheoryData<string> Tests => I386Tests.Select("asan", _ => true);

    [I386Theory]
    [MemberData(nameof(Tests))]
    public void Passes(string test) => CTestSuite.I386.Run(test);
}

/// <summary>
/// libaco 1.2.4's own test programs (tutorials, synopsis, benchmark), built for i386 against this core and
/// against libaco, run side by side under qemu-i386 and compared (native/tests/libaco/compare.sh).
/// </summary>
public sealed class I386LibacoProgramTests
{
    public static TheoryData<string> Tests => I386Tests.Select("plain", I386Tests.IsLibacoProgram);

    [I386LibacoTheory]
    [MemberData(nameof(Tests))]
    public void Behaves_as_against_libaco(string test) => CTestSuite.I386.Run(test);
}

internal static class I386Tests
{
    internal const string MissingTools =
        "The i386 cross build is missing: install gcc-i686-linux-gnu, libc6-dev-i386-cross and qemu-user (.ci/run does) and build again.";

    internal static bool IsLibacoProgram(string name) => name.StartsWith("plain.libaco_program.", StringComparison.Ordinal);

    internal static List<string> Names(string mode, Func<string, bool> keep) =>
        CTestSuite.I386.Exists ? CTestSuite.I386.InMode(mode).Where(keep).ToList() : [];

    internal static TheoryData<string> Select(string mode, Func<string, bool> keep)
    {
        var data = new TheoryData<string>();
        foreach (var name in Names(mode, keep))
        {
            data.Add(name);
        }
        return data;
    }
}

/// <summary>Skipped, with the reason, where the i386 cross tools are not installed.</summary>
public sealed class I386TheoryAttribute : TheoryAttribute
{
    public I386TheoryAttribute()
    {
        if (!CTestSuite.I386.Exists)
        {
            Skip = I386Tests.MissingTools;
        }
    }
}

/// <summary>Skipped, with the reason, where the i386 build has no libaco programs (tools missing, or no libaco source given).</summary>
public sealed class I386LibacoTheoryAttribute : TheoryAttribute
{
    public I386LibacoTheoryAttribute()
    {
        if (!CTestSuite.I386.Exists)
        {
            Skip = I386Tests.MissingTools;
        }
        else if (I386Tests.Names("plain", I386Tests.IsLibacoProgram).Count == 0)
        {
            Skip = "libaco's own test programs were not built: set LIBACO_SOURCE to a libaco 1.2.4 checkout (aco.c, acosw.S, test_aco_*.c) "
                + "before the i386 build is first configured (or pass -DACO_BENCH_LIBACO_SOURCE to its CMake).";
        }
    }
}
