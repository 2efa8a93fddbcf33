using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>The node grain's side of a node deleted while a cycle is binding a pod to it.</summary>
public sealed class DeletedNodeReservationTests(GrainClusterFixture fixture) : IClassFixture<GrainClusterFixture>, IDisposable
{
    public void Dispose() => fixture.Log.AssertClean();

    [Fact]
    public async Task A_node_being_deleted_refuses_new_reservations_and_is_removed_once_its_pods_are_gone()
    {
        // A cycle that chose the node before the delete arrived still calls Reserve; the drain has already evicted
        // what the node held, so a pod let in now would never leave and the node would never be removed.
        // "ghost" is reserved by a cycle that has not yet recorded it on its pod: it refuses the eviction and keeps
        // the node draining, so the late reservation below deterministically meets a draining node.
        var node = fixture.Client.GetGrain<INodeGrain>("g-drain-race");
        Assert.True((await node.Register(new NodeSpec { Name = "g-drain-race", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 8L << 30) })).IsOk);
        Assert.True((await node.Reserve(PodOf("ghost"), GpuAllocation.None)).Reserved);

        Assert.Equal(OutcomeCode.Accepted, (await node.Delete(force: true)).Outcome.Code);
        var late = await node.Reserve(PodOf("drain-late"), GpuAllocation.None);
        Assert.False(late.Reserved, "a node being deleted took a new pod");
        Assert.True((await node.GetView())!.Draining);
        // Idempotence still holds while draining: the pod it holds gets its placement back (a retry after a crash).
        Assert.True((await node.Reserve(PodOf("ghost"), GpuAllocation.None)).Reserved);

        Assert.True(await node.Release("ghost"));
        await WaitUntil(async () => await node.GetView() is null);
        Assert.Null(await node.GetView());
    }

    [Fact]
    public async Task A_cordoned_node_refuses_a_reservation_from_a_view_that_predates_the_cordon_unless_the_pod_tolerates_it()
    {
        // kube-scheduler's NodeUnschedulable (pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go):
        // only a pod tolerating node.kubernetes.io/unschedulable:NoSchedule goes on a cordoned node.
        var node = fixture.Client.GetGrain<INodeGrain>("g-cordon-race");
        Assert.True((await node.Register(new NodeSpec { Name = "g-cordon-race", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 8L << 30) })).IsOk);
        Assert.True((await node.Reserve(PodOf("before-cordon"), GpuAllocation.None)).Reserved);
        Assert.True((await node.Patch(new NodePatch(Unschedulable: true))).IsOk);

        var refused = await node.Reserve(PodOf("after-cordon"), GpuAllocation.None);
        Assert.False(refused.Reserved, "a cordoned node took a new pod");
        Assert.Equal("node is cordoned", refused.Reason);
        var tolerating = PodOf("tolerates-cordon") with { Tolerations = [new Toleration("node.kubernetes.io/unschedulable", "Exists", Effect: "NoSchedule")] };
        Assert.True((await node.Reserve(tolerating, GpuAllocation.None)).Reserved);
        // What it held before the cordon stays, and its retry still gets its placement back.
        Assert.True((await node.Reserve(PodOf("before-cordon"), GpuAllocation.None)).Reserved);

        Assert.True((await node.Patch(new NodePatch(Unschedulable: false))).IsOk);
        Assert.True((await node.Reserve(PodOf("after-uncordon"), GpuAllocation.None)).Reserved);
    }
}
