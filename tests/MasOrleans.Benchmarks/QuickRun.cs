using System.Diagnostics;

namespace MasOrleans.Benchmarks;

internal static class QuickRun
{
    public static void Run(string policy, int nodes, bool fullScan)
    {
        var bench = new KubeSchedulerBenchmarks { Nodes = nodes, Policy = policy, FullScan = fullScan };
        bench.Setup();
        for (var i = 0; i < 3; i++) bench.Decide(); // warm up the JIT
        var watch = Stopwatch.StartNew();
        var rounds = 0;
        while (watch.Elapsed < TimeSpan.FromSeconds(3)) { bench.Decide(); rounds++; }
        Console.WriteLine(bench.Describe());
        Console.WriteLine($"{policy} nodes={nodes} fullScan={fullScan}: {rounds * 1000 / watch.Elapsed.TotalSeconds:N0} decisions/s");
    }

    /// <summary>"quick learned &lt;policy&gt;": LearnedPolicyBenchmarks' decisions in a loop for 5 s (for a profiler), decisions/s.</summary>
    /// <param name="afterCollection">Force a full collection before every decision and time only the decision, as
    /// BenchmarkDotNet's per-decision job does (it collects before each iteration): decisions with cold caches.</param>
    public static void Learned(string policy, bool afterCollection = false)
    {
        var bench = new LearnedPolicyBenchmarks { Policy = policy };
        bench.Setup();
        for (var i = 0; i < 200; i++) bench.Decision();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        var rounds = 0;
        long decisionTicks = 0;
        while (watch.Elapsed < TimeSpan.FromSeconds(5))
        {
            if (afterCollection) { GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect(); }
            var started = Stopwatch.GetTimestamp();
            bench.Decision();
            decisionTicks += Stopwatch.GetTimestamp() - started;
            rounds++;
        }
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        // CPU time as well: on a shared machine the wall clock also counts the time other processes ran.
        var perDecision = decisionTicks * 1e6 / Stopwatch.Frequency / rounds;
        Console.WriteLine(afterCollection
            ? $"{policy} (1,213 nodes, 80% full, full collection before each): {perDecision:F2} µs per decision (mean of {rounds:N0})"
            : $"{policy} (1,213 nodes, 80% full): {rounds / watch.Elapsed.TotalSeconds:N0} decisions/s, {cpu.TotalMicroseconds / rounds:F2} µs CPU per decision, {(GC.GetAllocatedBytesForCurrentThread() - allocated) / rounds:N0} bytes allocated per decision");
    }

    /// <summary>"quick paper &lt;policy&gt; [runs]": paper experiments after two warm-ups (the JIT's tiers), for iterating.</summary>
    public static void Paper(string policy, int runs)
    {
        var bench = new PaperExperimentBenchmarks { Policy = policy };
        bench.Setup();
        for (var i = 0; i < 2; i++) bench.Experiment();
        for (var i = 0; i < runs; i++)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var watch = Stopwatch.StartNew();
            var alloc = bench.Experiment();
            cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            // CPU time as well: on a shared machine the wall clock mostly measures the other processes.
            Console.WriteLine($"{policy} paper experiment: {watch.Elapsed.TotalMilliseconds:N0} ms ({cpu.TotalMilliseconds:N0} ms CPU), GPU allocation at 130% {alloc:F2}");
        }
    }
}
