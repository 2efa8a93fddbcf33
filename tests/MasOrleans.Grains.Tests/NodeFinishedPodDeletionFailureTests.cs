using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
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
        var node = Cluster.Client.GetGrain<INodeGrain>("fd-node");
        Assert.True((await node.Register(new NodeSpec { Name = "fd-node", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 16L << 30) })).IsOk);
        var pod = Cluster.Client.GetGrain<IPodGrain>("fd-finished");
        Assert.True((await pod.Create(PodOf("fd-finished", 1000) with { ExpectedDurationSeconds = 0.2 }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Succeeded, "the pod Succeeded");

        Writes.FailDeletes(p => p.Spec?.Name == "fd-finished", "deletion");
        Assert.Equal(OutcomeCode.Ok, (await node.Delete()).Outcome.Code);

        // The removal awaited the sweep, so its warning is logged by the time the deletion answered.
        var warning = Assert.Single(Log.Records, r => r.EventId == 1406);
        Assert.Equal((LogLevel.Warning, "Node fd-node was removed but the pods that finished on it could not be listed or deleted; they stay listed with its name (delete them yourself)"),
            (warning.Level, warning.Message));
        Assert.Equal(1, Writes.Failed);
        var left = (await pod.Get())!;
        Assert.Equal((PodPhase.Succeeded, "fd-node"), (left.Phase, left.NodeName));
    }
}
