using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using Orleans.TestingHost;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A waiting pod its shard lists but does not queue: what a shard's new activation is left with when the one-way Retry
/// it sends each waiting pod is dropped (the pod's silo stopping gracefully; SiloStopTests' "a pod left waiting that
/// fits"). The shard's reconciliation asks it again.
/// </summary>
public sealed class UnqueuedWaitingPodTests : IAsyncLifetime
{
    private readonly SiloLog _log = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = GrainClusterFixture.Build(1, _log, new OutageNodeBindingStore(), new Dictionary<string, string?>
        {
            ["Scheduler:QueueShards"] = "1", ["Scheduler:ReconcileSeconds"] = "1",
        });
        await _cluster.DeployAsync();
    }

    public Task DisposeAsync() => GrainClusterFixture.DisposeAndCheck(_cluster, _log);

    /// <summary>
    /// Failed before: the reconciliation asked Pending and Scheduled pods again, not Unschedulable ones, so the pod the
    /// shard lost stayed Unschedulable after the node grew to fit it.
    /// </summary>
    [Fact]
    public async Task An_unschedulable_pod_its_shard_does_not_queue_is_asked_again_and_placed_once_it_fits()
    {
        var grains = _cluster.Client;
        var node = grains.GetGrain<INodeGrain>("g-unqueued");
        Assert.True((await node.Register(NodeSpecOf("g-unqueued", cpuMilli: 1000, gpus: 0))).IsOk);
        var pod = PodOf("unqueued", cpuMilli: 2000);
        Assert.True((await grains.GetGrain<IPodGrain>(pod.Name).Create(pod, null)).Outcome.IsOk);
        await WaitForPod(grains, pod.Name, p => p.Phase == PodPhase.Unschedulable);
        // The shard forgets it (as a new activation whose Retry to the pod was dropped); its table still lists it.
        await grains.GetGrain<ISchedulingQueueGrain>(QueueShards.Key(0)).Remove(pod.Name);
        Assert.True((await node.Patch(new NodePatch(Capacity: NodeSpecOf("g-unqueued", cpuMilli: 4000, gpus: 0).Capacity))).IsOk);

        var placed = await WaitForPod(grains, pod.Name, p => p.Phase is PodPhase.Scheduled or PodPhase.Running);

        Assert.Equal("g-unqueued", placed.NodeName);
    }
}
