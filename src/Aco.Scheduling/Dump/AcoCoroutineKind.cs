namespace Aco.Scheduling;

/// <summary>What a coroutine in a dump is.</summary>
public enum AcoCoroutineKind
{
    /// <summary>A native coroutine (a C ABI body on a share stack).</summary>
    Native,

    /// <summary>A managed coroutine (a C# async body run by the scheduler).</summary>
    Managed,
}
