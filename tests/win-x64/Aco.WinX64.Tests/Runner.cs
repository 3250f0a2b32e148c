// Aco.WinX64.Tests CLASS... [--skip TEST=REASON]...: runs the [Fact] tests of the named test
// classes (by simple name; a skipped test by its method name) the
// way xunit would for these classes: a new instance per test, IAsyncLifetime and IDisposable /
// IAsyncDisposable honoured, async tests awaited; prints "PASS" or "FAIL" per test and exits
// with the number of failures. [Theory] tests are not run (these classes have none).
using System.Reflection;
using System.Runtime.ExceptionServices;

using Xunit.Abstractions;

namespace Aco.WinX64.Tests;

internal static class Runner
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    private static async Task<int> Main(string[] args)
    {
        var skips = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--skip" && i + 1 < args.Length && args[++i].Split('=', 2) is [var test, var reason])
            {
                skips[test] = reason;
            }
            else
            {
                names.Add(args[i]);
            }
        }
        var classes = typeof(Runner).Assembly.GetTypes()
            .Where(t => t.IsPublic && names.Contains(t.Name))
            .ToList();
        var unknown = names.Except(classes.Select(c => c.Name)).ToList();
        if (unknown.Count > 0 || classes.Count == 0)
        {
            Console.WriteLine($"FAIL unknown test classes: {string.Join(", ", unknown)}");
            return 100;
        }
        var failures = 0;
        foreach (var type in classes)
        {
            foreach (var method in type.GetMethods().Where(m => m.GetCustomAttribute<FactAttribute>() is { } f && f is not TheoryAttribute))
            {
                var name = $"{type.Name}.{method.Name}";
                if (method.GetCustomAttribute<FactAttribute>()!.Skip is { } skip || skips.TryGetValue(method.Name, out skip))
                {
                    Console.WriteLine($"SKIP {name}: {skip}");
                    continue;
                }
                try
                {
                    await RunOne(type, method).WaitAsync(Bound);
                    Console.WriteLine($"PASS {name}");
                }
                catch (Exception e)
                {
                    failures++;
                    Console.WriteLine($"FAIL {name}: {e}");
                }
            }
        }
        return failures;
    }

    private static async Task RunOne(Type type, MethodInfo method)
    {
        var ctor = type.GetConstructors().Single();
        var arguments = ctor.GetParameters()
            .Select(p => p.ParameterType == typeof(ITestOutputHelper) ? new ConsoleOutput() : throw new NotSupportedException($"constructor parameter {p.ParameterType}"))
            .ToArray<object>();
        var instance = ctor.Invoke(arguments);
        try
        {
            if (instance is IAsyncLifetime lifetime)
            {
                await lifetime.InitializeAsync();
            }
            object? result;
            try
            {
                result = method.Invoke(instance, null);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                ExceptionDispatchInfo.Capture(e.InnerException).Throw();
                throw;
            }
            if (result is Task task)
            {
                await task;
            }
            else if (result is ValueTask valueTask)
            {
                await valueTask;
            }
            if (instance is IAsyncLifetime done)
            {
                await done.DisposeAsync();
            }
        }
        finally
        {
            if (instance is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else if (instance is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }
    }

    private sealed class ConsoleOutput : ITestOutputHelper
    {
        public void WriteLine(string message) => Console.WriteLine("  " + message);

        public void WriteLine(string format, params object[] args) => Console.WriteLine("  " + string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
    }
}
