namespace MasOrleans.Benchmarks;

/// <summary>
/// Runs a fixed number of decisions with no timing, for instruction counting under valgrind (load-independent):
/// run it with two decision counts and divide the difference in instructions by the difference in decisions,
/// so cluster setup and JIT cancel out.
/// </summary>
internal static class InstructionCountRun
{
    public static void Run(string policy, int nodes, int rounds, bool fullScan)
    {
        var bench = new KubeSchedulerBenchmarks { Nodes = nodes, Policy = policy, FullScan = fullScan };
        bench.Setup();
        var placed = 0;
        for (var i = 0; i < rounds; i++) placed += bench.Decide();
        Console.WriteLine($"{policy} nodes={nodes} fullScan={fullScan}: {rounds * 1000} decisions, {placed} placed");
    }
}
