using Aco.Core;

namespace Aco.Scheduling;

/// <summary>One native coroutine in a snapshot.</summary>
/// <param name="Id">Its handle's id (0 for a detached coroutine).</param>
/// <param name="State">Ready or waiting.</param>
/// <param name="StackIndex">Which share stack of the pool it runs on.</param>
/// <param name="SaveStack">Its save-stack statistics.</param>
/// <param name="StackHighWaterMark">The deepest stack it used at a suspension point.</param>
/// <param name="PendingRequest">The request it waits on (Sleep, Call, Send, Receive, Await, YieldValue, WaitRead, WaitWrite, WaitAny), if waiting.</param>
public sealed record AcoCoroutineInfo(long Id, AcoCoroutineState State, int StackIndex, AcoSaveStackStats SaveStack, long StackHighWaterMark, string? PendingRequest);
