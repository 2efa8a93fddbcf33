using BenchmarkDotNet.Attributes;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;

namespace MasOrleans.Benchmarks;

/// <summary>
/// Scheduling decisions per second (one filter + score cycle, nothing bound, so every decision sees the same
/// cluster). "random" is the baseline measured in the same run; FullScan scores every feasible node
/// (percentageOfNodesToScore 100) instead of kube-scheduler's adaptive sample. "kube/reference" is kube through
/// ProfileScheduler's reference mode (every filter on every node, one Score call per node): the straightforward
/// path the fast paths must match, as a same-run baseline for them. A "/uncached" suffix turns fgd's per-shape result
/// cache off (setting fgdCache=off: every scored node's fragmentation computed afresh); <see cref="FgdCacheBenchmarks"/> runs it.
/// </summary>
[MemoryDiagnoser]
public class KubeSchedulerBenchmarks
{
    public const int Decisions = 1000;

    [Params(1213, 5000, 10000)]
    public int Nodes { get; set; }

    public const string ReferenceSuffix = "/reference";
    public const string UncachedSuffix = "/uncached";

    [Params("kube", "kube/reference", "kube-plus", "random", "fgd", "best-fit")]
    public string Policy { get; set; } = "";

    [Params(false, true)]
    public bool FullScan { get; set; }

    private ClusterState _cluster = null!;
    private PodSpec[] _pods = [];
    private ProfileScheduler _scheduler = null!;
    private Random _random = null!;

    [GlobalSetup]
    public void Setup()
    {
        _cluster = SyntheticCluster.Create(Nodes, seed: 1);
        _pods = SyntheticCluster.Pods(Decisions, seed: 2);
        // FGD needs the workload's typical pod shapes; without them it degenerates to a random feasible node.
        var reference = Policy.EndsWith(ReferenceSuffix, StringComparison.Ordinal);
        var uncached = Policy.EndsWith(UncachedSuffix, StringComparison.Ordinal);
        var options = new PolicyOptions
        {
            PercentageOfNodesToScore = FullScan ? 100 : 0,
            TypicalPods = TypicalPods.From(_pods),
            Settings = uncached ? new Dictionary<string, string> { ["fgdCache"] = "off" } : new Dictionary<string, string>(),
        };
        var policy = reference ? Policy[..^ReferenceSuffix.Length] : uncached ? Policy[..^UncachedSuffix.Length] : Policy;
        var profile = PolicyCatalog.CreateDefault().Create(policy, options);
        _scheduler = new ProfileScheduler(profile, fastPaths: !reference);
        _random = new Random(3);
    }

    /// <summary>How the pod stream fares on this cluster, for the docs: placed share and nodes evaluated per decision.</summary>
    public string Describe()
    {
        var results = _pods.Select(p => _scheduler.Schedule(_cluster, p, _random)).ToList();
        return $"placed {results.Count(r => r.Success)}/{results.Count}, mean nodes evaluated {results.Average(r => r.EvaluatedNodes):N0}, mean feasible found {results.Average(r => r.FeasibleNodes):N0}";
    }

    [Benchmark(OperationsPerInvoke = Decisions)]
    public int Decide()
    {
        var placed = 0;
        foreach (var pod in _pods)
            if (_scheduler.Schedule(_cluster, pod, _random).Success) placed++;
        return placed;
    }
}
