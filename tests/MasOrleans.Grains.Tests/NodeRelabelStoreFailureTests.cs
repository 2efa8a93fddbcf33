using MasOrleans.Abstractions.Contracts;
using MasOrleans.Abstractions.Grains;
using MasOrleans.Scheduling.Model;
using MasOrleans.Scheduling.Resources;
using Orleans.TestingHost;
using static MasOrleans.Grains.Tests.GrainTestPods;

namespace MasOrleans.Grains.Tests;

/// <summary>
/// A running pod relabelled while its node's binding write fails but lands (Redis took it, the answer was lost): the pod
/// kept its old labels and the node's memory did too, but Redis held the new ones, which the node's next activation would
/// read back and count for other pods' affinity and spread.
/// </summary>
public sealed class NodeRelabelStoreFailureTests : IAsyncLifetime
{
    private readonly SiloLog _log = new();
    private readonly OutageNodeBindingStore _bindings = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _cluster = GrainClusterFixture.Build(1, _log, _bindings);
        await _cluster.DeployAsync();
    }

    public Task DisposeAsync() => GrainClusterFixture.DisposeAndCheck(_cluster, _log);

    [Fact]
    public async Task A_relabel_whose_binding_write_failed_but_landed_leaves_the_old_labels_stored_once_the_store_answers()
    {
        _log.Expect("Pod nr-pod was relabelled but node nr-node failed to take the new labels");
        var node = _cluster.Client.GetGrain<INodeGrain>("nr-node");
        Assert.True((await node.Register(new NodeSpec { Name = "nr-node", Capacity = ResourceVector.Of(cpuMilli: 4000, memoryBytes: 16L << 30) })).IsOk);
        var pod = _cluster.Client.GetGrain<IPodGrain>("nr-pod");
        Assert.True((await pod.Create(PodOf("nr-pod") with { Labels = new Dictionary<string, string> { ["team"] = "old" } }, null)).Outcome.IsOk);
        await WaitUntil(async () => (await pod.Get())?.Phase == PodPhase.Running, "the pod Running");

        _bindings.Fail("nr-node", failedAddsLand: true);
        await Assert.ThrowsAnyAsync<TimeoutException>(() => pod.SetMetadata(new Dictionary<string, string> { ["team"] = "new" }, null));
        Assert.Equal("old", (await pod.Get())!.Spec.Labels["team"]);
        Assert.Equal("old", (await node.GetView())!.Pods.Single(b => b.Pod.Name == "nr-pod").Pod.Labels["team"]);

        _bindings.Recover("nr-node");
        await WaitUntil(async () => (await _bindings.Read("nr-node")).Single(b => b.Pod.Name == "nr-pod").Pod.Labels["team"] == "old", "the old labels stored");
    }
}
