using MasOrleans.Scheduling.Cluster;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Filters;
using MasOrleans.Scheduling.Plugins.Scores;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Resources;
using static MasOrleans.Scheduling.Tests.TestCluster;

namespace MasOrleans.Scheduling.Tests;

/// <summary>kube-scheduler v1.35 details, each derived by hand from the upstream file cited (kubernetes/kubernetes).</summary>
public class KubeV135Tests
{
    private static readonly PolicyCatalog Catalog = PolicyCatalog.CreateDefault();

    private static string?[] Filter(IFilterPlugin filter, Cluster.ClusterState cluster, PodSpec pod)
    {
        var ctx = new SchedulingContext(cluster, pod, new Random(1));
        filter.PreFilter(ctx);
        var one = Enumerable.Range(0, cluster.NodeCount).Select(n => filter.Filter(ctx, n)).ToArray();
        if (filter is IBatchFilterPlugin batch)
        {
            var reasons = new string?[cluster.NodeCount];
            batch.FilterBatch(ctx, Enumerable.Range(0, cluster.NodeCount).ToArray(), reasons);
            Assert.Equal(one, reasons);
        }
        return one;
    }

    // --- NodeResourcesFit: pods (pkg/scheduler/framework/plugins/noderesources/fit.go, fitsRequest) ---

    [Fact]
    public void A_full_node_rejects_with_too_many_pods_even_a_pod_requesting_nothing()
    {
        // fitsRequest: len(nodeInfo.Pods)+1 > allowedPodNumber -> "Too many pods", checked before (and whatever) the requests.
        var cluster = Of(Node("small", 8000, 8 * Gi) with { MaxPods = 2 }, Node("big", 8000, 8 * Gi));
        Assert.True(cluster.TryBind(0, Pod("a", 100), GpuAllocation.None));
        Assert.Equal(new string?[] { null, null }, Filter(new NodeResourcesFitFilter(), cluster, Pod("empty")));
        Assert.True(cluster.TryBind(0, Pod("b", 100), GpuAllocation.None));
        Assert.Equal(new string?[] { NodeResourcesFitFilter.TooManyPodsReason, null }, Filter(new NodeResourcesFitFilter(), cluster, Pod("empty")));
        // Both reasons, pods first (fitsRequest checks the pod count before the requests and keeps every reason).
        Assert.Equal(new string?[] { "Too many pods, Insufficient cpu", "Insufficient cpu" }, Filter(new NodeResourcesFitFilter(), cluster, Pod("huge", 9000)));
        // Binding refuses too, as the kubelet's admission would.
        Assert.False(cluster.TryBind(0, Pod("c"), GpuAllocation.None));
    }

    /// <summary>
    /// fit.go's fitsRequest appends one InsufficientResource per short resource, in the order pods, cpu, memory,
    /// ephemeral-storage, then extended resources, and Filter keeps them all ("We will keep all failure reasons.");
    /// FitError.Error (pkg/scheduler/framework/types.go) counts each reason of each node's status (for _, reason :=
    /// range status.Reasons() { reasons[reason]++ }) and sorts the "count reason" strings. Pod of 2 cpus and 2 Gi:
    /// small (1 cpu, 1 Gi) is short of both, mid (4 cpus, 1 Gi) of memory, full (8 cpus, 8 Gi, one pod of one allowed)
    /// of pod room: 1 Insufficient cpu, 2 Insufficient memory, 1 Too many pods. Before, small counted only cpu.
    /// </summary>
    [Fact]
    public void A_node_short_of_several_resources_gives_every_reason_and_the_fit_error_counts_each()
    {
        ClusterState Cluster()
        {
            var cluster = Of(Node("small", 1000, 1 * Gi), Node("mid", 4000, 1 * Gi), Node("full", 8000, 8 * Gi) with { MaxPods = 1 });
            Assert.True(cluster.TryBind(2, Pod("resident", 100), GpuAllocation.None));
            return cluster;
        }
        var pod = Pod("wide", 2000, 2 * Gi);
        Assert.Equal(new string?[] { "Insufficient cpu, Insufficient memory", "Insufficient memory", "Too many pods" },
            Filter(new NodeResourcesFitFilter(), Cluster(), pod));

        var scheduler = new ProfileScheduler(Catalog.Create("kube"));
        const string expected = "0/3 nodes are available: 1 Insufficient cpu, 1 Too many pods, 2 Insufficient memory.";
        Assert.Equal(expected, scheduler.Schedule(Cluster(), pod, new Random(1)).FailureMessage);
        Assert.Equal(expected, scheduler.Explain(Cluster(), pod, new Random(1)).FailureMessage);
    }

    [Fact]
    public void The_default_is_kubelets_110_pods()
    {
        var cluster = Of(Node("n", 64_000, 64 * Gi));
        for (var i = 0; i < 110; i++) Assert.True(cluster.TryBind(0, Pod($"p{i}", 10), GpuAllocation.None));
        var result = new ProfileScheduler(Catalog.Create("kube")).Schedule(cluster, Pod("one-more", 10), new Random(1));
        Assert.False(result.Success);
        Assert.Equal("0/1 nodes are available: 1 Too many pods.", result.FailureMessage);
    }

    [Fact]
    public void Capacity_maps_take_pods_as_a_count()
    {
        Assert.True(NodeSpec.TryParseCapacity(new Dictionary<string, string> { ["cpu"] = "8", ["pods"] = "250" }, out var capacity, out var pods, out _));
        Assert.Equal((8000L, 250), (capacity.CpuMilli, pods));
        Assert.True(NodeSpec.TryParseCapacity(new Dictionary<string, string> { ["cpu"] = "8" }, out _, out pods, out _));
        Assert.Equal(110, pods);
        foreach (var bad in new[] { "0", "1.5", "many", "500m" })
        {
            Assert.False(NodeSpec.TryParseCapacity(new Dictionary<string, string> { ["cpu"] = "8", ["pods"] = bad }, out _, out _, out var error));
            Assert.Contains("pods", error);
        }
        // The simulator's openb nodes allow 1001 pods (its data/node_yaml/openb_node_list_gpu_node.yaml).
        var csv = Path.Combine(Path.GetTempPath(), $"nodes-{Guid.NewGuid():N}.csv");
        File.WriteAllText(csv, "sn,cpu_milli,memory_mib,gpu,model\nn1,96000,786432,8,V100M32\n");
        Assert.Equal(1001, Traces.OpenbTraceReader.ReadNodes(csv).Single().MaxPods);
        File.Delete(csv);
    }

    // --- BalancedAllocation (pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go, PreScore) ---

    [Fact]
    public void Balanced_allocation_skips_a_pod_requesting_neither_cpu_nor_memory()
    {
        // A GPU-only pod requests none of cpu and memory: isBestEffortPod -> Skip. Scored anyway it would get
        // fractions cpu 2000/4000 = 0.5 and memory 0 -> (1 - 0.25) * 100 = 75.
        var cluster = Of(Node("n", 4000, 10_000 * Mi, gpus: 1));
        Assert.True(cluster.TryBind(0, Pod("used", 2000), GpuAllocation.None));
        var gpuOnly = Pod("g", gpuMilli: 1000);
        var plugin = new BalancedAllocationScore();
        var ctx = new SchedulingContext(cluster, gpuOnly, new Random(1));
        plugin.PreScore(ctx, [0]);
        Assert.True(ctx.IsSkipped(plugin, out var constant));
        Assert.Equal(0, constant);
        Assert.Equal(0, plugin.Score(ctx, 0));
        // Over cpu, memory and GPU (kube-plus) the same pod requests a scored resource: not skipped.
        // Fractions cpu 0.5, memory 0, GPU 1: mean 0.5, std sqrt((0 + 0.25 + 0.25) / 3) = 0.408 -> 59.
        var allThree = new BalancedAllocationScore([new(ResourceKind.Cpu, 1), new(ResourceKind.Memory, 1), new(ResourceKind.Gpu, 1)]);
        var ctx3 = new SchedulingContext(cluster, gpuOnly, new Random(1));
        allThree.PreScore(ctx3, [0]);
        Assert.False(ctx3.IsSkipped(allThree, out _));
        Assert.Equal(59, allThree.Score(ctx3, 0));
        // A cpu-only pod is scored: cpu 3000/4000 = 0.75, memory 0 -> (1 - 0.375) * 100 = 62.
        var cpuCtx = new SchedulingContext(cluster, Pod("c", 1000), new Random(1));
        plugin.PreScore(cpuCtx, [0]);
        Assert.False(cpuCtx.IsSkipped(plugin, out _));
        Assert.Equal(62, plugin.Score(cpuCtx, 0));
    }

    // --- NodeAffinity PreFilter (pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go; schedule_one.go) ---

    private static Cluster.ClusterState FiveNodes() =>
        Of(Enumerable.Range(0, 5).Select(i => Node($"n{i}", 4000, 8 * Gi)).ToArray());

    private static PodSpec NamedNodes(params NodeSelectorTerm[] terms) =>
        Pod("p", 100) with { Affinity = new Affinity(new NodeAffinity(new NodeSelector(terms))) };

    private static NodeSelectorRequirement NameIn(params string[] names) => new(NodeSelectorTerm.NodeNameField, SelectorOperators.In, names);

    [Fact]
    public void Match_fields_on_the_node_name_restrict_the_nodes_filtered()
    {
        var scheduler = new ProfileScheduler(Catalog.Create("kube"));
        // One term naming n3: PreFilterResult {n3}, so one node is filtered (not 5) and it is chosen.
        var one = scheduler.Schedule(FiveNodes(), NamedNodes(new NodeSelectorTerm(MatchFields: [NameIn("n3")])), new Random(1));
        Assert.Equal(("n3", 1), (one.NodeName, one.EvaluatedNodes));
        // Terms are ORed (union {n1, n3}); within a term, In requirements intersect ({n3, n4} and {n3} -> {n3}).
        var two = scheduler.Schedule(FiveNodes(), NamedNodes(
            new NodeSelectorTerm(MatchFields: [NameIn("n1")]),
            new NodeSelectorTerm(MatchFields: [new(NodeSelectorTerm.NodeNameField, SelectorOperators.In, ["n3", "n4"]), NameIn("n3")])), new Random(1));
        Assert.Equal(2, two.EvaluatedNodes);
        Assert.Contains(two.NodeName, new[] { "n1", "n3" });
        // A term without a name requirement leaves every node eligible: all 5 are filtered, n2 by its label term only.
        var open = scheduler.Schedule(FiveNodes(), NamedNodes(
            new NodeSelectorTerm(MatchFields: [NameIn("n1")]),
            new NodeSelectorTerm(MatchExpressions: [new("absent", SelectorOperators.DoesNotExist)])), new Random(1));
        Assert.Equal(5, open.EvaluatedNodes);
    }

    [Fact]
    public void Conflicting_or_unknown_node_names_fail_with_upstreams_messages()
    {
        var scheduler = new ProfileScheduler(Catalog.Create("kube"));
        // Every term's names intersect to nothing: errReasonConflict, UnschedulableAndUnresolvable in PreFilter.
        var conflicting = NamedNodes(new NodeSelectorTerm(MatchFields: [NameIn("n1"), NameIn("n2")]));
        var conflict = scheduler.Schedule(FiveNodes(), conflicting, new Random(1));
        Assert.Equal("0/5 nodes are available: pod affinity terms conflict.", conflict.FailureMessage);
        Assert.Equal(0, conflict.EvaluatedNodes);
        Assert.Equal(conflict.FailureMessage, scheduler.Explain(FiveNodes(), conflicting, new Random(1)).FailureMessage);
        // A name no node has: nothing to filter, all 5 nodes absent from the PreFilterResult.
        var ghost = scheduler.Schedule(FiveNodes(), NamedNodes(new NodeSelectorTerm(MatchFields: [NameIn("ghost")])), new Random(1));
        Assert.Equal("0/5 nodes are available: 5 node(s) didn't satisfy plugin(s) [NodeAffinity].", ghost.FailureMessage);
        // The named node is full: 1 explicit status, 4 absent ones; FitError.Error sorts "count reason" strings.
        var full = scheduler.Schedule(FiveNodes(), NamedNodes(new NodeSelectorTerm(MatchFields: [NameIn("n2")])) with { Requests = ResourceVector.Of(cpuMilli: 5000) }, new Random(1));
        Assert.Equal("0/5 nodes are available: 1 Insufficient cpu, 4 node(s) didn't satisfy plugin(s) [NodeAffinity].", full.FailureMessage);
    }

    [Fact]
    public void Match_fields_filter_by_name_and_reject_malformed_requirements()
    {
        // nodeaffinity.go nodeSelectorRequirementsAsFieldSelector: In/NotIn with exactly one value; else the term matches nothing.
        var cluster = FiveNodes();
        var filter = new NodeAffinityFilter();
        var notN0 = NamedNodes(new NodeSelectorTerm(MatchFields: [new(NodeSelectorTerm.NodeNameField, SelectorOperators.NotIn, ["n0"])]));
        Assert.Equal(new string?[] { NodeAffinityFilter.Reason, null, null, null, null }, Filter(filter, cluster, notN0));
        var twoValues = NamedNodes(new NodeSelectorTerm(MatchFields: [new(NodeSelectorTerm.NodeNameField, SelectorOperators.In, ["n1", "n2"])]));
        var ctx = new SchedulingContext(cluster, twoValues, new Random(1));
        filter.PreFilter(ctx);
        Assert.Equal([1, 2], ctx.CandidateNodes!);
        Assert.All(Enumerable.Range(0, 5), n => Assert.Equal(NodeAffinityFilter.Reason, filter.Filter(ctx, n)));
    }

    // --- PodTopologySpread system defaults (podtopologyspread/plugin.go systemDefaultConstraints, common.go
    //     buildDefaultConstraints, scoring.go; helper/spread.go DefaultSelector) ---

    private static readonly LabelSelector AppWeb = new(new Dictionary<string, string> { ["app"] = "web" });

    private static PodSpec Web(string name, PodOwner? owner = null) =>
        Pod(name, 100) with { Labels = new Dictionary<string, string> { ["app"] = "web" }, Owner = owner };

    private static Cluster.ClusterState ZonesAndAZonelessNode()
    {
        var zone = (string z) => new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = z };
        var cluster = Of(Node("n1", 8000, 8 * Gi, labels: zone("a")), Node("n2", 8000, 8 * Gi, labels: zone("a")),
            Node("n3", 8000, 8 * Gi, labels: zone("b")), Node("n4", 8000, 8 * Gi));
        // Web pods: n1 2, n2 0, n3 1, n4 1.
        foreach (var (node, name) in new[] { (0, "w1"), (0, "w2"), (2, "w3"), (3, "w4") })
            Assert.True(cluster.TryBind(node, Web(name), GpuAllocation.None));
        return cluster;
    }

    private static (long[] Raw, long[] Normalized, bool Skipped) SpreadScores(Cluster.ClusterState cluster, PodSpec pod)
    {
        int[] nodes = [0, 1, 2, 3];
        var plugin = new PodTopologySpreadScore();
        var ctx = new SchedulingContext(cluster, pod, new Random(1));
        plugin.PreScore(ctx, nodes);
        if (ctx.IsSkipped(plugin, out _)) return ([], [], true);
        var raw = nodes.Select(n => plugin.Score(ctx, n)).ToArray();
        var normalized = (long[])raw.Clone();
        plugin.Normalize(ctx, nodes, normalized);
        return (raw, normalized, false);
    }

    [Fact]
    public void A_workloads_pod_is_spread_by_the_system_default_constraints()
    {
        var owned = Web("new", new PodOwner(PodOwner.ReplicaSet, "web-rs", AppWeb));
        var (raw, normalized, skipped) = SpreadScores(ZonesAndAZonelessNode(), owned);
        Assert.False(skipped);
        // hostname (maxSkew 3): weight ln(4 + 2) = 1.7918 (4 scored nodes, none ignored: keys not required);
        // zone (maxSkew 5): domains a, b and "" (n4 has no zone label) -> weight ln(3 + 2) = 1.6094; a = 2, b = 1.
        // n1: 2*1.7918 + 2 + 2*1.6094 + 4 = 12.80 -> 13;  n2: 0 + 2 + 3.2189 + 4 = 9.22 -> 9;
        // n3: 1.7918 + 2 + 1.6094 + 4 = 9.40 -> 9;  n4 (hostname term only): 1.7918 + 2 = 3.79 -> 4.
        Assert.Equal([13L, 9L, 9L, 4L], raw);
        // NormalizeScore: 100 * (max + min - s) / max with max 13, min 4: 400/13 = 30, 800/13 = 61, 61, 1300/13 = 100.
        Assert.Equal([30L, 61L, 61L, 100L], normalized);
    }

    [Fact]
    public void Pods_without_a_selecting_owner_or_with_their_own_constraints_get_no_defaults()
    {
        var cluster = ZonesAndAZonelessNode();
        Assert.True(SpreadScores(cluster, Web("bare")).Skipped);
        // DefaultSelector reads only ReplicaSets, StatefulSets and ReplicationControllers.
        Assert.True(SpreadScores(cluster, Web("job", new PodOwner("Job", "batch", AppWeb))).Skipped);
        Assert.True(SpreadScores(cluster, Web("empty", new PodOwner(PodOwner.StatefulSet, "db", new LabelSelector()))).Skipped);
        // The pod's own constraints replace the defaults: a DoNotSchedule-only pod has no soft constraint to score.
        var own = Web("own", new PodOwner(PodOwner.ReplicaSet, "web-rs", AppWeb)) with
        {
            TopologySpreadConstraints = [new TopologySpreadConstraint(1, "topology.kubernetes.io/zone", "DoNotSchedule", AppWeb)],
        };
        Assert.True(SpreadScores(cluster, own).Skipped);
    }
}
