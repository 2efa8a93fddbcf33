using BenchmarkDotNet.Attributes;

namespace MasOrleans.Benchmarks;

/// <summary>
/// FGD with its per-shape result cache against FGD computing every scored node afresh ("fgd/uncached", setting
/// fgdCache=off), with kube and random as same-run baselines: the decision benchmark of <see cref="KubeSchedulerBenchmarks"/>
/// (same clusters, pod stream and typical pods) at the sizes where the cache matters, kept apart so the slow uncached
/// cases do not multiply across every size of that benchmark.
/// </summary>
[MemoryDiagnoser]
public class FgdCacheBenchmarks
{
    [Params(1213, 5000)]
    public int Nodes { get; set; }

    [Params("random", "kube", "fgd", "fgd/uncached")]
    public string Policy { get; set; } = "";

    [Params(false, true)]
    public bool FullScan { get; set; }

    private KubeSchedulerBenchmarks _decisions = null!;

    [GlobalSetup]
    public void Setup()
    {
        _decisions = new KubeSchedulerBenchmarks { Nodes = Nodes, Policy = Policy, FullScan = FullScan };
        _decisions.Setup();
    }

    [Benchmark(OperationsPerInvoke = KubeSchedulerBenchmarks.Decisions)]
    public int Decide() => _decisions.Decide();
}
