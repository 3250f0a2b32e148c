namespace Aco.Scheduling;

/// <summary>The result type of a managed coroutine without a result.</summary>
internal readonly struct VoidResult;
