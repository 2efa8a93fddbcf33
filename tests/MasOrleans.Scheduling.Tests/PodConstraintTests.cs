using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Plugins.Filters;
using MasOrleans.Scheduling.Plugins.Scores;
using MasOrleans.Scheduling.Policies;
using static MasOrleans.Scheduling.Tests.TestCluster;

namespace MasOrleans.Scheduling.Tests;

/// <summary>PodTopologySpread and InterPodAffinity, hand-computed on three zones.</summary>
public class PodConstraintTests
{
    private static readonly LabelSelector AppWeb = new(new Dictionary<string, string> { ["app"] = "web" });

    private static Cluster.ClusterState ThreeZones()
    {
        var cluster = Of(
            Node("a1", 8000, 8 * Gi, labels: new Dictionary<string, string> { ["zone"] = "a" }),
            Node("b1", 8000, 8 * Gi, labels: new Dictionary<string, string> { ["zone"] = "b" }),
            Node("c1", 8000, 8 * Gi, labels: new Dictionary<string, string> { ["zone"] = "c" }),
            Node("nolabel", 8000, 8 * Gi));
        // Zone a holds 2 web pods, zone b 1, zone c none.
        Bind(cluster, 0, Web("w1"));
        Bind(cluster, 0, Web("w2"));
        Bind(cluster, 1, Web("w3"));
        return cluster;
    }

    private static PodSpec Web(string name) => Pod(name, 100) with { Labels = new Dictionary<string, string> { ["app"] = "web" } };

    private static void Bind(Cluster.ClusterState cluster, int node, PodSpec pod) => Assert.True(cluster.TryBind(node, pod, GpuAllocation.None));

    private static string?[] Filter(IFilterPlugin filter, Cluster.ClusterState cluster, PodSpec pod)
    {
        var ctx = new SchedulingContext(cluster, pod, new Random(1));
        filter.PreFilter(ctx);
        return Enumerable.Range(0, cluster.NodeCount).Select(n => filter.Filter(ctx, n)).ToArray();
    }

    [Fact]
    public void Spread_filter_checks_skew_against_the_global_minimum()
    {
        var cluster = ThreeZones();
        var pod = Web("new") with { TopologySpreadConstraints = [new TopologySpreadConstraint(1, "zone", "DoNotSchedule", AppWeb)] };
        // min = 0 (zone c). a: 2+1-0 = 3 > 1; b: 1+1 = 2 > 1; c: 0+1 = 1 ok; no label: fails as unresolvable.
        Assert.Equal(new string?[] { PodTopologySpreadFilter.Reason, PodTopologySpreadFilter.Reason, null, PodTopologySpreadFilter.MissingLabelReason },
            Filter(new PodTopologySpreadFilter(), cluster, pod));
        // maxSkew 2 lets zone b in.
        var loose = pod with { TopologySpreadConstraints = [new TopologySpreadConstraint(2, "zone", "DoNotSchedule", AppWeb)] };
        Assert.Equal(new string?[] { PodTopologySpreadFilter.Reason, null, null, PodTopologySpreadFilter.MissingLabelReason },
            Filter(new PodTopologySpreadFilter(), cluster, loose));
        // minDomains 4 > 3 domains: the minimum counts as 0 (same here), and a pod not matching itself adds 0: b 1-0 <= 1.
        var other = Pod("other", 100) with { TopologySpreadConstraints = [new TopologySpreadConstraint(1, "zone", "DoNotSchedule", AppWeb, MinDomains: 4)] };
        Assert.Equal(new string?[] { PodTopologySpreadFilter.Reason, null, null, PodTopologySpreadFilter.MissingLabelReason },
            Filter(new PodTopologySpreadFilter(), cluster, other));
    }

    /// <summary>
    /// A bound pod relabelled counts by its new labels (podtopologyspread/filtering.go counts the pods the selector matches
    /// now): with zone a's two web pods relabelled db, the counts are a 0, b 1, c 0, so a passes (0+1-0 = 1) where it
    /// failed, and b still fails (1+1-0 = 2 > 1). Relabelling to the labels a pod has changes nothing.
    /// </summary>
    [Fact]
    public void Spread_filter_counts_a_relabelled_pod_by_its_new_labels()
    {
        var cluster = ThreeZones();
        var pod = Web("new") with { TopologySpreadConstraints = [new TopologySpreadConstraint(1, "zone", "DoNotSchedule", AppWeb)] };
        var version = cluster.Version;
        Assert.False(cluster.Relabel("w1", new Dictionary<string, string> { ["app"] = "web" }));
        Assert.Equal(version, cluster.Version);
        var db = new Dictionary<string, string> { ["app"] = "db" };
        Assert.True(cluster.Relabel("w1", db));
        Assert.True(cluster.Relabel("w2", db));
        Assert.True(cluster.Version > version);
        Assert.Equal(new string?[] { null, PodTopologySpreadFilter.Reason, null, PodTopologySpreadFilter.MissingLabelReason },
            Filter(new PodTopologySpreadFilter(), cluster, pod));
        Assert.Equal(["w1", "w2"], cluster.PodsOn(0).Select(b => b.Pod.Name));
    }

    [Fact]
    public void Spread_score_prefers_emptier_domains()
    {
        var cluster = ThreeZones();
        var pod = Web("new") with { TopologySpreadConstraints = [new TopologySpreadConstraint(1, "zone", "ScheduleAnyway", AppWeb)] };
        var ctx = new SchedulingContext(cluster, pod, new Random(1));
        int[] feasible = [0, 1, 2, 3];
        var plugin = new PodTopologySpreadScore();
        plugin.PreScore(ctx, feasible);
        var scores = feasible.Select(n => plugin.Score(ctx, n)).ToArray();
        // 3 zones among feasible nodes: weight ln(5) = 1.609; a: round(2 * 1.609) = 3, b: 2, c: 0; no label ignored (-1).
        Assert.Equal([3L, 2L, 0L, -1L], scores);
        plugin.Normalize(ctx, feasible, scores);
        // max 3, min 0: 100 * (3 + 0 - s) / 3 -> 0, 33, 100; the ignored node gets 0.
        Assert.Equal([0L, 33L, 100L, 0L], scores);
    }

    [Fact]
    public void Inter_pod_anti_affinity_of_existing_pods_and_the_incoming_pod()
    {
        var cluster = ThreeZones();
        var loner = Pod("loner", 100) with
        {
            Labels = new Dictionary<string, string> { ["app"] = "db" },
            Affinity = new Affinity(PodAntiAffinity: new PodAffinity([new PodAffinityTerm(AppWeb, "zone")])),
        };
        // The incoming db pod refuses zones with web pods: a and b fail; c and the unlabeled node pass.
        Assert.Equal(new string?[] { InterPodAffinityFilter.AntiAffinityReason, InterPodAffinityFilter.AntiAffinityReason, null, null },
            Filter(new InterPodAffinityFilter(), cluster, loner));
        Bind(cluster, 2, loner);
        // Now a web pod may not join zone c: the existing db pod's anti-affinity selects it.
        Assert.Equal(new string?[] { null, null, InterPodAffinityFilter.ExistingAntiAffinityReason, null },
            Filter(new InterPodAffinityFilter(), cluster, Web("w4")));
        // Other namespaces are not selected by a term without namespaces.
        Assert.Equal(new string?[] { null, null, null, null }, Filter(new InterPodAffinityFilter(), cluster, Web("w5") with { Namespace = "other" }));
    }

    [Fact]
    public void Inter_pod_affinity_requires_a_matching_pod_in_the_domain_except_for_the_first()
    {
        var cluster = ThreeZones();
        var follower = Pod("f", 100) with { Affinity = new Affinity(PodAffinity: new PodAffinity([new PodAffinityTerm(AppWeb, "zone")])) };
        Assert.Equal(new string?[] { null, null, InterPodAffinityFilter.AffinityReason, InterPodAffinityFilter.AffinityReason },
            Filter(new InterPodAffinityFilter(), cluster, follower));
        // A self-matching pod with no match anywhere may start the group (where the key exists).
        var empty = Of(Node("x", 1000, Gi, labels: new Dictionary<string, string> { ["zone"] = "x" }), Node("y", 1000, Gi));
        var first = Web("first") with { Affinity = follower.Affinity };
        Assert.Equal(new string?[] { null, InterPodAffinityFilter.AffinityReason }, Filter(new InterPodAffinityFilter(), empty, first));
    }

    [Fact]
    public void Inter_pod_preferred_affinity_scores_with_min_max_normalization()
    {
        var cluster = ThreeZones();
        var pod = Pod("p", 100) with
        {
            Affinity = new Affinity(
                PodAffinity: new PodAffinity(PreferredDuringSchedulingIgnoredDuringExecution: [new WeightedPodAffinityTerm(10, new PodAffinityTerm(AppWeb, "zone"))])),
        };
        var ctx = new SchedulingContext(cluster, pod, new Random(1));
        int[] nodes = [0, 1, 2, 3];
        var plugin = new InterPodAffinityScore();
        plugin.PreScore(ctx, nodes);
        var scores = nodes.Select(n => plugin.Score(ctx, n)).ToArray();
        // Zone a: 2 web pods x 10 = 20; b: 10; c and no label: 0.
        Assert.Equal([20L, 10L, 0L, 0L], scores);
        plugin.Normalize(ctx, nodes, scores);
        Assert.Equal([100L, 50L, 0L, 0L], scores);
    }

    [Fact]
    public void Inter_pod_normalization_starts_min_and_max_at_the_int64_extremes()
    {
        // kubernetes pkg/scheduler/framework/plugins/interpodaffinity/scoring.go NormalizeScore (since PR #98096):
        // minCount = MaxInt64, maxCount = MinInt64, then 100 * (s - min) / (max - min) over the scored nodes.
        var cluster = ThreeZones();
        PodSpec With(int weight, bool anti)
        {
            var term = new WeightedPodAffinityTerm(weight, new PodAffinityTerm(AppWeb, "zone"));
            return Pod("p", 100) with
            {
                Affinity = anti
                    ? new Affinity(PodAntiAffinity: new PodAffinity(PreferredDuringSchedulingIgnoredDuringExecution: [term]))
                    : new Affinity(PodAffinity: new PodAffinity(PreferredDuringSchedulingIgnoredDuringExecution: [term])),
            };
        }
        long[] Normalized(PodSpec pod)
        {
            // Only a1 and b1 are feasible: raw scores are both nonzero.
            int[] nodes = [0, 1];
            var ctx = new SchedulingContext(cluster, pod, new Random(1));
            var plugin = new InterPodAffinityScore();
            plugin.PreScore(ctx, nodes);
            var scores = nodes.Select(n => plugin.Score(ctx, n)).ToArray();
            plugin.Normalize(ctx, nodes, scores);
            return scores;
        }
        // Affinity: a1 = 2 x 10 = 20, b1 = 10. min 10, max 20 -> [100, 0] (min starting at 0 would give [100, 50]).
        Assert.Equal([100L, 0L], Normalized(With(10, anti: false)));
        // Anti-affinity: a1 = -20, b1 = -10. min -20, max -10 -> [0, 100] (max starting at 0 would give [0, 50]).
        Assert.Equal([0L, 100L], Normalized(With(10, anti: true)));
    }

    [Fact]
    public void Kube_profile_spreads_web_pods_across_zones_end_to_end()
    {
        var cluster = ThreeZones();
        var scheduler = new ProfileScheduler(PolicyCatalog.CreateDefault().Create("kube"));
        var pod = Web("new") with { TopologySpreadConstraints = [new TopologySpreadConstraint(1, "zone", "DoNotSchedule", AppWeb)] };
        Assert.Equal("c1", scheduler.Schedule(cluster, pod, new Random(1)).NodeName);
    }
}
