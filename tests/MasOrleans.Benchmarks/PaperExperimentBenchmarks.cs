using BenchmarkDotNet.Attributes;
using MasOrleans.Learning.Search;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Traces;

namespace MasOrleans.Benchmarks;

/// <summary>
/// One whole FGD-paper experiment per invocation: openb default trace on its 1,213 GPU nodes, seed 42, tune 1.3
/// (about 10,800 arrivals; cluster build, typical pods, scheduling, binding and the fragmentation curve included),
/// exactly what `mas replay --mode paper` runs per policy and seed. "random" is the baseline in the same run;
/// "fgd/uncached" is fgd with its per-shape result cache off (setting fgdCache=off), the same-run baseline for the cache;
/// "fgd-ties", "fgd-learned" and "fgd-adaptive" are the search policies (src/MasOrleans.Learning/Search) with their default
/// settings.
/// </summary>
[MemoryDiagnoser]
public class PaperExperimentBenchmarks
{
    [Params("random", "best-fit", "fgd", "fgd/uncached", "fgd-ties", "fgd-learned", "fgd-adaptive")]
    public string Policy { get; set; } = "";

    private IReadOnlyList<NodeSpec> _nodes = [];
    private IReadOnlyList<TracePod> _pods = [];
    private readonly ReplayRunner _runner = new(CatalogWithSearchPolicies());

    private static PolicyCatalog CatalogWithSearchPolicies()
    {
        var catalog = PolicyCatalog.CreateDefault();
        SearchPolicies.Register(catalog);
        return catalog;
    }

    [GlobalSetup]
    public void Setup()
    {
        var traces = Path.Combine(RepoRoot(), "data", "traces", "openb");
        _nodes = TraceLoader.LoadNodes(Path.Combine(traces, "openb_node_list_gpu_node.csv"));
        _pods = TraceLoader.LoadPods(Path.Combine(traces, "openb_pod_list_default.csv")).Pods;
    }

    [Benchmark]
    public double? Experiment() => _runner.Run(_nodes, _pods, PolicyName, seed: 42, Settings).AllocAt130;

    private string PolicyName => Policy.Split('/')[0];

    private ReplaySettings Settings => Policy.EndsWith(KubeSchedulerBenchmarks.UncachedSuffix, StringComparison.Ordinal)
        ? new ReplaySettings { PolicySettings = new Dictionary<string, string> { ["fgdCache"] = "off" } }
        : new ReplaySettings();

    /// <summary>BenchmarkDotNet runs from a generated folder under bin/, so walk up to the repository root.</summary>
    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "MasOrleans.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root (MasOrleans.sln) not found above " + AppContext.BaseDirectory);
    }
}
