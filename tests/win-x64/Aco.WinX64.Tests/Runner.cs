// Aco.WinX64.Tests CLASS... [--skip TEST=REASON]...: runs the [Fact] tests of the named test
// classes (by simple name; a skipped test by its method name) the
// way xunit would for these classes: a new instance per test, IAsyncLifetime and IDisposable /
// IAsyncDisposable honoured, async tests awaited, a [Theory] once per [InlineData]; prints "PASS"
// or "FAIL" per test and exits with the number of failures. Other theory data is not supported:
// such a theory is reported as not run.
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
            foreach (var method in type.GetMethods().Where(m => m.GetCustomAttribute<FactAttribute>() is not null))
            {
                if (method.GetCustomAttribute<FactAttribute>()!.Skip is { } skip || skips.TryGetValue(method.Name, out skip))
                {
                    Console.WriteLine($"SKIP {type.Name}.{method.Name}: {skip}");
                    continue;
                }
                var cases = method.GetCustomAttribute<TheoryAttribute>() is null
                    ? [[]]
                    : method.GetCustomAttributes<InlineDataAttribute>().SelectMany(d => d.GetData(method)).ToList();
                if (cases.Count == 0)
                {
                    Console.WriteLine($"NOT RUN {type.Name}.{method.Name}: only [InlineData] theories are supported");
                }
                foreach (var data in cases)
                {
                    var name = $"{type.Name}.{method.Name}" + (data.Length == 0 ? "" : $"({string.Join(", ", data)})");
                    try
                    {
                        await RunOne(type, method, Convert(method, data)).WaitAsync(Bound);
                        Console.WriteLine($"PASS {name}");
                    }
                    catch (Exception e)
                    {
                        failures++;
                        Console.WriteLine($"FAIL {name}: {e}");
                    }
                }
            }
        }
        return failures;
    }

    /// <summary>InlineData values as the parameters' types (xunit converts numbers the same way).</summary>
    private static object?[] Convert(MethodInfo method, object?[] data) =>
        method.GetParameters()
            .Select((p, i) => data[i] is { } v && v.GetType() != p.ParameterType && v is IConvertible
                ? System.Convert.ChangeType(v, Nullable.GetUnderlyingType(p.ParameterType) ?? p.ParameterType, System.Globalization.CultureInfo.InvariantCulture)
                : data[i])
            .ToArray();

    private static async Task RunOne(Type type, MethodInfo method, object?[] arguments)
    {
        var ctor = type.GetConstructors().Single();
        var ctorArguments = ctor.GetParameters()
            .Select(p => p.ParameterType == typeof(ITestOutputHelper) ? new ConsoleOutput() : throw new NotSupportedException($"constructor parameter {p.ParameterType}"))
            .ToArray<object>();
        var instance = ctor.Invoke(ctorArguments);
        try
        {
            if (instance is IAsyncLifetime lifetime)
            {
                await lifetime.InitializeAsync();
            }
            object? result;
            try
            {
                result = method.Invoke(instance, arguments.Length == 0 ? null : arguments);
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
