using BenchmarkDotNet.Running;
using MasOrleans.Benchmarks;

// dotnet run -c Release --project tests/MasOrleans.Benchmarks -- --filter '*Kube*' --job short
// "quick <policy> <nodes> [full]" prints a rough single figure without BenchmarkDotNet, for iterating.
if (args is ["quick", var policy, var nodes, ..])
{
    QuickRun.Run(policy, int.Parse(nodes), fullScan: args.Length > 3 && args[3] == "full");
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

public partial class Program;
