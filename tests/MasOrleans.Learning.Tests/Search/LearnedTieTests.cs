using MasOrleans.Learning.Search;
using MasOrleans.Learning.Workloads;
using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Fragmentation;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Replay;
using MasOrleans.Scheduling.Traces;

using static MasOrleans.Learning.Tests.Search.SearchTestPods;
using MasOrleans.Scheduling;

namespace MasOrleans.Learning.Tests.Search;

public class LearnedTieTests
{
    // Whole-GPU typical pods with 1 CPU: any model (p 0.75) and A10 or V100 only (p 0.25).
    private static readonly TypicalPod[] Typical =
        [new(new PodShape(1000, 1000, 1, ""), 0.75), new(new PodShape(1000, 1000, 1, "A10|V100"), 0.25)];

    /// <summary>Two 64-CPU, 256 GiB nodes (n0, n1) with two A10s each; n1 hosts a 4-CPU pod on half of device 0.</summary>
    private static ClusterState TwoNodes()
    {
        var cluster = ClusterState.Of(NodeGenerator.Generate("gen:count=2,cpu=64,memory=256Gi,gpu=2,model=A10,prefix=n"));
        Assert.True(cluster.TryBind(1, Pod("half", 4000, 500), new GpuAllocation([0], 500)));
        return cluster;
    }

    private static double[] FeaturesOf(ClusterState cluster, int node, PodSpec pod)
    {
        var into = new double[TieFeatures.Count];
        new TieFeatures(Typical).Compute(cluster, node, pod, into);
        return into;
    }

    [Fact]
    public void Features_of_a_node_for_a_cpu_pod_by_hand()
    {
        var cluster = TwoNodes();
        var pod = Pod("cpu", 8000, 0); // 8 CPUs, 1 GiB
        // The typical GPU pods ask 1000 CPU per 1000 GPU milli: 1 CPU milli per GPU milli.
        // n1: a pod, 1500 of 2000 GPU milli idle, CPU left (64000 - 4000 - 8000) / 64000 = 0.8125, memory left 254 / 256,
        //     device 1 whole and device 0 partly used, surplus (52000 - 1500 x 1) / 64000 = 0.7890625, and the A10 is accepted
        //     by the constrained typical pod: 0.25 of the typical GPU pods' frequency.
        Assert.Equal([1, 0, 0.75, 0.8125, 254 / 256.0, 0.5, 0.5, 0.7890625, 0, 0.25], FeaturesOf(cluster, 1, pod));
        // n0: empty, 2000 idle, CPU left 56000 / 64000, memory 255 / 256, both devices whole, surplus (56000 - 2000) / 64000.
        Assert.Equal([0, 0, 1, 0.875, 255 / 256.0, 1, 0, 0.84375, 0, 0.25], FeaturesOf(cluster, 0, pod));
        // (tightest-fit is 0: the pod is not a shared GPU pod.)
    }

    [Fact]
    public void Setting_names_follow_the_features_in_order()
    {
        // "NoIdleGpu" -> "no-idle-gpu": the setting names are the enum's names in kebab case, at the enum's positions.
        var kebab = Enum.GetNames<TieFeature>().Select(n => string.Concat(n.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString())));
        Assert.Equal(kebab, TieFeatures.Names);
        Assert.Equal(Enum.GetValues<TieFeature>().Select(f => (int)f), Enumerable.Range(0, TieFeatures.Count));
    }

    [Fact]
    public void A_gpu_pods_features_count_what_it_leaves()
    {
        var cluster = TwoNodes();
        var pod = Pod("gpu", 2000, 1000); // a whole GPU with 2 CPUs
        // n1 after the pod: CPU left 58000 / 64000; GPU milli left 1500 - 1000 = 500, surplus (58000 - 500) / 64000. The
        // device counts (whole 1, partial 1) and the idle fraction (0.75) are the node's before the pod.
        var f = FeaturesOf(cluster, 1, pod);
        Assert.Equal(58000 / 64000.0, f[(int)TieFeature.CpuLeft]);
        Assert.Equal(57500 / 64000.0, f[(int)TieFeature.CpuSurplus]);
        Assert.Equal(0.75, f[(int)TieFeature.IdleGpu]);
        // A 300-milli share: on n1 the devices keep 500 - 300 = 200 or 1000 - 300 = 700, the least 200: 1 - 0.2 = 0.8; on n0
        // both keep 700: 0.3. A whole-GPU pod is not a share: 0.
        Assert.Equal(0.8, FeaturesOf(cluster, 1, Pod("share", 1000, 300))[(int)TieFeature.TightestFit], 12);
        Assert.Equal(0.3, FeaturesOf(cluster, 0, Pod("share", 1000, 300))[(int)TieFeature.TightestFit], 12);
        Assert.Equal(0, f[(int)TieFeature.TightestFit]);
        // A node without a GPU model needs no model: demand 0.
        var cpuOnly = ClusterState.Of(NodeGenerator.Generate("gen:count=1,cpu=8,memory=16Gi,prefix=c"));
        var g = FeaturesOf(cpuOnly, 0, Pod("cpu", 1000, 0));
        Assert.Equal(0, g[(int)TieFeature.ModelDemand]);
        Assert.Equal(1, g[(int)TieFeature.NoIdleGpu]);
    }

    /// <summary>fgd-learned's node for the pod with every weight 0 but the given ones (none: the shipped weights).</summary>
    private static int Chosen(ClusterState cluster, PodSpec pod, params (string Key, string Value)[] settings)
    {
        var weights = settings.Length == 0
            ? new Dictionary<string, string>()
            : new Dictionary<string, string>(TieWeights.FromVector(new double[2 * TieFeatures.Count]).ToSettings());
        foreach (var (key, value) in settings) weights[key] = value;
        var options = new PolicyOptions { TypicalPods = Typical, Settings = weights };
        var result = new ProfileScheduler(SearchDecisions.Catalog().Create(SearchPolicies.Learned, options)).Schedule(cluster, pod, new Random(1));
        Assert.True(result.Success);
        return result.Node;
    }

    [Fact]
    public void Weights_order_fgds_equal_scores_in_whole_steps()
    {
        // A CPU-only pod changes F on neither node (a whole GPU and 1 CPU fit before and after on both): both score 50, and with
        // every weight 0 the name order takes n0.
        var cluster = TwoNodes();
        var pod = Pod("cpu", 8000, 0);
        Assert.Equal(0, Chosen(cluster, pod, ("tie.cpu.used", "0")));
        // used x 1: n1 1, n0 0: n1.
        Assert.Equal(1, Chosen(cluster, pod, ("tie.cpu.used", "1")));
        // used x 0.9: floor(0.9) = 0 on both, still the name order.
        Assert.Equal(0, Chosen(cluster, pod, ("tie.cpu.used", "0.9")));
        // idle-gpu x -2: n0 floor(-2) = -2, n1 floor(-1.5) = -2: equal, the name order.
        Assert.Equal(0, Chosen(cluster, pod, ("tie.cpu.idle-gpu", "-2")));
        // idle-gpu x -4: n0 -4, n1 -3: n1.
        Assert.Equal(1, Chosen(cluster, pod, ("tie.cpu.idle-gpu", "-4")));
        // GPU weights do not order CPU-only pods.
        Assert.Equal(0, Chosen(cluster, pod, ("tie.gpu.used", "5")));
        // The shipped CPU weights (TieWeights.Learned) times the features of the hand-derived test above:
        // n1: 0.691 + 0.273 x 0.75 - 0.775 x 0.8125 - 0.295 x 254/256 - 0.419 x 0.5 + 4.16 x 0.5 + 1.551 x 0.7890625 - 3.033 x 0.25
        //     = 2.309, floor 2; n0: 0.273 - 0.775 x 0.875 - 0.295 x 255/256 - 0.419 + 1.551 x 0.84375 - 3.033 x 0.25 = -0.568, floor -1.
        Assert.Equal(1, Chosen(cluster, pod));
    }

    [Fact]
    public void No_weight_outranks_one_point_of_fgds_score()
    {
        // Two 64-CPU nodes with one A10 each; n1 hosts a 62-CPU pod. A 1.5-CPU pod: on n0, 62.5 CPUs and the whole GPU are
        // left, the typical pods (1 CPU, 1 GPU) still fit, F 0 -> 0, score 50; on n1, 0.5 CPU is left, no typical pod fits,
        // F 0 -> 1000 (the idle GPU is stranded), score 100 x sigmoid(-1) = 26.9, truncated to 26 (FgdEvaluator.ScoreOf). n0 is better by
        // 24 points.
        var cluster = ClusterState.Of(NodeGenerator.Generate("gen:count=2,cpu=64,memory=256Gi,gpu=1,model=A10,prefix=n"));
        Assert.True(cluster.TryBind(1, Pod("cpu-heavy", 62000, 0), GpuAllocation.None));
        var pod = Pod("cpu", 1500, 0);
        Assert.Equal(0, Chosen(cluster, pod));
        // A billion for n1 (the used node) or a billion times the CPU left against n0 (0.98 against n1's 0.008): clamped
        // below one point of FGD's score, so n0 still.
        Assert.Equal(0, Chosen(cluster, pod, ("tie.cpu.used", "1e9")));
        Assert.Equal(0, Chosen(cluster, pod, ("tie.cpu.cpu-left", "-1e9")));
    }

    [Fact]
    public void A_crossing_tie_step_is_worth_the_set_number_of_fgd_points()
    {
        // The cluster of the test above: n0 scores 50, n1 26. With used x 1, n1's tie value is 1 step, n0's 0; each step worth
        // c points gives n1 26 + c against n0's 50. c = 24: equal, the name order (n0); 24.5: n1; 23.9: n0.
        var cluster = ClusterState.Of(NodeGenerator.Generate("gen:count=2,cpu=64,memory=256Gi,gpu=1,model=A10,prefix=n"));
        Assert.True(cluster.TryBind(1, Pod("cpu-heavy", 62000, 0), GpuAllocation.None));
        var pod = Pod("cpu", 1500, 0);
        Assert.Equal(0, Chosen(cluster, pod, ("tie.cpu.used", "1"), ("tie.cpu.cross", "24")));
        Assert.Equal(1, Chosen(cluster, pod, ("tie.cpu.used", "1"), ("tie.cpu.cross", "24.5")));
        Assert.Equal(0, Chosen(cluster, pod, ("tie.cpu.used", "1"), ("tie.cpu.cross", "23.9")));
        // Steps are whole: used x 1.9 is still one step (floor), so 24 points per step still ties.
        Assert.Equal(0, Chosen(cluster, pod, ("tie.cpu.used", "1.9"), ("tie.cpu.cross", "24")));
        // The GPU pods' crossing does not apply to a CPU-only pod; a negative crossing is refused by name.
        Assert.Equal(0, Chosen(cluster, pod, ("tie.cpu.used", "1"), ("tie.gpu.cross", "100")));
        Assert.Contains("tie.cpu.cross", Assert.Throws<UserArgumentException>(() => Chosen(cluster, pod, ("tie.cpu.cross", "-1"))).Message);
    }

    [Theory]
    [InlineData(3, false)]
    [InlineData(5, true)]
    public void With_the_hand_rules_as_weights_decisions_are_exactly_fgd_ties(int seed, bool openb)
    {
        var ties = SearchDecisions.Of(SearchPolicies.Ties, new Dictionary<string, string>(), seed, openb);
        Assert.Equal(ties, SearchDecisions.Of(SearchPolicies.Learned, TieWeights.HandRules.ToSettings(), seed, openb));
    }

    [Fact]
    public void Another_weight_changes_the_decisions_and_repeats_them()
    {
        var settings = new Dictionary<string, string>(TieWeights.HandRules.ToSettings()) { ["tie.gpu.cpu-left"] = "-3" };
        var moved = SearchDecisions.Of(SearchPolicies.Learned, settings, 5, openb: true);
        Assert.NotEqual(SearchDecisions.Of(SearchPolicies.Ties, new Dictionary<string, string>(), 5, openb: true), moved);
        Assert.Equal(moved, SearchDecisions.Of(SearchPolicies.Learned, settings, 5, openb: true));
    }

    [Fact]
    public void Kept_tie_values_decide_as_values_computed_afresh()
    {
        // Every weight non-zero, so each feature counts; a policy per decision keeps nothing between decisions.
        var settings = TieWeights.FromVector([.. Enumerable.Range(0, 2 * TieFeatures.Count).Select(i => (i % 2 == 0 ? 1.7 : -2.3) + i * 0.1)]).ToSettings();
        var kept = SearchDecisions.Of(SearchPolicies.Learned, settings, 9, openb: true);
        Assert.Equal(SearchDecisions.Of(SearchPolicies.Learned, settings, 9, openb: true, freshPerDecision: true), kept);
        Assert.NotEqual(SearchDecisions.Of(SearchPolicies.Ties, new Dictionary<string, string>(), 9, openb: true), kept);
    }

    [Fact]
    public void Bad_and_misspelt_tie_settings_are_named()
    {
        var options = new PolicyOptions { TypicalPods = Typical, Settings = new Dictionary<string, string> { ["tie.cpu.used"] = "NaN" } };
        Assert.Contains("setting tie.cpu.used must be a finite number, got 'NaN'",
            Assert.Throws<UserArgumentException>(() => SearchDecisions.Catalog().Create(SearchPolicies.Learned, options)).Message);
        var misspelt = options with { Settings = new Dictionary<string, string> { ["tie.cpu.usd"] = "1" } };
        Assert.Contains("'tie.cpu.usd'", Assert.Throws<UserArgumentException>(() => SearchDecisions.Catalog().CheckSettings([SearchPolicies.Learned], misspelt)).Message);
        var round = TieWeights.FromVector([.. Enumerable.Range(0, 2 * TieFeatures.Count).Select(i => i * 0.37 - 2)]);
        Assert.Equal(round.ToVector(), TieWeights.HandRules.With(round.ToSettings()).ToVector());
    }
}
