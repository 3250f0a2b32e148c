namespace Aco.Native.Tests;

// One class per mode so that xunit runs the three modes in parallel.

/// <summary>The C tests against libaco.so, as .NET loads it.</summary>
public sealed class PlainNativeTests
{
    public static TheoryData<string> Tests => CTestSuite.InMode("plain");

    [Theory]
    [MemberData(nameof(Tests))]
    public void Passes(string test) => CTestSuite.Run(test);
}

/// <summary>The C tests built with AddressSanitizer and UndefinedBehaviorSanitizer.</summary>
public sealed class SanitizerNativeTests
{
    public static TheoryData<string> Tests => CTestSuite.InMode("asan");

    [Theory]
    [MemberData(nameof(Tests))]
    public void Passes(string test) => CTestSuite.Run(test);
}

/// <summary>The C tests under valgrind memcheck (any error fails).</summary>
public sealed class ValgrindNativeTests
{
    public static TheoryData<string> Tests => CTestSuite.InMode("valgrind");

    [Theory]
    [MemberData(nameof(Tests))]
    public void Passes(string test) => CTestSuite.Run(test);
}
