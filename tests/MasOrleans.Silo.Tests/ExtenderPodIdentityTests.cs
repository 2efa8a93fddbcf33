using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Kubernetes;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static MasOrleans.Silo.Tests.Infrastructure.ExtenderCalls;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A pod bound through the extender and the pods of the REST API and /k8s are one set: one pod to a name in the default
/// namespace, served on /k8s with its Kubernetes uid and policy, a pod created again binding on its own room, a REST
/// pod's name refused, and REST pods counted on the Kubernetes nodes they run on.
/// </summary>
[Collection(ExtenderSiloTests.Name)]
public sealed class ExtenderPodIdentityTests : ExtenderSiloTest
{
    /// <summary>
    /// The extender and /k8s share one key mapping: a pod bound in the default namespace was stored as "default.kp1",
    /// which kubectl get pods -A listed as default/kp1, yet kubectl get pod kp1 was NotFound and kubectl run kp1 made a
    /// second default/kp1. Now it is the one pod kp1 every surface sees.
    /// </summary>
    [Fact]
    public async Task A_pod_bound_in_the_default_namespace_is_the_pod_of_that_name_everywhere()
    {
        var args = LoadArgs();
        args.Pod!.Metadata.Name = "kp1";
        args.Pod.Metadata.NamespaceProperty = "default";
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", args)).Error);
        Assert.Equal("", (await Post<ExtenderBindingResult>("bind", new ExtenderBindingArgs { PodName = "kp1", PodNamespace = "default", Node = "gpu-a10-1" })).Error);
        // The pod shows its node once its own cycle has confirmed the bind's reservation (it is Pending until then).
        await Http.WaitFor("/api/v1/pods/kp1", p => p.Phase() == "Running");

        using (var got = await Http.GetAsync("/k8s/api/v1/namespaces/default/pods/kp1"))
        {
            Assert.True(got.StatusCode == HttpStatusCode.OK, $"{(int)got.StatusCode} {await got.Content.ReadAsStringAsync()}");
            Assert.Equal("gpu-a10-1", (await got.Json()).GetProperty("spec").GetProperty("nodeName").GetString());
        }
        Assert.Equal("gpu-a10-1", (await Http.GetJson("/api/v1/pods/kp1")).GetProperty("nodeName").GetString());
        var again = """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"kp1"},"spec":{"containers":[{"name":"main","image":"busybox"}]}}""";
        using (var duplicate = await Http.PostAsync("/k8s/api/v1/namespaces/default/pods", new StringContent(again, Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        var all = (await Http.GetJson("/k8s/api/v1/pods")).GetProperty("items").EnumerateArray()
            .Select(p => (p.GetProperty("metadata").GetProperty("namespace").GetString(), p.GetProperty("metadata").GetProperty("name").GetString()));
        Assert.Equal([("default", "kp1")], all.Where(p => p.Item2 == "kp1"));
    }

    /// <summary>
    /// A pod bound through the extender keeps Kubernetes' metadata.uid (the one filter-args.json carries), yet /k8s served
    /// one made up from its name and creation time: a client holding the cluster's pod (its events, a delete's uid
    /// precondition) found another uid here. It is served as Kubernetes gave it.
    /// </summary>
    [Fact]
    public async Task A_pod_bound_through_the_extender_is_served_on_k8s_with_its_kubernetes_uid()
    {
        const string KubernetesUid = "9f1c7e4e-1111-4c2b-9a55-0c2f3b5d6e7f";
        var args = LoadArgs();
        Assert.Equal(KubernetesUid, args.Pod!.Metadata.Uid);
        args.Pod.Metadata.Name = "kp-uid";
        args.Pod.Metadata.NamespaceProperty = "default";
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", args)).Error);
        Assert.Equal("", (await Post<ExtenderBindingResult>("bind", new ExtenderBindingArgs { PodName = "kp-uid", PodNamespace = "default", Node = "gpu-a10-1" })).Error);
        await Http.WaitFor("/api/v1/pods/kp-uid", p => p.Phase() == "Running");

        Assert.Equal(KubernetesUid, (await Http.GetJson("/k8s/api/v1/namespaces/default/pods/kp-uid")).GetProperty("metadata").GetProperty("uid").GetString());
        using var delete = new HttpRequestMessage(HttpMethod.Delete, "/k8s/api/v1/namespaces/default/pods/kp-uid")
        {
            Content = new StringContent($$$"""{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"{{{KubernetesUid}}}"}}""", Encoding.UTF8, "application/json"),
        };
        using var deleted = await Http.SendAsync(delete);
        Assert.True(deleted.StatusCode == HttpStatusCode.OK, $"{(int)deleted.StatusCode} {await deleted.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task A_policy_annotation_is_kept_as_the_policy_is_registered()
    {
        var args = LoadArgs();
        args.Pod!.Metadata.Name = "kp-upper";
        args.Pod.Metadata.NamespaceProperty = "default";
        args.Pod.Metadata.Annotations[SchedulerExtender.PolicyAnnotation] = "KUBE";
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", args)).Error);
        Assert.Equal("", (await Post<ExtenderBindingResult>("bind", new ExtenderBindingArgs { PodName = "kp-upper", PodNamespace = "default", Node = "gpu-a10-1" })).Error);
        var pod = await Http.GetJson("/api/v1/pods/kp-upper");
        Assert.Contains(pod.GetProperty("events").EnumerateArray(), e => e.GetProperty("message").GetString() == "pod accepted; waiting for policy 'kube'");
    }

    /// <summary>
    /// A Kubernetes pod deleted and created again under its name (a later metadata.creationTimestamp, another uid) while
    /// its node still held the deleted one's reservation (its release lost with its silo). The extender's pods carried no
    /// creation time, which matches any pod of the name: the new pod took the deleted one's room, its size and devices.
    /// </summary>
    [Fact]
    public async Task A_pod_created_again_in_kubernetes_binds_on_its_own_room_not_the_deleted_pods_reservation()
    {
        Host.Log.Expect(Regex.Escape("held a reservation for pod ml.reborn-0 which is"));
        var first = new DateTime(2026, 12, 6, 1, 0, 0, DateTimeKind.Utc);
        var args = LoadArgs();
        args.Pod!.Metadata.Name = "reborn-0";
        args.Pod.Metadata.CreationTimestamp = first;
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", args)).Error);
        Assert.Equal("", (await Post<ExtenderBindingResult>("bind", new ExtenderBindingArgs { PodName = "reborn-0", PodNamespace = "ml", Node = "gpu-a10-1" })).Error);
        await Http.WaitFor("/api/v1/pods/ml.reborn-0", p => p.Phase() == "Running");
        var node = Host.Services.GetRequiredService<IGrainFactory>().GetGrain<INodeGrain>("gpu-a10-1");
        var deleted = (await node.GetView())!.Pods.Single(b => b.Pod.Name == "ml.reborn-0");
        // Deleted, and the release lost: the node holds what it held for the pod.
        using (var gone = await Http.DeleteAsync("/api/v1/pods/ml.reborn-0")) Assert.True(gone.IsSuccessStatusCode);
        Assert.True((await node.Reserve(deleted.Pod, deleted.Gpus)).Reserved);

        // Created again a minute later, smaller: no init container asking 6 cpus, so 4 + 0.5 (kube's effective request).
        var again = LoadArgs();
        again.Pod!.Metadata.Name = "reborn-0";
        again.Pod.Metadata.Uid = "9f1c7e4e-2222-4c2b-9a55-0c2f3b5d6e7f";
        again.Pod.Metadata.CreationTimestamp = first.AddMinutes(1);
        again.Pod.Spec.InitContainers = null;
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", again)).Error);
        Assert.Equal("", (await Post<ExtenderBindingResult>("bind", new ExtenderBindingArgs { PodName = "reborn-0", PodNamespace = "ml", Node = "gpu-a10-1" })).Error);

        var pod = await Http.WaitFor("/api/v1/pods/ml.reborn-0", p => p.Phase() == "Running");
        Assert.Equal("gpu-a10-1", pod.GetProperty("nodeName").GetString());
        var held = (await node.GetView())!.Pods.Single(b => b.Pod.Name == "ml.reborn-0");
        Assert.Equal("4500m", (await Http.GetJson("/api/v1/nodes/gpu-a10-1")).GetProperty("allocated").GetProperty("cpu").GetString());
        Assert.Equal(4500, held.Pod.Requests.CpuMilli);
        Assert.Equal(new DateTimeOffset(first.AddMinutes(1)), held.Pod.CreatedAt);
    }

    [Fact]
    public async Task A_bind_for_a_name_a_rest_pod_has_is_refused_and_charges_no_node()
    {
        Host.Log.Expect("answered kube-scheduler with an error: a pod named default/kp-taken already exists here");
        // A default-namespace pod keys by its bare name, as a REST pod does, and a node's reservation is idempotent per
        // name: the review found this bind "reserved" the REST pod's room (or another node's) for the Kubernetes pod.
        using (var rest = await Http.Post("/api/v1/pods", new { name = "kp-taken", requests = new Dictionary<string, string> { ["cpu"] = "1" } }))
            Assert.Equal(HttpStatusCode.Accepted, rest.StatusCode);
        var args = LoadArgs();
        args.Pod!.Metadata.Name = "kp-taken";
        args.Pod.Metadata.NamespaceProperty = "default";
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", args)).Error);
        var before = (await Http.GetJson("/api/v1/nodes/gpu-a10-1")).GetProperty("allocated").ToString();
        var bound = await Post<ExtenderBindingResult>("bind", new ExtenderBindingArgs { PodName = "kp-taken", PodNamespace = "default", Node = "gpu-a10-1" });
        Assert.Contains("a pod named default/kp-taken already exists here", bound.Error);
        Assert.Equal(before, (await Http.GetJson("/api/v1/nodes/gpu-a10-1")).GetProperty("allocated").ToString());
    }

    [Fact]
    public async Task Pods_placed_through_the_rest_api_count_against_kubernetes_nodes()
    {
        await Post<ExtenderFilterResult>("filter", LoadArgs());
        using var filler = await Http.Post("/api/v1/pods", new
        {
            name = "filler",
            requests = new Dictionary<string, string> { ["cpu"] = "60" },
            nodeSelector = new Dictionary<string, string> { ["nvidia.com/gpu.product"] = "V100M32" },
            tolerations = new[] { new { key = "nvidia.com/gpu", @operator = "Exists" } },
        });
        Assert.Equal(HttpStatusCode.Accepted, filler.StatusCode);
        await Http.WaitFor("/api/v1/pods/filler", p => p.Phase() == "Running");

        var again = await Post<ExtenderFilterResult>("filter", LoadArgs());
        Assert.Equal(["gpu-a10-1"], again.Nodes!.Items.Select(n => n.Metadata.Name).ToArray());
        Assert.Equal("Insufficient cpu", again.FailedNodes["gpu-v100-2"]);

        // nodeCacheCapable: names only, resolved from the nodes MasOrleans knows.
        var byName = LoadArgs();
        byName.Nodes = null;
        byName.NodeNames = ["gpu-a10-1", "gpu-v100-2", "not-a-node"];
        var named = await Post<ExtenderFilterResult>("filter", byName);
        Assert.Equal(["gpu-a10-1"], named.NodeNames!.ToArray());
        Assert.Equal("node unknown to MasOrleans", named.FailedAndUnresolvableNodes["not-a-node"]);
    }
}
