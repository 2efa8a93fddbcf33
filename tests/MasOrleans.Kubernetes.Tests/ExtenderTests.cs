using System.Net;
using System.Text;
using System.Text.Json;
using k8s;
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
    public void Pods_of_different_namespaces_never_share_a_key()
    {
        // The namespace is a DNS label, so the first dot always ends it.
        Assert.NotEqual(KubernetesMapping.PodKey("a", "b.c"), KubernetesMapping.PodKey("b", "a.c"));
        Assert.Throws<KubernetesMappingException>(() => KubernetesMapping.PodKey("a.b", "c"));
        Assert.Equal("default.web", KubernetesMapping.PodKey(null, "web"));
    }

    [Fact]
    public void Filter_rejects_nodes_with_reasons_and_answers_with_node_objects()
    {
        var result = NewExtender().Filter(LoadArgs());
        Assert.Equal("", result.Error);
        // T4 is the wrong model; gpu-v100-1 has only 4 cpu for a 6-cpu pod.
        Assert.Equal(["gpu-a10-1", "gpu-v100-2"], result.Nodes!.Items.Select(n => n.Metadata.Name).Order().ToArray());
        Assert.Contains("node affinity", result.FailedNodes["gpu-t4-1"]);
        Assert.Equal("Insufficient cpu", result.FailedNodes["gpu-v100-1"]);
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

    [Fact]
    public void Prioritize_scores_run_zero_to_ten_and_favour_the_emptier_node()
    {
        var priorities = NewExtender().Prioritize(LoadArgs());
        Assert.All(priorities, p => Assert.InRange(p.Score, 0, ExtenderLimits.MaxExtenderPriority));
        var byHost = priorities.ToDictionary(p => p.Host, p => p.Score);
        Assert.Equal(0, byHost["gpu-t4-1"]);
        // kube's LeastAllocated: the 64-cpu node stays emptier than the 31.5-cpu node after placement.
        Assert.True(byHost["gpu-v100-2"] >= byHost["gpu-a10-1"], $"scores: {string.Join(", ", byHost)}");
        var json = KubernetesJson.Serialize(priorities);
        Assert.Contains("\"Host\":", json);
        Assert.Contains("\"Score\":", json);
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
        Assert.Equal("node unknown to MasOrleans", result.FailedNodes["never-seen"]);
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
        Assert.Contains("nvidia.com/gpu", extender.Filter(args).FailedNodes["gpu-a10-1"]);
    }
}
