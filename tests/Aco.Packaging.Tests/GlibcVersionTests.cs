using System.Globalization;
using System.Text.RegularExpressions;

namespace Aco.Packaging.Tests;

/// <summary>libaco.so loads on glibc 2.28 (RHEL 8, Debian 10) and newer: it needs no newer symbol version.</summary>
public sealed partial class GlibcVersionTests
{
    private static readonly Version Oldest = new(2, 28);

    private static string X64Library => Path.Combine(Build.NativeBuildDir, "libaco.so");

    [Fact]
    public void The_x64_library_needs_no_glibc_version_newer_than_2_28() =>
        AssertLoadsOnOldGlibc(X64Library);

    [Fact]
    public void The_arm64_library_needs_no_glibc_version_newer_than_2_28_when_it_is_built()
    {
        var path = Path.Combine(Build.NativeAarch64BuildDir, "libaco.so");
        if (File.Exists(path))
        {
            AssertLoadsOnOldGlibc(path);
        }
    }

    [Fact]
    public void The_version_reader_agrees_with_objdump()
    {
        var fromObjdump = Tools().Ok("objdump", Path.GetTempPath(), TimeSpan.FromSeconds(30), "-p", X64Library);
        var expected = VersionLine().Matches(fromObjdump).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal);
        var read = ElfFile.Read(X64Library).VersionNeeds.Select(v => v.Version).Order(StringComparer.Ordinal);
        Assert.Equal(expected, read);
        Assert.Contains("GLIBC_2.2.5", read);
    }

    private static void AssertLoadsOnOldGlibc(string path)
    {
        var elf = ElfFile.Read(path);
        var tooNew = elf.VersionNeeds
            .Where(v => v.Version.StartsWith("GLIBC_", StringComparison.Ordinal) && Version.Parse(v.Version["GLIBC_".Length..]) > Oldest)
            .Select(v => $"{v.File}: {v.Version}")
            .ToList();
        Assert.True(tooNew.Count == 0, $"{path} needs glibc versions newer than {Oldest} (it would not load on RHEL 8 / Debian 10): {string.Join(", ", tooNew)}");
        // On glibc < 2.34 the pthread functions live in libpthread.so.0, not libc.so.6.
        Assert.Contains("libpthread.so.0", elf.Needed);
    }

    private static Tools Tools() => new(Path.GetTempPath(), Path.GetTempPath());

    // objdump -p: "    0x0d696914 0x00 03 GLIBC_2.14"
    [GeneratedRegex(@"0x[0-9a-f]+ 0x[0-9a-f]+ \d+ (\S+)", RegexOptions.CultureInvariant)]
    private static partial Regex VersionLine();
}
