using BenchmarkDotNet.Running;
using MasOrleans.Benchmarks;

// dotnet run -c Release --project tests/MasOrleans.Benchmarks -- --filter '*Kube*' --job short
// "quick paper <policy> [runs]" times whole paper experiments the same way; "quick learned <policy>" loops one policy's
// LearnedPolicyBenchmarks decisions (for a profiler); "quick learned <policy> cold" collects before each decision.
// "quick <policy> <nodes> [full]" prints a rough single figure without BenchmarkDotNet, for iterating.
if (args is ["quick", "learned", var learnedPolicy, ..] && args.Length <= 4 && (args.Length == 3 || args[3] == "cold"))
{
    QuickRun.Learned(learnedPolicy, afterCollection: args.Length == 4);
    return;
}
if (args is ["quick", "paper", var paperPolicy, ..])
{
    QuickRun.Paper(paperPolicy, args.Length > 3 ? int.Parse(args[3]) : 3);
    return;
}
if (args is ["quick", var policy, var nodes, ..])
{
    QuickRun.Run(policy, int.Parse(nodes), fullScan: args.Length > 3 && args[3] == "full");
    return;
}
// "count <policy> <nodes> <rounds> [full]" runs rounds x 1,000 decisions untimed, for valgrind instruction counts.
if (args is ["count", var countPolicy, var countNodes, var rounds, ..])
{
    InstructionCountRun.Run(countPolicy, int.Parse(countNodes), int.Parse(rounds), fullScan: args.Length > 4 && args[4] == "full");
    return;
}
// "e2e [--silos 1,2,3] [--pods N] [--nodes K] ...": real silos and redis-server, wrk POSTs, pods/s, latency, CPU and
// Redis writes per pod (docs/benchmarks.md).
if (args is ["e2e", ..])
{
    Environment.ExitCode = await MasOrleans.Benchmarks.EndToEnd.E2eRun.RunAsync(args[1..]);
    return;
}
// The e2e benchmark's fixed-rate generator, run by it as a child process (EndToEnd/FixedRateGenerator.cs).
if (args is [MasOrleans.Benchmarks.EndToEnd.FixedRateGenerator.Verb, ..])
{
    Environment.ExitCode = MasOrleans.Benchmarks.EndToEnd.FixedRateGenerator.RunChild(args[1..]);
    return;
}
// "online [--algo ddqn|ppo] [--episodes E] [--round R]": the silo's online learning replayed on the paper protocol.
if (args is ["online", ..])
{
    Environment.ExitCode = OnlineLearningRun.Run(args[1..]);
    return;
}
// "wake-cost": CPU of the same short work after a sleep against back to back, on this machine (WakeCostRun.cs).
if (args is ["wake-cost", ..])
{
    Environment.ExitCode = WakeCostRun.Run(args[1..]);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

public partial class Program;
