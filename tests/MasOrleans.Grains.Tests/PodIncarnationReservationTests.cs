using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Scheduling;
using MasOrleans.Scheduling.Cycle;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.Logging.Abstractions;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A pod deleted and created again under its name while a cycle for the deleted one is still in flight. Kubernetes tells
/// the two apart by metadata.uid; ours by the creation time each carries (<see cref="PodSpec.CreatedAt"/>): the node's
/// reservation, the release and the bind are each for one of them, never for the name alone.
/// </summary>
public sealed class PodIncarnationReservationTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>, IDisposable
{
    public void Dispose() => fixture.Log.AssertClean();

    private static readonly DateTimeOffset First = new(2026, 12, 6, 1, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_node_holds_the_recreated_pods_own_reservation_and_the_deleted_pods_release_frees_none_of_it()
    {
        var node = fixture.Client.GetGrain<INodeGrain>("g-reborn");
        Assert.True((await node.Register(new NodeSpec { Name = "g-reborn", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 8L << 30, gpuMilli: 2000) })).IsOk);
        var deleted = PodOf("reborn", cpuMilli: 3000, gpuMilli: 1000) with { CreatedAt = First };
        var recreated = PodOf("reborn", cpuMilli: 1000, gpuMilli: 1000) with { CreatedAt = First.AddSeconds(1) };

        // The deleted pod's cycle reserved device 1; the new pod's cycle chose device 0.
        Assert.True((await node.Reserve(deleted, new GpuAllocation([1], 1000))).Reserved);
        var reserved = await node.Reserve(recreated, new GpuAllocation([0], 1000));
        Assert.True(reserved.Reserved, reserved.Reason);
        Assert.Equal([0], reserved.Gpus.Devices);
        AssertHolds(await node.GetView(), recreated, device: 0);

        // The deleted pod's cycle resumes: its bind is refused, so it releases what it reserved, naming its pod.
        Assert.False(await node.Release("reborn", deleted.CreatedAt));
        AssertHolds(await node.GetView(), recreated, device: 0);
        // A retry of that cycle does not take the room back.
        Assert.False((await node.Reserve(deleted, new GpuAllocation([1], 1000))).Reserved);
        AssertHolds(await node.GetView(), recreated, device: 0);

        // The new pod's own release frees it.
        Assert.True(await node.Release("reborn", recreated.CreatedAt));
        Assert.Empty((await node.GetView())!.Pods);
    }

    [Fact]
    public async Task A_cycle_for_a_deleted_pod_neither_binds_the_pod_created_again_under_its_name_nor_frees_its_room()
    {
        // The old cycle is driven by hand through the cycle's own ports (GrainCyclePorts): it reserves the node for
        // incarnation 1 and stalls before the bind; the pod is deleted and created again (incarnation 2, smaller), and
        // the real queue schedules it; then the old cycle resumes, binds (refused) and releases, as SchedulingCycle.Bind does.
        var pool = new Dictionary<string, string> { ["pool"] = "reborn-e2e" };
        var node = fixture.Client.GetGrain<INodeGrain>("g-reborn-e2e");
        Assert.True((await node.Register(new NodeSpec { Name = "g-reborn-e2e", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 8L << 30), Labels = pool })).IsOk);
        var pod = fixture.Client.GetGrain<IPodGrain>("reborn-e2e");
        // Selects no node, so the queue's own cycle leaves incarnation 1 waiting and the hand-driven cycle is the only one.
        Assert.True((await pod.Create(PodOf("reborn-e2e", cpuMilli: 3000) with { NodeSelector = new Dictionary<string, string> { ["pool"] = "nowhere" } }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Unschedulable, "incarnation 1 unschedulable");
        var old = (await pod.Get())!.Spec;
        var ports = new GrainCyclePorts(fixture.Client, NullLogger.Instance);
        Assert.True((await ports.Reserve("g-reborn-e2e", old, GpuAllocation.None)).Reserved);

        Assert.True((await pod.Delete()).IsOk);
        Assert.True((await pod.Create(PodOf("reborn-e2e", cpuMilli: 1000) with { NodeSelector = pool }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "incarnation 2 running");
        var current = (await pod.Get())!;
        Assert.Equal("g-reborn-e2e", current.NodeName);
        // The new pod holds its own reservation, not the one the node held for the deleted pod of its name.
        await AssertHoldsOnly(node, current);

        Assert.False(await ports.Bound(old, new PodBinding("g-reborn-e2e", GpuAllocation.None, new Dictionary<string, long>(), "kube")),
            "the deleted pod's placement was recorded on the pod created again");
        await ports.Release("g-reborn-e2e", old);

        await AssertHoldsOnly(node, current);
        Assert.Equal(PodPhase.Running, (await pod.Get())!.Phase);

        Assert.True((await pod.Delete()).IsOk);
        Assert.Empty((await node.GetView())!.Pods);
    }

    [Fact]
    public async Task A_cycle_for_a_deleted_pod_records_neither_its_failure_nor_its_nomination_on_the_pod_created_again()
    {
        // The deleted pod's late cycle ends as cycles do when nothing fits (SchedulingCycle.Run): it nominates a node for
        // preemption, or records the failure, through the cycle's own ports. Both are the deleted pod's, not the new one's.
        var node = fixture.Client.GetGrain<INodeGrain>("g-reborn-fail");
        Assert.True((await node.Register(new NodeSpec { Name = "g-reborn-fail", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 8L << 30) })).IsOk);
        var nowhere = new Dictionary<string, string> { ["pool"] = "nowhere" };
        var pod = fixture.Client.GetGrain<IPodGrain>("reborn-fail");
        Assert.True((await pod.Create(PodOf("reborn-fail", cpuMilli: 3000) with { NodeSelector = nowhere }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Unschedulable, "incarnation 1 unschedulable");
        var old = (await pod.Get())!.Spec;
        Assert.True((await pod.Delete()).IsOk);
        // Selects no node either, so the new pod stays waiting, where a failure or a nomination would be recorded.
        Assert.True((await pod.Create(PodOf("reborn-fail", cpuMilli: 1000) with { NodeSelector = nowhere }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Unschedulable, "incarnation 2 unschedulable");
        Assert.NotEqual(old.CreatedAt, (await pod.Get())!.Spec.CreatedAt);

        var ports = new GrainCyclePorts(fixture.Client, NullLogger.Instance);
        const string deletedPodsFailure = "the deleted pod's failure";
        await ports.Unschedulable(old, deletedPodsFailure);
        await ports.Nominate("g-reborn-fail", old, "0/1 nodes are available: 1 Insufficient cpu.");

        var current = (await pod.Get())!;
        Assert.DoesNotContain(current.Events, e => e.Message == deletedPodsFailure);
        Assert.Null(current.NominatedNodeName);
        // No hold either: the whole node (4 cpus) is free for a pod of the new one's priority.
        var probe = await node.Reserve(PodOf("reborn-fail-probe", cpuMilli: 4000), GpuAllocation.None);
        Assert.True(probe.Reserved, probe.Reason);
        Assert.True(await node.Release("reborn-fail-probe"));
        Assert.True((await pod.Delete()).IsOk);
    }

    [Fact]
    public async Task A_preemptions_eviction_of_a_victim_deleted_since_leaves_the_pod_created_again_under_its_name_running()
    {
        // The preemptor's cycle chose the victim (its spec, from the view) and evicts it through the cycle's own port
        // (GrainCyclePorts.Evict, as SchedulingCycle.Preempt does); between the two, the victim was deleted and created
        // again, and the new pod took the room on the same node. The new pod is another pod (another metadata.uid): it was
        // never chosen. Kube v1.35 deletes a victim by name (pkg/scheduler/util/utils.go DeletePod, no uid precondition) from
        // its informer's copy, so its window is the API round trip; here it names the victim's creation time.
        var pool = new Dictionary<string, string> { ["pool"] = "reborn-victim" };
        var node = fixture.Client.GetGrain<INodeGrain>("g-reborn-victim");
        Assert.True((await node.Register(new NodeSpec { Name = "g-reborn-victim", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 8L << 30), Labels = pool })).IsOk);
        var pod = fixture.Client.GetGrain<IPodGrain>("reborn-victim");
        Assert.True((await pod.Create(PodOf("reborn-victim", cpuMilli: 3000) with { NodeSelector = pool }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "the victim running");
        var victim = (await pod.Get())!.Spec;

        Assert.True((await pod.Delete()).IsOk);
        Assert.True((await pod.Create(PodOf("reborn-victim", cpuMilli: 3000) with { NodeSelector = pool }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "the pod created again running");
        var current = (await pod.Get())!;
        Assert.Equal("g-reborn-victim", current.NodeName);
        Assert.NotEqual(victim.CreatedAt, current.Spec.CreatedAt);

        var ports = new GrainCyclePorts(fixture.Client, NullLogger.Instance);
        await ports.Evict("g-reborn-victim", victim, "preempted on g-reborn-victim by a preemptor (priority 10 > 0)");

        var after = (await pod.Get())!;
        Assert.Equal(PodPhase.Running, after.Phase);
        Assert.DoesNotContain(after.Events, e => e.Reason == PodReasons.Preempted);
        await AssertHoldsOnly(node, current);
        Assert.True((await pod.Delete()).IsOk);
        Assert.Empty((await node.GetView())!.Pods);
    }

    private static async Task AssertHoldsOnly(INodeGrain node, PodView pod)
    {
        var view = (await node.GetView())!;
        var held = Assert.Single(view.Pods);
        Assert.Equal(pod.CreatedAt, held.Pod.CreatedAt);
        Assert.Equal(pod.Spec.Requests, held.Pod.Requests);
        Assert.Equal(pod.Spec.Requests.CpuMilli, view.Allocated.CpuMilli);
    }

    private static void AssertHolds(NodeView? view, PodSpec pod, int device)
    {
        var held = Assert.Single(view!.Pods);
        Assert.Equal(pod.CreatedAt, held.Pod.CreatedAt);
        Assert.Equal(pod.Requests, held.Pod.Requests);
        Assert.Equal([device], held.Gpus.Devices);
        Assert.True(view.Allocated.CpuMilli <= view.Spec.Capacity.CpuMilli, "the node holds more than its capacity");
    }
}
