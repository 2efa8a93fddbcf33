using System.Net;
using System.Text;
using System.Text.Json;
using k8s;
using MasOrleans.Scheduling.Framework;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Policies;
using MasOrleans.Scheduling.Resources;
using MasOrleans.Tests.Shared;

namespace MasOrleans.Kubernetes.Tests;

public class ExtenderTests
{
    private static ExtenderArgs LoadArgs() =>
        KubernetesJson.Deserialize<ExtenderArgs>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", "filter-args.json")));

    private static SchedulerExtender NewExtender(IExtenderClusterSource? source = null, IPodBinder? binder = null) =>
        new(PolicyCatalog.CreateDefault(), source ?? new InMemoryExtenderClusterSource(), binder, "kube", seed: 1);

    [Fact]
    public void Maps_a_pod_with_kubernetes_request_semantics()
    {
        var pod = KubernetesMapping.ToPodSpec(LoadArgs().Pod!);
        Assert.Equal("ml.trainer-0", pod.Name);
        // Containers sum to 4.5 cpu, but the init container needs 6: the effective request is the max.
        Assert.Equal(6000, pod.Requests.CpuMilli);
        Assert.Equal(16L * 1024 * 1024 * 1024 + 256L * 1024 * 1024, pod.Requests.MemoryBytes);
        Assert.Equal(1000, pod.Requests.GpuMilli);
        Assert.Equal(100, pod.Priority);
        Assert.Equal("registry.example/trainer:1.4", pod.Image);
        Assert.Equal(["A10", "V100M32"], pod.Affinity!.NodeAffinity!.RequiredDuringSchedulingIgnoredDuringExecution!.NodeSelectorTerms[0].MatchExpressions![0].Values!);
    }

    /// <summary>
    /// Sidecars (init containers with restartPolicy Always) run beside the containers, so kube-scheduler counts them in the
    /// sum and under every init container started after them (k8s.io/component-helpers/resource/helpers.go v1.35,
    /// aggregateContainerResourcesByFn; KEP-753 "Resources calculation for scheduling and pod admission"). By hand:
    ///   running: main 2 cpu 4Gi + sidecar proxy 1 cpu 1Gi = 3 cpu 5Gi;
    ///   initializing: setup 3 cpu 1Gi (no sidecar yet); proxy itself 1 cpu 1Gi; migrate 2.5 cpu 2Gi + proxy = 3.5 cpu 3Gi;
    ///   effective = the larger, per resource: 3.5 cpu, 5Gi. Taking proxy for an ordinary init container gives 3 cpu, 4Gi.
    /// </summary>
    [Fact]
    public void Sidecar_init_containers_count_beside_the_containers_and_under_later_init_containers()
    {
        const string json = """
            {"metadata": {"name": "with-sidecar", "namespace": "ml"},
             "spec": {
               "initContainers": [
                 {"name": "setup", "resources": {"requests": {"cpu": "3", "memory": "1Gi"}}},
                 {"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}},
                 {"name": "migrate", "resources": {"requests": {"cpu": "2500m", "memory": "2Gi"}}}],
               "containers": [{"name": "main", "resources": {"requests": {"cpu": "2", "memory": "4Gi"}}}]}}
            """;
        var pod = KubernetesMapping.ToPodSpec(KubernetesJson.Deserialize<k8s.Models.V1Pod>(json));
        Assert.Equal((3500L, 5L << 30), (pod.Requests.CpuMilli, pod.Requests.MemoryBytes));
    }

    /// <summary>
    /// Pod-level resources (spec.resources; PodLevelResources is on by default since v1.34): for cpu and memory, the pod's
    /// request replaces the containers' (k8s.io/component-helpers/resource/helpers.go v1.35 PodRequests,
    /// applyPodLevelResources); other resources stay the containers'; the overhead is added after. Where the pod gives only
    /// a limit, the API server defaults the request from the containers' requests, or, when they ask for none of it, from
    /// the limit (pkg/apis/core/v1/defaults.go defaultPodRequests). By hand, overhead 250m cpu:
    ///   cpu: pod request 4 + 0.25 = 4250m (containers 1 + 1 = 2);
    ///   memory: only a pod limit of 8Gi, the containers ask 1Gi + 2Gi: 3Gi; GPUs: the containers', one.
    /// With no container asking for memory, the pod's 8Gi limit is its request.
    /// </summary>
    [Fact]
    public void Pod_level_requests_replace_the_containers_cpu_and_memory()
    {
        const string json = """
            {"metadata": {"name": "pod-level", "namespace": "ml"},
             "spec": {
               "resources": {"requests": {"cpu": "4"}, "limits": {"cpu": "8", "memory": "8Gi"}},
               "overhead": {"cpu": "250m"},
               "containers": [
                 {"name": "main", "resources": {"requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"}}},
                 {"name": "helper", "resources": {"requests": {"cpu": "1", "memory": "2Gi"}}}]}}
            """;
        var pod = KubernetesJson.Deserialize<k8s.Models.V1Pod>(json);
        var mapped = KubernetesMapping.ToPodSpec(pod);
        Assert.Equal((4250L, 3L << 30, 1000L), (mapped.Requests.CpuMilli, mapped.Requests.MemoryBytes, mapped.Requests.GpuMilli));

        foreach (var c in pod.Spec.Containers) c.Resources.Requests.Remove("memory");
        Assert.Equal(8L << 30, KubernetesMapping.ToPodSpec(pod).Requests.MemoryBytes);
    }

    [Fact]
    public void Node_name_match_fields_are_mapped()
    {
        // A DaemonSet pod's affinity: matchFields metadata.name In [node] (the NodeAffinity PreFilter narrows to it).
        var pod = LoadArgs().Pod!;
        var requirement = new k8s.Models.V1NodeSelectorRequirement { Key = "metadata.name", OperatorProperty = "In", Values = ["node-a"] };
        pod.Spec.Affinity = new k8s.Models.V1Affinity
        {
            NodeAffinity = new k8s.Models.V1NodeAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = new k8s.Models.V1NodeSelector { NodeSelectorTerms = [new k8s.Models.V1NodeSelectorTerm { MatchFields = [requirement] }] },
            },
        };
        var term = KubernetesMapping.ToPodSpec(pod).Affinity!.NodeAffinity!.RequiredDuringSchedulingIgnoredDuringExecution!.NodeSelectorTerms.Single();
        var field = term.MatchFields!.Single();
        Assert.Equal(("metadata.name", "In", "node-a"), (field.Key, field.Operator, field.Values!.Single()));
    }

    [Fact]
    public void Quantities_map_exactly_and_out_of_range_ones_are_a_mapping_error()
    {
        var node = LoadArgs().Nodes!.Items[0];
        node.Status.Allocatable["memory"] = new k8s.Models.ResourceQuantity("1.5Gi");
        node.Status.Allocatable["cpu"] = new k8s.Models.ResourceQuantity("31500m");
        var spec = KubernetesMapping.ToNodeSpec(node);
        Assert.Equal(1610612736L, spec.Capacity.MemoryBytes);
        Assert.Equal(31_500, spec.Capacity.CpuMilli);
        node.Status.Allocatable["pods"] = new k8s.Models.ResourceQuantity("250");
        Assert.Equal(250, KubernetesMapping.ToNodeSpec(node).MaxPods);
        node.Status.Allocatable.Remove("pods");
        Assert.Equal(110, KubernetesMapping.ToNodeSpec(node).MaxPods);
        node.Status.Allocatable["cpu"] = new k8s.Models.ResourceQuantity("1e40");
        Assert.Throws<KubernetesMappingException>(() => KubernetesMapping.ToNodeSpec(node));
    }

    [Fact]
    public void A_pod_whose_spread_constraint_or_affinity_term_has_no_topology_key_is_refused()
    {
        // The API server requires topologyKey (validation.go: "topologyKey: Required value"); without one the
        // scheduler would look a node label up by a null key.
        var spread = LoadArgs().Pod!;
        spread.Spec.TopologySpreadConstraints = [new k8s.Models.V1TopologySpreadConstraint { MaxSkew = 1, TopologyKey = null, WhenUnsatisfiable = "DoNotSchedule" }];
        Assert.Contains("topologyKey is required", Assert.Throws<KubernetesMappingException>(() => KubernetesMapping.ToPodSpec(spread)).Message);
        var affinity = LoadArgs().Pod!;
        affinity.Spec.Affinity = new k8s.Models.V1Affinity
        {
            PodAntiAffinity = new k8s.Models.V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [new k8s.Models.V1PodAffinityTerm { TopologyKey = "" }] },
        };
        Assert.Contains("topologyKey is required", Assert.Throws<KubernetesMappingException>(() => KubernetesMapping.ToPodSpec(affinity)).Message);
        spread.Spec.TopologySpreadConstraints[0].TopologyKey = "kubernetes.io/hostname";
        Assert.Equal("kubernetes.io/hostname", Assert.Single(KubernetesMapping.ToPodSpec(spread).TopologySpreadConstraints!).TopologyKey);
    }

    [Fact]
    public void A_node_whose_pods_allocatable_is_null_is_refused()
    {
        // The route fuzzer's find: "allocatable":{"pods":null} made /extender/prioritize throw (NullReferenceException).
        var node = LoadArgs().Nodes!.Items[0];
        node.Status.Allocatable["pods"] = null!;
        Assert.Contains("allocatable pods must not be null", Assert.Throws<KubernetesMappingException>(() => KubernetesMapping.ToNodeSpec(node)).Message);
    }

    [Fact]
    public void A_requirement_without_a_key_is_refused()
    {
        // The route fuzzer's find: a node affinity requirement with a null key made /extender/filter throw
        // (ArgumentNullException from the label lookup). The API server requires the key (validation.go: "key: Required value").
        var node = LoadArgs().Pod!;
        node.Spec.Affinity = new k8s.Models.V1Affinity
        {
            NodeAffinity = new k8s.Models.V1NodeAffinity
            {
                RequiredDuringSchedulingIgnoredDuringExecution = new k8s.Models.V1NodeSelector
                {
                    NodeSelectorTerms = [new k8s.Models.V1NodeSelectorTerm { MatchExpressions = [new k8s.Models.V1NodeSelectorRequirement { Key = null, OperatorProperty = "Exists" }] }],
                },
            },
        };
        Assert.Contains("key is required", Assert.Throws<KubernetesMappingException>(() => KubernetesMapping.ToPodSpec(node)).Message);
        var label = LoadArgs().Pod!;
        label.Spec.TopologySpreadConstraints = [new k8s.Models.V1TopologySpreadConstraint
        {
            MaxSkew = 1, TopologyKey = "zone", WhenUnsatisfiable = "DoNotSchedule",
            LabelSelector = new k8s.Models.V1LabelSelector { MatchExpressions = [new k8s.Models.V1LabelSelectorRequirement { Key = "", OperatorProperty = "Exists" }] },
        }];
        Assert.Contains("key is required", Assert.Throws<KubernetesMappingException>(() => KubernetesMapping.ToPodSpec(label)).Message);
    }

    [Fact]
    public void A_null_label_value_maps_to_the_empty_string_as_kube_scheduler_decodes_it()
    {
        // Go's encoding/json leaves a string at its zero value "" for a JSON null, so kube-scheduler sees "" (the
        // scheduler keys topology domains by label values and must never be handed a null).
        var args = LoadArgs();
        args.Pod!.Metadata.Labels = new Dictionary<string, string> { ["app"] = null! };
        Assert.Equal("", KubernetesMapping.ToPodSpec(args.Pod).Labels["app"]);
        var node = args.Nodes!.Items[0];
        node.Metadata.Labels = new Dictionary<string, string> { ["topology.kubernetes.io/zone"] = null! };
        Assert.Equal("", KubernetesMapping.ToNodeSpec(node).Labels["topology.kubernetes.io/zone"]);
    }

    /// <summary>
    /// One key per (namespace, name), read back as itself: the namespace is a DNS label, so the first dot always ends
    /// it. The default namespace is the REST API's space, so its pods key by their bare names (the extender keyed them
    /// "default.web" while /k8s read "default.web" back as default/web but looked "web" up: unreachable, duplicable).
    /// </summary>
    [Fact]
    public void Every_namespace_and_name_has_one_key_read_back_as_itself()
    {
        (string?, string)[] pairs = [("default", "web"), (null, "web"), ("default", "web.v2"), ("ml", "web"), ("ml", "web.v2"), ("a", "b.c"), ("b", "a.c"), ("web", "x")];
        var keys = pairs.Select(p => KubernetesNames.Key(p.Item1, p.Item2)).ToList();
        Assert.Equal(["web", "web", "default.web.v2", "ml.web", "ml.web.v2", "a.b.c", "b.a.c", "web.x"], keys);
        for (var i = 0; i < pairs.Length; i++) Assert.Equal((pairs[i].Item1 ?? "default", pairs[i].Item2), KubernetesNames.Split(keys[i]));
        Assert.Equal("web", KubernetesMapping.ToPodSpec(new k8s.Models.V1Pod { Metadata = new() { Name = "web" }, Spec = new() { Containers = [] } }).Name);
        Assert.Throws<KubernetesMappingException>(() => KubernetesNames.Key("a.b", "c"));
    }

    /// <summary>
    /// A namespace is a DNS-1123 label (apimachinery pkg/api/validation/generic.go ValidateNamespaceName): filter and
    /// bind refuse any other, as they refused only dotted ones before ("Prod_X" made a key).
    /// </summary>
    [Theory]
    [InlineData("Prod_X")]
    [InlineData("a.b")]
    [InlineData("-ml")]
    public async Task A_namespace_that_is_not_a_dns_label_is_refused_by_filter_and_bind(string ns)
    {
        var args = LoadArgs();
        args.Pod!.Metadata.NamespaceProperty = ns;
        Assert.Contains($"metadata.namespace: Invalid value: \"{ns}\"", NewExtender().Filter(args).Error);
        using var api = new RecordingApiServer();
        var extender = NewExtender(binder: new KubernetesPodBinder(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Url })));
        var bound = await extender.BindAsync(new ExtenderBindingArgs { PodName = "trainer-0", PodNamespace = ns, Node = "gpu-a10-1" }, CancellationToken.None);
        Assert.Contains($"\"{ns}\"", bound.Error);
        Assert.Empty(api.Requests);
    }

    [Fact]
    public void Filter_rejects_nodes_with_reasons_and_answers_with_node_objects()
    {
        var result = NewExtender().Filter(LoadArgs());
        Assert.Equal("", result.Error);
        // T4 is the wrong model; gpu-v100-1 has only 4 cpu for a 6-cpu pod.
        Assert.Equal(["gpu-a10-1", "gpu-v100-2"], result.Nodes!.Items.Select(n => n.Metadata.Name).Order().ToArray());
        // Neither failure is one eviction could fix (the T4 is the wrong model; the V100 holds no pod and has 4 cpu in all).
        Assert.Contains("node affinity", result.FailedAndUnresolvableNodes["gpu-t4-1"]);
        Assert.Equal("Insufficient cpu", result.FailedAndUnresolvableNodes["gpu-v100-1"]);
        Assert.Empty(result.FailedNodes);
    }

    /// <summary>
    /// kube-scheduler v1.35 pkg/scheduler/schedule_one.go findNodesThatPassExtenders gives the nodes in
    /// FailedAndUnresolvableNodes the status UnschedulableAndUnresolvable and those in FailedNodes Unschedulable;
    /// pkg/scheduler/framework/preemption/preemption.go nodesWherePreemptionMightHelp tries only the latter, and
    /// plugins/defaultpreemption/default_preemption.go SelectVictimsOnNode evicts only pods of strictly lower priority
    /// than the preemptor's. The payload's pod has priority 100 and needs 6 cpu; a 60-cpu pod fills gpu-v100-2 (64 cpu).
    /// Of priority 0 it could be evicted: gpu-v100-2 is in FailedNodes. Of priority 100 it could not: unresolvable. On
    /// gpu-t4-1 (the wrong GPU model) evicting it changes nothing either way.
    /// </summary>
    [Theory]
    [InlineData(0, "gpu-v100-2", true)]
    [InlineData(100, "gpu-v100-2", false)]
    [InlineData(0, "gpu-t4-1", false)]
    public void A_node_is_failed_as_resolvable_only_when_evicting_lower_priority_pods_would_let_the_pod_fit(int fillerPriority, string node, bool resolvable)
    {
        var source = new InMemoryExtenderClusterSource();
        var filler = new PodSpec { Name = "ml.filler", Priority = fillerPriority, Requests = ResourceVector.Of(cpuMilli: 60_000) };
        source.RecordBinding(filler, node, GpuAllocation.None);
        var result = NewExtender(source).Filter(LoadArgs());
        Assert.Equal(resolvable, result.FailedNodes.ContainsKey(node));
        Assert.Equal(!resolvable, result.FailedAndUnresolvableNodes.ContainsKey(node));
        Assert.Empty(result.FailedNodes.Keys.Intersect(result.FailedAndUnresolvableNodes.Keys));
    }

    [Fact]
    public void Filter_json_uses_the_go_field_names()
    {
        var json = KubernetesJson.Serialize(NewExtender().Filter(LoadArgs()));
        using var doc = JsonDocument.Parse(json);
        var keys = doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Contains("Nodes", keys);
        Assert.Contains("FailedNodes", keys);
        Assert.Contains("FailedAndUnresolvableNodes", keys);
        Assert.Contains("Error", keys);
        Assert.True(doc.RootElement.GetProperty("Nodes").GetProperty("items").GetArrayLength() == 2);
    }

    /// <summary>
    /// kube-scheduler's extender API: one HostPriority {Host, Score int64} per node, Score in
    /// MinExtenderPriority..MaxExtenderPriority = 0..10 (k8s.io/kube-scheduler/extender/v1/types.go:26-29, HostPriority at
    /// the end of the file). Our mapping (SchedulerExtender.Prioritize): infeasible nodes 0; feasible ones
    /// total / sum of the profile's weights (12) * 10 / 100, in integers.
    /// Hand-derived totals for the payload's pod (effective requests 6 cpu, 16.25Gi, 1 GPU; tolerates the GPU taint;
    /// required node affinity only) under kube-scheduler v1.35's default profile:
    ///   TaintToleration (w3): no PreferNoSchedule taint anywhere, reversed normalization of all-zero counts = 100 -> 300.
    ///   NodeAffinity, PodTopologySpread, InterPodAffinity (w2 each): nothing preferred, no constraints, no affinity -> skipped, 0.
    ///   ImageLocality (w1): nodes report no images -> 0.
    ///   NodeResourcesFit LeastAllocated (w1), (cpu + memory) / 2 of (free * 100 / allocatable):
    ///     gpu-a10-1: cpu 25500*100/31500 = 80, memory 108.75Gi*100/125Gi = 87 -> 167/2 = 83;
    ///     gpu-v100-2: cpu 58000*100/64000 = 90, memory 239.75Gi*100/256Gi = 93 -> 183/2 = 91.
    ///   NodeResourcesBalancedAllocation (w1), (1 - |cpu fraction - memory fraction| / 2) * 100:
    ///     gpu-a10-1: 6/31.5 = .19048, 16.25/125 = .13 -> (1 - .03024) * 100 = 96;
    ///     gpu-v100-2: 6/64 = .09375, 16.25/256 = .06348 -> (1 - .01514) * 100 = 98.
    ///   gpu-a10-1: 300 + 83 + 96 = 479 -> 479/12 = 39 -> 39*10/100 = 3; gpu-v100-2: 300 + 91 + 98 = 489 -> 40 -> 4.
    ///   gpu-t4-1 (wrong GPU model) and gpu-v100-1 (4 cpu) fail the filters -> 0.
    /// </summary>
    public static readonly Dictionary<string, long> ExpectedKubePriorities = new()
    {
        ["gpu-a10-1"] = 3,
        ["gpu-t4-1"] = 0,
        ["gpu-v100-1"] = 0,
        ["gpu-v100-2"] = 4,
    };

    [Fact]
    public void Prioritize_scores_are_kube_schedulers_totals_mapped_to_zero_to_ten()
    {
        var priorities = NewExtender().Prioritize(LoadArgs());
        Assert.Equal(ExpectedKubePriorities, priorities.ToDictionary(p => p.Host, p => p.Score));
        var json = KubernetesJson.Serialize(priorities);
        Assert.Contains("\"Host\":", json);
        Assert.Contains("\"Score\":", json);
    }

    /// <summary>Scores a node by its free CPU milli times 2^20, plus 7: totals far beyond 0..100, as fgd-ties' and fgd-learned's are.</summary>
    private sealed class FineGrainedScore : IScorePlugin
    {
        public string Name => "FreeCpuFine";
        public long Score(SchedulingContext context, int node) => context.Cluster.Free(ResourceKind.Cpu, node) * (1 << 20) + 7;
    }

    [Fact]
    public void Prioritize_spreads_totals_beyond_zero_to_a_hundred_over_zero_to_ten()
    {
        // kube's filters (gpu-a10-1 and gpu-v100-2 pass, as above) with one score plugin whose totals are free CPU x 2^20 + 7:
        // gpu-a10-1 31,500 x 2^20 + 7, gpu-v100-2 64,000 x 2^20 + 7. Mapped as kube's would clamp both to 10; spread from the
        // lowest feasible total (0) to the highest (10).
        var catalog = PolicyCatalog.CreateDefault();
        var kube = catalog.Create("kube");
        catalog.Register("fine", "test", _ => kube with { Name = "fine", Scores = [new WeightedScorePlugin(new FineGrainedScore(), 1)] });
        var extender = new SchedulerExtender(catalog, new InMemoryExtenderClusterSource(), null, "kube", seed: 1);
        var args = LoadArgs();
        args.Pod!.Metadata.Annotations[SchedulerExtender.PolicyAnnotation] = "fine";
        var expected = new Dictionary<string, long> { ["gpu-a10-1"] = 0, ["gpu-t4-1"] = 0, ["gpu-v100-1"] = 0, ["gpu-v100-2"] = 10 };
        Assert.Equal(expected, extender.Prioritize(args).ToDictionary(p => p.Host, p => p.Score));
    }

    [Fact]
    public void Fgd_prioritizes_by_the_fragmentation_of_the_pods_already_bound()
    {
        // FGD needs typical pods; the extender derives them as the silo does (PolicySchedulers): from the bound pods, here
        // one pod of 1 CPU and 1 whole GPU on b. Nodes a (4 CPU, 1 GPU) and b (8 CPU, 1 GPU, both held by that pod). A
        // 3.5-CPU pod: on a it leaves 0.5 CPU, the typical pod no longer fits and the idle GPU is stranded, F 0 -> 1000,
        // score trunc(100 x sigmoid(-1)) = 26 (FgdEvaluator.ScoreOf); on b no GPU is idle, F 0 -> 0, score 50. fgd's one
        // score plugin has weight 1: priorities 26 x 10 / 100 = 2 and 50 x 10 / 100 = 5. With no typical pods every F
        // is 0 and both would score 50.
        var source = new InMemoryExtenderClusterSource();
        var bound = new PodSpec { Name = "ml.holder", Requests = ResourceVector.Of(cpuMilli: 1000, memoryBytes: 1L << 30, gpuMilli: 1000) };
        const string json = """
            {"Pod": {"metadata": {"name": "cpu-job", "namespace": "ml", "uid": "u-1", "annotations": {"masorleans.io/policy": "fgd"}},
                     "spec": {"containers": [{"name": "main", "resources": {"requests": {"cpu": "3500m", "memory": "1Gi"}}}]}},
             "Nodes": {"items": [
               {"metadata": {"name": "a"}, "status": {"allocatable": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1", "pods": "110"}}},
               {"metadata": {"name": "b"}, "status": {"allocatable": {"cpu": "8", "memory": "16Gi", "nvidia.com/gpu": "1", "pods": "110"}}}]}}
            """;
        var extender = NewExtender(source);
        var args = KubernetesJson.Deserialize<ExtenderArgs>(json);
        Assert.Equal(2, extender.Filter(args).Nodes!.Items.Count);
        source.RecordBinding(bound, "b", new GpuAllocation([0], 1000));
        Assert.Equal(new Dictionary<string, long> { ["a"] = 2, ["b"] = 5 }, extender.Prioritize(args).ToDictionary(p => p.Host, p => p.Score));
    }

    [Fact]
    public void Fgd_prioritizes_with_the_typical_pods_of_every_known_node_not_only_the_requests()
    {
        // kube-scheduler sends prioritize only the nodes that passed filter; the typical pods are still the whole cluster's,
        // as the silo's cycle and explain take them. Node a (8 CPU, 1 GPU, empty) is the only one sent; b, known from an
        // earlier filter, holds the cluster's one pod: 8 CPU and a whole GPU, so that is the one typical pod (p = 1).
        // A 1-CPU pod on a (FragmentationModel.NodeFragment, FgdEvaluator.ScoreOf = trunc(100 x sigmoid((F before - F after) / 1000))):
        //   before, 8 CPU free: the typical pod fits with its whole GPU, fragment 0; after, 7 CPU: it does not, the idle
        //   1000 milli are fragment. F 0 -> 1000, score trunc(100 x sigmoid(-1)) = 26; fgd's one score plugin (weight 1): 26 x 10 / 100 = 2.
        // Typical pods from the request's node alone (none bound: the pod at hand, CPU-only, for which every idle milli is
        // fragment) would give F 1000 -> 1000, score 50, priority 5.
        var source = new InMemoryExtenderClusterSource();
        const string json = """
            {"Pod": {"metadata": {"name": "cpu-job", "namespace": "ml", "uid": "u-1", "annotations": {"masorleans.io/policy": "fgd"}},
                     "spec": {"containers": [{"name": "main", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]}},
             "Nodes": {"items": [
               {"metadata": {"name": "a"}, "status": {"allocatable": {"cpu": "8", "memory": "16Gi", "nvidia.com/gpu": "1", "pods": "110"}}},
               {"metadata": {"name": "b"}, "status": {"allocatable": {"cpu": "16", "memory": "16Gi", "nvidia.com/gpu": "1", "pods": "110"}}}]}}
            """;
        var extender = NewExtender(source);
        var args = KubernetesJson.Deserialize<ExtenderArgs>(json);
        Assert.Equal(2, extender.Filter(args).Nodes!.Items.Count);
        var holder = new PodSpec { Name = "ml.holder", Requests = ResourceVector.Of(cpuMilli: 8000, memoryBytes: 1L << 30, gpuMilli: 1000) };
        source.RecordBinding(holder, "b", new GpuAllocation([0], 1000));
        args.Nodes!.Items.RemoveAt(1);
        Assert.Equal(new Dictionary<string, long> { ["a"] = 2 }, extender.Prioritize(args).ToDictionary(p => p.Host, p => p.Score));
    }

    [Fact]
    public async Task Bind_places_a_shared_pod_on_the_device_prioritize_scored_with_the_whole_clusters_typical_pods()
    {
        // a: 8 CPU, 2 GPUs, device 0 holding a 500m pod; b: 16 CPU, 8 GPUs, each held by a 1-GPU pod. The cluster's typical
        // pods (FragmentationModel): 8/9 a whole GPU, 1/9 500m. A 300m pod bound to a, fragmentation of a after it, by hand
        // (a device's free milli is a fragment for a typical pod it cannot hold):
        //   on device 0 (500 -> 200 left): whole GPU: 200; 500m: 200; F = 8/9 x 200 + 1/9 x 200 = 200;
        //   on device 1 (1000 -> 700 left): whole GPU: 500 + 700; 500m: 0; F = 8/9 x 1200 = 1067.
        // So device 0. Typical pods from a's own pods alone (only the 500m shape) give device 0 F 200 and device 1 F 0:
        // device 1, what bind chose before it kept the typical pods prioritize scored with.
        using var api = new RecordingApiServer();
        var source = new InMemoryExtenderClusterSource();
        var extender = NewExtender(source, new KubernetesPodBinder(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Url })));
        source.RecordBinding(new PodSpec { Name = "ml.half", Requests = ResourceVector.Of(cpuMilli: 1000, memoryBytes: 1L << 30, gpuMilli: 500) }, "a", new GpuAllocation([0], 500));
        for (var i = 0; i < 8; i++)
            source.RecordBinding(new PodSpec { Name = $"ml.whole-{i}", Requests = ResourceVector.Of(cpuMilli: 1000, memoryBytes: 1L << 30, gpuMilli: 1000) }, "b", new GpuAllocation([i], 1000));
        const string json = """
            {"Pod": {"metadata": {"name": "small", "namespace": "ml", "uid": "u-2", "annotations": {"masorleans.io/policy": "fgd"}},
                     "spec": {"containers": [{"name": "main", "resources": {"requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "300m"}}}]}},
             "Nodes": {"items": [
               {"metadata": {"name": "a"}, "status": {"allocatable": {"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "2", "pods": "110"}}},
               {"metadata": {"name": "b"}, "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "nvidia.com/gpu": "8", "pods": "110"}}}]}}
            """;
        var args = KubernetesJson.Deserialize<ExtenderArgs>(json);
        Assert.Equal(["a"], extender.Filter(args).Nodes!.Items.Select(n => n.Metadata.Name).ToArray());
        extender.Prioritize(args);

        Assert.Equal("", (await extender.BindAsync(new ExtenderBindingArgs { PodName = "small", PodNamespace = "ml", PodUID = "u-2", Node = "a" }, CancellationToken.None)).Error);

        var placed = Assert.Single(source.BoundPods("a"), b => b.Pod.Name == "ml.small");
        Assert.Equal([0], placed.Gpus.Devices.ToArray());
        Assert.Equal(300, placed.Gpus.MilliPerDevice);
    }

    [Fact]
    public void Known_bound_pods_count_against_a_node()
    {
        var source = new InMemoryExtenderClusterSource();
        var filler = new PodSpec { Name = "ml.filler", Requests = ResourceVector.Of(cpuMilli: 60_000) };
        source.RecordBinding(filler, "gpu-v100-2", GpuAllocation.None);
        var result = NewExtender(source).Filter(LoadArgs());
        Assert.Equal("Insufficient cpu", result.FailedNodes["gpu-v100-2"]);
    }

    [Fact]
    public void Name_only_requests_use_nodes_seen_before_and_fail_unknown_ones()
    {
        var source = new InMemoryExtenderClusterSource();
        var extender = NewExtender(source);
        extender.Filter(LoadArgs());
        var args = LoadArgs();
        args.Nodes = null;
        args.NodeNames = ["gpu-a10-1", "gpu-t4-1", "never-seen"];
        var result = extender.Filter(args);
        Assert.Equal(["gpu-a10-1"], result.NodeNames!.ToArray());
        Assert.Equal("node unknown to MasOrleans", result.FailedAndUnresolvableNodes["never-seen"]);
    }

    [Fact]
    public void Malformed_args_are_reported_in_Error()
    {
        var args = LoadArgs();
        args.Pod!.Spec.Containers[0].Resources.Requests["cpu"] = new k8s.Models.ResourceQuantity("1");
        args.Pod.Metadata.Annotations["masorleans.io/policy"] = "no-such-policy";
        Assert.Contains("unknown policy", NewExtender().Filter(args).Error);
        Assert.Contains("Pod is required", NewExtender().Filter(new ExtenderArgs { NodeNames = [] }).Error);
    }

    [Fact]
    public async Task Bind_posts_a_binding_to_the_kubernetes_api()
    {
        using var api = new RecordingApiServer();
        var client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Url });
        var extender = NewExtender(binder: new KubernetesPodBinder(client));
        extender.Filter(LoadArgs());
        var result = await extender.BindAsync(new ExtenderBindingArgs { PodName = "trainer-0", PodNamespace = "ml", PodUID = "9f1c7e4e-1111-4c2b-9a55-0c2f3b5d6e7f", Node = "gpu-a10-1" }, CancellationToken.None);
        Assert.Equal("", result.Error);
        var (method, path, body) = Assert.Single(api.Requests);
        Assert.Equal("POST", method);
        Assert.Equal("/api/v1/namespaces/ml/pods/trainer-0/binding", path);
        using var doc = JsonDocument.Parse(body);
        Assert.Equal("Node", doc.RootElement.GetProperty("target").GetProperty("kind").GetString());
        Assert.Equal("gpu-a10-1", doc.RootElement.GetProperty("target").GetProperty("name").GetString());
        Assert.Equal("9f1c7e4e-1111-4c2b-9a55-0c2f3b5d6e7f", doc.RootElement.GetProperty("metadata").GetProperty("uid").GetString());
    }

    [Fact]
    public async Task A_default_namespace_pod_is_filtered_and_bound_under_its_bare_name()
    {
        using var api = new RecordingApiServer();
        var source = new InMemoryExtenderClusterSource();
        var extender = NewExtender(source, new KubernetesPodBinder(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Url })));
        var args = LoadArgs();
        args.Pod!.Metadata.Name = "kp1";
        args.Pod.Metadata.NamespaceProperty = null;
        Assert.Equal("", extender.Filter(args).Error);
        Assert.Equal("", (await extender.BindAsync(new ExtenderBindingArgs { PodName = "kp1", PodNamespace = "default", Node = "gpu-a10-1" }, CancellationToken.None)).Error);
        Assert.Equal("kp1", Assert.Single(source.BoundPods("gpu-a10-1")).Pod.Name);
        Assert.Equal(("POST", "/api/v1/namespaces/default/pods/kp1/binding"), (Assert.Single(api.Requests).Method, api.Requests[0].Path));
    }

    /// <summary>
    /// Filter and prioritize never depend on the binder: its client is made at the first bind, and a configuration
    /// that gives none fails that bind with an Error (in the silo it was every request's 500, from a DI factory).
    /// </summary>
    [Fact]
    public async Task A_binder_whose_configuration_fails_leaves_filter_and_prioritize_alone_and_fails_bind()
    {
        var connects = 0;
        var source = new InMemoryExtenderClusterSource();
        var extender = NewExtender(source, new KubernetesPodBinder(() =>
        {
            connects++;
            throw new k8s.Exceptions.KubeConfigException("User: fake does not have appropriate auth credentials in kubeconfig");
        }));
        Assert.Equal("", extender.Filter(LoadArgs()).Error);
        Assert.Equal(ExpectedKubePriorities, extender.Prioritize(LoadArgs()).ToDictionary(p => p.Host, p => p.Score));
        Assert.Equal(0, connects);
        var bound = await extender.BindAsync(new ExtenderBindingArgs { PodName = "trainer-0", PodNamespace = "ml", Node = "gpu-a10-1" }, CancellationToken.None);
        Assert.Contains("does not have appropriate auth credentials", bound.Error);
        Assert.Empty(source.BoundPods("gpu-a10-1"));
    }

    [Fact]
    public async Task Bind_failure_from_the_api_is_reported_and_gives_the_reservation_back()
    {
        using var api = new RecordingApiServer(HttpStatusCode.Conflict);
        var source = new InMemoryExtenderClusterSource();
        var extender = NewExtender(source, new KubernetesPodBinder(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Url })));
        extender.Filter(LoadArgs());
        var result = await extender.BindAsync(new ExtenderBindingArgs { PodName = "trainer-0", PodNamespace = "ml", Node = "gpu-a10-1" }, CancellationToken.None);
        Assert.Contains("failed", result.Error);
        Assert.Single(api.Requests);
        Assert.Empty(source.BoundPods("gpu-a10-1"));
    }

    [Fact]
    public async Task Bind_counts_the_pod_with_its_gpu_devices_and_refuses_unfiltered_pods()
    {
        using var api = new RecordingApiServer();
        var source = new InMemoryExtenderClusterSource();
        var extender = NewExtender(source, new KubernetesPodBinder(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = api.Url })));
        Assert.Contains("not filtered", (await extender.BindAsync(new ExtenderBindingArgs { PodName = "stranger", PodNamespace = "ml", Node = "gpu-a10-1" }, CancellationToken.None)).Error);
        Assert.Empty(api.Requests);

        extender.Filter(LoadArgs());
        Assert.Equal("", (await extender.BindAsync(new ExtenderBindingArgs { PodName = "trainer-0", PodNamespace = "ml", Node = "gpu-a10-1" }, CancellationToken.None)).Error);
        var bound = Assert.Single(source.BoundPods("gpu-a10-1"));
        Assert.Equal("ml.trainer-0", bound.Pod.Name);
        Assert.Single(bound.Gpus.Devices);
        // A second pod wanting all four GPUs no longer fits on the A10 node: the bound GPU counts.
        var args = LoadArgs();
        args.Pod!.Metadata.Name = "trainer-1";
        args.Pod.Spec.Containers[0].Resources.Requests["nvidia.com/gpu"] = new k8s.Models.ResourceQuantity("4");
        // Of the same priority as trainer-0, which is therefore no victim: no eviction frees the GPU.
        Assert.Contains("nvidia.com/gpu", extender.Filter(args).FailedAndUnresolvableNodes["gpu-a10-1"]);
    }
}
