using System.Reflection;

namespace Aco.Core.Tests;

/// <summary>Runs each example of samples/Aco.Samples as a user would and checks what it printed.</summary>
public sealed class SampleTests
{
    private static readonly string SamplesDll = typeof(SampleTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "AcoSamplesDll").Value!;

    [Theory]
    [InlineData("basic", "the coroutine has done 3 step(s), ended: True")]
    [InlineData("arguments", "result=42 (the product), ended: True")]
    [InlineData("multiple", "log of who ran: 1 2 3 1 2 3 1 2 3")]
    [InlineData("copy-stack", "coroutine b: save stack 4096 B (holds ")]
    [InlineData("state", "second resumed: first ended=False owns stack=False; second ended=False owns stack=True")]
    [InlineData("threads", "thread 2: 100 coroutines, 300 steps in all")]
    [InlineData("last-word", "the last-word handler ran (counter 101) and ended it: ended=True")]
    public void The_example_runs_and_prints_what_it_did(string example, string expected)
    {
        var output = Run(example);
        Assert.Contains($"== {example}:", output, StringComparison.Ordinal);
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.Contains("native counters at the end: 0 coroutines, 0 share stacks, 0 save-stack bytes", output, StringComparison.Ordinal);
    }

    private static string Run(string example)
    {
        Assert.True(File.Exists(SamplesDll), $"{SamplesDll} is missing: build the solution first.");
        return ChildProcess.Run("dotnet", null, SamplesDll, example);
    }
}
