using System.Diagnostics;
using Xunit.Abstractions;

namespace Aco.Packaging.Tests;

/// <summary>
/// A new user's path, with nothing from the repository but the packages: the template installed into a
/// private hive, a worker created from it, its C body built by the Aco.Core targets, run, tested,
/// published, and run from another folder.
/// </summary>
[Collection(PackedFeedCollection.Name)]
public sealed class WorkerTemplateTests(PackedFeed feed, ITestOutputHelper output)
{
    private static readonly TimeSpan Short = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(4);

    [Fact]
    public void A_worker_from_the_template_builds_its_c_body_runs_100k_coroutines_publishes_and_runs_from_another_folder()
    {
        var tools = feed.Tools;
        var work = Directory.CreateDirectory(Path.Combine(feed.Work, "template")).FullName;
        var watch = Stopwatch.StartNew();
        void Step(string what) => output.WriteLine($"{watch.Elapsed.TotalSeconds,6:F1} s  {what}");
        Step($"packed the feed in {feed.PackSeconds:F1} s");

        tools.Ok("dotnet", work, Short, "new", "install", feed.Package("Aco.Templates"));
        tools.Ok("dotnet", work, Short, "new", "aco-worker", "-o", "MyWorker");
        var solution = Path.Combine(work, "MyWorker");
        var project = Path.Combine(solution, "src", "MyWorker");
        Assert.True(File.Exists(Path.Combine(project, "native", "bodies.c")));
        Assert.Contains("AcoNativeBody", File.ReadAllText(Path.Combine(project, "MyWorker.csproj")), StringComparison.Ordinal);
        Step("template installed, worker created");

        tools.Ok("dotnet", solution, Long, "build", "src/MyWorker", "-c", "Release");
        var output1 = Path.Combine(project, "bin", "Release", "net10.0");
        Assert.True(File.Exists(Path.Combine(output1, "libMyWorker.bodies.so")), "the targets built the C body into the build output");
        Step("built (C body through the targets)");

        var run = tools.Ok("dotnet", solution, Short, Path.Combine(output1, "MyWorker.dll"), "--Worker:Count=100000");
        Assert.Contains("done: 100000 coroutines", run, StringComparison.Ordinal);
        Assert.Contains("(correct)", run, StringComparison.Ordinal);
        Step("ran 100,000 coroutines");

        var tested = tools.Ok("dotnet", solution, Long, "test", "-c", "Release");
        Assert.Contains("Passed!", tested, StringComparison.Ordinal);
        Step("the template's test project passed");

        var published = Path.Combine(work, "publish");
        tools.Ok("dotnet", solution, Long, "publish", "src/MyWorker", "-c", "Release", "--no-build", "-o", published);
        var elsewhere = Path.Combine(work, "elsewhere", "app");
        Directory.CreateDirectory(Path.GetDirectoryName(elsewhere)!);
        Directory.Move(published, elsewhere);
        Assert.True(File.Exists(Path.Combine(elsewhere, "libMyWorker.bodies.so")));
        Assert.True(File.Exists(Path.Combine(elsewhere, "runtimes", "linux-x64", "native", "libaco.so")));
        Step("published and moved");

        var fromAnotherFolder = tools.Ok(Path.Combine(elsewhere, "MyWorker"), work, Short, "--Worker:Count=20000");
        Assert.Contains("done: 20000 coroutines", fromAnotherFolder, StringComparison.Ordinal);
        Assert.Contains("(correct)", fromAnotherFolder, StringComparison.Ordinal);
        Step("ran the published app from another folder");

        // A library built carelessly (no -laco, no --no-undefined): an exception the app handles, not a dead process.
        var bad = Path.Combine(work, "bad");
        Directory.CreateDirectory(bad);
        File.WriteAllText(Path.Combine(bad, "bad.c"), "void missing_function(void);\nvoid job(void) { missing_function(); }\n");
        tools.Ok("cc", bad, Short, "-shared", "-fPIC", "bad.c", "-o", "libbad.so");
        var refused = tools.Run(Path.Combine(elsewhere, "MyWorker"), work, Short, $"--Worker:BodiesLibrary={Path.Combine(bad, "libbad.so")}");
        Assert.True(refused.ExitCode == 2, $"expected the worker's exit code for a refused library (2), got {refused.ExitCode}:\n{refused.Output}");
        Assert.Contains("AcoBodiesLoadException", refused.Output, StringComparison.Ordinal);
        Assert.Contains("'missing_function'", refused.Output, StringComparison.Ordinal);
        Step("a library with a missing symbol gave an exception");
    }
}
