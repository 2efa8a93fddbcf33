using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Grains.Nodes;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Microsoft.Extensions.Logging;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A removed node deletes the pods that finished on it once, at the removal (nothing comes back to them): a deletion
/// that fails there (Redis gone for a moment) must be Warning 1406. It was a call nobody awaited, so the pod stayed
/// listed with the gone node's name and nothing said so.
/// </summary>
public sealed class NodeFinishedPodDeletionFailureTests : FailingWritesClusterTest<FailingPodWrites>
{
    [Fact]
    public async Task A_finished_pod_whose_deletion_fails_when_its_node_is_removed_is_warning_1406()
    {
        Log.Expect("mas-pod/fd-finished");
        Log.Expect("the pod's deletion write failed");
        Log.Expect("pod 'fd-finished' could not be deleted");
        var node = Cluster.Client.GetGrain<INodeGrain>("fd-node");
        Assert.True((await node.Register(new NodeSpec { Name = "fd-node", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 16L << 30) })).IsOk);
        var pod = Cluster.Client.GetGrain<IPodGrain>("fd-finished");
        Assert.True((await pod.Create(PodOf("fd-finished", 1000) with { ExpectedDurationSeconds = 0.2 }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Succeeded, "the pod Succeeded");
        // The sweep reads the listing, which the pod tells one-way: Succeeded there too before the delete.
        var index = Cluster.Client.GetGrain<IClusterIndexGrain>(ClusterIndex.Key);
        await WaitUntil(async () => (await index.ListPods(0, 100, null)).Items.Any(p => p.Name == "fd-finished" && p.Phase == PodPhase.Succeeded), "the listing shows it Succeeded");

        Writes.FailDeletes(p => p.Spec?.Name == "fd-finished", "deletion");
        Assert.Equal(OutcomeCode.Ok, (await node.Delete()).Outcome.Code);

        // The sweep runs after the removal's turn (it may run inside a drained pod's Release, which that pod awaits).
        await WaitUntil(() => Task.FromResult(Log.Records.Any(r => r.EventId == 1406)), "Warning 1406");
        var warning = Assert.Single(Log.Records, r => r.EventId == 1406);
        Assert.Equal((LogLevel.Warning, "Node fd-node was removed but the pods that finished on it could not be listed or deleted; they stay listed with its name (delete them yourself)"),
            (warning.Level, warning.Message));
        Assert.Contains("pod 'fd-finished' could not be deleted", Assert.IsType<AggregateException>(warning.Exception).InnerExceptions.Single().Message);
        Assert.Equal(1, Writes.Failed);
        var left = (await pod.Get())!;
        Assert.Equal((PodPhase.Succeeded, "fd-node"), (left.Phase, left.NodeName));
    }

    /// <summary>
    /// A failed deletion does not end the sweep: it ended with the first failure, so the pods after it (on a later page,
    /// here a page a pod) were never tried and only the first failure was said.
    /// </summary>
    [Fact]
    public async Task The_sweep_tries_every_finished_pod_on_every_page_and_throws_the_failures_together()
    {
        Log.Expect("mas-pod/fd-page-");
        Log.Expect("the pod's deletion write failed");
        var node = Cluster.Client.GetGrain<INodeGrain>("fd-page-node");
        Assert.True((await node.Register(new NodeSpec { Name = "fd-page-node", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 16L << 30) })).IsOk);
        string[] names = ["fd-page-a", "fd-page-b", "fd-page-c"];
        foreach (var name in names)
            Assert.True((await Cluster.Client.GetGrain<IPodGrain>(name).Create(PodOf(name, 1000) with { ExpectedDurationSeconds = 0.2 }, null)).Outcome.IsOk);
        var index = Cluster.Client.GetGrain<IClusterIndexGrain>(ClusterIndex.Key);
        await WaitUntil(async () => (await index.ListPods(0, 100, null)).Items.Count(p => names.Contains(p.Name) && p.Phase == PodPhase.Succeeded && p.NodeName == "fd-page-node") == 3,
            "the listing shows the three pods Succeeded on the node");

        Writes.FailDeletes(p => p.Spec?.Name is "fd-page-a" or "fd-page-b", "deletion");
        var thrown = await Record.ExceptionAsync(() => NodeGrain.DeleteFinishedPods("fd-page-node", index, Cluster.Client, pageSize: 1));

        // The pod after the failures, on the third page, was tried and deleted; then the failures are one exception.
        Assert.Null(await Cluster.Client.GetGrain<IPodGrain>("fd-page-c").Get());
        var failed = Assert.IsType<AggregateException>(thrown);
        // Both named; one failure attached, the first of its kind (FinishedPodsNotDeletedTests).
        Assert.StartsWith("2 finished pod(s) not deleted (fd-page-a, fd-page-b); the first failure of each kind is attached (1 of 2) (", failed.Message);
        Assert.Equal(["pod 'fd-page-a' could not be deleted"], failed.InnerExceptions.Select(e => e.Message));
        foreach (var name in new[] { "fd-page-a", "fd-page-b" })
            Assert.Equal(PodPhase.Succeeded, (await Cluster.Client.GetGrain<IPodGrain>(name).Get())?.Phase);
    }

    /// <summary>
    /// The removal of a drained node runs inside its last pod's Release, which that pod awaits: a sweep awaited in that
    /// turn asked the pod to delete itself and waited for it, and both waited until the response timeout (30 s), then
    /// Warning 1406 (InFlightRaceTests failed on it in a fresh-clone run).
    /// </summary>
    [Fact]
    public async Task A_force_deleted_node_is_removed_and_its_drained_pod_deleted_without_waiting_on_each_other()
    {
        var node = Cluster.Client.GetGrain<INodeGrain>("fd-drained-node");
        Assert.True((await node.Register(new NodeSpec { Name = "fd-drained-node", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 16L << 30) })).IsOk);
        var pod = Cluster.Client.GetGrain<IPodGrain>("fd-drained");
        Assert.True((await pod.Create(PodOf("fd-drained", 1000), null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "the pod Running");

        Assert.Equal(OutcomeCode.Accepted, (await node.Delete(force: true)).Outcome.Code);
        // Well inside the 30 s a call waits for its answer.
        await WaitUntil(async () => await node.GetView() is null && await pod.Get() is null, "the node removed and its pod deleted");
        Assert.DoesNotContain(Log.Records, r => r.EventId == 1406);
    }
}
