using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using k8s;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Kubernetes;
using MasOrleans.Silo.Tests.Infrastructure;
using MasOrleans.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using static MasOrleans.Silo.Tests.Infrastructure.ExtenderCalls;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// The extender routes over real HTTP with kube-scheduler's own JSON, backed by the grains; bind posts the
/// Binding to a recording stand-in for the Kubernetes API (configured through a kubeconfig file).
/// </summary>
public sealed class ExtenderApiTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mas-extender-").FullName;
    private readonly RecordingApiServer _kubernetes = new();
    private SiloHost _host = null!;

    private HttpClient Http => _host.Http;

    private readonly NodePatches _nodePatches = new();

    public async Task InitializeAsync() => _host = await SiloHost.StartAsync(settings: new Dictionary<string, string>
    {
        ["Extender:Kubernetes:KubeconfigPath"] = _kubernetes.WriteKubeconfig(_dir),
        ["Scheduler:RetryCoalesceMilliseconds"] = "50",
    }, configure: builder => builder.Services.AddSingleton<Orleans.IIncomingGrainCallFilter>(_nodePatches));

    /// <summary>Counts calls of INodeGrain.Patch arriving at node grains, per node.</summary>
    private sealed class NodePatches : Orleans.IIncomingGrainCallFilter
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

        public int Of(string node) => _counts.GetValueOrDefault(node);

        public Task Invoke(Orleans.IIncomingGrainCallContext context)
        {
            if (context.InterfaceMethod?.DeclaringType == typeof(INodeGrain) && context.InterfaceMethod.Name == nameof(INodeGrain.Patch))
                _counts.AddOrUpdate(context.TargetId.Key.ToString()!, 1, (_, n) => n + 1);
            return context.Invoke();
        }
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _kubernetes.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private Task<T> Post<T>(string verb, object args) => Http.PostExtender<T>(verb, args);

    [Fact]
    public async Task Filter_prioritize_and_bind_as_kube_scheduler_calls_them()
    {
        var filtered = await Post<ExtenderFilterResult>("filter", LoadArgs());
        Assert.Equal("", filtered.Error);
        Assert.Equal(["gpu-a10-1", "gpu-v100-2"], filtered.Nodes!.Items.Select(n => n.Metadata.Name).Order().ToArray());
        Assert.Equal("Insufficient cpu", filtered.FailedAndUnresolvableNodes["gpu-v100-1"]);
        // Nodes kube-scheduler sent are now known to MasOrleans.
        var node = await Http.GetJson("/api/v1/nodes/gpu-a10-1");
        Assert.Equal("31500m", node.GetProperty("capacity").GetProperty("cpu").GetString());

        var priorities = await Post<List<HostPriority>>("prioritize", LoadArgs());
        // Scores derived by hand in MasOrleans.Kubernetes.Tests' ExtenderTests (kube's default profile, 0..10 per node):
        // the silo's runtime default policy is kube, and no pod is bound yet.
        Assert.Equal(new Dictionary<string, long> { ["gpu-a10-1"] = 3, ["gpu-t4-1"] = 0, ["gpu-v100-1"] = 0, ["gpu-v100-2"] = 4 },
            priorities.ToDictionary(p => p.Host, p => p.Score));
        // nodeCacheCapable: kube-scheduler sends names only (pkg/scheduler/extender.go, Prioritize); the nodes registered
        // above score the same.
        var byName = LoadArgs();
        byName.NodeNames = byName.Nodes!.Items.Select(n => n.Metadata.Name).ToList();
        byName.Nodes = null;
        Assert.Equal(priorities.ToDictionary(p => p.Host, p => p.Score), (await Post<List<HostPriority>>("prioritize", byName)).ToDictionary(p => p.Host, p => p.Score));

        var bound = await Post<ExtenderBindingResult>("bind", new ExtenderBindingArgs
        {
            PodName = "trainer-0", PodNamespace = "ml", PodUID = "9f1c7e4e-1111-4c2b-9a55-0c2f3b5d6e7f", Node = "gpu-a10-1",
        });
        Assert.Equal("", bound.Error);
        var (method, path, body) = Assert.Single(_kubernetes.Requests);
        Assert.Equal(("POST", "/api/v1/namespaces/ml/pods/trainer-0/binding"), (method, path));
        Assert.Equal("gpu-a10-1", JsonDocument.Parse(body).RootElement.GetProperty("target").GetProperty("name").GetString());

        // MasOrleans records the pod under namespace.name, on that node, with its GPU.
        var pod = await Http.WaitFor("/api/v1/pods/ml.trainer-0", p => p.Phase() == "Running");
        Assert.Equal("gpu-a10-1", pod.GetProperty("nodeName").GetString());
        Assert.Equal(1, pod.GetProperty("gpuDevices").GetArrayLength());
        var allocated = (await Http.GetJson("/api/v1/nodes/gpu-a10-1")).GetProperty("allocated");
        Assert.Equal("6", allocated.GetProperty("cpu").GetString());
    }

    /// <summary>
    /// preemptionPolicy: Never on a pod kube-scheduler sends was dropped: bound through the extender, MasOrleans kept the pod
    /// as PreemptLowerPriority, and placing it again (its node tainted, drained) its own preemption would evict for it. It is
    /// kept now, as the REST API and /k8s keep it (kube's PodEligibleToPreemptOthers: such a pod evicts nobody).
    /// </summary>
    [Fact]
    public async Task A_pod_that_never_preempts_is_bound_and_kept_as_such()
    {
        var args = LoadArgs();
        args.Pod!.Spec.PreemptionPolicy = "Never";
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", args)).Error);
        Assert.Equal("", (await Post<ExtenderBindingResult>("bind", new ExtenderBindingArgs { PodName = "trainer-0", PodNamespace = "ml", Node = "gpu-a10-1" })).Error);
        var pod = await Http.WaitFor("/api/v1/pods/ml.trainer-0", p => p.Phase() == "Running");
        Assert.Equal("Never", pod.GetProperty("preemptionPolicy").GetString());
    }

    /// <summary>
    /// The extender and /k8s share one key mapping: a pod bound in the default namespace was stored as "default.kp1",
    /// which kubectl get pods -A listed as default/kp1, yet kubectl get pod kp1 was NotFound and kubectl run kp1 made a
    /// second default/kp1. Now it is the one pod kp1 every surface sees.
    /// </summary>
    [Fact]
    public async Task A_known_node_takes_the_labels_kubernetes_sends_and_one_left_out_of_a_request_stays()
    {
        // kubectl label node gpu-a10-1 team=vision: kube-scheduler's next request carries the node with the label. The
        // extender only added nodes, so MasOrleans kept the labels it registered, and a name-only request
        // (nodeCacheCapable) placed pods by them.
        var args = LoadArgs();
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", args)).Error);
        var relabelled = args.Nodes!.Items.Single(n => n.Metadata.Name == "gpu-a10-1");
        relabelled.Metadata.Labels["team"] = "vision";
        args.Nodes.Items = [relabelled];
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", args)).Error);

        Assert.Equal("vision", (await Http.GetJson("/api/v1/nodes/gpu-a10-1")).GetProperty("labels").GetProperty("team").GetString());
        var byName = LoadArgs();
        byName.Pod!.Spec.NodeSelector = new Dictionary<string, string> { ["team"] = "vision" };
        byName.Nodes = null;
        byName.NodeNames = ["gpu-a10-1", "gpu-v100-2"];
        Assert.Equal(["gpu-a10-1"], (await Post<ExtenderFilterResult>("filter", byName)).NodeNames!);
        // A node left out of a request is not gone (kube-scheduler sends only the nodes its filters passed): still known.
        using var kept = await Http.GetAsync("/api/v1/nodes/gpu-v100-2");
        Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
    }

    /// <summary>
    /// kubectl taint node / kubectl cordon on nodes MasOrleans already knows: the extender took only labels from later
    /// requests, so a name-only request (nodeCacheCapable) and MasOrleans' own cycle still placed pods on a node kube
    /// keeps them off. Reasons as kube-scheduler v1.35 words them: pkg/scheduler/framework/plugins/tainttoleration/
    /// taint_toleration.go (fmt.Sprintf("node(s) had untolerated taint {%s: %s}", taint.Key, taint.Value)) and
    /// nodeunschedulable/node_unschedulable.go (ErrReasonUnschedulable); both UnschedulableAndUnresolvable.
    /// </summary>
    [Fact]
    public async Task A_known_node_takes_the_taints_and_cordon_kubernetes_sends()
    {
        var args = LoadArgs();
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", args)).Error);
        var tainted = args.Nodes!.Items.Single(n => n.Metadata.Name == "gpu-a10-1");
        tainted.Spec.Taints.Add(new k8s.Models.V1Taint { Key = "dedicated", Value = "vision", Effect = "NoSchedule" });
        var cordoned = args.Nodes.Items.Single(n => n.Metadata.Name == "gpu-v100-2");
        cordoned.Spec.Unschedulable = true;
        args.Nodes.Items = [tainted, cordoned];
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", args)).Error);

        var a10 = await Http.GetJson("/api/v1/nodes/gpu-a10-1");
        Assert.Contains(a10.GetProperty("taints").EnumerateArray(), t => t.GetProperty("key").GetString() == "dedicated");
        Assert.True((await Http.GetJson("/api/v1/nodes/gpu-v100-2")).GetProperty("unschedulable").GetBoolean());
        var byName = LoadArgs();
        byName.Nodes = null;
        byName.NodeNames = ["gpu-a10-1", "gpu-v100-2"];
        var named = await Post<ExtenderFilterResult>("filter", byName);
        Assert.Empty(named.NodeNames!);
        Assert.Equal("node(s) had untolerated taint {dedicated: vision}", named.FailedAndUnresolvableNodes["gpu-a10-1"]);
        Assert.Equal("node(s) were unschedulable", named.FailedAndUnresolvableNodes["gpu-v100-2"]);

        // Untainted and uncordoned again in Kubernetes: the nodes take the pod again.
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", LoadArgs())).Error);
        Assert.Equal(["gpu-a10-1", "gpu-v100-2"], (await Post<ExtenderFilterResult>("filter", byName)).NodeNames!.Order().ToArray());
    }

    /// <summary>
    /// A node being deleted through MasOrleans (DELETE /api/v1/nodes, kubectl delete node on /k8s) is cordoned while its
    /// pods leave; Kubernetes still sends it schedulable, and taking that from each request uncordoned it mid-deletion.
    /// </summary>
    [Fact]
    public async Task A_node_being_deleted_stays_cordoned_whatever_kubernetes_sends()
    {
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", LoadArgs())).Error);
        // A reservation whose pod never records it refuses eviction, so the deletion stays under way (DeletedNodeReservationTests).
        var node = _host.Services.GetRequiredService<IGrainFactory>().GetGrain<MasOrleans.Abstractions.Grains.INodeGrain>("gpu-t4-1");
        var ghost = new MasOrleans.Scheduling.Model.PodSpec { Name = "t4-ghost", Requests = MasOrleans.Scheduling.Resources.ResourceVector.Of(cpuMilli: 1000) };
        Assert.True((await node.Reserve(ghost, MasOrleans.Scheduling.Model.GpuAllocation.None)).Reserved);
        using (var deleting = await Http.DeleteAsync("/api/v1/nodes/gpu-t4-1?force=true"))
            Assert.Equal(HttpStatusCode.Accepted, deleting.StatusCode);

        // The extender acts on this silo's view as its last request read it: once the view has the deletion, a request reads
        // it and the next one takes what Kubernetes sends.
        var siloView = _host.Services.GetRequiredService<MasOrleans.Grains.Scheduling.SiloClusterView>();
        await FaultScenarios.WaitUntil(() => siloView.Node("gpu-t4-1")?.Draining == true, 20);
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", LoadArgs())).Error);
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", LoadArgs())).Error);
        var view = await node.GetView();
        Assert.True(view!.Draining);
        Assert.True(view.Spec.Unschedulable, "the extender uncordoned a node being deleted");
        await node.Release("t4-ghost");
    }

    /// <summary>
    /// The kubelet's allocatable changed (a GPU gone unhealthy, new system reservations): the extender kept the capacity the
    /// node registered with, so a name-only request (nodeCacheCapable) and MasOrleans' own cycle placed by room the node no
    /// longer has. Kube's reason: "Insufficient cpu" (v1.35 pkg/scheduler/framework/plugins/noderesources/fit.go, "Insufficient "
    /// and the resource; UnschedulableAndUnresolvable here, with no pod whose eviction makes room). A node its bound pods no
    /// longer fit keeps them (Kubernetes evicts nothing for allocatable either) and its size, said once in a warning, until
    /// they have left.
    /// </summary>
    [Fact]
    public async Task A_known_node_takes_the_allocatable_kubernetes_sends_once_its_pods_fit()
    {
        var args = LoadArgs();
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", args)).Error);
        // The pod's effective cpu request is 6 (its init container); gpu-v100-2 goes from 64 cpu to 5.
        var shrunk = args.Nodes!.Items.Single(n => n.Metadata.Name == "gpu-v100-2");
        shrunk.Status.Allocatable["cpu"] = new k8s.Models.ResourceQuantity("5");
        args.Nodes.Items = [shrunk];
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", args)).Error);
        Assert.Equal("5", (await Http.GetJson("/api/v1/nodes/gpu-v100-2")).GetProperty("capacity").GetProperty("cpu").GetString());
        var byName = LoadArgs();
        byName.Nodes = null;
        byName.NodeNames = ["gpu-a10-1", "gpu-v100-2"];
        var named = await Post<ExtenderFilterResult>("filter", byName);
        Assert.Equal(["gpu-a10-1"], named.NodeNames!);
        Assert.Equal("Insufficient cpu", named.FailedAndUnresolvableNodes["gpu-v100-2"]);

        // gpu-a10-1 (31.5 cpu) holds 20 cpu of a REST pod, and Kubernetes now says 16: the pod stays, the node keeps its size.
        var overfull = await FillA10AndShrinkIt();
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", overfull)).Error);
        Assert.Equal("31500m", (await Http.GetJson("/api/v1/nodes/gpu-a10-1")).GetProperty("capacity").GetProperty("cpu").GetString());
        Assert.Equal("Running", (await Http.GetJson("/api/v1/pods/a10-filler")).Phase());
        // Filter counts the pod there as bind will place: 11.5 of the 31.5 cpu are free, not the 16 sent (which the 20 cpu
        // pod, left out as not fitting, made look empty). This pod's effective cpu request is 12.5.
        var large = LoadArgs();
        large.Pod!.Spec.Containers[0].Resources.Requests["cpu"] = new k8s.Models.ResourceQuantity("12");
        large.Nodes = overfull.Nodes;
        var refusedLarge = await Post<ExtenderFilterResult>("filter", large);
        Assert.Empty(refusedLarge.Nodes!.Items);
        Assert.Equal("Insufficient cpu", refusedLarge.FailedNodes.Concat(refusedLarge.FailedAndUnresolvableNodes).Single(f => f.Key == "gpu-a10-1").Value);

        // Once the pod has left (as the silo's view the extender reads has it), the next request's allocatable is taken.
        using (var deleted = await Http.DeleteAsync("/api/v1/pods/a10-filler"))
            Assert.True(deleted.IsSuccessStatusCode, $"{(int)deleted.StatusCode}");
        await Http.WaitFor("/api/v1/nodes/gpu-a10-1", n => n.GetProperty("pods").GetArrayLength() == 0);
        var siloView = _host.Services.GetRequiredService<MasOrleans.Grains.Scheduling.SiloClusterView>();
        await FaultScenarios.WaitUntil(() => siloView.Node("gpu-a10-1")?.Pods.Count == 0, 20);
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", overfull)).Error);
        Assert.Equal("16", (await Http.GetJson("/api/v1/nodes/gpu-a10-1")).GetProperty("capacity").GetProperty("cpu").GetString());
    }

    /// <summary>
    /// Places a 20-cpu REST pod (a10-filler) on gpu-a10-1 (31.5 cpu) and returns a filter request that sends that node alone
    /// with 16 cpu allocatable, which its bound pod does not fit in (the warning that says so is declared expected).
    /// </summary>
    private async Task<ExtenderArgs> FillA10AndShrinkIt()
    {
        using (var filler = await Http.Post("/api/v1/pods", new
        {
            name = "a10-filler",
            requests = new Dictionary<string, string> { ["cpu"] = "20" },
            nodeSelector = new Dictionary<string, string> { ["nvidia.com/gpu.product"] = "A10" },
            tolerations = new[] { new { key = "nvidia.com/gpu", @operator = "Exists" } },
        }))
            Assert.Equal(HttpStatusCode.Accepted, filler.StatusCode);
        await Http.WaitFor("/api/v1/pods/a10-filler", p => p.Phase() == "Running");
        _host.Log.Expect("Kubernetes node gpu-a10-1 seen by the extender reports an allocatable its bound pods do not fit in");
        var overfull = LoadArgs();
        var a10 = overfull.Nodes!.Items.Single(n => n.Metadata.Name == "gpu-a10-1");
        a10.Status.Allocatable["cpu"] = new k8s.Models.ResourceQuantity("16");
        overfull.Nodes.Items = [a10];
        return overfull;
    }

    /// <summary>
    /// A refused allocatable is sent again with every request (kube-scheduler sends the node as the kubelet reports it), and
    /// nothing changed in MasOrleans: the silo's view must not be re-read for it, since a re-read wakes every shard's waiting
    /// pods (SiloClusterView.CapacityAppeared), which then retried every unschedulable pod at each filter and prioritize. A
    /// node the view's own full re-read (every 30 s) finds changed may fall in the window, so the count is held below the
    /// requests sent rather than at zero.
    /// </summary>
    [Fact]
    public async Task A_refused_allocatable_sent_again_does_not_wake_the_waiting_pods_at_every_request()
    {
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", LoadArgs())).Error);
        var overfull = await FillA10AndShrinkIt();

        var view = _host.Services.GetRequiredService<MasOrleans.Grains.Scheduling.SiloClusterView>();
        var woken = 0;
        void Woken() => Interlocked.Increment(ref woken);
        view.CapacityAppeared += Woken;
        const int requests = 12;
        try
        {
            for (var i = 0; i < requests; i++) Assert.Equal("", (await Post<ExtenderFilterResult>("filter", overfull)).Error);
        }
        finally
        {
            view.CapacityAppeared -= Woken;
        }

        Assert.True(woken < requests, $"{woken} wakes of the waiting pods for {requests} requests sending the same refused allocatable");
        // Nor is the node asked again while its pods still do not fit: one Patch, the first request's refusal (it was one per request).
        Assert.Equal(1, _nodePatches.Of("gpu-a10-1"));
        Assert.Equal("31500m", (await Http.GetJson("/api/v1/nodes/gpu-a10-1")).GetProperty("capacity").GetProperty("cpu").GetString());
    }

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
        _host.Log.Expect(Regex.Escape("held a reservation for pod ml.reborn-0 which is"));
        var first = new DateTime(2026, 12, 6, 1, 0, 0, DateTimeKind.Utc);
        var args = LoadArgs();
        args.Pod!.Metadata.Name = "reborn-0";
        args.Pod.Metadata.CreationTimestamp = first;
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", args)).Error);
        Assert.Equal("", (await Post<ExtenderBindingResult>("bind", new ExtenderBindingArgs { PodName = "reborn-0", PodNamespace = "ml", Node = "gpu-a10-1" })).Error);
        await Http.WaitFor("/api/v1/pods/ml.reborn-0", p => p.Phase() == "Running");
        var node = _host.Services.GetRequiredService<IGrainFactory>().GetGrain<INodeGrain>("gpu-a10-1");
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
        _host.Log.Expect("answered kube-scheduler with an error: a pod named default/kp-taken already exists here");
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

    [Fact]
    public async Task Bad_requests_and_unknown_policies_are_reported_in_kube_schedulers_terms()
    {
        // Each error answered is logged once per verb and cause (ExtenderErrorLog); these are all sent on purpose.
        _host.Log.Expect("^Extender (filter|prioritize|bind) answered kube-scheduler with an error: ");
        using var garbage = await Http.PostAsync("/extender/filter", new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        Assert.Equal("application/problem+json", garbage.Content.Headers.ContentType?.MediaType);

        var args = LoadArgs();
        args.Pod!.Metadata.Annotations[SchedulerExtender.PolicyAnnotation] = "no-such-policy";
        Assert.Contains("unknown policy", (await Post<ExtenderFilterResult>("filter", args)).Error);
        using var prioritize = await Http.PostAsync("/extender/prioritize", new StringContent(KubernetesJson.Serialize(args), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, prioritize.StatusCode);

        // Found by RouteFuzzTests: the Kubernetes client turns -1E+300 into an exact fraction for minutes; it is refused up front.
        var payload = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", "filter-args.json"));
        foreach (var huge in new[] { payload.Replace("\"125Gi\"", "-1E+300"), payload.Replace("\"125Gi\"", "\"1e300\"") })
        {
            using var refused = await Http.PostAsync("/extender/prioritize", new StringContent(huge, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }
        // A null policy annotation is the pod's mistake, reported in Error like any other.
        var nullPolicy = payload.Replace("\"masorleans.io/policy\": \"kube\"", "\"masorleans.io/policy\": null");
        Assert.NotEqual(payload, nullPolicy);
        using (var filtered = await Http.PostAsync("/extender/filter", new StringContent(nullPolicy, Encoding.UTF8, "application/json")))
            Assert.Contains("must name a policy", await filtered.Content.ReadAsStringAsync());

        var stranger = await Post<ExtenderBindingResult>("bind", new ExtenderBindingArgs { PodName = "never-filtered", PodNamespace = "ml", Node = "gpu-a10-1" });
        Assert.Contains("not filtered", stranger.Error);
        Assert.Empty(_kubernetes.Requests);
    }

    /// <summary>
    /// preemptVerb over HTTP as kube-scheduler v1.35 sends it (pkg/scheduler/extender.go ProcessPreemption, nodeCacheCapable:
    /// NodeNameToMetaVictims) and reads the answer (ExtenderPreemptionResult's Go field names; it has no Error field, so a bad
    /// request is a 400, which HTTPExtender.send takes as the extender's error). gpu-a10-1 holds nothing in MasOrleans: the
    /// pod (6 cpu, one A10 GPU) fits it with kube-scheduler's victim gone, and the node is kept with that victim. gpu-v100-1
    /// has 4 cpu in all: no eviction fits a 6-cpu pod, so it is dropped.
    /// </summary>
    [Fact]
    public async Task Preempt_keeps_the_candidates_where_the_pod_fits_and_refuses_a_bad_request_with_400()
    {
        _host.Log.Expect("answered kube-scheduler with an error: ExtenderPreemptionArgs.Pod is required");
        Assert.Equal("", (await Post<ExtenderFilterResult>("filter", LoadArgs())).Error);
        var args = new ExtenderPreemptionArgs
        {
            Pod = LoadArgs().Pod,
            NodeNameToMetaVictims = new Dictionary<string, MetaVictims?>
            {
                ["gpu-a10-1"] = new() { Pods = [new MetaPod { Uid = "u-victim" }] },
                ["gpu-v100-1"] = new() { Pods = [new MetaPod { Uid = "u-other" }] },
            },
        };
        using var response = await Http.PostAsync("/extender/preempt", new StringContent(KubernetesJson.Serialize(args), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var kept = JsonDocument.Parse(text).RootElement.GetProperty("NodeNameToMetaVictims");
        Assert.Equal(["gpu-a10-1"], kept.EnumerateObject().Select(n => n.Name).ToArray());
        Assert.Equal("u-victim", kept.GetProperty("gpu-a10-1").GetProperty("Pods")[0].GetProperty("UID").GetString());

        args.Pod = null;
        using var refused = await Http.PostAsync("/extender/preempt", new StringContent(KubernetesJson.Serialize(args), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Pod is required", await refused.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// A decimal holds these (up to 7.9e28) but cores are stored in milli: scaling them overflowed and the request was
    /// a 500. They are refused in kube-scheduler's terms, as "5e25" (valid) and "1e300" (guarded) already were, and as over
    /// the maximum, REST's words for a well-formed quantity too large (they were "not a valid quantity for cpu").
    /// </summary>
    [Theory]
    [InlineData("1e28")]
    [InlineData("8e25")]
    public async Task A_cpu_too_large_to_store_is_an_extender_error_not_a_500(string cpu)
    {
        _host.Log.Expect("answered kube-scheduler with an error: (node gpu-a10-1|pod ml/trainer-0): cpu quantity '[^']+' exceeds the maximum");
        var node = LoadArgs();
        node.Nodes!.Items[0].Status.Allocatable["cpu"] = new k8s.Models.ResourceQuantity(cpu);
        var pod = LoadArgs();
        pod.Pod!.Spec.Containers[0].Resources.Requests["cpu"] = new k8s.Models.ResourceQuantity(cpu);
        foreach (var args in new[] { node, pod })
        {
            var filtered = await Post<ExtenderFilterResult>("filter", args);
            Assert.Matches("cpu quantity '[^']+' exceeds the maximum", filtered.Error);
            using var prioritized = await Http.PostAsync("/extender/prioritize", new StringContent(KubernetesJson.Serialize(args), Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, prioritized.StatusCode);
            Assert.Matches("cpu quantity '[^']+' exceeds the maximum", await prioritized.Content.ReadAsStringAsync());
        }
    }

    /// <summary>
    /// A body beyond Extender__MaxRequestBodyBytes on any verb (kube-scheduler sends every candidate node; a large cluster
    /// without nodeCacheCapable) is a 413 saying so, which kube-scheduler takes as the extender's error, never a 500.
    /// </summary>
    [Fact]
    public async Task A_body_beyond_the_extenders_limit_is_a_413_on_every_verb()
    {
        await using var host = await SiloHost.StartAsync(settings: new Dictionary<string, string> { ["Extender:MaxRequestBodyBytes"] = "2048" });
        var payload = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Payloads", "filter-args.json"));
        Assert.True(payload.Length > 2048, $"the payload is {payload.Length} bytes");
        foreach (var verb in new[] { "filter", "prioritize", "preempt", "bind" })
        {
            using var response = await host.Http.PostAsync($"/extender/{verb}", new StringContent(payload, Encoding.UTF8, "application/json"));
            Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{verb}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task Bind_answers_an_error_when_no_kubernetes_api_is_configured()
    {
        await using var host = await SiloHost.StartAsync(expectedLog: ["answered kube-scheduler with an error: binding is not enabled"]);
        using var response = await host.Http.PostAsync("/extender/bind", new StringContent(
            KubernetesJson.Serialize(new ExtenderBindingArgs { PodName = "p", PodNamespace = "ml", Node = "n" }), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("not enabled", KubernetesJson.Deserialize<ExtenderBindingResult>(await response.Content.ReadAsStringAsync()).Error);
    }
}
