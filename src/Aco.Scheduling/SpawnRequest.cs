namespace Aco.Scheduling;

/// <summary>
/// A coroutine waiting for admission: a native one (<see cref="Entry"/>, <see cref="Argument"/>, its handle or null
/// when detached, and the token it was spawned with) or a managed one (<see cref="Target"/> is its
/// <see cref="ManagedCoroutine"/>).
/// </summary>
internal readonly record struct SpawnRequest(nint Entry, nint Argument, object? Target, CancellationToken Token = default);
