using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Filters;
using MasOrleans.Scheduling.Plugins.Scores;
using static MasOrleans.Scheduling.Tests.TestCluster;

namespace MasOrleans.Scheduling.Tests;

/// <summary>Hand-computed expectations for the kube-scheduler plugins, following the Go source's integer arithmetic.</summary>
public class KubePluginTests
{
    private static Dictionary<string, string> Labels(params (string K, string V)[] pairs) => pairs.ToDictionary(p => p.K, p => p.V);

    /// <summary>Runs PreScore, Score and Normalize over every node, as the framework does.</summary>
    private static long[] ScoreAll(IScorePlugin plugin, ClusterState cluster, PodSpec pod)
    {
        var ctx = new SchedulingContext(cluster, pod, new Random(1));
        var nodes = Enumerable.Range(0, cluster.NodeCount).ToArray();
        plugin.PreScore(ctx, nodes);
        if (ctx.IsSkipped(plugin, out var constant)) return nodes.Select(_ => constant).ToArray();
        var scores = nodes.Select(n => plugin.Score(ctx, n)).ToArray();
        plugin.Normalize(ctx, nodes, scores);
        return scores;
    }

    private static string?[] FilterAll(IFilterPlugin filter, ClusterState cluster, PodSpec pod)
    {
        var ctx = new SchedulingContext(cluster, pod, new Random(1));
        filter.PreFilter(ctx);
        return Enumerable.Range(0, cluster.NodeCount).Select(n => ctx.IsSkipped(filter, out _) ? null : filter.Filter(ctx, n)).ToArray();
    }

    [Fact]
    public void RequestedToCapacityRatio_skips_zero_scores_and_rounds()
    {
        // Shape (0,0),(100,10) scaled to 0..100. cpu: 3000/4000 = 75 -> 75; memory: 0 requested... the pod asks
        // 0 memory so non-zero default 200Mi of 10000Mi -> 2 -> 2. (75 + 2) / 2 = 38.5 -> math.Round 39 (truncation would give 38).
        var cluster = Of(Node("n1", 4000, 10000 * Mi));
        var plugin = new NodeResourcesFitScore(ScoringStrategy.RequestedToCapacityRatio, shape: [new(0, 0), new(100, 10)]);
        var ctx = new SchedulingContext(cluster, Pod("p", 3000), new Random(1));
        Assert.Equal(39, plugin.Score(ctx, 0));

        // A resource scoring 0 leaves the mean: an idle node with a tiny pod: cpu 1/4000 -> 0 (skipped), memory 100Mi/10000Mi -> 1.
        var tiny = new SchedulingContext(cluster, Pod("t", 1, 100 * Mi), new Random(1));
        Assert.Equal(1, plugin.Score(tiny, 0));
    }

    /// <summary>
    /// kube v1.35 pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go, Filter: the first NoSchedule or
    /// NoExecute taint the pod does not tolerate (FindMatchingUntoleratedTaint, in the node's order) is named,
    /// fmt.Sprintf("node(s) had untolerated taint {%s: %s}", taint.Key, taint.Value); a taint without a value prints "".
    /// FitError.Error counts each distinct reason, in byte order: "{dedicated: vision}" sorts before "{gpu: }".
    /// </summary>
    [Fact]
    public void TaintToleration_names_the_first_untolerated_taint_as_kube_does()
    {
        var tolerated = new Taint("team", "ml", TaintEffects.NoSchedule);
        var dedicated = new Taint("dedicated", "vision", TaintEffects.NoSchedule);
        var gpu = new Taint("gpu", null, TaintEffects.NoExecute);
        var preferred = new Taint("spot", "true", TaintEffects.PreferNoSchedule);
        ClusterState Cluster() => Of(Node("a", 1000, Gi, taints: [preferred, tolerated, dedicated, gpu]), Node("b", 1000, Gi, taints: [gpu]));
        var pod = Pod("p", 100) with { Tolerations = [new Toleration("team", "Equal", "ml", TaintEffects.NoSchedule)] };
        Assert.Equal(new string?[] { "node(s) had untolerated taint {dedicated: vision}", "node(s) had untolerated taint {gpu: }" },
            FilterAll(new TaintTolerationFilter(), Cluster(), pod));
        var explained = new ProfileScheduler(MasOrleans.Scheduling.Policies.PolicyCatalog.CreateDefault().Create("kube")).Explain(Cluster(), pod, new Random(1));
        Assert.Equal("0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: vision}, 1 node(s) had untolerated taint {gpu: }.",
            explained.FailureMessage);
    }

    [Fact]
    public void TaintToleration_counts_intolerable_prefer_no_schedule_and_reverses()
    {
        var prefer = new Taint("spot", "true", TaintEffects.PreferNoSchedule);
        var other = new Taint("gpu", "true", TaintEffects.PreferNoSchedule);
        var cluster = Of(Node("clean", 1000, Gi), Node("one", 1000, Gi, taints: [prefer]), Node("two", 1000, Gi, taints: [prefer, other]));
        // Counts 0, 1, 2 -> max 2 -> 100 - 100*c/2 = 100, 50, 0.
        Assert.Equal([100, 50, 0], ScoreAll(new TaintTolerationScore(), cluster, Pod("p", 100)));
        // Tolerating "spot" leaves counts 0, 0, 1 -> 100, 100, 0.
        var tolerant = Pod("t", 100) with { Tolerations = [new Toleration("spot", "Equal", "true")] };
        Assert.Equal([100, 100, 0], ScoreAll(new TaintTolerationScore(), cluster, tolerant));
        // A NoSchedule-only toleration does not count for scoring.
        var wrongEffect = Pod("w", 100) with { Tolerations = [new Toleration("spot", "Exists", Effect: TaintEffects.NoSchedule)] };
        Assert.Equal([100, 50, 0], ScoreAll(new TaintTolerationScore(), cluster, wrongEffect));
    }

    [Fact]
    public void NodeAffinity_sums_preferred_weights_and_normalizes()
    {
        var cluster = Of(Node("a", 1000, Gi, labels: Labels(("zone", "a"), ("disk", "ssd"))), Node("b", 1000, Gi, labels: Labels(("zone", "b"))),
            Node("c", 1000, Gi, labels: Labels(("zone", "a"))));
        var pod = Pod("p", 100) with
        {
            Affinity = new Affinity(new NodeAffinity(PreferredDuringSchedulingIgnoredDuringExecution:
            [
                new PreferredSchedulingTerm(30, new NodeSelectorTerm([new("zone", SelectorOperators.In, ["a"])])),
                new PreferredSchedulingTerm(10, new NodeSelectorTerm([new("disk", SelectorOperators.Exists)])),
            ])),
        };
        // Raw 40, 0, 30 -> 100*40/40 = 100, 0, 100*30/40 = 75.
        Assert.Equal([100, 0, 75], ScoreAll(new NodeAffinityScore(), cluster, pod));
    }

    [Fact]
    public void NodeAffinity_filter_supports_every_operator()
    {
        var cluster = Of(Node("small", 1000, Gi, labels: Labels(("cores", "8"), ("zone", "a"))), Node("big", 1000, Gi, labels: Labels(("cores", "64"))));
        PodSpec With(params NodeSelectorRequirement[] reqs) => Pod("p", 100) with
        {
            Affinity = new Affinity(new NodeAffinity(new NodeSelector([new NodeSelectorTerm(reqs)]))),
        };
        var filter = new NodeAffinityFilter();
        Assert.Equal(new string?[] { null, NodeAffinityFilter.Reason }, FilterAll(filter, cluster, With(new NodeSelectorRequirement("zone", SelectorOperators.In, ["a"]))));
        Assert.Equal(new string?[] { NodeAffinityFilter.Reason, null }, FilterAll(filter, cluster, With(new NodeSelectorRequirement("zone", SelectorOperators.NotIn, ["a"]))));
        Assert.Equal(new string?[] { null, NodeAffinityFilter.Reason }, FilterAll(filter, cluster, With(new NodeSelectorRequirement("zone", SelectorOperators.Exists))));
        Assert.Equal(new string?[] { NodeAffinityFilter.Reason, null }, FilterAll(filter, cluster, With(new NodeSelectorRequirement("zone", SelectorOperators.DoesNotExist))));
        Assert.Equal(new string?[] { NodeAffinityFilter.Reason, null }, FilterAll(filter, cluster, With(new NodeSelectorRequirement("cores", SelectorOperators.Gt, ["16"]))));
        Assert.Equal(new string?[] { null, NodeAffinityFilter.Reason }, FilterAll(filter, cluster, With(new NodeSelectorRequirement("cores", SelectorOperators.Lt, ["16"]))));
        // nodeSelector is ANDed with affinity.
        var both = With(new NodeSelectorRequirement("cores", SelectorOperators.Exists)) with { NodeSelector = Labels(("zone", "a")) };
        Assert.Equal(new string?[] { null, NodeAffinityFilter.Reason }, FilterAll(filter, cluster, both));
    }

    /// <summary>
    /// The kubelet labels every node kubernetes.io/hostname (its hostname, by default the node's name), so pinning a pod
    /// to a node with nodeSelector or node affinity on it is ordinary Kubernetes. A node registered here without the label
    /// has it as its name, as topology keys already read it; a label given explicitly wins.
    /// </summary>
    [Fact]
    public void NodeAffinity_reads_a_missing_hostname_label_as_the_node_name()
    {
        var cluster = Of(Node("small", 1000, Gi), Node("big", 1000, Gi), Node("named", 1000, Gi, labels: Labels(("kubernetes.io/hostname", "host-7"))));
        var filter = new NodeAffinityFilter();
        PodSpec Pinned(string host) => Pod("p", 100) with { NodeSelector = Labels(("kubernetes.io/hostname", host)) };
        PodSpec Required(string op, params string[] hosts) => Pod("p", 100) with
        {
            Affinity = new Affinity(new NodeAffinity(new NodeSelector([new NodeSelectorTerm([new NodeSelectorRequirement("kubernetes.io/hostname", op, hosts)])]))),
        };
        Assert.Equal(new string?[] { NodeAffinityFilter.Reason, null, NodeAffinityFilter.Reason }, FilterAll(filter, cluster, Pinned("big")));
        Assert.Equal(new string?[] { NodeAffinityFilter.Reason, NodeAffinityFilter.Reason, null }, FilterAll(filter, cluster, Pinned("host-7")));
        Assert.Equal(new string?[] { NodeAffinityFilter.Reason, NodeAffinityFilter.Reason, NodeAffinityFilter.Reason }, FilterAll(filter, cluster, Pinned("named")));
        Assert.Equal(new string?[] { null, NodeAffinityFilter.Reason, NodeAffinityFilter.Reason }, FilterAll(filter, cluster, Required(SelectorOperators.In, "small")));
        Assert.Equal(new string?[] { null, NodeAffinityFilter.Reason, null }, FilterAll(filter, cluster, Required(SelectorOperators.NotIn, "big")));
        Assert.Equal(new string?[] { null, null, null }, FilterAll(filter, cluster, Required(SelectorOperators.Exists)));
        // Preferred node affinity reads it the same way: weight 10 on big alone, normalized to 100.
        var preferred = Pod("p", 100) with
        {
            Affinity = new Affinity(new NodeAffinity(PreferredDuringSchedulingIgnoredDuringExecution:
                [new PreferredSchedulingTerm(10, new NodeSelectorTerm([new NodeSelectorRequirement("kubernetes.io/hostname", SelectorOperators.In, ["big"])]))])),
        };
        Assert.Equal([0, 100, 0], ScoreAll(new NodeAffinityScore(), cluster, preferred));
    }

    /// <summary>
    /// Gt and Lt as the scheduler reads them (k8s.io/component-helpers/scheduling/corev1/nodeaffinity turns each
    /// requirement into apimachinery's labels.NewRequirement; pkg/labels/selector.go): the value must be one that
    /// strconv.ParseInt(v, 10, 64) reads and a valid label value (NewRequirement checks both), so digits only, no sign, no
    /// space, within int64; a term with any other value is a parse error and matches no node. The node's label is read by
    /// strconv.ParseInt in Requirement.Matches. Under a culture whose minus sign is U+2212 (CLDR's sv, fi, nb and others;
    /// the build is InvariantGlobalization, so no named culture exists and one is made with that sign), which .NET's
    /// culture-aware parsing reads as a minus.
    /// </summary>
    [Fact]
    public void NodeAffinity_Gt_and_Lt_read_integers_as_Kubernetes_does_whatever_the_culture()
    {
        var culture = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NegativeSign = "\u2212";
        var before = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = culture;
        try
        {
            var cluster = Of(Node("small", 1000, Gi, labels: Labels(("cores", "8"))), Node("big", 1000, Gi, labels: Labels(("cores", "64"))),
                Node("max", 1000, Gi, labels: Labels(("cores", "9223372036854775807"))), Node("odd", 1000, Gi, labels: Labels(("cores", "eight"))));
            var filter = new NodeAffinityFilter();
            string?[] Filter(string op, params string[] values) => FilterAll(filter, cluster, Pod("p", 100) with
            {
                Affinity = new Affinity(new NodeAffinity(new NodeSelector([new NodeSelectorTerm([new NodeSelectorRequirement("cores", op, values)])]))),
            });
            const string no = NodeAffinityFilter.Reason;
            // 8 > 16 no, 64 > 16 yes, 2^63-1 > 16 yes; "eight" is no integer, so no match.
            Assert.Equal(new string?[] { no, null, null, no }, Filter(SelectorOperators.Gt, "16"));
            Assert.Equal(new string?[] { null, no, no, no }, Filter(SelectorOperators.Lt, "16"));
            // Leading zeros are digits: ParseInt reads 16, and "0016" is a label value.
            Assert.Equal(new string?[] { no, null, null, no }, Filter(SelectorOperators.Gt, "0016"));
            Assert.Equal(new string?[] { no, no, null, no }, Filter(SelectorOperators.Gt, "9223372036854775806"));
            // Not a value NewRequirement takes: no node matches, whatever the comparison would say.
            var matched = new List<string>();
            foreach (var bad in new[] { "-5", "+5", "\u22125", " 16", "16 ", "16\0", "9223372036854775808", "", "1e3", "0x10", "\u0661\u0666" })
                foreach (var op in new[] { SelectorOperators.Gt, SelectorOperators.Lt })
                    if (Filter(op, bad).Any(r => r is null)) matched.Add($"{op} \"{bad}\"");
            Assert.True(matched.Count == 0, "matched some node: " + string.Join(", ", matched));
            Assert.Equal(new string?[] { no, no, no, no }, Filter(SelectorOperators.Gt, "1", "2"));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = before;
        }
    }

    /// <summary>The one reading both places share (the REST/Kubernetes validation and this matcher), by hand.</summary>
    [Theory]
    [InlineData("0", true, 0L)]
    [InlineData("16", true, 16L)]
    [InlineData("0016", true, 16L)]
    [InlineData("9223372036854775807", true, long.MaxValue)]
    [InlineData("9223372036854775808", false, 0L)]
    [InlineData("-5", false, 0L)]
    [InlineData("+5", false, 0L)]
    [InlineData("\u22125", false, 0L)]
    [InlineData(" 5", false, 0L)]
    [InlineData("5\0", false, 0L)]
    [InlineData("", false, 0L)]
    [InlineData(null, false, 0L)]
    public void A_Gt_or_Lt_value_is_digits_within_int64(string? text, bool valid, long expected)
    {
        Assert.Equal(valid, SelectorOperators.TryParseBound(text, out var value));
        Assert.Equal(expected, value);
    }

    /// <summary>The node's label, by hand as strconv.ParseInt(s, 10, 64) reads it: a sign is allowed there.</summary>
    [Theory]
    [InlineData("64", true, 64L)]
    [InlineData("-5", true, -5L)]
    [InlineData("+5", true, 5L)]
    [InlineData("-9223372036854775808", true, long.MinValue)]
    [InlineData("-9223372036854775809", false, 0L)]
    [InlineData("-", false, 0L)]
    [InlineData("\u22125", false, 0L)]
    [InlineData("5 ", false, 0L)]
    [InlineData("5\0", false, 0L)]
    [InlineData("1_000", false, 0L)]
    public void A_label_compared_by_Gt_or_Lt_is_read_as_ParseInt_reads_it(string text, bool valid, long expected)
    {
        Assert.Equal(valid, SelectorOperators.TryParseInteger(text, out var value));
        Assert.Equal(expected, value);
    }

    [Fact]
    public void ImageLocality_follows_the_scaled_formula()
    {
        var cluster = Of(Node("n0", 8000, 8 * Gi), Node("n1", 8000, 8 * Gi), Node("n2", 8000, 8 * Gi), Node("n3", 8000, 8 * Gi));
        cluster.ImageSizes["trainer:v1"] = 800 * Mi;
        cluster.AddImage(0, "trainer:v1");
        cluster.AddImage(1, "trainer:v1");
        // Spread 2/4: sum = 400Mi; 100 * (400 - 23) / (1000 - 23) = 37700/977 = 38 on holders, 0 elsewhere.
        var pod = Pod("p", 100) with { Image = "trainer:v1" };
        Assert.Equal([38, 38, 0, 0], ScoreAll(new ImageLocalityScore(), cluster, pod));
        // An untagged name means :latest.
        cluster.AddImage(3, "tool");
        Assert.Equal(1, cluster.NodesWithImage("tool:latest"));
        // Default size 500Mi on 1 of 4 nodes: 125Mi -> 100 * 102 / 977 = 10.
        Assert.Equal([0, 0, 0, 10], ScoreAll(new ImageLocalityScore(), cluster, Pod("q", 100) with { Image = "tool" }));
        // Below the 23Mi threshold every node scores 0.
        cluster.ImageSizes["tiny:1"] = 40 * Mi;
        cluster.AddImage(2, "tiny:1");
        Assert.Equal([0, 0, 0, 0], ScoreAll(new ImageLocalityScore(), cluster, Pod("r", 100) with { Image = "tiny:1" }));
    }

    [Fact]
    public void Balanced_allocation_change_variant_scores_the_change()
    {
        // Empty 4000m/4000Mi node; pod 2000m/0: with pod fractions 0.5, 0 -> std .25 -> 75; without: 0,0 -> 100.
        // 50 + (50 + 75 - 100) / 2 = 50 + 25/2 = 62 (integer division).
        var cluster = Of(Node("n", 4000, 4000 * Mi));
        var ctx = new SchedulingContext(cluster, Pod("p", 2000), new Random(1));
        Assert.Equal(75, new BalancedAllocationScore().Score(ctx, 0));
        Assert.Equal(62, new BalancedAllocationScore(scoreChange: true).Score(ctx, 0));
    }

    [Fact]
    public void Gpu_share_fits_the_node_total_but_no_single_device()
    {
        var cluster = Of(Node("n", 8000, 8 * Gi, gpus: 2));
        Assert.True(cluster.TryBind(0, Pod("a", gpuMilli: 600), new GpuAllocation([0], 600)));
        Assert.True(cluster.TryBind(0, Pod("b", gpuMilli: 600), new GpuAllocation([1], 600)));
        // 800 milli free in total, 400 per device: a 500m share does not fit.
        Assert.Equal(new string?[] { NodeResourcesFitFilter.GpuDeviceReason }, FilterAll(new NodeResourcesFitFilter(), cluster, Pod("c", 100, gpuMilli: 500)));
        Assert.Equal(new string?[] { null }, FilterAll(new NodeResourcesFitFilter(), cluster, Pod("d", 100, gpuMilli: 400)));
    }

    [Fact]
    public void Gpu_share_packing_prefers_the_tightest_device()
    {
        var cluster = Of(Node("loose", 8000, 8 * Gi, gpus: 1), Node("tight", 8000, 8 * Gi, gpus: 1));
        Assert.True(cluster.TryBind(1, Pod("a", gpuMilli: 500), new GpuAllocation([0], 500)));
        // 300m share: loose leaves 700 -> 30; tight leaves 200 -> 80.
        Assert.Equal([30, 80], ScoreAll(new GpuSharePackingScore(), cluster, Pod("p", 100, gpuMilli: 300)));
    }

    [Fact]
    public void Telemetry_score_uses_measurements_and_falls_back_to_requests()
    {
        var cluster = Of(Node("hot", 4000, 4000 * Mi), Node("quiet", 4000, 4000 * Mi), Node("silent", 4000, 4000 * Mi));
        cluster.SetUtilization(0, Resources.ResourceKind.Cpu, 0.9f);
        cluster.SetUtilization(0, Resources.ResourceKind.Memory, 0.5f);
        cluster.SetUtilization(1, Resources.ResourceKind.Cpu, 0.1f);
        cluster.SetUtilization(1, Resources.ResourceKind.Memory, 0.1f);
        Assert.True(cluster.TryBind(2, Pod("old", 2000, 1000 * Mi), GpuAllocation.None));
        // Pod 400m / 400Mi adds 0.1 to each: hot (1-1.0, 1-0.6) -> (0 + 40)/2 = 20; quiet (80, 80) -> 80;
        // silent has no telemetry: requests 0.5, 0.25 -> (1-0.6, 1-0.35) -> (40 + 65)/2 = 52.
        var ctx = new SchedulingContext(cluster, Pod("p", 400, 400 * Mi), new Random(1));
        var plugin = new TelemetryUtilizationScore();
        Assert.Equal([20L, 80L, 52L], Enumerable.Range(0, 3).Select(n => plugin.Score(ctx, n)).ToArray());
    }
}
