using MasOrleans.Learning.Search;
using MasOrleans.Learning.Workloads;
using MasOrleans.Learning.Tests.Support;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Scheduling.Traces;
using MasOrleans.Scheduling;

namespace MasOrleans.Learning.Tests.Search;

public class SearchPolicyTests
{
    private static PolicyCatalog Catalog()
    {
        var catalog = PolicyCatalog.CreateDefault();
        SearchPolicies.Register(catalog);
        return catalog;
    }

    /// <summary>Node names chosen for the paper arrivals of the synthetic trace, in order (null = failed), on a seeded tie-break order.</summary>
    private static List<string?> Decisions(string policy, IReadOnlyDictionary<string, string> settings, int seed)
    {
        var trace = SyntheticPaperCluster.Pods(160);
        var profile = Catalog().Create(policy, new PolicyOptions { TypicalPods = TypicalPods.From(trace), Settings = settings });
        var scheduler = new ProfileScheduler(profile);
        var cluster = ClusterState.Of(SyntheticPaperCluster.Nodes());
        var random = new Random(seed);
        var arrivals = PaperArrivals.Build(trace, cluster.GpuDeviceTotal * 1000L, 1.3, random);
        cluster.SetTieBreakRank(SimulatorNodeNames.TieBreakRank(cluster.Nodes.Select(n => n.Name).ToList(), random));
        var decisions = new List<string?>();
        foreach (var pod in arrivals)
        {
            var result = scheduler.Schedule(cluster, pod, random);
            if (result.Success) Assert.True(cluster.TryBind(result.Node, pod, result.Gpus));
            decisions.Add(result.Success ? result.NodeName : null);
        }
        return decisions;
    }

    private static Dictionary<string, string> Set(params (string Key, string Value)[] pairs) => pairs.ToDictionary(p => p.Key, p => p.Value);

    [Theory]
    [InlineData(3)]
    [InlineData(11)]
    public void Lookahead_with_gamma_zero_and_unit_weights_decide_exactly_as_fgd(int seed)
    {
        var fgd = Decisions("fgd", Set(), seed);
        Assert.Contains(null, fgd); // the run reaches saturation, so failures are compared too
        Assert.Equal(fgd, Decisions(SearchPolicies.Lookahead, Set(("gamma", "0"), ("k", "8")), seed));
        Assert.Equal(fgd, Decisions(SearchPolicies.Weighted, Set(("w.shared", "1"), ("w.power", "0"), ("w.cpu", "1"), ("w.multi", "1")), seed));
    }

    [Fact]
    public void Lookahead_and_reweighting_change_decisions_and_repeat_them_per_seed()
    {
        var fgd = Decisions("fgd", Set(), 5);
        var lookahead = Decisions(SearchPolicies.Lookahead, Set(("gamma", "20"), ("k", "16")), 5);
        Assert.Equal(lookahead, Decisions(SearchPolicies.Lookahead, Set(("gamma", "20"), ("k", "16")), 5));
        Assert.NotEqual(fgd, lookahead);
        var weighted = Decisions(SearchPolicies.Weighted, Set(), 5);
        Assert.Equal(weighted, Decisions(SearchPolicies.Weighted, Set(), 5));
        Assert.NotEqual(fgd, weighted);
    }

    [Fact]
    public void Weights_scale_each_kind_of_typical_pod_and_renormalize()
    {
        TypicalPod T(long cpu, int milli, int count, double p) => new(new PodShape(cpu, milli, count, ""), p);
        var typical = new[] { T(1000, 0, 0, 0.2), T(2000, 500, 1, 0.3), T(4000, 1000, 1, 0.4), T(8000, 1000, 2, 0.1) };
        var weights = new TypicalPodWeights { CpuOnly = 0.5, Shared = 2, SharePower = 1, MultiGpu = 3 };
        // Factors: CPU-only 0.5; share 2 * (500/1000)^1 = 1; whole one GPU 1; two GPUs 3.
        // Unnormalized 0.1, 0.3, 0.4, 0.3 (sum 1.1), so 1/11, 3/11, 4/11, 3/11.
        var p = weights.Apply(typical).Select(t => t.Probability).ToArray();
        Assert.Equal(new[] { 1 / 11.0, 3 / 11.0, 4 / 11.0, 3 / 11.0 }, p, (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(typical.Select(t => t.Probability), new TypicalPodWeights().Apply(typical).Select(t => t.Probability));
    }

    [Fact]
    public void Bad_settings_are_named()
    {
        var options = new PolicyOptions { TypicalPods = TypicalPods.From(SyntheticPaperCluster.Pods()), Settings = Set(("k", "0")) };
        Assert.Contains("k must be", Assert.Throws<UserArgumentException>(() => Catalog().Create(SearchPolicies.Lookahead, options)).Message);
        Assert.Contains("w.cpu", Assert.Throws<UserArgumentException>(() => Catalog().Create(SearchPolicies.Weighted, options with { Settings = Set(("w.cpu", "-1")) })).Message);
    }

    [Fact]
    public void Comparison_pairs_seeds_and_reports_gains_on_a_variant()
    {
        var trace = SyntheticPaperCluster.Pods(120).Select(p => new MasOrleans.Scheduling.Traces.TracePod(p)).ToList();
        var workloads = new[] { new Workload("synthetic", "trace", trace) };
        var rows = new PolicyComparison(Catalog(), new ReplaySettings(), parallelism: 2)
            .Compare(SyntheticPaperCluster.Nodes(), workloads, "fgd", ["fgd", "best-fit"], [1, 2]);
        Assert.Equal(2, rows.Count);
        Assert.All(rows[0].Gains, g => Assert.Equal(0, g)); // fgd against itself, same seeds: identical runs
        Assert.Equal(rows[1].Candidate.Alloc.Zip(rows[1].Baseline.Alloc, (c, b) => c - b), rows[1].Gains);
    }
}

public class IdleBreakdownTests
{
    [Fact]
    public void The_breakdown_replays_exactly_what_the_replay_tool_measures()
    {
        var nodes = SyntheticPaperCluster.Nodes();
        var trace = SyntheticPaperCluster.Pods(160);
        var catalog = PolicyCatalog.CreateDefault();
        var replayed = new ReplayRunner(catalog).Run(nodes, trace.Select(p => new MasOrleans.Scheduling.Traces.TracePod(p)).ToList(), "fgd", 7, new ReplaySettings());
        var idle = IdleBreakdown.Measure(catalog, nodes, trace, "fgd", 7, new ReplaySettings());
        Assert.Equal(replayed.AllocAt130!.Value, idle.AllocPercent, 9);
        // Every idle milli is on a whole free device or in one bucket of a partly used one.
        Assert.Equal(idle.IdleGpus, idle.WholeDevices + idle.PartialByLeftMilli.Values.Sum(), 9);
        Assert.Equal(replayed.FailedPods > 0, idle.FirstFailure >= 0);
    }

    [Fact]
    public void Whole_devices_on_a_node_without_a_core_free_count_as_stranded_for_want_of_cpu()
    {
        // a: 4 cores, 2 GPUs, a CPU-only pod of 3.5 cores leaves 0.5 core; b: 8 cores, 1 GPU, empty.
        var a = NodeGenerator.Generate("gen:count=1,cpu=4,memory=16Gi,gpu=2,model=T4,prefix=a")[0];
        var b = NodeGenerator.Generate("gen:count=1,cpu=8,memory=16Gi,gpu=1,model=T4,prefix=b")[0];
        var cluster = ClusterState.Of([a, b]);
        Assert.True(cluster.TryBind(0, new PodSpec { Name = "cpu", Requests = ResourceVector.Of(cpuMilli: 3500, memoryBytes: 1L << 30) }, GpuAllocation.None));

        var idle = IdleBreakdown.Of(cluster, capacity: 3000, firstFailure: -1, arrivals: 1);

        Assert.Equal(3, idle.WholeDevices, 9);
        Assert.Equal(2, idle.WholeDevicesWithoutCpu, 9); // a's two devices; b has 8 cores free
        Assert.Equal(100.0 * 3.5 / 12, idle.CpuAllocPercent, 9);
        Assert.Contains("(2 of them on nodes with under one core free; cluster CPU 29.2% allocated)", idle.ToString());
    }
}
