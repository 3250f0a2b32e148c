using System.Diagnostics;
using System.Reflection;

namespace Aco.Tests.Shared;

/// <summary>
/// Runs this assembly's xunit tests without a test host, for platforms where only the program itself
/// runs (a self-contained linux-arm64 publish under qemu-aarch64): each [Fact], and each [InlineData]
/// case of a [Theory], whose name contains one of the filters and none of the "!" ones; bounded; one "PASS name" or
/// "FAIL name: error" line each. The exit code is the number of failures.
/// </summary>
internal static class SelfTestRunner
{
    public static int Run(Assembly assembly, string[] filters, TimeSpan boundEach)
    {
        var failures = 0;
        var ran = 0;
        foreach (var type in assembly.GetTypes().Where(t => t.IsPublic && !t.IsAbstract).OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                var fact = method.GetCustomAttribute<FactAttribute>();
                if (fact is null || fact.Skip is not null)
                {
                    continue;
                }
                var cases = method.GetCustomAttributes<InlineDataAttribute>().SelectMany(d => d.GetData(method)).ToList();
                if (fact is TheoryAttribute && cases.Count == 0)
                {
                    continue; // MemberData theories are not run here
                }
                if (cases.Count == 0)
                {
                    cases.Add([]);
                }
                foreach (var args in cases)
                {
                    var name = args.Length == 0 ? $"{type.Name}.{method.Name}" : $"{type.Name}.{method.Name}({string.Join(", ", args)})";
                    var include = filters.Where(f => !f.StartsWith('!')).ToList();
                    if ((include.Count > 0 && !include.Any(f => name.Contains(f, StringComparison.Ordinal)))
                        || filters.Any(f => f.StartsWith('!') && name.Contains(f[1..], StringComparison.Ordinal)))
                    {
                        continue;
                    }
                    ran++;
                    var watch = Stopwatch.StartNew();
                    try
                    {
                        var instance = Activator.CreateInstance(type);
                        if (method.Invoke(instance, args) is Task task && !task.Wait(boundEach))
                        {
                            throw new TimeoutException($"did not end within {boundEach.TotalSeconds:F0} s");
                        }
                        (instance as IDisposable)?.Dispose();
                        Console.WriteLine($"PASS {name} ({watch.Elapsed.TotalSeconds:F1} s)");
                    }
                    catch (Exception e)
                    {
                        failures++;
                        var error = e is TargetInvocationException or AggregateException ? e.InnerException ?? e : e;
                        Console.WriteLine($"FAIL {name}: {error.GetType().Name}: {error.Message}".ReplaceLineEndings(" "));
                    }
                }
            }
        }
        Console.WriteLine($"selftest: {ran} run, {failures} failed");
        return failures;
    }
}
