using System.Net;
using k8s;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Kubernetes;
using MasOrleans.Silo.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static MasOrleans.Silo.Tests.Infrastructure.ExtenderCalls;

namespace MasOrleans.Silo.Tests;

/// <summary>
/// A node MasOrleans knows takes what kube-scheduler's requests say Kubernetes has for it (labels, taints and cordon,
/// allocatable), except a cordon lifted while it is being deleted, and is not asked again for an allocatable it refused.
/// </summary>
[Collection(ExtenderSiloTests.Name)]
public sealed class ExtenderNodeSyncTests : ExtenderSiloTest
{
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
        var node = Host.Services.GetRequiredService<IGrainFactory>().GetGrain<MasOrleans.Abstractions.Grains.INodeGrain>("gpu-t4-1");
        var ghost = new MasOrleans.Scheduling.Model.PodSpec { Name = "t4-ghost", Requests = MasOrleans.Scheduling.Resources.ResourceVector.Of(cpuMilli: 1000) };
        Assert.True((await node.Reserve(ghost, MasOrleans.Scheduling.Model.GpuAllocation.None)).Reserved);
        using (var deleting = await Http.DeleteAsync("/api/v1/nodes/gpu-t4-1?force=true"))
            Assert.Equal(HttpStatusCode.Accepted, deleting.StatusCode);

        // The extender acts on this silo's view as its last request read it: once the view has the deletion, a request reads
        // it and the next one takes what Kubernetes sends.
        var siloView = Host.Services.GetRequiredService<MasOrleans.Grains.Scheduling.SiloClusterView>();
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
        var siloView = Host.Services.GetRequiredService<MasOrleans.Grains.Scheduling.SiloClusterView>();
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
        Host.Log.Expect("Kubernetes node gpu-a10-1 seen by the extender reports an allocatable its bound pods do not fit in");
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

        var view = Host.Services.GetRequiredService<MasOrleans.Grains.Scheduling.SiloClusterView>();
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
        Assert.Equal(1, Patches.Of("gpu-a10-1"));
        Assert.Equal("31500m", (await Http.GetJson("/api/v1/nodes/gpu-a10-1")).GetProperty("capacity").GetProperty("cpu").GetString());
    }
}
