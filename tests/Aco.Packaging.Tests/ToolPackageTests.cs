using System.IO.Compression;
using System.Xml.Linq;

namespace Aco.Packaging.Tests;

/// <summary>Aco.Tools as a user gets it: a .NET tool package, installed from the folder feed and run.</summary>
[Collection(PackedFeedCollection.Name)]
public sealed class ToolPackageTests(PackedFeed feed)
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact]
    public void Aco_Tools_is_a_dotnet_tool_package_with_the_dotnet_aco_command_and_its_readme()
    {
        using var zip = ZipFile.OpenRead(feed.Package("Aco.Tools"));
        var nuspec = XDocument.Load(zip.GetEntry("Aco.Tools.nuspec")!.Open());
        Assert.Contains(nuspec.Descendants(), e => e.Name.LocalName == "packageType" && (string?)e.Attribute("name") == "DotnetTool");
        var settings = XDocument.Load(zip.Entries.Single(e => e.FullName.StartsWith("tools/net10.0/", StringComparison.Ordinal) && e.Name == "DotnetToolSettings.xml").Open());
        Assert.Equal("dotnet-aco", (string?)settings.Descendants().Single(e => e.Name.LocalName == "Command").Attribute("Name"));
        using var readme = new StreamReader(zip.GetEntry("README.md")!.Open());
        Assert.StartsWith("# Aco.Tools", readme.ReadToEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void Aco_Tools_installs_from_the_folder_feed_and_dotnet_aco_runs()
    {
        var tools = feed.Tools;
        var work = Directory.CreateDirectory(Path.Combine(feed.Work, "tool")).FullName;
        var toolPath = Path.Combine(work, "bin");
        tools.Ok("dotnet", work, Bound, "tool", "install", "Aco.Tools", "--tool-path", toolPath, "--configfile", Path.Combine(feed.Work, "nuget.config"));
        var command = Path.Combine(toolPath, OperatingSystem.IsWindows() ? "dotnet-aco.exe" : "dotnet-aco");
        Assert.Contains("Usage: dotnet aco dump --process-id", tools.Ok(command, work, Bound, "--help"), StringComparison.Ordinal);
        var missing = tools.Run(command, work, Bound, "dump", "-p", "2147483646");
        Assert.True(missing.ExitCode == 1, missing.Output);
        Assert.Contains("No process with id 2147483646", missing.StandardError, StringComparison.Ordinal);
    }
}
