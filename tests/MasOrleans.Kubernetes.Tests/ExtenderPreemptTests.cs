using k8s;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Resources;

namespace MasOrleans.Kubernetes.Tests;

/// <summary>
/// preemptVerb as kube-scheduler v1.35 calls it (pkg/scheduler/extender.go HTTPExtender.ProcessPreemption; the types in
/// staging/src/k8s.io/kube-scheduler/extender/v1/types.go): ExtenderPreemptionArgs carries the victims its dry run chose per
/// candidate node, as pod objects (NodeNameToVictims) or, nodeCacheCapable, as UIDs (NodeNameToMetaVictims); the answer is
/// NodeNameToMetaVictims, which kube-scheduler maps back by UID (convertToVictims) and then picks one node from
/// (preemption.go callExtenders, SelectCandidate).
/// </summary>
public class ExtenderPreemptTests
{
    // Two nodes of 16 cpu and 2 GPUs each. kube-scheduler counts nvidia.com/gpu as whole units; MasOrleans knows the devices.
    //   a: device 0 holds ml.low (500m, priority 0); device 1 holds ml.keep-a (1000m, priority 500).
    //   b: device 0 holds ml.low-b (500m, priority 0) and ml.keep-b (500m, priority 500); device 1 holds ml.keep-b2 (500m, priority 500).
    // The preemptor asks for one whole GPU at priority 100; kube-scheduler's dry run offers ml.low on a and ml.low-b on b.
    // Without ml.low, a's device 0 is free: 1000m, the pod fits. Without ml.low-b, b has 1000m free in all but 500m on each
    // device: a whole GPU fits on no device (a count of GPU units, as kube-scheduler keeps, would say it fits), so b is dropped.
    private const string Nodes = """
        {"items": [
          {"metadata": {"name": "a"}, "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "nvidia.com/gpu": "2", "pods": "110"}}},
          {"metadata": {"name": "b"}, "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "nvidia.com/gpu": "2", "pods": "110"}}}]}
        """;

    private static string Pod(string name, string uid, string gpu, int priority) => """
        {"metadata": {"name": "NAME", "namespace": "ml", "uid": "UID"},
         "spec": {"priority": PRIORITY, "containers": [{"name": "main", "resources": {"requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "GPU"}}}]}}
        """.Replace("NAME", name).Replace("UID", uid).Replace("PRIORITY", priority.ToString(System.Globalization.CultureInfo.InvariantCulture)).Replace("GPU", gpu);

    private static readonly string Preemptor = Pod("urgent", "u-urgent", "1", 100);

    private static (SchedulerExtender Extender, InMemoryExtenderClusterSource Source) Cluster()
    {
        var source = new InMemoryExtenderClusterSource();
        var extender = new SchedulerExtender(PolicyCatalog.CreateDefault(), source, binder: null, "kube", seed: 1);
        // The victims were filtered by this extender when they were scheduled (which made the nodes known), then bound as
        // its bind records a pod: with the UID the request carried, by which a nodeCacheCapable request's victims are found
        // among the node's pods (kube-scheduler's convertPodUIDToPod does the same).
        foreach (var (name, uid, gpu) in new[] { ("low", "u-low", "500m"), ("low-b", "u-low-b", "500m") })
            Assert.Equal("", extender.Filter(KubernetesJson.Deserialize<ExtenderArgs>($"{{\"Pod\": {Pod(name, uid, gpu, 0)}, \"Nodes\": {Nodes}}}")).Error);
        void Bind(string name, int priority, string node, int device, int milli) => source.RecordBinding(
            new PodSpec { Name = $"ml.{name}", Uid = $"u-{name}", Priority = priority, Requests = ResourceVector.Of(cpuMilli: 1000, memoryBytes: 1L << 30, gpuMilli: milli) },
            node, new GpuAllocation([device], milli));
        Bind("low", 0, "a", 0, 500);
        Bind("keep-a", 500, "a", 1, 1000);
        Bind("low-b", 0, "b", 0, 500);
        Bind("keep-b", 500, "b", 0, 500);
        Bind("keep-b2", 500, "b", 1, 500);
        return (extender, source);
    }

    [Fact]
    public async Task Keeps_only_the_nodes_where_the_victims_free_a_device_the_pod_fits_on_and_leaves_their_victims_as_sent()
    {
        var (extender, _) = Cluster();
        var args = KubernetesJson.Deserialize<ExtenderPreemptionArgs>($$$"""
            {"Pod": {{{Preemptor}}},
             "NodeNameToVictims": {
               "a": {"Pods": [{{{Pod("low", "u-low", "500m", 0)}}}], "NumPDBViolations": 1},
               "b": {"Pods": [{{{Pod("low-b", "u-low-b", "500m", 0)}}}], "NumPDBViolations": 0}}
            }
            """);
        var result = await extender.PreemptAsync(args, CancellationToken.None);
        var kept = Assert.Single(result.NodeNameToMetaVictims);
        Assert.Equal("a", kept.Key);
        Assert.Equal(["u-low"], kept.Value.Pods!.Select(p => p!.Uid).ToArray());
        Assert.Equal(1, kept.Value.NumPDBViolations);
    }

    [Fact]
    public async Task A_node_cache_capable_request_names_victims_by_uid_and_is_decided_the_same()
    {
        var (extender, _) = Cluster();
        var args = KubernetesJson.Deserialize<ExtenderPreemptionArgs>($$$"""
            {"Pod": {{{Preemptor}}},
             "NodeNameToMetaVictims": {
               "a": {"Pods": [{"UID": "u-low"}], "NumPDBViolations": 0},
               "b": {"Pods": [{"UID": "u-low-b"}], "NumPDBViolations": 0}}
            }
            """);
        var result = await extender.PreemptAsync(args, CancellationToken.None);
        Assert.Equal(["a"], result.NodeNameToMetaVictims.Keys.ToArray());
        Assert.Equal(["u-low"], result.NodeNameToMetaVictims["a"].Pods!.Select(p => p!.Uid).ToArray());
    }

    [Fact]
    public async Task Both_victims_of_b_let_the_pod_fit_there_and_a_node_unknown_here_or_without_victims_is_dropped()
    {
        // Without ml.low-b and ml.keep-b, b's device 0 is free. "c" is no node MasOrleans knows (filter answered it
        // unresolvable); a node without victims is no candidate (DryRunPreemption), and kube-scheduler refuses an answer
        // that keeps one ("expected at least one victim pod on node", preemption.go callExtenders).
        var (extender, _) = Cluster();
        var args = KubernetesJson.Deserialize<ExtenderPreemptionArgs>($$$"""
            {"Pod": {{{Preemptor}}},
             "NodeNameToVictims": {
               "a": {"Pods": [], "NumPDBViolations": 0},
               "b": {"Pods": [{{{Pod("low-b", "u-low-b", "500m", 0)}}}, {{{Pod("keep-b", "u-keep-b", "500m", 500)}}}], "NumPDBViolations": 0},
               "c": {"Pods": [{{{Pod("x", "u-x", "1", 0)}}}], "NumPDBViolations": 0}}
            }
            """);
        var result = await extender.PreemptAsync(args, CancellationToken.None);
        Assert.Equal(["b"], result.NodeNameToMetaVictims.Keys.ToArray());
        Assert.Equal(["u-low-b", "u-keep-b"], result.NodeNameToMetaVictims["b"].Pods!.Select(p => p!.Uid).ToArray());
    }

    /// <summary>
    /// Inter-pod affinity counts the pods of every node, not only the candidates': kube-scheduler's dry run filters each
    /// candidate with the PreFilter state computed over all the snapshot's nodes (kube v1.35
    /// pkg/scheduler/framework/preemption/preemption.go DryRunPreemption, plugins/interpodaffinity/filtering.go
    /// PreFilter over allNodes). a and d share zone z1; ml.db (app=db) runs on d, which is no candidate (it is full); ml.low
    /// holds a's one GPU. The preemptor needs one GPU and a pod app=db in its zone: without ml.low it fits on a, ml.db being
    /// in z1. Counted over a alone, no app=db pod exists (and the preemptor is no db, so it is not the first of its kind):
    /// a was dropped.
    /// </summary>
    [Fact]
    public async Task Affinity_to_a_pod_on_a_node_that_is_no_candidate_is_counted()
    {
        const string zoned = """
            {"items": [
              {"metadata": {"name": "a", "labels": {"zone": "z1"}}, "status": {"allocatable": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1", "pods": "110"}}},
              {"metadata": {"name": "d", "labels": {"zone": "z1"}}, "status": {"allocatable": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1", "pods": "110"}}}]}
            """;
        var source = new InMemoryExtenderClusterSource();
        var extender = new SchedulerExtender(PolicyCatalog.CreateDefault(), source, binder: null, "kube", seed: 1);
        Assert.Equal("", extender.Filter(KubernetesJson.Deserialize<ExtenderArgs>($"{{\"Pod\": {Pod("low", "u-low", "1", 0)}, \"Nodes\": {zoned}}}")).Error);
        var gpu = ResourceVector.Of(cpuMilli: 1000, memoryBytes: 1L << 30, gpuMilli: 1000);
        source.RecordBinding(new PodSpec { Name = "ml.low", Namespace = "ml", Uid = "u-low", Requests = gpu }, "a", new GpuAllocation([0], 1000));
        source.RecordBinding(new PodSpec { Name = "ml.db", Namespace = "ml", Uid = "u-db", Priority = 500, Requests = gpu,
            Labels = new Dictionary<string, string> { ["app"] = "db" } }, "d", new GpuAllocation([0], 1000));
        var preemptor = Preemptor.Replace("\"spec\": {", """
            "spec": {"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
              {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "zone"}]}},
            """, StringComparison.Ordinal);
        Assert.NotEqual(Preemptor, preemptor);
        var args = KubernetesJson.Deserialize<ExtenderPreemptionArgs>(
            "{\"Pod\": " + preemptor + """, "NodeNameToMetaVictims": {"a": {"Pods": [{"UID": "u-low"}], "NumPDBViolations": 0}}}""");
        var result = await extender.PreemptAsync(args, CancellationToken.None);
        Assert.Equal(["a"], result.NodeNameToMetaVictims.Keys.ToArray());
        Assert.Equal(["u-low"], result.NodeNameToMetaVictims["a"].Pods!.Select(p => p!.Uid).ToArray());
    }

    /// <summary>
    /// A pod with preemptionPolicy Never evicts nobody (kube v1.35 plugins/defaultpreemption/default_preemption.go,
    /// PodEligibleToPreemptOthers: "not eligible due to preemptionPolicy=Never."), so no node it does not fit is one eviction
    /// could help: FailedAndUnresolvableNodes, and the pod keeps the policy in MasOrleans. ml.low (priority 0) holds a's
    /// device 0 and ml.keep-a device 1; for the priority-100 pod evicting ml.low frees a whole GPU, so a is in FailedNodes
    /// unless the pod never preempts.
    /// </summary>
    [Theory]
    [InlineData(null, true)]
    [InlineData("PreemptLowerPriority", true)]
    [InlineData("Never", false)]
    public void A_pod_that_never_preempts_has_no_node_eviction_could_help(string? preemptionPolicy, bool resolvable)
    {
        var (extender, _) = Cluster();
        var args = KubernetesJson.Deserialize<ExtenderArgs>("{\"Pod\": " + Preemptor + ", \"Nodes\": " + Nodes + "}");
        args.Pod!.Spec.PreemptionPolicy = preemptionPolicy;
        Assert.Equal(preemptionPolicy == "Never" ? PreemptionPolicy.Never : PreemptionPolicy.PreemptLowerPriority, KubernetesMapping.ToPodSpec(args.Pod).PreemptionPolicy);
        var result = extender.Filter(args);
        Assert.Equal(resolvable, result.FailedNodes.ContainsKey("a"));
        Assert.Equal(!resolvable, result.FailedAndUnresolvableNodes.ContainsKey("a"));
    }

    [Theory]
    [InlineData("""{"NodeNameToVictims": {}}""", "Pod is required")]
    [InlineData("""{"Pod": POD}""", "needs NodeNameToVictims or NodeNameToMetaVictims")]
    [InlineData("""{"Pod": POD, "NodeNameToVictims": {"a": null}}""", "NodeNameToVictims[a] must list its victims' Pods")]
    [InlineData("""{"Pod": POD, "NodeNameToVictims": {"a": {"Pods": [null]}}}""", "must not contain null")]
    [InlineData("""{"Pod": POD, "NodeNameToVictims": {"a": {"Pods": [{"metadata": {"namespace": "ml"}}]}}}""", "a victim has no metadata.name")]
    // A victim with no metadata at all was a NullReferenceException (a 500), its UID read before its name was checked.
    [InlineData("""{"Pod": POD, "NodeNameToVictims": {"a": {"Pods": [{}]}}}""", "a victim has no metadata.name")]
    [InlineData("""{"Pod": POD, "NodeNameToMetaVictims": {"a": {"Pods": [{"UID": ""}]}}}""", "a victim has no UID")]
    public async Task Malformed_args_are_a_mapping_error(string json, string error)
    {
        var (extender, _) = Cluster();
        var args = KubernetesJson.Deserialize<ExtenderPreemptionArgs>(json.Replace("POD", Preemptor));
        var e = await Assert.ThrowsAsync<KubernetesMappingException>(() => extender.PreemptAsync(args, CancellationToken.None));
        Assert.Contains(error, e.Message);
    }
}
