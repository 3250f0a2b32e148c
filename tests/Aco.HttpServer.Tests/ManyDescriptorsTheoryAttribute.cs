namespace Aco.HttpServer.Tests;

/// <summary>
/// A theory that needs <c>descriptors</c> open descriptors in this process and as many in the server's: skipped,
/// with the reason, where <c>ulimit -n</c> is lower.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ManyDescriptorsTheoryAttribute : TheoryAttribute
{
    public ManyDescriptorsTheoryAttribute(int descriptors)
    {
        var limit = DescriptorLimit.Current();
        if (limit is null)
        {
            Skip = "The descriptor limit is read from /proc/self/limits (Linux).";
        }
        else if (limit < descriptors)
        {
            Skip = $"ulimit -n is {limit}; this test needs {descriptors} descriptors in the test and as many in the server (raise it with ulimit -n {descriptors}).";
        }
    }
}
