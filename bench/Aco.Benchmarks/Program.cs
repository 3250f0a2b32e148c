using Aco.Benchmarks;
using BenchmarkDotNet.Running;

if (args is ["memory", ..])
{
    return MemoryRunner.Run(args.Skip(1).ToArray());
}
if (args is ["fairness", ..])
{
    return FairnessRunner.Run(args.Skip(1).ToArray());
}
if (args is ["liveness", ..])
{
    return LivenessRunner.Run(args.Skip(1).ToArray());
}
BenchmarkSwitcher.FromAssembly(typeof(Bodies).Assembly).Run(args);
return 0;
