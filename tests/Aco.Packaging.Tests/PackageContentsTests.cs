using System.IO.Compression;
using System.Reflection.Metadata;
using System.Xml.Linq;

namespace Aco.Packaging.Tests;

/// <summary>What each package carries.</summary>
[Collection(PackedFeedCollection.Name)]
public sealed class PackageContentsTests(PackedFeed feed)
{
    private static readonly Guid EmbeddedSource = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");

    [Fact]
    public void Aco_Core_carries_the_headers_of_its_libaco_so_byte_for_byte()
    {
        using var zip = ZipFile.OpenRead(feed.Package("Aco.Core"));
        foreach (var header in Directory.GetFiles(Path.Combine(Build.RepoRoot, "native", "include"), "*.h"))
        {
            var entry = zip.GetEntry($"native/include/{Path.GetFileName(header)}");
            Assert.NotNull(entry);
            Assert.Equal(File.ReadAllBytes(header), Bytes(entry));
        }
        Assert.Equal(File.ReadAllBytes(Path.Combine(Build.NativeBuildDir, "libaco.so")), Bytes(zip.GetEntry("runtimes/linux-x64/native/libaco.so")!));
    }

    [Fact]
    public void Aco_Core_carries_build_targets_that_reach_transitive_references_and_a_cmake_config()
    {
        using var zip = ZipFile.OpenRead(feed.Package("Aco.Core"));
        var names = zip.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Superset(new HashSet<string>
        {
            "buildTransitive/Aco.Core.props", "buildTransitive/Aco.Core.targets", "buildTransitive/aco-cc.sh",
            "build/Aco.Core.props", "build/Aco.Core.targets",
            "native/cmake/AcoConfig.cmake", "native/cmake/AcoConfigVersion.cmake",
        }, names);
        var version = Nuspec(zip).Descendants().Single(e => e.Name.LocalName == "version").Value;
        Assert.Contains($"set(PACKAGE_VERSION \"{version}\")", Text(zip.GetEntry("native/cmake/AcoConfigVersion.cmake")!), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Aco.Core")]
    [InlineData("Aco.Scheduling")]
    [InlineData("Aco.Hosting")]
    public void Each_package_has_its_own_readme_real_metadata_and_symbols_with_embedded_sources(string id)
    {
        using (var zip = ZipFile.OpenRead(feed.Package(id)))
        {
            var readme = Text(zip.GetEntry("README.md")!);
            Assert.StartsWith($"# {id}", readme, StringComparison.Ordinal);
            var nuspec = Nuspec(zip).ToString();
            Assert.DoesNotContain("example.invalid", nuspec, StringComparison.Ordinal);
            Assert.Contains("<readme>README.md</readme>", nuspec, StringComparison.Ordinal);
        }

        var symbols = Path.ChangeExtension(feed.Package(id), ".snupkg");
        using var snupkg = ZipFile.OpenRead(symbols);
        var pdbEntry = snupkg.Entries.Single(e => e.FullName == $"lib/net10.0/{id}.pdb");
        using var pdb = MetadataReaderProvider.FromPortablePdbStream(new MemoryStream(Bytes(pdbEntry)));
        var reader = pdb.GetMetadataReader();
        var embedded = reader.CustomDebugInformation.Count(h => reader.GetGuid(reader.GetCustomDebugInformation(h).Kind) == EmbeddedSource);
        Assert.True(embedded > 0 && embedded >= reader.Documents.Count - 5, $"{id}.pdb embeds {embedded} of {reader.Documents.Count} source documents");
    }

    [Fact]
    public void Aco_Templates_is_a_template_package_with_the_worker_template()
    {
        using var zip = ZipFile.OpenRead(feed.Package("Aco.Templates"));
        Assert.Contains(zip.Entries, e => e.FullName == "content/AcoWorker/.template.config/template.json");
        Assert.Contains(zip.Entries, e => e.FullName == "content/AcoWorker/src/AcoWorker1/native/bodies.c");
        Assert.Contains(Nuspec(zip).Descendants(), e => e.Name.LocalName == "packageType" && (string?)e.Attribute("name") == "Template");
        Assert.DoesNotContain(zip.Entries, e => e.FullName.Contains("/bin/", StringComparison.Ordinal) || e.FullName.Contains("/obj/", StringComparison.Ordinal));
    }

    private static XDocument Nuspec(ZipArchive zip) =>
        XDocument.Parse(Text(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal))));

    private static string Text(ZipArchiveEntry entry)
    {
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    private static byte[] Bytes(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
