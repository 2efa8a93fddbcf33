using k8s;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Tests.Shared;

namespace MasOrleans.Kubernetes.Tests;

/// <summary>
/// filterVerb and prioritizeVerb judge inter-pod affinity and topology spreading by the pods of every node, not only
/// the request's: kube-scheduler sends an extender only the candidates (the nodes its own filters passed), but its plugins
/// count over the whole snapshot (kube v1.35 pkg/scheduler/framework/plugins/podtopologyspread/filtering.go and
/// scoring.go, PreFilter and PreScore over allNodes; interpodaffinity/filtering.go PreFilter over allNodes). Only the
/// request's nodes are answered and scored against each other. Nodes a and d are in zone z1, b in z2, each 16 cpu and
/// 64Gi; d is no candidate (as when it is full) and holds pods of app=web.
/// </summary>
public class ExtenderWholeClusterTests
{
    private const string AllNodes = """
        {"items": [
          {"metadata": {"name": "a", "labels": {"zone": "z1"}}, "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110"}}},
          {"metadata": {"name": "b", "labels": {"zone": "z2"}}, "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110"}}},
          {"metadata": {"name": "d", "labels": {"zone": "z1"}}, "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110"}}}]}
        """;

    private static string Pod(string name, string spec) =>
        "{\"metadata\": {\"name\": \"" + name + "\", \"namespace\": \"ml\", \"labels\": {\"app\": \"web\"}}, \"spec\": {" + spec
        + """ "containers": [{"name": "main", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}}""";

    /// <summary>
    /// The extender knows a, b and d (a filter over all three made them known), and d holds <paramref name="labelled"/> pods
    /// labelled app=<paramref name="app"/>.
    /// </summary>
    private static SchedulerExtender Cluster(int labelled, InMemoryExtenderClusterSource? source = null, IPodBinder? binder = null, string app = "web")
    {
        source ??= new InMemoryExtenderClusterSource();
        var extender = new SchedulerExtender(PolicyCatalog.CreateDefault(), source, binder, "kube", seed: 1);
        Assert.Equal("", extender.Filter(Args(Pod("probe", ""), AllNodes)).Error);
        for (var i = 0; i < labelled; i++)
            source.RecordBinding(new PodSpec
            {
                Name = $"ml.{app}-{i}", Namespace = "ml", Requests = ResourceVector.Of(cpuMilli: 1000, memoryBytes: 1L << 30),
                Labels = new Dictionary<string, string> { ["app"] = app },
            }, "d", GpuAllocation.None);
        return extender;
    }

    private static ExtenderArgs Args(string pod, string nodes) => KubernetesJson.Deserialize<ExtenderArgs>($"{{\"Pod\": {pod}, \"Nodes\": {nodes}}}");

    /// <summary>Why filter failed <paramref name="node"/>, whichever list it is in; null when it passed.</summary>
    private static string? Reason(ExtenderFilterResult result, string node) =>
        result.FailedNodes.TryGetValue(node, out var reason) || result.FailedAndUnresolvableNodes.TryGetValue(node, out reason) ? reason : null;

    /// <summary>The request's candidates: a and b, not d.</summary>
    private static string Candidates => AllNodes[..AllNodes.IndexOf(",\n  {\"metadata\": {\"name\": \"d\"", StringComparison.Ordinal)] + "]}";

    /// <summary>
    /// maxSkew 1 over zones, DoNotSchedule: z1 holds one app=web pod (on d), z2 none, so the minimum is 0 and a in z1 would
    /// make a skew of 1 + 1 - 0 = 2 (filtering.go Filter): a fails, b passes. Counted over a and b alone, both zones
    /// held none and a passed.
    /// </summary>
    [Fact]
    public void A_spread_constraint_counts_the_pods_of_nodes_that_are_no_candidates()
    {
        Assert.Equal(["a", "b"], KubernetesJson.Deserialize<k8s.Models.V1NodeList>(Candidates).Items.Select(n => n.Metadata.Name).ToArray());
        var pod = Pod("web-new", """
            "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "web"}}}],
            """);
        var result = Cluster(labelled: 1).Filter(Args(pod, Candidates));
        Assert.Equal("", result.Error);
        Assert.Equal(["b"], result.Nodes!.Items.Select(n => n.Metadata.Name).ToArray());
        // filtering.go ErrReasonConstraintsNotMatch.
        Assert.Equal("node(s) didn't match pod topology spread constraints", Reason(result, "a"));
    }

    /// <summary>Required anti-affinity to app=web in the zone: d's pod is in a's zone, so a fails (and b passes).</summary>
    [Fact]
    public void Anti_affinity_counts_the_pods_of_nodes_that_are_no_candidates()
    {
        var pod = Pod("web-apart", """
            "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "zone"}]}},
            """);
        var result = Cluster(labelled: 1).Filter(Args(pod, Candidates));
        Assert.Equal("", result.Error);
        Assert.Equal(["b"], result.Nodes!.Items.Select(n => n.Metadata.Name).ToArray());
        // interpodaffinity/filtering.go ErrReasonAntiAffinityRulesNotMatch.
        Assert.Equal("node(s) didn't match pod anti-affinity rules", Reason(result, "a"));
    }

    /// <summary>
    /// maxSkew 1 over zones, ScheduleAnyway, d holding two app=web pods. kube's default profile by hand (weights sum 12):
    /// TaintToleration 100 x 3 on both (no taints); NodeAffinity, InterPodAffinity and ImageLocality 0 (nothing to score);
    /// NodeResourcesFit LeastAllocated (93 cpu + 98 memory) / 2 = 95; BalancedAllocation (1 - |1/16 - 1/64| / 2) x 100 = 97.
    /// PodTopologySpread (scoring.go): a's zone holds 2, weighted by ln(2 zones among the candidates + 2), rounded: 3; b's 0;
    /// normalized 100 x (max + min - s) / max: a 0, b 100, x 2. Totals a 492, b 692; the extender's 0..10 is
    /// total / 12 x 10 / 100: a 4, b 5. Counted over a and b alone, both zones held none: both 100, both 5.
    /// </summary>
    [Fact]
    public void Spread_scores_count_the_pods_of_nodes_that_are_no_candidates()
    {
        var pod = Pod("web-soft", """
            "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app": "web"}}}],
            """);
        var priorities = Cluster(labelled: 2).Prioritize(Args(pod, Candidates));
        Assert.Equal(new Dictionary<string, long> { ["a"] = 4, ["b"] = 5 }, priorities.ToDictionary(p => p.Host, p => p.Score));
    }

    /// <summary>
    /// Required affinity to app=db in the zone, the db pod on d: a passes filter (d shares its zone), b does not, and bind
    /// places the pod on a, judging the affinity by every node as filter did (kube-scheduler binds what its cycle chose).
    /// A bind that looked at a alone would find no db pod and refuse the node filter had passed.
    /// </summary>
    [Fact]
    public async Task Affinity_to_a_pod_on_a_node_that_is_no_candidate_passes_filter_and_bind()
    {
        using var api = new RecordingApiServer();
        var source = new InMemoryExtenderClusterSource();
        var extender = Cluster(labelled: 1, source, new KubernetesPodBinder(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Url })), app: "db");
        var pod = Pod("web-near-db", """
            "affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "zone"}]}},
            """);
        var result = extender.Filter(Args(pod, Candidates));
        Assert.Equal("", result.Error);
        Assert.Equal(["a"], result.Nodes!.Items.Select(n => n.Metadata.Name).ToArray());
        // interpodaffinity/filtering.go ErrReasonAffinityRulesNotMatch.
        Assert.Equal("node(s) didn't match pod affinity rules", Reason(result, "b"));

        Assert.Equal("", (await extender.BindAsync(new ExtenderBindingArgs { PodName = "web-near-db", PodNamespace = "ml", Node = "a" }, CancellationToken.None)).Error);
        Assert.Equal("ml.web-near-db", Assert.Single(source.BoundPods("a")).Pod.Name);
    }
}
