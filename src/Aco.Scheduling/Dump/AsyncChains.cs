using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Aco.Scheduling;

/// <summary>
/// The async methods a managed coroutine is suspended in, as far as .NET exposes them: its body's task is the box
/// of its async method (AsyncStateMachineBox), whose state machine holds the awaiter it is suspended on; when that
/// awaiter's task is another async method's box, the chain goes on there. Read by reflection over the compiler's
/// and the runtime's own fields, cached per type; anything it does not recognize ends the chain.
/// </summary>
[UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Diagnostics only: a trimmed field ends the chain early.")]
[UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "Diagnostics only: a trimmed field ends the chain early.")]
internal static class AsyncChains
{
    private const int MaxDepth = 64;

    private static readonly ConcurrentDictionary<Type, BoxShape?> s_boxes = new();

    /// <summary>What a state-machine box type looks like: where its state machine is, and the method it runs.</summary>
    private sealed record BoxShape(FieldInfo StateMachine, FieldInfo[] Awaiters, string Method, string Module);

    /// <summary>Frames innermost first: the deepest async method first, the body last; then what the innermost one awaits.</summary>
    public static AcoStackFrame[] Describe(Task body)
    {
        var chain = new List<AcoStackFrame>();
        object? current = body;
        string? awaited = null;
        for (var depth = 0; depth < MaxDepth && current is not null; depth++)
        {
            if (current is not Task task || task.IsCompleted || Shape(task.GetType()) is not { } shape)
            {
                awaited = Describe(current);
                break;
            }
            chain.Add(new AcoStackFrame(0, shape.Module, shape.Method, 0, null, 0));
            var machine = shape.StateMachine.GetValue(task);
            current = null;
            if (machine is null)
            {
                break;
            }
            foreach (var field in shape.Awaiters)
            {
                if (Awaited(field.GetValue(machine)) is { } next)
                {
                    current = next;
                    break;
                }
            }
        }
        if (awaited is not null)
        {
            chain.Add(new AcoStackFrame(0, null, "awaits " + awaited, 0, null, 0));
        }
        chain.Reverse();
        return [.. chain];
    }

    private static string Describe(object awaited) =>
        awaited.GetType().Name.Contains("DelayPromise", StringComparison.Ordinal) ? "Task.Delay" : TypeName(awaited.GetType());

    /// <summary>
    /// The task (or value-task source) an awaiter waits on, or null for a default (unused) awaiter: TaskAwaiter and
    /// ConfiguredTaskAwaiter keep it in m_task; ValueTaskAwaiter and ConfiguredValueTaskAwaiter keep a ValueTask in
    /// _value, whose _obj is it.
    /// </summary>
    private static object? Awaited(object? awaiter)
    {
        if (awaiter is null)
        {
            return null;
        }
        var type = awaiter.GetType();
        if (type.GetField("m_task", Flags)?.GetValue(awaiter) is { } task)
        {
            return task;
        }
        return type.GetField("_value", Flags)?.GetValue(awaiter) is { } value ? value.GetType().GetField("_obj", Flags)?.GetValue(value) : null;
    }

    private const BindingFlags Flags = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    private static BoxShape? Shape(Type type) => s_boxes.GetOrAdd(type, static t =>
    {
        var field = t.GetField("StateMachine", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        if (field is null || !typeof(IAsyncStateMachine).IsAssignableFrom(field.FieldType))
        {
            return null;
        }
        var machine = field.FieldType;
        var awaiters = machine.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Where(f => f.Name.StartsWith("<>u__", StringComparison.Ordinal))
            .ToArray();
        return new BoxShape(field, awaiters, MethodName(machine), machine.Assembly.GetName().Name ?? "");
    });

    /// <summary>"Namespace.Type.Method" from a state machine type "&lt;Method&gt;d__3" nested in its declaring type.</summary>
    private static string MethodName(Type machine)
    {
        var name = machine.Name;
        var method = name.StartsWith('<') && name.IndexOf('>', StringComparison.Ordinal) is > 1 and var close ? name[1..close] : name;
        return machine.DeclaringType is { } declaring ? $"{TypeName(declaring)}.{method}" : method;
    }

    private static string TypeName(Type type)
    {
        var name = type.FullName ?? type.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        return (tick > 0 ? name[..tick] : name).Replace('+', '.');
    }
}
